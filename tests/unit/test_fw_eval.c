/* test_fw_eval.c - the reference evaluator against SPEC section 4's evaluation order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw.h"
#include "pkt.h"

#define MAXR 16

struct tp {
	struct policy p;
	struct fw_rule r[MAXR];
};

static struct tp *tp_new(void)
{
	struct tp *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->p.rules = t->r;
	return t;
}

/* Append a rule matching everything in @dir; the caller narrows it. */
static struct fw_rule *add(struct tp *t, enum fw_action a, int pri, int dir, uint32_t id)
{
	struct fw_rule *r = &t->r[t->p.nrules++];

	assert_true(t->p.nrules <= MAXR);
	memset(r, 0, sizeof(*r));
	r->action = (uint8_t)a;
	r->priority = (uint8_t)pri;
	r->dir = (uint8_t)dir;
	r->proto_kind = FWP_ANY;
	r->id = id;
	r->src.any = r->dst.any = true;
	r->sport.any = r->dport.any = true;
	r->icmp_type = r->icmp_code = -1;
	if (a == FW_ALLOW)
		t->p.allow_dirs |= (uint8_t)dir;
	return r;
}

static ll_ip ip(const char *s)
{
	ll_ip a;

	assert_int_equal(ll_ip_parse(s, &a), 0);
	return a;
}

static struct fw_key key(int dir, int proto, const char *src, uint16_t sport, const char *dst,
			 uint16_t dport)
{
	struct fw_key k = { 0 };

	k.dir = (uint8_t)dir;
	k.proto = (uint8_t)proto;
	k.src = ip(src);
	k.dst = ip(dst);
	k.family = ll_ip_is_v4(k.src) ? 4 : 6;
	k.sport = sport;
	k.dport = dport;
	k.icmp_type = k.icmp_code = -1;
	return k;
}

static struct fw_key tcp_in(uint16_t dport)
{
	return key(FW_DIR_IN, IPPROTO_TCP_, "198.51.100.7", 40000, "192.0.2.1", dport);
}

static void eval(struct tp *t, const struct fw_key *k, struct fw_result *res)
{
	fw_eval_linear(&t->p, k, res);
}

static void expect(struct tp *t, const struct fw_key *k, enum ll_reason reason, uint32_t id)
{
	struct fw_result res;

	eval(t, k, &res);
	assert_string_equal(ll_reason_name(res.reason), ll_reason_name(reason));
	if (id) {
		assert_non_null(res.rule);
		assert_int_equal(res.rule->id, id);
	} else {
		assert_null(res.rule);
	}
}

static void test_empty_policy(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	eval(t, &k, &res);
	assert_int_equal(res.reason, R_EMPTY_POLICY);
	assert_true(res.accept);
	fw_eval_linear(NULL, &k, &res);
	assert_int_equal(res.reason, R_EMPTY_POLICY);
	free(t);
}

static void test_higher_priority_wins(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	add(t, FW_FORCE_ALLOW, 2, FW_DIR_IN, 1);
	add(t, FW_DENY, 3, FW_DIR_IN, 2);
	eval(t, &k, &res);
	assert_int_equal(res.reason, R_DENY);
	assert_false(res.accept);
	assert_int_equal(res.rule->id, 2);
	free(t);
}

static void test_force_allow_beats_deny_same_priority(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	add(t, FW_DENY, 2, FW_DIR_IN, 1);
	add(t, FW_FORCE_ALLOW, 2, FW_DIR_IN, 2);
	eval(t, &k, &res);
	assert_int_equal(res.reason, R_FORCE_ALLOW);
	assert_true(res.accept);
	assert_true(res.inspect);
	assert_int_equal(res.rule->id, 2);
	free(t);
}

static void test_bypass_beats_deny_same_priority(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	add(t, FW_DENY, 4, FW_DIR_IN, 1);
	add(t, FW_BYPASS, 4, FW_DIR_IN, 2);
	eval(t, &k, &res);
	assert_int_equal(res.reason, R_BYPASS);
	assert_true(res.accept);
	assert_false(res.inspect);
	free(t);
}

static void test_allow_after_deny_at_zero(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k22 = tcp_in(22), k80 = tcp_in(80);

	add(t, FW_ALLOW, 0, FW_DIR_IN, 1);
	add(t, FW_DENY, 0, FW_DIR_IN, 2)->dport = (struct port_match){
		.n = 1, .r = (struct port_range[]){ { 22, 22 } } };
	expect(t, &k22, R_DENY, 2);
	expect(t, &k80, R_ALLOW, 1);
	free(t);
}

static void test_allow_in_makes_other_inbound_not_allowed(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k22 = tcp_in(22), k80 = tcp_in(80);
	struct fw_key out = key(FW_DIR_OUT, IPPROTO_TCP_, "192.0.2.1", 40000, "198.51.100.7", 443);
	struct fw_result res;

	add(t, FW_ALLOW, 0, FW_DIR_IN, 12)->dport = (struct port_match){
		.n = 1, .r = (struct port_range[]){ { 80, 80 } } };
	expect(t, &k80, R_ALLOW, 12);
	expect(t, &k22, R_NOT_ALLOWED, 0);
	eval(t, &k22, &res);
	assert_false(res.accept);
	eval(t, &out, &res);
	assert_int_equal(res.reason, R_DEFAULT);
	assert_true(res.accept);
	assert_true(res.inspect);
	assert_null(res.rule);
	free(t);
}

static void test_log_only_records_and_goes_on(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	add(t, FW_LOG_ONLY, 4, FW_DIR_IN, 9);
	add(t, FW_LOG_ONLY, 4, FW_DIR_ANY, 3);
	add(t, FW_LOG_ONLY, 4, FW_DIR_OUT, 4);
	add(t, FW_DENY, 1, FW_DIR_IN, 5);
	eval(t, &k, &res);
	assert_int_equal(res.reason, R_DENY);
	assert_int_equal(res.nlogged, 2);
	assert_int_equal(res.logged[0], 3);
	assert_int_equal(res.logged[1], 9);
	free(t);
}

static void test_log_only_not_reached_after_bypass(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	add(t, FW_LOG_ONLY, 4, FW_DIR_IN, 1);
	add(t, FW_BYPASS, 4, FW_DIR_IN, 2);
	eval(t, &k, &res);
	assert_int_equal(res.reason, R_BYPASS);
	assert_int_equal(res.nlogged, 0);
	free(t);
}

static void test_logged_capped_lowest_kept(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);
	struct fw_result res;

	t->p.rules = calloc(40, sizeof(struct fw_rule));
	for (uint32_t i = 0; i < 40; i++) {
		struct fw_rule *r = &t->p.rules[i];
		r->action = FW_LOG_ONLY;
		r->priority = 4;
		r->dir = FW_DIR_ANY;
		r->id = 100 - i;
		r->src.any = r->dst.any = r->sport.any = r->dport.any = true;
		r->icmp_type = r->icmp_code = -1;
	}
	t->p.nrules = 40;
	eval(t, &k, &res);
	assert_int_equal(res.reason, R_DEFAULT);
	assert_int_equal(res.nlogged, FW_MAX_LOGGED);
	for (uint32_t i = 0; i < FW_MAX_LOGGED; i++)
		assert_int_equal(res.logged[i], 61 + i);
	free(t->p.rules);
	free(t);
}

static void test_lowest_id_reported(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);

	add(t, FW_DENY, 2, FW_DIR_IN, 30);
	add(t, FW_DENY, 2, FW_DIR_ANY, 7);
	add(t, FW_DENY, 2, FW_DIR_IN, 19);
	add(t, FW_DENY, 1, FW_DIR_IN, 1);
	expect(t, &k, R_DENY, 7);
	free(t);
}

/* Every permutation of a 5-rule policy gives the same verdict on several keys. */
static void permute(struct fw_rule *v, int n, int k, const struct fw_rule *orig,
		    const struct fw_key *keys, const struct fw_result *want, int nkeys)
{
	if (k == n) {
		struct policy p = { .rules = v, .nrules = (uint32_t)n, .allow_dirs = FW_DIR_IN };
		for (int i = 0; i < nkeys; i++) {
			struct fw_result res;
			fw_eval_linear(&p, &keys[i], &res);
			assert_int_equal(res.reason, want[i].reason);
			assert_int_equal(res.rule ? res.rule->id : 0,
					 want[i].rule ? want[i].rule->id : 0);
			assert_int_equal(res.nlogged, want[i].nlogged);
		}
		return;
	}
	for (int i = k; i < n; i++) {
		struct fw_rule tmp = v[k];
		v[k] = v[i];
		v[i] = tmp;
		permute(v, n, k + 1, orig, keys, want, nkeys);
		tmp = v[k];
		v[k] = v[i];
		v[i] = tmp;
	}
}

static void test_rule_order_never_matters(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key keys[] = { tcp_in(22), tcp_in(23), tcp_in(80), tcp_in(443),
				 key(FW_DIR_IN, IPPROTO_UDP_, "203.0.113.20", 514, "192.0.2.1", 514) };
	struct fw_result want[LL_ARRAY_SIZE(keys)];
	struct port_range p22[] = { { 22, 23 } }, p80[] = { { 80, 80 } }, p23[] = { { 23, 23 } };
	struct fw_rule copy[5];

	add(t, FW_DENY, 2, FW_DIR_IN, 5)->dport = (struct port_match){ .n = 1, .r = p22 };
	add(t, FW_FORCE_ALLOW, 2, FW_DIR_IN, 6)->dport = (struct port_match){ .n = 1, .r = p23 };
	add(t, FW_ALLOW, 0, FW_DIR_IN, 7)->dport = (struct port_match){ .n = 1, .r = p80 };
	add(t, FW_LOG_ONLY, 4, FW_DIR_IN, 8);
	add(t, FW_BYPASS, 4, FW_DIR_IN, 9)->proto_kind = FWP_UDP;
	for (size_t i = 0; i < LL_ARRAY_SIZE(keys); i++)
		eval(t, &keys[i], &want[i]);
	assert_int_equal(want[0].reason, R_DENY);
	assert_int_equal(want[1].reason, R_FORCE_ALLOW);
	assert_int_equal(want[2].reason, R_ALLOW);
	assert_int_equal(want[3].reason, R_NOT_ALLOWED);
	assert_int_equal(want[4].reason, R_BYPASS);
	memcpy(copy, t->r, sizeof(copy));
	permute(copy, 5, 0, t->r, keys, want, (int)LL_ARRAY_SIZE(keys));
	free(t);
}

static void test_negation_cidr_range(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct ip_range mgmt[] = { { ip("203.0.113.0"), ip("203.0.113.255") } };
	struct port_range web[] = { { 80, 80 }, { 8000, 8100 } };
	struct fw_key a = key(FW_DIR_IN, IPPROTO_TCP_, "203.0.113.9", 1, "192.0.2.1", 8050);
	struct fw_key b = key(FW_DIR_IN, IPPROTO_TCP_, "198.51.100.9", 1, "192.0.2.1", 8050);
	struct fw_key c = key(FW_DIR_IN, IPPROTO_TCP_, "198.51.100.9", 1, "192.0.2.1", 8101);
	struct fw_rule *r = add(t, FW_DENY, 1, FW_DIR_IN, 1);

	r->src = (struct addr_match){ .neg = true, .n = 1, .r = mgmt };
	r->dport = (struct port_match){ .n = 2, .r = web };
	expect(t, &a, R_DEFAULT, 0);
	expect(t, &b, R_DENY, 1);
	expect(t, &c, R_DEFAULT, 0);
	r->dport.neg = true;
	expect(t, &c, R_DENY, 1);
	expect(t, &b, R_DEFAULT, 0);
	free(t);
}

static void test_ports_only_on_tcp_udp(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct port_range p22[] = { { 22, 22 } };
	struct fw_key icmp = key(FW_DIR_IN, IPPROTO_ICMP_, "198.51.100.7", 0, "192.0.2.1", 0);

	add(t, FW_DENY, 1, FW_DIR_IN, 1)->dport = (struct port_match){ .neg = true, .n = 1, .r = p22 };
	expect(t, &icmp, R_DEFAULT, 0);
	free(t);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct ip_range net[] = { { ip("2001:db8::"), ip("2001:db8::ffff:ffff:ffff:ffff") } };
	struct fw_key in6 = key(FW_DIR_IN, IPPROTO_TCP_, "2001:db8::5", 1, "2001:db8:1::1", 22);
	struct fw_key out6 = key(FW_DIR_IN, IPPROTO_TCP_, "2001:db8:1::5", 1, "2001:db8:1::1", 22);
	struct fw_key v4 = key(FW_DIR_IN, IPPROTO_TCP_, "192.0.2.5", 1, "192.0.2.1", 22);

	add(t, FW_DENY, 1, FW_DIR_IN, 1)->src = (struct addr_match){ .n = 1, .r = net };
	expect(t, &in6, R_DENY, 1);
	expect(t, &out6, R_DEFAULT, 0);
	expect(t, &v4, R_DEFAULT, 0);
	free(t);
}

static void test_iface(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key k = tcp_in(22);

	strcpy(add(t, FW_DENY, 3, FW_DIR_IN, 1)->iface, "eth1");
	expect(t, &k, R_DEFAULT, 0);
	k.ifname = "eth0";
	expect(t, &k, R_DEFAULT, 0);
	k.ifname = "eth1";
	expect(t, &k, R_DENY, 1);
	free(t);
}

static void test_proto_icmp_flags(void **state)
{
	(void)state;
	struct tp *t = tp_new();
	struct fw_key echo = key(FW_DIR_IN, IPPROTO_ICMP_, "198.51.100.7", 0, "192.0.2.1", 0);
	struct fw_key echo6 = key(FW_DIR_IN, IPPROTO_ICMPV6_, "2001:db8::7", 0, "2001:db8::1", 0);
	struct fw_key gre = key(FW_DIR_IN, 47, "198.51.100.7", 0, "192.0.2.1", 0);
	struct fw_key syn = tcp_in(22), synfin = tcp_in(22);
	struct fw_rule *r;

	echo.icmp_type = 8, echo.icmp_code = 0;
	echo6.icmp_type = 128, echo6.icmp_code = 0;
	syn.tcp_flags = TCPF_SYN;
	synfin.tcp_flags = TCPF_SYN | TCPF_FIN | TCPF_ACK;
	r = add(t, FW_DENY, 1, FW_DIR_IN, 1);
	r->proto_kind = FWP_ICMP, r->icmp_type = 8;
	r = add(t, FW_DENY, 1, FW_DIR_IN, 2);
	r->proto_kind = FWP_ICMP6, r->icmp_type = 128, r->icmp_code = 1;
	r = add(t, FW_DENY, 1, FW_DIR_IN, 3);
	r->proto_kind = FWP_NUM, r->proto_num = 47;
	r = add(t, FW_DENY, 1, FW_DIR_IN, 4);
	r->proto_kind = FWP_TCP, r->tcp_flags = TCPF_SYN | TCPF_FIN;
	expect(t, &echo, R_DENY, 1);
	expect(t, &echo6, R_DEFAULT, 0);
	echo6.icmp_code = 1;
	expect(t, &echo6, R_DENY, 2);
	expect(t, &gre, R_DENY, 3);
	expect(t, &syn, R_DEFAULT, 0);
	expect(t, &synfin, R_DENY, 4);
	free(t);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(fw_action_name(FW_BYPASS), "bypass");
	assert_string_equal(fw_action_name(FW_LOG_ONLY), "log-only");
	assert_string_equal(fw_action_name(FW_FORCE_ALLOW), "force-allow");
	assert_string_equal(fw_action_name(FW_DENY), "deny");
	assert_string_equal(fw_action_name(FW_ALLOW), "allow");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_higher_priority_wins),
		cmocka_unit_test(test_force_allow_beats_deny_same_priority),
		cmocka_unit_test(test_bypass_beats_deny_same_priority),
		cmocka_unit_test(test_allow_after_deny_at_zero),
		cmocka_unit_test(test_allow_in_makes_other_inbound_not_allowed),
		cmocka_unit_test(test_log_only_records_and_goes_on),
		cmocka_unit_test(test_log_only_not_reached_after_bypass),
		cmocka_unit_test(test_logged_capped_lowest_kept),
		cmocka_unit_test(test_lowest_id_reported),
		cmocka_unit_test(test_rule_order_never_matters),
		cmocka_unit_test(test_negation_cidr_range),
		cmocka_unit_test(test_ports_only_on_tcp_udp),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_iface),
		cmocka_unit_test(test_proto_icmp_flags),
		cmocka_unit_test(test_action_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
