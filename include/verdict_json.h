/* verdict_json.h - one --verdicts line per frame (SPEC section 2). */
#ifndef LL_VERDICT_JSON_H
#define LL_VERDICT_JSON_H

#include <stdio.h>
#include "pipeline.h"

/*
 * verdict_json_write() - write frame @n's line: @p may be NULL (not IP, or
 * not parsed), then only n, ts, verdict, by and reason are written. Fields
 * that do not apply are left out, never null.
 */
void verdict_json_write(FILE *out, uint64_t n, uint64_t ts_us, const struct pkt *p,
			const struct verdict *v);

/*
 * verdict_print() - explain's text for packet @p: verdict, by, reason, the
 * deciding rule in canonical form (an IPS sid by number), the log-only
 * rules that matched, and for not-allowed the allow rule that made its
 * direction default-deny.
 */
struct policy;
void verdict_print(FILE *out, const struct policy *pol, const struct pkt *p,
		   const struct verdict *v);

/* verdict_proto_name() - "tcp", "udp", "icmp", "icmp6", or NULL (use the number). */
const char *verdict_proto_name(uint8_t proto);

#endif
