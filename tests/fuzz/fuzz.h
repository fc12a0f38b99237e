/* fuzz.h - what the libFuzzer targets share: the lab config and policy, small helpers. */
#ifndef LL_FUZZ_H
#define LL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "policy.h"

/* The entry point every target defines (libFuzzer's, or regress_main.c's caller). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_config() - the lab of pcaps/make-pcaps.sh as a config, loaded once. */
const struct config *fuzz_config(void);
/* fuzz_policy() - a compiled policy with firewall and IPS rules, loaded once. */
struct policy *fuzz_policy(void);
/* fuzz_load() - policy_load_string() + fw_compile() of @text; NULL when invalid. */
struct policy *fuzz_load(const char *text, const struct config *cfg);
/* fuzz_str() - a malloc'd NUL-terminated copy of @data (stops at the first NUL). */
char *fuzz_str(const uint8_t *data, size_t size);
/* fuzz_null() - a stream that discards what is written to it. */
FILE *fuzz_null(void);
/* fuzz_tmpdir() - a private scratch directory (in /dev/shm when possible), made once. */
const char *fuzz_tmpdir(void);

#endif
