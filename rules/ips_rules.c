/* ips_rules.c - IPS rules in a policy: not supported yet (the IPS issue adds them). */
#include <errno.h>

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
