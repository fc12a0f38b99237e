/*
 * cmd_flows.c - lifelinectl flows: list (or drop) tracked flows matching a
 * FILTER in the explain syntax: [in|out] [PROTO] [ADDR[:PORT] [ADDR[:PORT]]],
 * where ADDR may also be a prefix (198.51.100.0/24, [2001:db8::/32]:443)
 * or `any`, as `conntrack -D -s NET` and `pfctl -k NET` take one; two
 * endpoints match the flow's two sides in either order. `port N`: either
 * side's port, as tcpdump's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"

struct ends {
	int n;
	char addr[2][64];
	long port[2]; /* -1: any */
	long either;  /* `port N`: either side's port, -1 none */
};

static int proto_num(const char *s)
{
	static const struct { const char *n; int v; } t[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].n) == 0)
			return t[i].v;
	return -1;
}

/* "A", "A:P", "[A6]:P", "A6", each A also A/LEN or `any`, into @e slot e->n. */
static int parse_end(const char *s, struct ends *e)
{
	char buf[80], *colon = NULL, *end;
	struct ip_range r;

	if (e->n == 2 || strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return -1;
		*rb = '\0';
		colon = rb[1] ? rb + 1 : NULL;
		memmove(buf, buf + 1, strlen(buf));
	} else if ((colon = strchr(buf, ':')) && strchr(colon + 1, ':')) {
		colon = NULL; /* a bare IPv6 address */
	}
	e->port[e->n] = -1;
	if (colon) {
		*colon = '\0';
		e->port[e->n] = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || e->port[e->n] < 0 || e->port[e->n] > 65535)
			return -1;
	}
	if (strcmp(buf, "any") == 0)
		buf[0] = '\0'; /* no address: the port, if any, alone */
	else if (ll_prefix_parse(buf, &r) < 0)
		return -1;
	snprintf(e->addr[e->n++], sizeof(e->addr[0]), "%s", buf);
	return 0;
}

static int parse_filter(char **w, int n, int *proto, struct ends *e, const char **dir)
{
	char *end;

	for (int i = 0; i < n; i++) {
		if ((strcmp(w[i], "in") == 0 || strcmp(w[i], "out") == 0) && !*dir && i == 0) {
			*dir = w[i];
		} else if (proto_num(w[i]) >= 0 && *proto < 0) {
			*proto = proto_num(w[i]);
		} else if (strcmp(w[i], "proto") == 0 && i + 1 < n && *proto < 0) {
			*proto = (int)strtol(w[++i], &end, 10);
			if (!*w[i] || *end || *proto < 0 || *proto > 255)
				return -1;
		} else if (strcmp(w[i], "port") == 0 && i + 1 < n && e->either < 0) {
			e->either = strtol(w[++i], &end, 10);
			if (!*w[i] || *end || e->either < 0 || e->either > 65535)
				return -1;
		} else if (parse_end(w[i], e) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * cmd_flows() - `flows [FILTER] [--kill]`. Exit 0, 1 (no engine, or
 * --kill without root), 2 usage.
 */
int cmd_flows(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kill", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ends e = { .either = -1 };
	const char *dir = NULL;
	char hdr[512];
	bool kill = false;
	int o, n, proto = -1;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'k')
			kill = true;
		else if (o == 'h')
			return printf("usage: %s flows [in|out] [PROTO] [ADDR[:PORT] [ADDR[:PORT]]] "
				      "[port N] [--kill]\n  ADDR: an address, ADDR/LEN or any; port N: "
				      "either side's port\n",
				      c->prog) < 0;
		else
			return ctl_usage_error(c, "flows", NULL);
	}
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], "flags") || !strcmp(argv[i], "type") ||
		    !strcmp(argv[i], "code") || !strcmp(argv[i], "on")) {
			char why[160];

			/* explain's words for one packet; a flow is found by its ends */
			snprintf(why, sizeof(why), "'%s' describes one packet (explain), not a "
				 "flow: FILTER is [in|out] [PROTO] [ADDR[:PORT] [ADDR[:PORT]]] "
				 "[port N]", argv[i]);
			return ctl_usage_error(c, "flows", why);
		}
	if (parse_filter(argv + optind, argc - optind, &proto, &e, &dir) < 0)
		return ctl_usage_error(c, "flows", "FILTER is [in|out] [PROTO] [ADDR[:PORT] "
				       "[ADDR[:PORT]]] [port N]; ADDR: an address, ADDR/LEN or any");
	n = snprintf(hdr, sizeof(hdr), "FLOWS%s", kill ? " kill" : "");
	if (dir)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " dir=%s", dir);
	if (proto >= 0)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " proto=%d", proto);
	for (int i = 0; i < e.n; i++) {
		if (e.addr[i][0])
			n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " a%d=%s", i + 1, e.addr[i]);
		if (e.port[i] >= 0)
			n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " p%d=%ld", i + 1, e.port[i]);
	}
	if (e.either >= 0)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " port=%ld", e.either);
	return ctl_request(c, hdr, NULL, 0, CTL_TIMEOUT_LOAD_MS, CTL_FAIL);
}
