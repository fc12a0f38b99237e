/* test_policy.c - the policy parser and checker: values, errors with locations, ids, includes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw.h"
#include "pkt.h"
#include "helper_file.h"
#include "ips_rules.h"
#include "policy.h"

static struct policy *load(const char *text, struct ll_errlist *errs)
{
	return policy_load_string("t.pol", text, NULL, errs);
}

static struct policy *load_ok(const char *text)
{
	struct ll_errlist errs = { 0 };
	struct policy *p = load(text, &errs);

	if (!p)
		ll_err_print(&errs, stderr);
	assert_non_null(p);
	assert_int_equal(errs.n, 0);
	ll_err_free(&errs);
	return p;
}

/* "file:line:col: msg" of error @i. */
static char *err_str(const struct ll_errlist *l, size_t i)
{
	char *s = NULL;

	assert_true(i < l->n);
	assert_true(asprintf(&s, "%s:%u:%u: %s", l->v[i].loc.file, l->v[i].loc.line,
			     l->v[i].loc.col, l->v[i].msg) > 0);
	return s;
}

/* @text fails with exactly the errors in @want (NULL-terminated). */
static void expect_errors(const char *text, const char *const *want)
{
	struct ll_errlist errs = { 0 };
	struct policy *p = load(text, &errs);
	size_t n = 0;

	assert_null(p);
	for (; want[n]; n++) {
		char *s = err_str(&errs, n);
		assert_string_equal(s, want[n]);
		free(s);
	}
	assert_int_equal(errs.n, n);
	ll_err_free(&errs);
}

#define EXPECT_ERRORS(text, ...) expect_errors(text, (const char *const[]){ __VA_ARGS__, NULL })

static ll_ip ip(const char *s)
{
	ll_ip a;

	assert_int_equal(ll_ip_parse(s, &a), 0);
	return a;
}

static void test_empty_and_comments(void **state)
{
	(void)state;
	struct policy *p = load_ok("");
	struct fw_key k = { .dir = FW_DIR_IN, .proto = 6 };
	struct fw_result res;

	assert_int_equal(p->nrules, 0);
	assert_false(p->has_serial);
	assert_int_equal(strlen(p->hash), 64);
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_EMPTY_POLICY);
	policy_free(p);
	p = load_ok("# only a comment\n\n\t  \n");
	assert_int_equal(p->nrules, 0);
	policy_free(p);
	p = policy_empty();
	assert_non_null(p);
	assert_int_equal(p->nrules, 0);
	policy_free(p);
}

static void test_rule_fields(void **state)
{
	(void)state;
	struct policy *p = load_ok("serial 42\n"
				   "define mgmt = { 203.0.113.0/24, 2001:db8:2::/64 }\n"
				   "define web = { 80 443 8000-8100 }\n"
				   "force-allow priority 2 in tcp from $mgmt to any port $web id 11\n"
				   "deny priority 3 in any on eth1 from ! $mgmt nolog msg \"x\"\n");
	const struct fw_rule *r = &p->rules[0];

	assert_true(p->has_serial);
	assert_int_equal(p->serial, 42);
	assert_int_equal(p->nsets, 2);
	assert_string_equal(p->sets[0].name, "mgmt");
	assert_int_equal(p->sets[0].kind, SET_ADDR);
	assert_int_equal(p->sets[0].n, 2);
	assert_int_equal(p->sets[1].kind, SET_PORT);
	assert_string_equal(p->sets[1].text, "{ 80, 443, 8000-8100 }");
	assert_int_equal(p->nrules, 2);
	assert_int_equal(r->action, FW_FORCE_ALLOW);
	assert_int_equal(r->priority, 2);
	assert_int_equal(r->dir, FW_DIR_IN);
	assert_int_equal(r->proto_kind, FWP_TCP);
	assert_int_equal(r->id, 11);
	assert_false(r->id_auto);
	assert_false(r->src.any);
	assert_int_equal(r->src.n, 2);
	assert_string_equal(r->src.text, "$mgmt");
	assert_true(r->dst.any);
	assert_int_equal(r->dport.n, 3);
	assert_int_equal(r->dport.r[2].lo, 8000);
	assert_int_equal(r->dport.r[2].hi, 8100);
	assert_true(r->sport.any);
	assert_int_equal(r->loc.line, 4);
	assert_int_equal(r->loc.col, 1);
	assert_string_equal(r->loc.file, "t.pol");
	r = &p->rules[1];
	assert_string_equal(r->iface, "eth1");
	assert_true(r->src.neg);
	assert_string_equal(r->src.text, "! $mgmt");
	assert_true(r->nolog);
	assert_string_equal(r->msg, "x");
	assert_true(r->id_auto);
	assert_int_equal(r->id, 12);
	assert_int_equal(p->allow_dirs, 0);
	assert_int_equal(p->nfiles, 1);
	policy_free(p);
}

static void test_cidr_merge_and_ipv6(void **state)
{
	(void)state;
	struct policy *p = load_ok("deny in any from { 10.0.1.0/24 10.0.0.77/24 10.0.0.5 } id 1\n"
				   "deny in any from 2001:db8::1/32 to 2001:db8::1-2001:db8::9 id 2\n");
	const struct fw_rule *r = &p->rules[0];

	assert_int_equal(r->src.n, 1);
	assert_true(ll_ip_eq(r->src.r[0].lo, ip("10.0.0.0")));
	assert_true(ll_ip_eq(r->src.r[0].hi, ip("10.0.1.255")));
	assert_string_equal(r->src.text, "{ 10.0.1.0/24, 10.0.0.0/24, 10.0.0.5 }");
	r = &p->rules[1];
	assert_true(ll_ip_eq(r->src.r[0].lo, ip("2001:db8::")));
	assert_true(ll_ip_eq(r->src.r[0].hi, ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
	assert_string_equal(r->src.text, "2001:db8::/32");
	assert_true(ll_ip_eq(r->dst.r[0].hi, ip("2001:db8::9")));
	policy_free(p);
}

/* A packet's verdict under @p by the reference evaluator: the rule id, 0 for none. */
static uint32_t eval_id(const struct policy *p, const char *src, const char *dst)
{
	struct fw_key k = { .dir = FW_DIR_IN, .proto = 6, .sport = 1000, .dport = 80,
			    .icmp_type = -1, .icmp_code = -1 };
	struct fw_result r;

	k.src = ip(src), k.dst = ip(dst);
	k.family = ll_ip_is_v4(k.src) ? 4 : 6;
	fw_eval_linear(p, &k, &r);
	return r.rule ? r.rule_id : 0;
}

/*
 * Address families as pf and nft have them: an IPv6 prefix is IPv6 only
 * (`::/0` takes in no IPv4 packet), a negation stays in the family of what
 * it negates, and a rule whose parts name different families is an error.
 */
static void test_address_families(void **state)
{
	struct policy *p = load_ok("deny in tcp from ::/0 id 1\n"
				   "deny in tcp from ! 10.0.0.0/8 id 2\n"
				   "deny in tcp from ! 2001:db8::/32 id 3\n"
				   "deny in tcp from ! { 10.0.0.0/8 2001:db8::/32 } id 4\n");

	(void)state;
	assert_int_equal(p->rules[0].src.family, 6);
	assert_int_equal(p->rules[0].src.n, 2); /* around the IPv4 block */
	assert_int_equal(eval_id(p, "2001:db8::1", "2001:db8::2"), 1);
	assert_int_equal(eval_id(p, "2001:db9::1", "2001:db8::2"), 1);
	assert_int_equal(eval_id(p, "11.0.0.1", "192.0.2.2"), 2); /* not ::/0's */
	assert_int_equal(eval_id(p, "10.0.0.1", "192.0.2.2"), 0); /* IPv4, in 10/8: no rule 3 */
	policy_free(p);
	p = load_ok("deny in tcp from ! 10.0.0.0/8 id 2\n"
		    "deny in tcp from ! 2001:db8::/32 id 3\n"
		    "deny in tcp from ! { 10.0.0.0/8 2001:db8::/32 } id 4\n");
	assert_int_equal(eval_id(p, "2001:db8::1", "2001:db8::2"), 0);
	assert_int_equal(eval_id(p, "2001:db9::1", "2001:db8::2"), 3);
	policy_free(p);
	p = load_ok("deny in tcp from ! { 10.0.0.0/8 2001:db8::/32 } id 4\n");
	assert_int_equal(eval_id(p, "2001:db9::1", "2001:db8::2"), 4);
	assert_int_equal(eval_id(p, "11.0.0.1", "192.0.2.2"), 4);
	assert_int_equal(eval_id(p, "10.0.0.1", "192.0.2.2"), 0);
	policy_free(p);
	EXPECT_ERRORS("deny in tcp from 10.0.0.1 to 2001:db8::1\n",
		      "t.pol:1:30: to '2001:db8::1' is IPv6 only, and from '10.0.0.1' IPv4 only: "
		      "the rule can never match");
	EXPECT_ERRORS("deny in icmp6 type echo-request from 10.0.0.1\n",
		      "t.pol:1:38: from '10.0.0.1' is IPv4 only, and icmp6 is IPv6: the rule can "
		      "never match");
	EXPECT_ERRORS("deny in icmp to ! 2001:db8::/32\n",
		      "t.pol:1:17: to '! 2001:db8::/32' is IPv6 only, and icmp is IPv4: the rule "
		      "can never match");
}

/*
 * What pf and nft refuse, or a rule that can never do what it says, is an
 * error that says why: an empty literal list, a negation that leaves
 * nothing, a list without braces, a service name, a wildcard. IPv6 text
 * whose prefix reaches past ::ffff:0:0/96 is an ordinary IPv6 network.
 */
static void test_rule_value_mistakes(void **state)
{
	struct policy *p = load_ok("deny in tcp from ::ffff:0:0/64 id 1\n"
				   "deny in tcp from ! ::/1 id 2\n"
				   "deny in tcp to any port ! 1-65535 id 3\n");

	(void)state;
	assert_string_equal(p->rules[0].src.text, "::/64");
	assert_int_equal(p->rules[0].src.family, 6);
	assert_int_equal(eval_id(p, "::7", "2001:db8::2"), 1);
	assert_int_equal(eval_id(p, "192.0.2.7", "192.0.2.2"), 0); /* IPv4: not ::/64's */
	policy_free(p);
	EXPECT_ERRORS("deny in tcp from { } id 1\n",
		      "t.pol:1:18: '{ }' is empty: a rule with it would match nothing; write a define "
		      "(a set 'table' fills) or leave the rule out");
	EXPECT_ERRORS("deny in tcp to any port ! { } id 1\n",
		      "t.pol:1:27: '{ }' is empty: a rule with it would match every address or port; "
		      "write 'any'");
	EXPECT_ERRORS("deny in tcp from ! ::/0 id 1\n",
		      "t.pol:1:18: '! ::/0' leaves no address of its family: the rule can never match");
	EXPECT_ERRORS("deny in tcp to ! { 0.0.0.0/1, 128.0.0.0/1 } id 1\n",
		      "t.pol:1:16: '! { 0.0.0.0/1, 128.0.0.0/1 }' leaves no address of its family: "
		      "the rule can never match");
	EXPECT_ERRORS("deny in tcp to any port ! { 0-100, 101-65535 } id 1\n",
		      "t.pol:1:25: '! { 0-100, 101-65535 }' leaves no port: the rule can never match");
	EXPECT_ERRORS("deny in tcp to any port 80,443 id 1\n",
		      "t.pol:1:27: unexpected ',': a list needs braces, as in 'port { 80, 443 }' or "
		      "'from { 192.0.2.1, 198.51.100.0/24 }'");
	EXPECT_ERRORS("deny in tcp to any port ssh id 1\n",
		      "t.pol:1:25: bad port 'ssh': service names are not supported, write the number");
	EXPECT_ERRORS("deny in tcp on eth+ id 1\n",
		      "t.pol:1:19: unexpected character '+': wildcards are not supported (an interface "
		      "needs its whole name, addresses a prefix such as 192.0.2.0/24)");
	EXPECT_ERRORS("deny in tcp from ::ffff:0:0/96 id 1\n",
		      "t.pol:1:18: '::ffff:0:0/96': " LL_V4_MAPPED_WHY);
}

static void test_allow_dirs(void **state)
{
	(void)state;
	struct policy *p = load_ok("allow in tcp to any port 80\ndeny out tcp\n");

	assert_int_equal(p->allow_dirs, FW_DIR_IN);
	policy_free(p);
	p = load_ok("allow any udp\n");
	assert_int_equal(p->allow_dirs, FW_DIR_ANY);
	policy_free(p);
}

static void test_auto_ids(void **state)
{
	(void)state;
	struct policy *p = load_ok("deny in tcp\ndeny in udp id 50\ndeny in icmp\n"
				   "deny in any id 7\ndeny out any\n");

	assert_int_equal(p->rules[0].id, 51);
	assert_true(p->rules[0].id_auto);
	assert_int_equal(p->rules[1].id, 50);
	assert_int_equal(p->rules[2].id, 52);
	assert_int_equal(p->rules[3].id, 7);
	assert_int_equal(p->rules[4].id, 53);
	policy_free(p);
}

static void test_icmp_and_flags(void **state)
{
	(void)state;
	struct policy *p = load_ok("deny in icmp type destination-unreachable code frag-needed\n"
				   "deny in icmp6 type packet-too-big\n"
				   "deny in icmp type 8\n"
				   "deny in tcp flags SYN,fin\n");

	assert_int_equal(p->rules[0].icmp_type, 3);
	assert_int_equal(p->rules[0].icmp_code, 4);
	assert_int_equal(p->rules[1].icmp_type, 2);
	assert_int_equal(p->rules[1].icmp_code, -1);
	assert_int_equal(p->rules[2].icmp_type, 8);
	assert_int_equal(p->rules[3].tcp_flags, TCPF_SYN | TCPF_FIN);
	policy_free(p);
}

static void test_errors_quote_token(void **state)
{
	(void)state;
	EXPECT_ERRORS("deny in tcp\ndeny in udp\ndeny in tcpp to any port 22\n",
		      "t.pol:3:9: unknown protocol 'tcpp'");
	EXPECT_ERRORS("allow priority 2 in tcp\n",
		      "t.pol:1:16: 'allow' exists only at priority 0, not 2");
	EXPECT_ERRORS("log-only priority 3 in tcp\n",
		      "t.pol:1:19: 'log-only' exists only at priority 4, not 3");
	EXPECT_ERRORS("deny priority 9 in tcp\n", "t.pol:1:15: priority '9' out of range 0-4");
	EXPECT_ERRORS("deny in icmp to any port 22\n",
		      "t.pol:1:21: 'port' needs protocol tcp, udp or tcp-udp");
	EXPECT_ERRORS("deny in udp type 3\n", "t.pol:1:13: 'type' needs protocol icmp or icmp6");
	EXPECT_ERRORS("deny in proto 1 type 8\n",
		      "t.pol:1:17: 'type' needs protocol icmp or icmp6: write 'icmp', not 'proto 1'");
	EXPECT_ERRORS("deny in udp flags SYN\n", "t.pol:1:13: 'flags' needs protocol tcp");
	EXPECT_ERRORS("deny in any from { 192.0.2.1 !192.0.2.2 }\n",
		      "t.pol:1:30: '!' inside a list: negate the whole list instead");
	EXPECT_ERRORS("deny in any from 192.0.2.9-192.0.2.1\n",
		      "t.pol:1:18: range '192.0.2.9-192.0.2.1': start is above end");
	EXPECT_ERRORS("deny in tcp to any port 9-1\n", "t.pol:1:25: range '9-1': start is above end");
	EXPECT_ERRORS("deny in tcp to any port 65536\n",
		      "t.pol:1:25: port '65536' out of range 0-65535");
	EXPECT_ERRORS("deny in tcp id 3\ndeny in udp id 3\n",
		      "t.pol:2:16: duplicate id 3 (first at t.pol:1:16)");
	EXPECT_ERRORS("deny in tcp frm any\n", "t.pol:1:13: unknown keyword 'frm'");
	EXPECT_ERRORS("deny in any from $x\n", "t.pol:1:18: undefined '$x'");
	EXPECT_ERRORS("deny in any from $x\ndefine x = 192.0.2.1\n",
		      "t.pol:1:18: '$x' is used before its define (line 2): define it first");
	EXPECT_ERRORS("deny in any from 192.0.2.1-2001:db8::1\n",
		      "t.pol:1:18: range '192.0.2.1-2001:db8::1' mixes IPv4 and IPv6");
	EXPECT_ERRORS("define p = { 22 }\ndeny in any from $p\n",
		      "t.pol:2:18: '$p' is a port set, not addresses");
	EXPECT_ERRORS("define a = 192.0.2.0/24\ndeny in tcp to any port $a\n",
		      "t.pol:2:25: '$a' is an address set, not ports");
	EXPECT_ERRORS("deny in icmp type bogus\n", "t.pol:1:19: unknown icmp type 'bogus'");
}

static void test_every_error_reported(void **state)
{
	(void)state;
	EXPECT_ERRORS("deny in tcpp\n"
		      "deny in tcp\n"
		      "allow priority 1 in tcp\n"
		      "bogus\n"
		      "deny in icmp to any port 22 flags SYN\n",
		      "t.pol:1:9: unknown protocol 'tcpp'",
		      "t.pol:3:16: 'allow' exists only at priority 0, not 1",
		      "t.pol:4:1: unknown keyword 'bogus'",
		      "t.pol:5:21: 'port' needs protocol tcp, udp or tcp-udp",
		      "t.pol:5:29: 'flags' needs protocol tcp");
}

/*
 * Past LL_ERR_MAX errors the parser stops and says so; a load that stopped
 * short never yields a policy, even one whose errors all came before it
 * (a list already full: nothing of this text was read).
 */
static void test_error_limit(void **state)
{
	struct ll_errlist errs = { 0 };
	size_t n = 20000 * 6 + 64;
	char *text = malloc(n), *s;

	(void)state;
	assert_non_null(text);
	text[0] = 0;
	for (int i = 0; i < 20000; i++)
		strcat(text + i * 6, "bogus\n");
	strcat(text, "allow in tcp id 1\n");
	assert_null(load(text, &errs));
	assert_int_equal(errs.n, LL_ERR_MAX + 1);
	s = err_str(&errs, LL_ERR_MAX - 1);
	assert_string_equal(s, "t.pol:1000:1: unknown keyword 'bogus'");
	free(s);
	s = err_str(&errs, LL_ERR_MAX);
	assert_string_equal(s, "t.pol:1001:1: too many errors; stopping here (the first 1000 are above)");
	free(s);
	assert_true(ll_err_full(&errs));
	/* the list is full before a word is read: still no policy, and no more errors */
	assert_null(load("allow in tcp id 1\n", &errs));
	assert_int_equal(errs.n, LL_ERR_MAX + 1);
	ll_err_free(&errs);
	free(text);
}

static void test_bad_bytes(void **state)
{
	(void)state;
	char path[] = "/tmp/test_policy_XXXXXX";
	static const char text[] = "deny in tcp\nde\0ny in udp\ndeny in tcp msg \"\xc3\x28\"\n";
	struct ll_errlist errs = { 0 };
	int fd = mkstemp(path);
	char *s;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	assert_null(policy_load_file(path, NULL, &errs));
	/* a NUL says binary data: nothing after it is read (line 3's bad byte is not reported) */
	assert_int_equal(errs.n, 2);
	s = err_str(&errs, 0);
	assert_non_null(strstr(s, ":2:1: unknown keyword 'de'"));
	free(s);
	s = err_str(&errs, 1);
	assert_non_null(strstr(s, ":2:3: NUL byte: binary data, not policy text"));
	free(s);
	ll_err_free(&errs);
	/* without the NUL, the bad UTF-8 byte is found where it is */
	assert_null(policy_load_string("t.pol", "deny in tcp msg \"\xc3\x28\"\n", NULL, &errs));
	assert_int_equal(errs.n, 1);
	s = err_str(&errs, 0);
	assert_non_null(strstr(s, ":1:18: invalid UTF-8 byte 0xc3"));
	free(s);
	ll_err_free(&errs);
	unlink(path);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct ll_errlist errs = { 0 };
	char *s;

	errno = 0;
	assert_null(policy_load_file("/nonexistent/x.pol", NULL, &errs));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(errs.n, 1);
	s = err_str(&errs, 0);
	assert_string_equal(s, "/nonexistent/x.pol:0:0: cannot read policy: No such file or directory");
	free(s);
	ll_err_free(&errs);
}

static void test_long_line(void **state)
{
	(void)state;
	size_t n = 20000, len = 0;
	char *text = malloc(n * 24 + 64);
	struct policy *p;

	len += (size_t)sprintf(text, "deny in any from {");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, " 10.%zu.%zu.1", i / 256, i % 256);
	strcpy(text + len, " }\n");
	p = load_ok(text);
	assert_int_equal(p->rules[0].src.n, n);
	policy_free(p);
	free(text);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	hf_write(dir, name, text, 0644);
}

static void test_includes(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_policy_inc_XXXXXX", top[600], sub[600];
	struct ll_errlist errs = { 0 };
	struct policy *p;
	char *s;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "top.pol", "deny in tcp\ninclude \"sub/a.pol\"\ndeny in udp id 9\n");
	write_file(dir, "sub/a.pol", "define x = 192.0.2.1\ndeny in icmp from $x\ninclude \"b.pol\"\n");
	write_file(dir, "sub/b.pol", "deny out any\n");
	snprintf(top, sizeof(top), "%s/top.pol", dir);
	p = policy_load_file(top, NULL, &errs);
	ll_err_print(&errs, stderr);
	assert_non_null(p);
	assert_int_equal(p->nrules, 4);
	assert_int_equal(p->rules[0].id, 10);
	assert_int_equal(p->rules[1].id, 11);
	assert_int_equal(p->rules[1].proto_kind, FWP_ICMP);
	assert_non_null(strstr(p->rules[1].loc.file, "sub/a.pol"));
	assert_int_equal(p->rules[1].loc.line, 2);
	assert_int_equal(p->rules[2].id, 12);
	assert_int_equal(p->rules[2].dir, FW_DIR_OUT);
	assert_non_null(strstr(p->rules[2].loc.file, "sub/b.pol"));
	assert_int_equal(p->rules[3].id, 9);
	assert_int_equal(p->nfiles, 3);
	policy_free(p);

	/* a loop, and a duplicate id across files */
	write_file(dir, "sub/b.pol", "deny out any id 9\ninclude \"../top.pol\"\n");
	p = policy_load_file(top, NULL, &errs);
	assert_null(p);
	assert_int_equal(errs.n, 2);
	/* sorted by file (in the order first read), then line */
	s = err_str(&errs, 0);
	assert_non_null(strstr(s, "top.pol:3:16: duplicate id 9 (first at "));
	free(s);
	s = err_str(&errs, 1);
	assert_non_null(strstr(s, "sub/b.pol:2:9: include loop: "));
	free(s);
	ll_err_free(&errs);

	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
}

static void test_print_idempotent(void **state)
{
	(void)state;
	struct policy *p, *q;
	char *out = NULL, *out2 = NULL;
	size_t len, len2;
	FILE *f;

	p = load_ok("serial 3\ndefine m = { 203.0.113.0/24 2001:db8::/64 }\n"
		    "deny priority 4 in tcp to any port { 23 2323 } id 10\n"
		    "force-allow in priority 2 tcp from ! $m port 1024-65535 msg \"a \\\"b\\\"\"\n"
		    "log-only in icmp type 3 code 4\n");
	f = open_memstream(&out, &len);
	policy_print(p, f);
	fclose(f);
	q = load_ok(out);
	f = open_memstream(&out2, &len2);
	policy_print(q, f);
	fclose(f);
	assert_string_equal(out, out2);
	assert_string_equal(p->hash, q->hash);
	assert_non_null(strstr(out, "force-allow priority 2 in tcp from ! $m port 1024-65535 id 11 "
				    "msg \"a \\\"b\\\"\"\n"));
	assert_non_null(strstr(out, "log-only in icmp type destination-unreachable code "
				    "frag-needed id 12\n"));
	free(out);
	free(out2);
	policy_free(p);
	policy_free(q);
}

/* The parsed SPEC example, judged by the reference evaluator. */
static void test_spec_example_verdicts(void **state)
{
	(void)state;
	struct policy *p = load_ok(
		"define mgmt = { 203.0.113.0/24, 2001:db8:2::/64 }\n"
		"define web  = { 80 443 8000-8100 }\n"
		"deny        priority 4 in  tcp from any to any port 23          id 10\n"
		"force-allow priority 2 in  tcp from $mgmt to any port 22        id 11\n"
		"allow                  in  tcp to any port $web                 id 12\n"
		"bypass      priority 4 in  udp from 203.0.113.20 port 514       id 13\n"
		"log-only               in  icmp type echo-request               id 14\n"
		"deny        priority 4 in  tcp flags SYN,FIN                    id 15\n"
		"allow                  out any                                  id 16\n"
		"deny        priority 3 in  any on eth1 from ! $mgmt nolog       id 17\n");
	struct fw_key k = { .dir = FW_DIR_IN, .family = 4, .proto = 6, .sport = 40000,
			    .icmp_type = -1, .icmp_code = -1 };
	struct fw_result res;

	k.src = ip("203.0.113.5"), k.dst = ip("192.0.2.1"), k.dport = 22;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_FORCE_ALLOW);
	assert_int_equal(res.rule->id, 11);
	k.src = ip("198.51.100.5");
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_NOT_ALLOWED);
	k.dport = 8050;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_ALLOW);
	k.ifname = "eth1";
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_DENY);
	assert_int_equal(res.rule->id, 17);
	k.ifname = NULL, k.dport = 23;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.rule->id, 10);
	k.proto = 1, k.dport = k.sport = 0, k.icmp_type = 8, k.icmp_code = 0;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_NOT_ALLOWED);
	assert_int_equal(res.nlogged, 1);
	assert_int_equal(res.logged[0], 14);
	k.dir = FW_DIR_OUT;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_ALLOW);
	assert_int_equal(res.rule->id, 16);
	policy_free(p);
}

/*
 * `define X = any` (Suricata's most common change: EXTERNAL_NET any) is
 * every address or every port, as the define is used, in firewall and IPS
 * rules alike (sur23 L1: it was refused).
 */
static void test_define_any(void **state)
{
	(void)state;
	struct policy *p = load_ok("define X = any\n"
				   "define EXTERNAL_NET = any\n"
				   "deny in tcp from $X to any port { $X } id 1\n"
				   "alert tcp $EXTERNAL_NET any -> any $EXTERNAL_NET (msg:\"x\"; sid:1;)\n");
	struct fw_key k = { .dir = FW_DIR_IN, .family = 6, .proto = 6, .sport = 40000, .dport = 1,
			    .icmp_type = -1, .icmp_code = -1, .src = ip("2001:db8::1"),
			    .dst = ip("2001:db8::2") };
	struct fw_result res;

	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_DENY);
	k.family = 4, k.src = ip("192.0.2.1"), k.dst = ip("198.51.100.1"), k.dport = 65535;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_DENY);
	assert_non_null(p->ips);
	assert_int_equal(p->ips->nrules, 1);
	/* the default would be !$HOME_NET: here the host's own addresses too */
	assert_true(ips_addr_has(&p->ips->rules[0].src, ip("192.0.2.1")));
	assert_true(ips_addr_has(&p->ips->rules[0].src, ip("2001:db8::1")));
	policy_free(p);
	/* a define holding one is any too, of either kind, wherever it stands in a list (rev23) */
	p = load_ok("define X = any\ndefine A = $X\ndefine B = { $X 22 }\n"
		    "deny in tcp from $A to any port $B id 1\n");
	assert_true(p->sets[1].any && p->sets[2].any);
	k.dport = 7;
	fw_eval_linear(p, &k, &res);
	assert_int_equal(res.reason, R_DENY);
	policy_free(p);
	/* no table narrows it: negated, it matches nothing, as '! any' (rev23) */
	EXPECT_ERRORS("define X = any\ndeny in tcp from ! $X to any port ! { $X }\n",
		      "t.pol:2:18: '! $X' leaves no address of its family: the rule can never match",
		      "t.pol:2:35: '! $X' leaves no port: the rule can never match");
}

/* IPS lines are kept as written, '\' continuations joined, for ips_ruleset_build(). */
static void test_ips_lines_kept(void **state)
{
	(void)state;
	struct policy *p = load_ok("deny in tcp id 1\n"
				   "# alert tcp any any -> any any (sid:9;)\n"
				   "alert tcp any any -> any any (msg:\"x\"; \\\n"
				   "  content:\"abc\"; sid:1; rev:1;)\r\n"
				   "  drop tcp any any -> any 80 (msg:\"y\"; sid:2;)\n"
				   "deny in udp\n");

	assert_int_equal(p->nrules, 2);
	assert_int_equal(p->rules[1].id, 2);
	assert_int_equal(p->nips_lines, 2);
	assert_string_equal(p->ips_lines[0].text,
			    "alert tcp any any -> any any (msg:\"x\";   content:\"abc\"; sid:1; rev:1;)");
	assert_int_equal(p->ips_lines[0].loc.line, 3);
	assert_int_equal(p->ips_lines[1].loc.line, 5);
	assert_int_equal(p->ips_lines[1].loc.col, 3);
	assert_string_equal(p->ips_lines[1].text, "drop tcp any any -> any 80 (msg:\"y\"; sid:2;)");
	assert_int_equal(p->rules[1].loc.line, 6);
	policy_free(p);
}

/* Bad input gets a few clear errors, not one per token or byte. */
static void test_errors_do_not_cascade(void **state)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts o = { 0 };
	char bin[400];
	char *s;

	(void)state;
	/* an unclosed list: one error at the brace, naming the line that starts the next rule */
	assert_null(policy_load_string("t.pol", "define web = { 80 443\nallow in tcp to any port $web id 1\n"
				       "deny in tcp id 2\n", &o, &errs));
	assert_int_equal(errs.n, 1);
	s = err_str(&errs, 0);
	assert_string_equal(s, "t.pol:1:14: '{' is never closed: line 2 starts with 'allow'");
	free(s);
	ll_err_free(&errs);
	/* binary data: a handful of errors, then one line saying it is not policy text */
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(0x80 + i % 0x40);
	bin[sizeof(bin) - 1] = 0;
	assert_null(policy_load_string("t.pol", bin, &o, &errs));
	assert_true(errs.n >= 2 && errs.n <= 11);
	s = err_str(&errs, errs.n - 1);
	assert_non_null(strstr(s, "not policy text"));
	free(s);
	ll_err_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_error_limit),
		cmocka_unit_test(test_rule_fields),
		cmocka_unit_test(test_cidr_merge_and_ipv6),
		cmocka_unit_test(test_allow_dirs),
		cmocka_unit_test(test_auto_ids),
		cmocka_unit_test(test_icmp_and_flags),
		cmocka_unit_test(test_errors_quote_token),
		cmocka_unit_test(test_address_families),
		cmocka_unit_test(test_rule_value_mistakes),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_print_idempotent),
		cmocka_unit_test(test_spec_example_verdicts),
		cmocka_unit_test(test_ips_lines_kept),
		cmocka_unit_test(test_define_any),
		cmocka_unit_test(test_errors_do_not_cascade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
