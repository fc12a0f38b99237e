/*
 * ips_env.h - one flow through the IPS for the stream tests (test_ips_scan,
 * test_ips_tcp): a ruleset, a worker and the flow's record.
 */
#ifndef LL_TEST_IPS_ENV_H
#define LL_TEST_IPS_ENV_H

#include "ips_test.h"

struct env {
	struct ips_ruleset *rs;
	struct ips_worker *w;
	struct flow f;
	struct ips_result res;
	uint64_t now;
};

/* @rules compiled with @stream_depth (0: the default); the flow established. */
static inline void env_open(struct env *e, const char *rules, uint32_t stream_depth)
{
	struct policy_opts o = { .stream_depth = stream_depth };
	struct ll_errlist errs = { 0 };

	memset(e, 0, sizeof(*e));
	e->rs = ips_ruleset_from_text("t", rules, &o, &errs);
	ll_err_print(&errs, stderr);
	assert_non_null(e->rs);
	ll_err_free(&errs);
	e->w = ips_worker_new(e->rs);
	assert_non_null(e->w);
	e->f.tcp_state = FT_ESTABLISHED;
}

static inline void env_close(struct env *e)
{
	ips_flow_free(e->f.ips);
	ips_worker_free(e->w);
	ips_ruleset_free(e->rs);
}

#endif
