/* test_ips_corpus.c - how much of ET Open and Snort community loads, and that it compiles and scans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ips_test.h"

struct tally {
	uint32_t enabled, loaded, skipped, errors;
};

static void print_skip(void *arg, const char *kw, uint32_t n)
{
	(void)arg;
	print_message("    skipped %5u  %s\n", n, kw);
}

/* Load every enabled rule of @file with --skip-unsupported semantics. */
static struct ips_ruleset *load(const char *file, struct tally *t)
{
	static char text[8 << 20];
	struct ll_errlist errs = { 0 };
	struct ips_ruleset *rs;
	FILE *f = fopen(file, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, "alert ", 6) || !strncmp(l, "drop ", 5) || !strncmp(l, "pass ", 5) ||
		    !strncmp(l, "reject ", 7))
			t->enabled++;
	rs = ipst_rules(text, true, &errs);
	for (size_t i = 0; i < errs.n && i < 10; i++)
		print_message("    error %s:%u:%u: %s\n", file, errs.v[i].loc.line, errs.v[i].loc.col,
			      errs.v[i].msg);
	t->errors += (uint32_t)errs.n;
	ll_err_free(&errs);
	if (rs) {
		uint32_t skipped;
		t->loaded += ips_ruleset_count(rs, &skipped);
		t->skipped += skipped;
		ips_ruleset_skips(rs, print_skip, NULL);
	}
	return rs;
}

/* Scanning junk with the whole ruleset must not crash and should stay quiet on random data. */
static void smoke_scan(struct ips_ruleset *rs)
{
	static uint8_t pay[1400];
	struct ips_worker *w = ips_worker_new(rs);
	struct ips_result res;
	struct flow f = { 0 };
	uint32_t seed = 1;

	assert_non_null(w);
	for (int i = 0; i < 200; i++) {
		for (size_t k = 0; k < sizeof(pay); k++)
			pay[k] = (uint8_t)((seed = seed * 1103515245 + 12345) >> 16);
		struct pkt p = ipst_pkt(i % 3 ? IPPROTO_TCP_ : IPPROTO_UDP_, pay, sizeof(pay));
		p.tcp_seq = 1000 + (uint32_t)i * sizeof(pay);
		ips_scan(w, rs, &f, &p, i & 1, (uint64_t)i * 1000, &res);
	}
	ips_flow_free(f.ips);
	ips_worker_free(w);
}

static void run_set(const char *name, const char *const *files, size_t nfiles)
{
	const char *sh = ipst_shared();
	struct tally t = { 0 };
	char path[4200];

	if (!sh) {
		print_message("SKIP: $LL_SHARED/corpora absent, %s not measured\n", name);
		skip();
	}
	for (size_t i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/corpora/rules/%s", sh, files[i]);
		print_message("  %s\n", files[i]);
		struct ips_ruleset *rs = load(path, &t);
		if (rs)
			smoke_scan(rs);
		ips_ruleset_free(rs);
	}
	print_message("%s: %u enabled rules, %u loaded without skipping (%.1f%%), %u skipped, %u errors\n",
		      name, t.enabled, t.loaded, t.enabled ? 100.0 * t.loaded / t.enabled : 0.0, t.skipped,
		      t.errors);
	assert_int_equal(t.errors, 0);
	assert_int_equal(t.loaded + t.skipped, t.enabled);
}

static void test_et_open(void **state)
{
	static const char *const files[] = {
		"et-open/emerging-scan.rules", "et-open/emerging-exploit.rules",
		"et-open/emerging-dos.rules",  "et-open/emerging-icmp.rules",
		"et-open/compromised.rules",
	};

	(void)state;
	run_set("ET Open", files, LL_ARRAY_SIZE(files));
}

static void test_snort_community(void **state)
{
	static const char *const files[] = { "snort-community/community.rules" };

	(void)state;
	run_set("Snort community", files, LL_ARRAY_SIZE(files));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_et_open),
		cmocka_unit_test(test_snort_community),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
