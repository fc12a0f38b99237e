/* test_ips_parse.c - rule parser goldens (tests/ips/parse, tests/ips/bad), variables, skip counting. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ips_test.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = 0;
	fclose(f);
	return buf;
}

static const char *root(void)
{
	const char *r = getenv("LL_ROOT");

	return r ? r : ".";
}

/* Compare @got with file @want_path; UPDATE=1 rewrites the golden instead. */
static int golden(const char *got, const char *want_path)
{
	char *want = slurp(want_path);
	int same = want && !strcmp(got, want);

	if (!same && getenv("UPDATE")) {
		FILE *f = fopen(want_path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		same = 1;
	}
	if (!same)
		print_message("golden %s differs; got:\n%s\n", want_path, got);
	free(want);
	return same;
}

/* Each NN.rules loads, and its rules print as NN.ok says. */
static void test_parse_goldens(void **state)
{
	char pat[4096], ok[4200], *text, *out;
	size_t len;
	glob_t g;
	int bad = 0;

	(void)state;
	snprintf(pat, sizeof(pat), "%s/tests/ips/parse/*.rules", root());
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct ll_errlist errs = { 0 };
		FILE *mem = open_memstream(&out, &len);
		text = slurp(g.gl_pathv[i]);
		struct ips_ruleset *rs = ips_ruleset_from_text(basename(g.gl_pathv[i]), text, NULL, &errs);
		ll_err_print(&errs, mem);
		for (uint32_t k = 0; rs && k < rs->nrules; k++) {
			ips_rule_print(rs, &rs->rules[k], mem);
			fputc('\n', mem);
		}
		fclose(mem);
		snprintf(ok, sizeof(ok), "%.*s.ok", (int)(strlen(g.gl_pathv[i]) - 6), g.gl_pathv[i]);
		bad += !rs || !golden(out, ok);
		ips_ruleset_free(rs);
		ll_err_free(&errs);
		free(text);
		free(out);
	}
	globfree(&g);
	assert_int_equal(bad, 0);
}

/* Each NN.rules fails to load with exactly the errors in NN.err (all of them, with file:line:col). */
static void test_bad_goldens(void **state)
{
	char pat[4096], ok[4200], *text, *out;
	size_t len;
	glob_t g;
	int bad = 0;

	(void)state;
	snprintf(pat, sizeof(pat), "%s/tests/ips/bad/*.rules", root());
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct ll_errlist errs = { 0 };
		FILE *mem = open_memstream(&out, &len);
		text = slurp(g.gl_pathv[i]);
		struct ips_ruleset *rs = ips_ruleset_from_text(basename(g.gl_pathv[i]), text, NULL, &errs);
		ll_err_print(&errs, mem);
		fclose(mem);
		snprintf(ok, sizeof(ok), "%.*s.err", (int)(strlen(g.gl_pathv[i]) - 6), g.gl_pathv[i]);
		bad += rs != NULL || !golden(out, ok);
		ips_ruleset_free(rs);
		ll_err_free(&errs);
		free(text);
		free(out);
	}
	globfree(&g);
	assert_int_equal(bad, 0);
}

static void count_kw(void *arg, const char *kw, uint32_t n)
{
	char *buf = arg;

	sprintf(buf + strlen(buf), "%s=%u ", kw, n);
}

/* --skip-unsupported: the rest loads, skipped rules are counted per keyword. */
static void test_skip_unsupported(void **state)
{
	struct ll_errlist errs = { 0 };
	char counts[256] = "";
	uint32_t skipped;
	struct ips_ruleset *rs = ipst_rules(
		"alert tcp any any -> any any (content:\"a\"; http_uri; sid:1;)\n"
		"alert http any any -> any any (content:\"a\"; sid:2;)\n"
		"alert tcp any any -> any any (content:\"a\"; http_uri; sid:3;)\n"
		"alert tcp any any -> any any (content:\"a\"; file_data; sid:4;)\n"
		"alert tcp any any -> any any (content:\"a\"; sid:5;)\n"
		/* Suricata 8's threshold additions: skipped, not a policy error */
		"alert tcp any any -> any any (content:\"b\"; threshold:type limit, track by_flow, "
		"count 1, seconds 60; sid:6;)\n"
		"alert tcp any any -> any any (content:\"c\"; threshold:type backoff, track by_src, "
		"count 1, multiplier 10; sid:7;)\n"
		"alert tcp any any -> any any (content:\"d\"; detection_filter:track by_flow, count 2, "
		"seconds 60; sid:8;)\n",
		true, &errs);

	(void)state;
	assert_non_null(rs);
	assert_int_equal(errs.n, 0);
	assert_int_equal(ips_ruleset_count(rs, &skipped), 1);
	assert_int_equal(skipped, 7);
	ips_ruleset_skips(rs, count_kw, counts);
	assert_string_equal(counts, "http_uri=2 protocol http=1 file_data=1 threshold/by_flow=1 "
				    "threshold/backoff=1 detection_filter/by_flow=1 ");
	ips_ruleset_free(rs);
}

/* Duplicates by (gid, sid), found among thousands of rules (the index grows), named by first line. */
static void test_duplicate_sids(void **state)
{
	enum { N = 5000 };
	struct ll_errlist errs = { 0 };
	size_t cap = (N + 3) * 80, len = 0;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"alert tcp any any -> any any (content:\"a\"; sid:%d;)\n", i + 1);
	/* the same sid under another gid is another rule; the same pair again is not */
	len += (size_t)snprintf(text + len, cap - len,
				"alert tcp any any -> any any (content:\"a\"; sid:7; gid:3;)\n"
				"alert tcp any any -> any any (content:\"a\"; sid:4321;)\n"
				"alert tcp any any -> any any (content:\"a\"; sid:7; gid:3;)\n");
	assert_null(ipst_rules(text, false, &errs));
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.v[0].msg, "duplicate sid 4321 (first at line 4321)");
	assert_int_equal(errs.v[0].loc.line, N + 2);
	assert_string_equal(errs.v[1].msg, "duplicate sid 7 (first at line 5001)");
	ll_err_free(&errs);
	free(text);
}

/* $HOME_NET: a define wins, then the host's addresses, then Suricata's default. */
static void test_home_net(void **state)
{
	struct ip_range host = { ll_ip_from_v4(0xc6336402), ll_ip_from_v4(0xc6336402) };
	struct ip_range def = { ll_ip_from_v4(0xcb007100), ll_ip_from_v4(0xcb0071ff) };
	struct fw_set set = { .name = "HOME_NET", .kind = SET_ADDR, .n = 1, .addrs = &def };
	struct policy_ips_line line = { "alert ip $HOME_NET any -> $EXTERNAL_NET any (sid:1;)", { "p", 1, 1 }, NULL, 0 };
	struct policy p = { .ips_lines = &line, .nips_lines = 1 };
	struct policy_opts o = { .home_net = &host, .nhome_net = 1 };
	struct ll_errlist errs = { 0 };
	const struct ips_rule *r;

	(void)state;
	assert_int_equal(ips_ruleset_build(&p, &o, &errs), 0);
	r = &p.ips->rules[0];
	assert_true(ips_addr_has(&r->src, host.lo));
	assert_false(ips_addr_has(&r->src, ll_ip_from_v4(0x0a000001)));
	assert_true(ips_addr_has(&r->dst, ll_ip_from_v4(0x0a000001)));
	assert_false(ips_addr_has(&r->dst, host.lo));
	ips_ruleset_free(p.ips);

	p.sets = &set, p.nsets = 1;
	assert_int_equal(ips_ruleset_build(&p, &o, &errs), 0);
	r = &p.ips->rules[0];
	assert_true(ips_addr_has(&r->src, ll_ip_from_v4(0xcb007105)));
	assert_false(ips_addr_has(&r->src, host.lo));
	assert_true(ips_addr_has(&r->dst, host.lo));
	ips_ruleset_free(p.ips);

	p.nsets = 0;
	assert_int_equal(ips_ruleset_build(&p, NULL, &errs), 0);
	assert_true(ips_addr_has(&p.ips->rules[0].src, ll_ip_from_v4(0xc0a80101)));
	ips_ruleset_free(p.ips);
	assert_int_equal(errs.n, 0);
}

/*
 * An inline list is as long as the line allows: ET's IP-reputation rules
 * list hundreds of addresses in the header (a 1,024-byte token once cut
 * this one at its 94th address, "bad address '192.0.2.'").
 */
static void test_long_header_list(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct policy_ips_line line = { NULL, { "p", 1, 1 }, NULL, 0 };
	struct policy p = { .ips_lines = &line, .nips_lines = 1 };
	struct ll_errlist errs = { 0 };
	const struct ips_rule *r;

	(void)state;
	assert_non_null(f);
	fputs("alert tcp [", f);
	for (int i = 1; i <= 250; i++)
		fprintf(f, "%s192.0.2.%d", i > 1 ? "," : "", i);
	fputs("] any -> any [80,", f);
	for (int i = 1000; i < 1300; i++)
		fprintf(f, "%d,", i);
	fputs("8080] (sid:1;)", f);
	fclose(f);
	line.text = text;
	assert_true(len > 4000);
	assert_int_equal(ips_ruleset_build(&p, NULL, &errs), 0);
	r = &p.ips->rules[0];
	assert_true(ips_addr_has(&r->src, ll_ip_from_v4(0xc00002fa))); /* 192.0.2.250, the last */
	assert_false(ips_addr_has(&r->src, ll_ip_from_v4(0xc00002fb)));
	assert_true(ips_ports_has(&r->dp, 8080));
	assert_true(ips_ports_has(&r->dp, 1299));
	assert_false(ips_ports_has(&r->dp, 1300));
	ips_ruleset_free(p.ips);
	assert_int_equal(errs.n, 0);
	free(text);
}

/*
 * Equal header ranges are one array: a variable used by many rules costs its
 * size once (1,000 addresses over 30,000 rules took 1.98 GB as copies).
 */
static void test_shared_ranges(void **state)
{
	struct ip_range a[2] = { { ll_ip_from_v4(0xc0000201), ll_ip_from_v4(0xc0000201) },
				 { ll_ip_from_v4(0xc0000203), ll_ip_from_v4(0xc0000203) } };
	struct port_range pr[2] = { { 80, 80 }, { 8080, 8080 } };
	struct fw_set sets[2] = { { .name = "A", .kind = SET_ADDR, .n = 2, .addrs = a },
				  { .name = "P", .kind = SET_PORT, .n = 2, .ports = pr } };
	struct policy_ips_line lines[3] = {
		{ "alert tcp $A any -> any $P (sid:1;)", { "p", 1, 1 }, NULL, 0 },
		{ "alert tcp any $P -> $A $P (sid:2;)", { "p", 2, 1 }, NULL, 0 },
		{ "alert tcp [192.0.2.1,192.0.2.3] any -> any [80,8081] (sid:3;)", { "p", 3, 1 }, NULL, 0 },
	};
	struct policy p = { .ips_lines = lines, .nips_lines = 3, .sets = sets, .nsets = 2 };
	struct ll_errlist errs = { 0 };
	const struct ips_rule *r;

	(void)state;
	assert_int_equal(ips_ruleset_build(&p, NULL, &errs), 0);
	r = p.ips->rules;
	assert_ptr_equal(r[1].dst.r, r[0].src.r); /* $A, on either side */
	assert_ptr_equal(r[1].sp.r, r[0].dp.r);   /* $P */
	assert_ptr_equal(r[1].dp.r, r[0].dp.r);
	assert_ptr_equal(r[2].src.r, r[0].src.r); /* the same set written out */
	assert_ptr_not_equal(r[2].dp.r, r[0].dp.r); /* 8081 is not 8080 */
	assert_true(ips_addr_has(&r[1].dst, ll_ip_from_v4(0xc0000203)));
	assert_false(ips_addr_has(&r[1].dst, ll_ip_from_v4(0xc0000202)));
	assert_true(ips_ports_has(&r[1].sp, 8080));
	assert_true(ips_ports_has(&r[2].dp, 8081));
	assert_false(ips_ports_has(&r[2].dp, 8080));
	ips_ruleset_free(p.ips); /* each array once: ASan in make test SAN=1 */
	assert_int_equal(errs.n, 0);
}

/* A port define used as an address is an error naming the variable. */
static void test_define_kind(void **state)
{
	struct port_range pr = { 80, 80 };
	struct fw_set set = { .name = "web", .kind = SET_PORT, .n = 1, .ports = &pr };
	struct policy_ips_line line = { "alert tcp $web any -> any $web (sid:1;)", { "p", 3, 1 }, NULL, 0 };
	struct policy p = { .ips_lines = &line, .nips_lines = 1, .sets = &set, .nsets = 1 };
	struct ll_errlist errs = { 0 };

	(void)state;
	assert_int_equal(ips_ruleset_build(&p, NULL, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].msg, "'$web' is a port set, used as addresses");
	assert_int_equal(errs.v[0].loc.col, 11);
	ll_err_free(&errs);
}

static void test_uint(void **state)
{
	struct ips_uint u;

	(void)state;
	assert_int_equal(ips_parse_uint("5", 255, &u), 0);
	assert_true(ips_uint_match(&u, 5) && !ips_uint_match(&u, 6));
	assert_int_equal(ips_parse_uint("<5", 255, &u), 0);
	assert_true(ips_uint_match(&u, 4) && !ips_uint_match(&u, 5));
	assert_int_equal(ips_parse_uint(">=5", 255, &u), 0);
	assert_true(ips_uint_match(&u, 5) && !ips_uint_match(&u, 4));
	assert_int_equal(ips_parse_uint("!5", 255, &u), 0);
	assert_true(ips_uint_match(&u, 4) && !ips_uint_match(&u, 5));
	assert_int_equal(ips_parse_uint("2<>5", 255, &u), 0); /* exclusive, as Suricata */
	assert_true(ips_uint_match(&u, 3) && !ips_uint_match(&u, 2) && !ips_uint_match(&u, 5));
	assert_int_equal(ips_parse_uint("256", 255, &u), -EINVAL);
	assert_int_equal(ips_parse_uint("5<>2", 255, &u), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_goldens),  cmocka_unit_test(test_bad_goldens),
		cmocka_unit_test(test_skip_unsupported), cmocka_unit_test(test_duplicate_sids), cmocka_unit_test(test_home_net),
		cmocka_unit_test(test_long_header_list),
		cmocka_unit_test(test_shared_ranges),
		cmocka_unit_test(test_define_kind),    cmocka_unit_test(test_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
