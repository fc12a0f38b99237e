/* test_pipeline.c - the spine: flows keep their decision, and are judged again, whole, after a new policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline.h"
#include "policy.h"

static struct policy *load(const char *text)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts o = { 0 };
	struct policy *p = policy_load_string("t.pol", text, &o, &errs);

	assert_non_null(p);
	assert_int_equal(fw_compile(p), 0);
	ll_err_free(&errs);
	return p;
}

/* An inbound TCP packet 192.0.2.66:40000 -> 198.51.100.2:22 on @ifname. */
static void tcp_in(struct pkt *p, uint8_t flags, const char *ifname)
{
	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->proto = 6;
	p->ttl = 64;
	p->dir = PKT_DIR_IN;
	p->l4_ok = 1;
	p->tcp_flags = flags;
	ll_ip_parse("192.0.2.66", &p->src);
	ll_ip_parse("198.51.100.2", &p->dst);
	p->sport = 40000;
	p->dport = 22;
	p->ifname = ifname;
}

/* The interface is part of the opening packet: a re-judged flow still has it. */
static void test_rejudge_keeps_interface(void **state)
{
	struct policy *a = load("deny priority 4 in tcp on eth1 id 1\n");
	struct policy *b = load("deny priority 4 in tcp on eth1 id 1\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	char name[16] = "eth1";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, 0x02, name);
	pipeline_judge(&pl, &p, 1, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	memset(name, 'x', sizeof(name) - 1); /* the packet's name buffer is gone */
	pipeline_set_policy(&pl, b);
	tcp_in(&p, 0x10, "eth1");
	pipeline_judge(&pl, &p, 2, &v);
	assert_false(v.accept);
	assert_int_equal(v.reason, R_DENY);
	assert_int_equal(v.rule, 1);
	pipeline_fini(&pl);
	policy_free(a);
	policy_free(b);
	config_free(&cfg);
}

/* Later packets of a flow get the opening packet's decision in both directions. */
static void test_flow_both_directions(void **state)
{
	struct policy *a = load("allow in tcp to any port 22 id 5\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	ll_ip t;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, 0x02, NULL);
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	tcp_in(&p, 0x12, NULL); /* the reply */
	t = p.src, p.src = p.dst, p.dst = t;
	p.sport = 22, p.dport = 40000, p.dir = PKT_DIR_OUT;
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	assert_int_equal(v.reason, R_ALLOW);
	assert_int_equal(v.rule, 5);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejudge_keeps_interface),
		cmocka_unit_test(test_flow_both_directions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
