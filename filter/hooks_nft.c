/* hooks_nft.c - the nft backend: table inet lifeline as one `nft -f` transaction. */
#include <stdio.h>

#include "hooks.h"

#define T "inet " HOOKS_NFT_TABLE

static const char *const nft_set[HSET__COUNT][2] = {
	{ "mgr4", "mgr6" },
	{ "dns4", "dns6" },
};

static void nft_elements(enum hooks_set set, int family, const ll_ip *a, uint32_t n, FILE *out)
{
	char buf[64];
	bool any = false;

	for (uint32_t i = 0; i < n; i++) {
		if (ll_ip_is_v4(a[i]) != (family == 4))
			continue;
		fprintf(out, "%s%s", any ? ", " : "", ll_ip_str(a[i], buf, sizeof(buf)));
		any = true;
	}
	(void)set;
}

static bool nft_has(int family, const ll_ip *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (ll_ip_is_v4(a[i]) == (family == 4))
			return true;
	return false;
}

/* Flush and refill in one transaction: the set is never seen half-filled. */
void hooks_nft_set_text(enum hooks_set set, const ll_ip *a, uint32_t n, FILE *out)
{
	for (int f = 4; f <= 6; f += 2) {
		fprintf(out, "flush set %s %s\n", T, nft_set[set][f == 6]);
		if (!nft_has(f, a, n))
			continue;
		fprintf(out, "add element %s %s { ", T, nft_set[set][f == 6]);
		nft_elements(set, f, a, n, out);
		fprintf(out, " }\n");
	}
}

/*
 * One heartbeat match, twice: first a rate-limited copy to the engine's log
 * group (prefix hb-in/hb-out: the engine's heartbeat watch), then accept.
 */
static void nft_hb_rule(const struct hooks_spec *s, const char *ch, bool in, const char *match,
			FILE *out)
{
	fprintf(out, "add rule %s %s %s limit rate %u/second burst %u packets log prefix \"%s\" "
		"group %u\n", T, ch, match, HOOKS_HB_LOG_RATE, HOOKS_HB_LOG_BURST,
		in ? HOOKS_HB_PREFIX_IN : HOOKS_HB_PREFIX_OUT, s->nflog_group);
	fprintf(out, "add rule %s %s %s accept\n", T, ch, match);
}

static void nft_heartbeat(const struct hooks_spec *s, const char *ch, bool in, FILE *out)
{
	const char *peer = in ? "saddr" : "daddr";
	const char *rport = in ? "sport" : "dport", *lport = in ? "dport" : "sport";
	char m[160];

	if (s->any_manager) {
		snprintf(m, sizeof(m), "tcp %s %u", rport, s->heartbeat_port);
		nft_hb_rule(s, ch, in, m, out);
		snprintf(m, sizeof(m), "tcp %s %u", lport, s->agent_port);
		nft_hb_rule(s, ch, in, m, out);
		return;
	}
	for (int f = 4; f <= 6; f += 2) {
		const char *ip = f == 4 ? "ip" : "ip6", *set = nft_set[HSET_MGR][f == 6];

		/* the port first: most packets fail there, before the set lookup */
		snprintf(m, sizeof(m), "tcp %s %u %s %s @%s", rport, s->heartbeat_port, ip, peer,
			 set);
		nft_hb_rule(s, ch, in, m, out);
		snprintf(m, sizeof(m), "tcp %s %u %s %s @%s", lport, s->agent_port, ip, peer, set);
		nft_hb_rule(s, ch, in, m, out);
	}
}

static void nft_lifeline(const struct hooks_spec *s, const char *ch, bool in, FILE *out)
{
	char log[32];

	nft_heartbeat(s, ch, in, out);
	/*
	 * dhcp, client traffic of each family; the replies are copied to the
	 * engine (log group), which learns DNS servers from those that answer
	 * the host's requests (engine_dhcp_tap.c)
	 */
	snprintf(log, sizeof(log), "log group %u ", s->nflog_group);
	fprintf(out, "add rule %s %s meta nfproto ipv4 udp sport 67 udp dport 68 %saccept\n", T, ch,
		in ? log : "");
	fprintf(out, "add rule %s %s meta nfproto ipv4 udp sport 68 udp dport 67 accept\n", T, ch);
	fprintf(out, "add rule %s %s meta nfproto ipv6 udp sport 547 udp dport 546 %saccept\n", T,
		ch, in ? log : "");
	fprintf(out, "add rule %s %s meta nfproto ipv6 udp sport 546 udp dport 547 accept\n", T, ch);
	/* what comes back only as the answer to the host's query (hooks_ipt.c) */
	for (int f = 4; f <= 6; f += 2)
		fprintf(out, "add rule %s %s meta l4proto { tcp, udp } th %s 53 %s %s @%s %saccept\n",
			T, ch, in ? "sport" : "dport", f == 4 ? "ip" : "ip6",
			in ? "saddr" : "daddr", nft_set[HSET_DNS][f == 6],
			in ? "ct state established,untracked " : "");
	fprintf(out, "add rule %s %s icmp type destination-unreachable icmp code frag-needed accept\n",
		T, ch);
	fprintf(out, "add rule %s %s icmpv6 type packet-too-big accept\n", T, ch);
	fprintf(out, "add rule %s %s icmpv6 type { nd-router-solicit, nd-router-advert, "
		"nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n", T, ch);
}

static void nft_chain(const struct hooks_spec *s, bool in, FILE *out)
{
	const char *ch = in ? "input" : "output";
	uint32_t m = hooks_mark(s->gen);

	fprintf(out, "add rule %s %s %s \"lo\" accept\n", T, ch, in ? "iifname" : "oifname");
	/* see hooks_ipt.c: an IPS reject sent back, answered by the kernel */
	fprintf(out, "add rule %s %s meta mark and 0x%08x == 0x%08x meta l4proto tcp "
		"reject with tcp reset\n", T, ch, HOOKS_MARK_MASK, hooks_mark(HOOKS_REJECT_GEN));
	fprintf(out, "add rule %s %s meta mark and 0x%08x == 0x%08x "
		"reject with icmpx type port-unreachable\n", T, ch, HOOKS_MARK_MASK,
		hooks_mark(HOOKS_REJECT_GEN));
	if (s->offload) {
		/*
		 * see hooks_ipt.c: store a repeated packet's generation, our bits
		 * only, and clear it from the packet: nf_reinject() then finds
		 * the mark the packet was routed with and leaves the route be
		 */
		fprintf(out, "add rule %s %s meta mark and 0x%08x == 0x%08x ct mark set ct mark "
			"and 0x%08x ct mark set ct mark or 0x%08x meta mark set meta mark and 0x%08x "
			"accept\n", T, ch, HOOKS_MARK_MASK, m, ~HOOKS_MARK_MASK, m, ~HOOKS_MARK_MASK);
		fprintf(out, "add rule %s %s meta mark and 0x%08x == 0x%08x meta mark set meta mark "
			"and 0x%08x accept\n", T, ch, HOOKS_MARK_MASK, m, ~HOOKS_MARK_MASK);
		/* see hooks_ipt.c: a helper's expected connection, not its master's offload */
		fprintf(out, "add rule %s %s ct state related ct status expected ct mark set ct mark "
			"and 0x%08x\n", T, ch, ~HOOKS_MARK_MASK);
		fprintf(out, "add rule %s %s ct mark and 0x%08x == 0x%08x accept\n", T, ch,
			HOOKS_MARK_MASK, m);
	} else {
		/* see hooks_ipt.c: conntrack's IPv6 reassembly, for the lifeline's ports */
		fprintf(out, "add rule %s %s ct state invalid counter\n", T, ch);
	}
	nft_lifeline(s, ch, in, out);
	if (!s->queue)
		return;
	/* see hooks.h (HOOKS_NFT_NOT_UNICAST): accept ends only our base chain */
	if (in)
		fprintf(out, "add rule %s %s %s\n", T, ch, HOOKS_NFT_NOT_UNICAST);
	else
		fprintf(out, "add rule %s %s %s\n", T, ch, HOOKS_NFT_REJECT_RST);
	if (s->queue_lo == s->queue_hi)
		fprintf(out, "add rule %s %s queue num %u%s\n", T, ch, s->queue_lo,
			s->fail_open ? " bypass" : "");
	else
		fprintf(out, "add rule %s %s queue num %u-%u%s\n", T, ch, s->queue_lo, s->queue_hi,
			s->fail_open ? " bypass" : "");
}

/*
 * The whole ruleset as one transaction. `add` of an existing table, chain
 * or set is a no-op, so a second run replaces the rules (chains flushed)
 * and, with @elements, the set contents. Priority filter - 1: before the
 * iptables-nft filter table, so our accept does not hide other tools' rules
 * (an nft accept ends only our base chain).
 */
void hooks_nft_text(const struct hooks_spec *s, bool elements, FILE *out)
{
	fprintf(out, "add table %s\n", T);
	for (int set = 0; set < HSET__COUNT; set++)
		for (int f = 0; f < 2; f++)
			fprintf(out, "add set %s %s { type %s; }\n", T, nft_set[set][f],
				f ? "ipv6_addr" : "ipv4_addr");
	fprintf(out, "add chain %s input { type filter hook input priority filter - 1; policy accept; }\n", T);
	fprintf(out, "add chain %s output { type filter hook output priority filter - 1; policy accept; }\n", T);
	/* include/hooks.h, LIFELINE-CLEAR: before everything, so a handed-back packet never meets it */
	fprintf(out, "add chain %s clear { type filter hook output priority raw; policy accept; }\n", T);
	fprintf(out, "flush chain %s input\nflush chain %s output\nflush chain %s clear\n", T, T, T);
	fprintf(out, "add rule %s clear meta mark set meta mark and 0x%08x\n", T,
		~(unsigned)HOOKS_MARK_MASK);
	nft_chain(s, true, out);
	nft_chain(s, false, out);
	if (!elements)
		return;
	for (int set = 0; set < HSET__COUNT; set++)
		hooks_nft_set_text(set, s->set_addrs[set], s->set_n[set], out);
}
