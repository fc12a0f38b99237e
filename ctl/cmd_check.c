/* cmd_check.c - lifelinectl check: parse and validate a policy, print errors or a summary. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ips.h"
#include "policy.h"

/*
 * A deny or log-only rule that matches only what the lifeline passes before
 * any rule (SPEC 5: ICMP fragmentation-needed, ICMPv6 packet-too-big) never
 * fires: an nft or pf habit that would silently do nothing; nor does a rule
 * `on lo`, live. A note, not an error (the policy is valid).
 */
static void lifeline_notes(const struct policy *p)
{
	for (uint32_t i = 0; i < p->nrules; i++) {
		const struct fw_rule *r = &p->rules[i];
		bool ptb = (r->proto_kind == FWP_ICMP && r->icmp_type == 3 && r->icmp_code == 4) ||
			   (r->proto_kind == FWP_ICMP6 && r->icmp_type == 2);

		if (ptb && (r->action == FW_DENY || r->action == FW_LOG_ONLY))
			fprintf(stderr, "%s:%u:%u: note: rule id %u never fires: the lifeline passes %s "
				"before any rule\n", r->loc.file ? r->loc.file : "-", r->loc.line,
				r->loc.col, r->id, r->proto_kind == FWP_ICMP ?
				"ICMP fragmentation-needed" : "ICMPv6 packet-too-big");
		/* the kernel rules accept loopback ahead of the queue (hooks.c): as nft's `iif lo accept` */
		if (strcmp(r->iface, "lo") == 0)
			fprintf(stderr, "%s:%u:%u: note: rule id %u never fires live: the kernel rules "
				"pass loopback traffic before the engine sees it (replay still matches "
				"it)\n", r->loc.file ? r->loc.file : "-", r->loc.line, r->loc.col, r->id);
	}
}

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
		lifeline_notes(p);
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
