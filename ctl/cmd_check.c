/* cmd_check.c - lifelinectl check: parse and validate a policy, print errors or a summary. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
	struct policy *p;
	bool print = false;
	int o;

	while ((o = getopt_long(argc, argv, "+ph", opts, NULL)) != -1) {
		if (o == 'p')
			print = true;
		else if (o == 's')
			po.skip_unsupported = true;
		else if (o == 'h')
			return printf("usage: %s check [--print] [--skip-unsupported] POLICY\n",
				      c->prog) < 0;
		else
			return ctl_usage_error(c, "check", NULL);
	}
	if (argc - optind != 1)
		return ctl_usage_error(c, "check", "expects exactly one POLICY");
	p = policy_load_file(argv[optind], &po, &errs);
	ll_err_print(&errs, stderr);
	ll_err_free(&errs);
	if (!p)
		return CTL_FAIL;
	ips_print_skips(p->ips, stderr, "  ");
	if (print)
		policy_print(p, stdout);
	else
		summary(argv[optind], p);
	policy_free(p);
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}
