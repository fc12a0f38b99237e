/*
 * cmd_explain.c - `lifelinectl explain`: the verdict a packet would get,
 * with `by`, `reason` and the deciding rule. Offline (-p POLICY) it runs
 * the engine's own pipeline on a packet built from the arguments, so
 * explain and the engine can never disagree.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rules/parse.h"
#include "ctl.h"
#include "lifeline.h"
#include "pipeline.h"
#include "policy.h"
#include "verdict_json.h"

struct explain_args {
	const char *policy;
	bool json;
	struct pkt p;
};

static int parse_proto(const char *s, const char *num, struct pkt *p, int *used)
{
	static const struct { const char *name; uint8_t proto; } names[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 },
	};
	char *end;
	long v;

	*used = 1;
	for (size_t i = 0; i < LL_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i].name) == 0) {
			p->proto = names[i].proto;
			return 0;
		}
	if (strcmp(s, "proto") == 0) {
		if (!num)
			return -1;
		s = num;
		*used = 2;
	}
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end || v < 0 || v > 255)
		return -1;
	p->proto = (uint8_t)v;
	return 0;
}

/* "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]:80" */
static int parse_endpoint(const char *arg, ll_ip *ip, uint16_t *port, bool *has_port)
{
	char buf[128], *colon, *end;
	long v;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	*has_port = false;
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');
		if (!rb)
			return -1;
		*rb = '\0';
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && !colon)
			return -1;
		memmove(buf, buf + 1, strlen(buf));
	} else {
		colon = strchr(buf, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
	}
	if (colon) {
		*colon = '\0';
		v = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || v < 0 || v > 65535)
			return -1;
		*port = (uint16_t)v;
		*has_port = true;
	}
	return ll_ip_parse(buf, ip);
}

static int parse_flags(const char *s, uint8_t *out)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
	char buf[64], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < LL_ARRAY_SIZE(names); i++)
			if (strcasecmp(tok, names[i]) == 0)
				break;
		if (i == LL_ARRAY_SIZE(names))
			return -1;
		*out |= (uint8_t)(1u << i);
	}
	return 0;
}

static int icmp_value(bool v6, const char *s, bool code, int type)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end && v >= 0 && v <= 255)
		return (int)v;
	return code ? icmp_code_lookup(v6, s, strlen(s)) : icmp_type_lookup(v6, s, strlen(s));
	(void)type;
}

/* A usage error that quotes the word at fault. */
__attribute__((format(printf, 2, 3))) static int bad_word(struct ctl *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctl_usage_error(c, "explain", msg);
}

/*
 * The optional words after DST: type T [code C], flags F, on IFACE. A TCP
 * packet without flags F is a SYN: what opens a connection, and what
 * replay and the engine match `flags SYN` rules against.
 */
static int parse_tail(struct ctl *c, char **w, int n, struct pkt *p)
{
	bool v6 = p->proto == 58, icmp = p->proto == 1 || p->proto == 58;
	int t;

	if (p->proto == 6)
		p->tcp_flags = 0x02; /* SYN, until flags F says otherwise */

	for (int i = 0; i < n; i += 2) {
		bool ty = strcmp(w[i], "type") == 0, co = strcmp(w[i], "code") == 0;

		if ((ty || co) && !icmp)
			return bad_word(c, "'%s' needs icmp or icmp6", w[i]);
		if (strcmp(w[i], "flags") == 0 && p->proto != 6)
			return bad_word(c, "'%s' needs tcp", w[i]);
		if (i + 1 >= n)
			return bad_word(c, "'%s' needs a value", w[i]);
		if (ty) {
			if ((t = icmp_value(v6, w[i + 1], false, 0)) < 0)
				return bad_word(c, "unknown ICMP type '%s'", w[i + 1]);
			p->icmp_type = (uint8_t)t;
		} else if (co) {
			if ((t = icmp_value(v6, w[i + 1], true, p->icmp_type)) < 0)
				return bad_word(c, "unknown ICMP code '%s' for this type", w[i + 1]);
			p->icmp_code = (uint8_t)t;
		} else if (strcmp(w[i], "flags") == 0) {
			p->tcp_flags = 0;
			if (parse_flags(w[i + 1], &p->tcp_flags) < 0)
				return bad_word(c, "flags '%s': they are FIN,SYN,RST,PSH,ACK,URG", w[i + 1]);
		} else if (strcmp(w[i], "on") == 0) {
			if (!ll_ifname_ok(w[i + 1], strlen(w[i + 1])) || strlen(w[i + 1]) >= 16)
				return bad_word(c, "'%s' cannot name a Linux interface (" LL_IFNAME_WHY
						", at most 15 characters)", w[i + 1]);
			p->ifname = w[i + 1];
		} else {
			return bad_word(c, "unexpected word '%s' after the addresses (type, code, flags "
					"or on)", w[i]);
		}
	}
	return 0;
}

static int parse_packet(struct ctl *c, int argc, char **argv, struct pkt *p)
{
	bool sp, dp;
	int used, rc;

	if (argc < 4)
		return ctl_usage_error(c, "explain", "DIR PROTO SRC DST are required");
	if (strcmp(argv[0], "in") == 0)
		p->dir = PKT_DIR_IN;
	else if (strcmp(argv[0], "out") == 0)
		p->dir = PKT_DIR_OUT;
	else
		return ctl_usage_error(c, "explain", "DIR is in or out");
	if (parse_proto(argv[1], argc > 2 ? argv[2] : NULL, p, &used) < 0)
		return ctl_usage_error(c, "explain", "PROTO is tcp, udp, icmp, icmp6 or proto N");
	argv += 1 + used, argc -= 1 + used;
	if (argc < 2)
		return ctl_usage_error(c, "explain", "SRC and DST are ADDR, ADDR:PORT or [ADDR6]:PORT");
	for (int k = 0; k < 2; k++)
		if (parse_endpoint(argv[k], k ? &p->dst : &p->src, k ? &p->dport : &p->sport,
				   k ? &dp : &sp) < 0)
			return bad_word(c, "'%s' is not ADDR, ADDR:PORT or [ADDR6]:PORT (port 0-65535)",
					argv[k]);
	if (ll_ip_is_v4(p->src) != ll_ip_is_v4(p->dst))
		return ctl_usage_error(c, "explain", "SRC and DST must be of one family");
	if ((sp || dp) && p->proto != 6 && p->proto != 17)
		return ctl_usage_error(c, "explain", "ports need tcp or udp");
	p->family = ll_ip_is_v4(p->src) ? 4 : 6;
	/* pkt.c walks these IPv6 headers and judges what follows: no packet ends in one */
	if (p->family == 6 && (p->proto == 0 || p->proto == 43 || p->proto == 44 ||
			       p->proto == 51 || p->proto == 60))
		return ctl_usage_error(c, "explain", "an IPv6 packet is judged by the protocol after "
				       "its extension headers (0, 43, 44, 51, 60): give that one");
	if ((rc = parse_tail(c, argv + 2, argc - 2, p)) != 0)
		return rc;
	/* neighbour discovery is sent with hop limit 255; everything else, 64 */
	p->ttl = p->proto == 58 && p->icmp_type >= 133 && p->icmp_type <= 136 ? 255 : 64;
	p->l4_ok = 1;
	if (p->proto == 1 || p->proto == 58)
		p->sport = p->dport = 0;
	return 0;
}

static int explain_offline(struct ctl *c, const char *path, struct pkt *p)
{
	struct policy_opts o;
	struct ll_errlist errs = { 0 };
	struct config cfg;
	struct policy *pol;
	struct pipeline pl;
	struct verdict v;
	int rc = CTL_FAIL;

	if (config_load(&cfg, c->config_path, !c->config_given, &errs) < 0) {
		ll_err_print(&errs, stderr);
		ll_err_free(&errs);
		config_free(&cfg); /* a failed load still holds the valid lines */
		return CTL_FAIL;
	}
	config_policy_opts(&cfg, &o, false);
	pol = policy_load_file(path, &o, &errs);
	if (!pol || fw_compile(pol) < 0) {
		ll_err_print(&errs, stderr);
		goto out;
	}
	if (pipeline_init(&pl, &cfg, pol) == 0) {
		pipeline_judge(&pl, p, 1, &v);
		verdict_print(stdout, pol, p, &v);
		pipeline_fini(&pl);
		rc = CTL_OK;
	}
out:
	policy_free(pol);
	ll_err_free(&errs);
	config_free(&cfg);
	return rc;
}

int cmd_explain(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "policy", required_argument, NULL, 'p' },
					    { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *policy = NULL;
	struct pkt p;
	int o, rc;

	while ((o = getopt_long(argc, argv, "+p:h", lo, NULL)) != -1) {
		if (o == 'h')
			return ctl_help(c, "explain");
		if (o != 'p')
			return ctl_usage_error(c, "explain", NULL);
		policy = optarg;
	}
	memset(&p, 0, sizeof(p));
	if ((rc = parse_packet(c, argc - optind, argv + optind, &p)) != 0)
		return rc;
	rc = policy ? explain_offline(c, policy, &p)
		    : ctl_explain_online(c, &p); /* the running engine's policy and lifeline */
	/* traffic the live kernel rules accept on lo, never queued */
	if (rc == CTL_OK && (ll_ip_is_loopback(p.src) || ll_ip_is_loopback(p.dst)))
		printf("note: live, loopback traffic never reaches the engine: the kernel rules "
		       "accept it on lo\n");
	/*
	 * explain's packet quotes nothing: say what live does with a quote
	 * (pipeline.c judge()). Not for a PMTU error, which the lifeline takes
	 * whatever it quotes.
	 */
	if (rc == CTL_OK && pkt_is_icmp_error(&p) && lifeline_match_icmp(&p) < 0)
		printf("note: this is the verdict for an error quoting nothing known; live, an "
		       "error quoting a tracked flow is judged with that flow (by: flow, see "
		       "lifelinectl flows)%s\n", lifeline_quote_counts(&p) ? ", and one quoting a "
		       "heartbeat, DNS or DHCP packet is accepted by: lifeline" : "");
	return rc;
}
