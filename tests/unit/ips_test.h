/* ips_test.h - helpers shared by the IPS unit tests: rulesets from text, packets by hand. */
#ifndef IPS_TEST_H
#define IPS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

/* The shared corpora folder, or NULL (tests then skip with a message). */
static inline const char *ipst_shared(void)
{
	static char buf[4096];
	char path[4200];
	const char *s = getenv("LL_SHARED"), *root = getenv("LL_ROOT");
	FILE *f;

	if (s)
		snprintf(buf, sizeof(buf), "%s", s);
	else
		snprintf(buf, sizeof(buf), "%s/../shared", root ? root : ".");
	snprintf(path, sizeof(path), "%s/corpora/README.md", buf);
	if (!(f = fopen(path, "r")))
		return NULL;
	fclose(f);
	return buf;
}

/* A packet from 10.0.0.1:1234 to 10.0.0.2:80 (to_server) with @len bytes of payload. */
static inline struct pkt ipst_pkt(uint8_t proto, const void *payload, uint32_t len)
{
	struct pkt p = { 0 };

	p.family = 4;
	p.proto = proto;
	p.ttl = 64;
	p.src = ll_ip_from_v4(0x0a000001);
	p.dst = ll_ip_from_v4(0x0a000002);
	p.sport = 1234;
	p.dport = 80;
	p.payload = payload;
	p.paylen = len;
	p.l4_ok = 1;
	if (proto == IPPROTO_TCP_) {
		p.tcp_flags = TCPF_ACK | TCPF_PSH;
		p.tcp_win = 65535; /* a receiver with a window of 0 keeps no data */
	}
	return p;
}

/* Swap the ends of @p (a reply). */
static inline void ipst_reverse(struct pkt *p)
{
	ll_ip a = p->src;
	uint16_t port = p->sport;

	p->src = p->dst, p->dst = a;
	p->sport = p->dport, p->dport = port;
}

/* Build a ruleset from @text (one rule per line); NULL with the errors printed. */
static inline struct ips_ruleset *ipst_rules(const char *text, bool skip, struct ll_errlist *errs)
{
	struct policy_opts o = { .skip_unsupported = skip };
	struct ll_errlist local = { 0 };
	struct ips_ruleset *rs = ips_ruleset_from_text("<rules>", text, &o, errs ? errs : &local);

	if (!errs) {
		ll_err_print(&local, stderr);
		ll_err_free(&local);
	}
	return rs;
}

/* Scan one packet; returns whether sid @sid alerted. */
static inline bool ipst_alerted(const struct ips_result *r, uint32_t sid)
{
	for (uint32_t i = 0; i < r->nalerts; i++)
		if (r->alerts[i] == sid)
			return true;
	return false;
}

#endif
