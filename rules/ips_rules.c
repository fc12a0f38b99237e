/* ips_rules.c - IPS rules in a policy: not supported yet (the IPS issue adds them). */
#include <errno.h>

#include "ips.h"
#include "policy.h"

int ips_ruleset_build(struct policy *p, const struct policy_opts *o, struct ll_errlist *errs)
{
	(void)o;
	for (uint32_t i = 0; i < p->nips_lines; i++)
		ll_err_add(errs, &p->ips_lines[i].loc,
			   "IPS rules are not yet supported by this version of lifeline");
	return p->nips_lines ? -EINVAL : 0;
}

void ips_ruleset_free(struct ips_ruleset *rs)
{
	(void)rs;
}

/* Until IPS rules exist there is nothing to scan. */
struct ips_worker *ips_worker_new(const struct ips_ruleset *rs)
{
	(void)rs;
	return NULL;
}

void ips_worker_free(struct ips_worker *w)
{
	(void)w;
}

void ips_scan(struct ips_worker *w, const struct ips_ruleset *rs, struct flow *f,
	      const struct pkt *p, int to_server, uint64_t now_us, struct ips_result *res)
{
	(void)w, (void)rs, (void)f, (void)p, (void)to_server, (void)now_us;
	res->action = 0;
	res->nalerts = 0;
}

void ips_flow_free(void *state)
{
	(void)state;
}

bool ips_may_match(const struct ips_ruleset *rs, const struct fw_key *k)
{
	(void)k;
	return rs != NULL;
}
