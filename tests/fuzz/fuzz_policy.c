/*
 * fuzz_policy.c - the firewall policy parser: policy_load_string(), the
 * classifier compile, and the canonical print, which must parse again and
 * print the same text (SPEC section 2, check --print).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static char *print(const struct policy *p, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	policy_print(p, f);
	fclose(f);
	return text;
}

/* Printing, parsing the print and printing again gives the same text. */
static void roundtrip(const struct policy *p)
{
	size_t l1, l2;
	char *t1 = print(p, &l1), *t2;
	struct policy *q = fuzz_load(t1, fuzz_config());

	if (!q) {
		fprintf(stderr, "canonical form does not load:\n%s", t1);
		abort();
	}
	t2 = print(q, &l2);
	if (l1 != l2 || memcmp(t1, t2, l1) != 0) {
		fprintf(stderr, "canonical form not stable:\n%s---\n%s", t1, t2);
		abort();
	}
	policy_free(q);
	free(t1);
	free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct policy *p;

	if (size > 256 * 1024)
		return 0;
	text = fuzz_str(data, size);
	p = fuzz_load(text, fuzz_config());
	if (p) {
		roundtrip(p);
		policy_free(p);
	}
	free(text);
	return 0;
}
