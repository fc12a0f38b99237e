/* cmd_check.c - lifelinectl check: parse and validate a policy, print errors or a summary. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ips.h"
#include "policy.h"

static void summary(const char *path, const struct policy *p)
{
	printf("%s: ok, ", path);
	policy_print_counts(p, stdout);
	printf(", sha256 %s\n", p->hash);
}

/*
 * cmd_check() - `check [--print] [--skip-unsupported] POLICY`. Exit 0 valid
 * (summary or canonical form on stdout), 1 invalid (every error on stderr
 * as file:line:col: message), 2 usage.
 */
int cmd_check(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "print", no_argument, NULL, 'p' },
		{ "skip-unsupported", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_opts po = { 0 };
	struct ll_errlist errs = { 0 };
	struct config cfg;
	struct policy *p;
	bool print = false, skip = false, have_cfg, ok;
	int o;

	while ((o = getopt_long(argc, argv, "+ph", opts, NULL)) != -1) {
		if (o == 'p')
			print = true;
		else if (o == 's')
			skip = true;
		else if (o == 'h')
			return printf("usage: %s check [--print] [--skip-unsupported] POLICY\n",
				      c->prog) < 0;
		else
			return ctl_usage_error(c, "check", NULL);
	}
	if (argc - optind != 1)
		return ctl_usage_error(c, "check", "expects exactly one POLICY");
	/* the config's host addresses are $HOME_NET, as in the engine; a policy author may lack it */
	have_cfg = ctl_config(c, &cfg) == 0;
	if (!have_cfg && c->config_given)
		return CTL_FAIL;
	if (have_cfg)
		config_policy_opts(&cfg, &po, skip);
	else
		fprintf(stderr, "%s check: no usable config: $HOME_NET is Suricata's default\n", c->prog);
	po.skip_unsupported = skip;
	p = policy_load_file(argv[optind], &po, &errs);
	ll_err_print(&errs, stderr);
	ll_err_free(&errs);
	ok = p != NULL;
	if (p) {
		ips_print_skips(p->ips, stderr, "  ");
		if (print)
			policy_print(p, stdout);
		else
			summary(argv[optind], p);
	}
	policy_free(p);
	if (have_cfg)
		config_free(&cfg); /* after the policy: po pointed into it */
	return ok && fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}
