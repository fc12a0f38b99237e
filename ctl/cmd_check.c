/* cmd_check.c - lifelinectl check: parse and validate a policy, print errors or a summary. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ips.h"
#include "ips_rules.h"
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

/* @a is the one port @port. */
static bool only_port(const struct ips_ports *a, uint16_t port)
{
	return !a->any && a->n == 1 && a->r[0].lo == port && a->r[0].hi == port;
}

static bool uint_is(const struct ips_rule *r, uint16_t bit, const struct ips_uint *u, uint64_t v)
{
	return (r->hdr & bit) && u->op == IU_EQ && u->a == v;
}

/*
 * What of the lifeline is all IPS rule @r can meet, or NULL: the lifeline
 * skips the IPS (SPEC 5), so such a rule never fires, where Suricata,
 * which inspects every packet, would alert (ET Open has rules for
 * malicious DHCP answers to the host's client, DynoRoot among them).
 */
static const char *ips_lifeline_only(const struct ips_rule *r)
{
	if (r->proto == IPSP_UDP && r->family != 6 &&
	    ((only_port(&r->sp, 67) && only_port(&r->dp, 68)) ||
	     (only_port(&r->sp, 68) && only_port(&r->dp, 67))))
		return "DHCP";
	if (r->proto == IPSP_UDP && r->family != 4 &&
	    ((only_port(&r->sp, 546) && only_port(&r->dp, 547)) ||
	     (only_port(&r->sp, 547) && only_port(&r->dp, 546))))
		return "DHCPv6";
	if (r->proto != IPSP_ICMP)
		return NULL;
	if (r->family != 6 && uint_is(r, IH_ITYPE, &r->itype, 3) && uint_is(r, IH_ICODE, &r->icode, 4))
		return "ICMP fragmentation-needed";
	if (r->family == 6 && uint_is(r, IH_ITYPE, &r->itype, 2))
		return "ICMPv6 packet-too-big";
	for (uint64_t t = 133; r->family == 6 && t <= 136; t++)
		if (uint_is(r, IH_ITYPE, &r->itype, t) && uint_is(r, IH_TTL, &r->ttl, 255))
			return "neighbour discovery";
	return NULL;
}

static void ips_lifeline_notes(const struct ips_ruleset *rs)
{
	for (uint32_t i = 0; rs && i < rs->nrules; i++) {
		const struct ips_rule *r = &rs->rules[i];
		const char *what = ips_lifeline_only(r);

		if (what)
			fprintf(stderr, "%s:%u:%u: note: IPS rule sid %u never fires: the lifeline passes "
				"%s before any rule, uninspected\n", r->loc.file ? r->loc.file : "-",
				r->loc.line, r->loc.col, r->sid, what);
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
		ips_lifeline_notes(p->ips);
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
