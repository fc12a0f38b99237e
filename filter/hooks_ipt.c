/* hooks_ipt.c - the iptables backend as text for ipset restore and iptables-restore --noflush. */
#include <stdio.h>
#include <arpa/inet.h>

#include "hooks.h"

const char *hooks_set_name(enum hooks_set set, int family)
{
	static const char *const names[HSET__COUNT][2] = {
		{ HOOKS_SET_PREFIX "mgr4", HOOKS_SET_PREFIX "mgr6" },
		{ HOOKS_SET_PREFIX "dns4", HOOKS_SET_PREFIX "dns6" },
	};
	return names[set][family == 6];
}

static void put_elements(const char *name, int family, const ll_ip *a, uint32_t n, FILE *out)
{
	char buf[64];

	for (uint32_t i = 0; i < n; i++) {
		if (ll_ip_is_v4(a[i]) != (family == 4))
			continue;
		fprintf(out, "add %s %s -exist\n", name, ll_ip_str(a[i], buf, sizeof(buf)));
	}
}

/*
 * Sets are filled through a temporary set and `swap`, so the live set is
 * never seen half-filled: ipset restore is not one transaction, swap is.
 */
void hooks_ipset_replace_text(enum hooks_set set, int family, const ll_ip *a, uint32_t n,
			      FILE *out)
{
	const char *name = hooks_set_name(set, family);
	const char *fam = family == 4 ? "inet" : "inet6";

	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%s-tmp", name);
	fprintf(out, "create %s hash:ip family %s -exist\n", tmp, fam);
	fprintf(out, "flush %s\n", tmp);
	put_elements(tmp, family, a, n, out);
	fprintf(out, "swap %s-tmp %s\n", name, name);
	fprintf(out, "destroy %s-tmp\n", name);
}

void hooks_ipset_text(const struct hooks_spec *s, FILE *out, bool create_only)
{
	for (int set = 0; set < HSET__COUNT; set++) {
		for (int family = 4; family <= 6; family += 2) {
			const char *name = hooks_set_name(set, family);

			fprintf(out, "create %s hash:ip family %s -exist\n", name,
				family == 4 ? "inet" : "inet6");
			if (!create_only)
				put_elements(name, family, s->set_addrs[set], s->set_n[set], out);
		}
	}
}

/* One direction's lifeline: @in picks source/destination sides. */
static void ipt_lifeline(const struct hooks_spec *s, int family, bool in, FILE *out)
{
	const char *ch = in ? HOOKS_IPT_IN : HOOKS_IPT_OUT;
	const char *peer = in ? "src" : "dst";       /* the remote side */
	const char *rport = in ? "--sport" : "--dport"; /* the remote port */
	const char *lport = in ? "--dport" : "--sport"; /* our port */
	char mset[96] = "";

	if (!s->any_manager)
		snprintf(mset, sizeof(mset), " -m set --match-set %s %s",
			 hooks_set_name(HSET_MGR, family), peer);
	/*
	 * heartbeat: manager's port 4120 (we connect out), our port 4118 (it
	 * connects in); a rate-limited NFLOG copy first feeds the heartbeat watch
	 */
	for (int i = 0; i < 2; i++) {
		const char *port = i ? lport : rport;
		unsigned num = i ? s->agent_port : s->heartbeat_port;

		/* the port first: most packets fail there, before the set lookup */
		fprintf(out, "-A %s -p tcp -m tcp %s %u%s -m limit --limit %u/sec --limit-burst %u "
			"-j NFLOG --nflog-group %u --nflog-prefix %s\n", ch, port, num, mset,
			HOOKS_HB_LOG_RATE, HOOKS_HB_LOG_BURST, s->nflog_group,
			in ? HOOKS_HB_PREFIX_IN : HOOKS_HB_PREFIX_OUT);
		fprintf(out, "-A %s -p tcp -m tcp %s %u%s -j ACCEPT\n", ch, port, num, mset);
	}
	/*
	 * dhcp: replies are also copied to the engine, which learns DNS servers
	 * from those that answer the host's requests (engine_dhcp_tap.c)
	 */
	int cli = family == 4 ? 68 : 546, srv = family == 4 ? 67 : 547;
	if (in)
		fprintf(out, "-A %s -p udp -m udp --sport %d --dport %d -j NFLOG --nflog-group %u\n",
			ch, srv, cli, s->nflog_group);
	fprintf(out, "-A %s -p udp -m udp --sport %d --dport %d -j ACCEPT\n", ch, srv, cli);
	fprintf(out, "-A %s -p udp -m udp --sport %d --dport %d -j ACCEPT\n", ch, cli, srv);
	/*
	 * dns to learned or configured servers; what comes back only as the
	 * answer to the host's query (lifeline.c is_dns()): from port 53 of a
	 * server's address alone, a spoofed packet reached every port
	 */
	for (int i = 0; i < 2; i++)
		fprintf(out, "-A %s -p %s -m %s %s 53 -m set --match-set %s %s%s -j ACCEPT\n", ch,
			i ? "tcp" : "udp", i ? "tcp" : "udp", rport,
			hooks_set_name(HSET_DNS, family), peer,
			in ? " -m conntrack --ctstate ESTABLISHED,UNTRACKED" : "");
	if (family == 4) {
		fprintf(out, "-A %s -p icmp -m icmp --icmp-type 3/4 -j ACCEPT\n", ch);
		return;
	}
	fprintf(out, "-A %s -p ipv6-icmp -m icmp6 --icmpv6-type 2 -j ACCEPT\n", ch);
	for (int t = 133; t <= 136; t++)
		fprintf(out, "-A %s -p ipv6-icmp -m icmp6 --icmpv6-type %d -m hl --hl-eq 255 -j ACCEPT\n",
			ch, t);
}

static void ipt_chain(const struct hooks_spec *s, int family, bool in, FILE *out)
{
	const char *ch = in ? HOOKS_IPT_IN : HOOKS_IPT_OUT;

	fprintf(out, "-A %s -%c lo -j ACCEPT\n", ch, in ? 'i' : 'o');
	/* an IPS reject the engine sent back (NF_REPEAT): on to the filter table's reject chain */
	fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j ACCEPT\n", ch, hooks_mark(HOOKS_REJECT_GEN),
		HOOKS_MARK_MASK);
	if (s->offload) {
		/*
		 * A packet we returned with NF_REPEAT comes through this chain
		 * again carrying the generation in its mark: LIFELINE-SAVE
		 * stores it in the connmark (our bits only), clears it from
		 * the packet and lets it pass - with the mark it came with, so
		 * the host's exact-mark rules and `ip rule fwmark` (wg-quick's
		 * `not fwmark 51820`) see it, and the mangle table's reroute
		 * goes by that mark, not ours. The rule after the jump passes
		 * it as before should that chain be flushed (no loop back to
		 * the queue). Any other mark is no pass: an older generation -
		 * a swap in flight, or a host's `CONNMARK --restore-mark` that
		 * copied it back from the connmark - goes to the queue and is
		 * judged again.
		 */
		fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j %s\n", ch, hooks_mark(s->gen),
			HOOKS_MARK_MASK, HOOKS_IPT_SAVE);
		fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j ACCEPT\n", ch, hooks_mark(s->gen),
			HOOKS_MARK_MASK);
		/*
		 * A connection a conntrack helper expected (FTP data, SIP media,
		 * IRC DCC; its packets are RELATED until the other side answers)
		 * starts with its master's connmark (init_conntrack()): an
		 * offloaded control connection's generation passed it unjudged,
		 * whatever the policy says of it (red24: a local user's FTP PORT
		 * opened the host's denied ports to the server). Our bits go, so
		 * the engine judges it as the new flow it is, and offloads it
		 * itself when its decision is final.
		 */
		fprintf(out, "-A %s -m conntrack --ctstate RELATED --ctstatus EXPECTED "
			"-j CONNMARK --and-mark 0x%x\n", ch, ~HOOKS_MARK_MASK);
		fprintf(out, "-A %s -m connmark --mark 0x%x/0x%x -j ACCEPT\n", ch,
			hooks_mark(s->gen), HOOKS_MARK_MASK);
	} else {
		/*
		 * A rule that names conntrack, which does nothing else (it
		 * counts): conntrack brings the kernel's IPv6 reassembly before
		 * this hook. Without it the later fragments of a large IPv6 DNS
		 * answer carry no ports, miss the lifeline and meet the policy.
		 * (IPv4 is reassembled before local delivery anyway.)
		 */
		fprintf(out, "-A %s -m conntrack --ctstate INVALID\n", ch);
	}
	ipt_lifeline(s, family, in, out);
	if (!s->queue)
		return;
	/*
	 * TCP in a link-layer broadcast or multicast frame: see hooks.h
	 * (HOOKS_IPT_NOT_UNICAST). RETURN: back to the host's own mangle rules
	 * as if we were not there; TCP discards it after this hook.
	 */
	if (in)
		fprintf(out, "-A %s %s\n", ch, HOOKS_IPT_NOT_UNICAST);
	else
		fprintf(out, "-A %s %s\n", ch, HOOKS_IPT_REJECT_RST);
	if (s->queue_lo == s->queue_hi)
		fprintf(out, "-A %s -j NFQUEUE --queue-num %u%s\n", ch, s->queue_lo,
			s->fail_open ? " --queue-bypass" : "");
	else
		fprintf(out, "-A %s -j NFQUEUE --queue-balance %u:%u%s\n", ch, s->queue_lo,
			s->queue_hi, s->fail_open ? " --queue-bypass" : "");
}

/* The kernel answers an IPS reject (the engine's mark), then drops the packet. */
static void ipt_reject_chain(const char *ch, int family, FILE *out)
{
	fprintf(out, "-A %s -p tcp -j REJECT --reject-with tcp-reset\n", ch);
	fprintf(out, "-A %s -j REJECT --reject-with %s\n", ch,
		family == 4 ? "icmp-port-unreachable" : "icmp6-port-unreachable");
}

/* Where the chains are jumped to from: HOOKS_JUMP_* order. */
static const struct hooks_jump jump_at[HOOKS_JUMP__N] = {
	{ HOOKS_IPT_TABLE, "INPUT", HOOKS_IPT_IN, false },
	{ HOOKS_IPT_TABLE, "OUTPUT", HOOKS_IPT_OUT, false },
	{ "filter", "INPUT", HOOKS_IPT_REJECT_IN, true },
	{ "filter", "OUTPUT", HOOKS_IPT_REJECT_OUT, true },
	{ "security", "INPUT", "DROP", true },
	{ "security", "OUTPUT", "DROP", true },
	{ "raw", "OUTPUT", HOOKS_IPT_CLEAR, false },
};

/* hooks_ipt_jump() - see hooks.h. */
const struct hooks_jump *hooks_ipt_jump(int jump)
{
	return &jump_at[jump];
}

/* The jump @j, inserted first (a reject jump only for packets with the reject mark). */
static void ipt_jump(const struct hooks_jump *j, FILE *out)
{
	if (j->reject_mark)
		fprintf(out, "-I %s 1 -m mark --mark 0x%x/0x%x -j %s\n", j->from,
			hooks_mark(HOOKS_REJECT_GEN), HOOKS_MARK_MASK, j->chain);
	else
		fprintf(out, "-I %s 1 -j %s\n", j->from, j->chain);
}

/*
 * Declaring a chain with --noflush flushes it when it exists; the explicit
 * -F says so to the reader. The filter table first: its reject chain is
 * there before a packet can be marked for it. @jumps: also insert the jumps
 * (bit 1 << HOOKS_JUMP_*) that the caller found missing.
 */
void hooks_ipt_text(const struct hooks_spec *s, int family, int jumps, FILE *out)
{
	fprintf(out, "*filter\n:%s - [0:0]\n:%s - [0:0]\n", HOOKS_IPT_REJECT_IN, HOOKS_IPT_REJECT_OUT);
	fprintf(out, "-F %s\n-F %s\n", HOOKS_IPT_REJECT_IN, HOOKS_IPT_REJECT_OUT);
	ipt_reject_chain(HOOKS_IPT_REJECT_IN, family, out);
	ipt_reject_chain(HOOKS_IPT_REJECT_OUT, family, out);
	for (int j = HOOKS_JUMP_REJECT_IN; j <= HOOKS_JUMP_REJECT_OUT; j++)
		if (jumps & 1 << j)
			ipt_jump(&jump_at[j], out);
	fprintf(out, "COMMIT\n*%s\n:%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n", HOOKS_IPT_TABLE,
		HOOKS_IPT_IN, HOOKS_IPT_OUT, HOOKS_IPT_SAVE);
	fprintf(out, "-F %s\n-F %s\n-F %s\n", HOOKS_IPT_IN, HOOKS_IPT_OUT, HOOKS_IPT_SAVE);
	if (s->offload) /* see ipt_chain() */
		fprintf(out, "-A %s -j CONNMARK --set-xmark 0x%x/0x%x\n-A %s -j MARK --and-mark 0x%x\n"
			"-A %s -j ACCEPT\n", HOOKS_IPT_SAVE, hooks_mark(s->gen), HOOKS_MARK_MASK,
			HOOKS_IPT_SAVE, ~(unsigned)HOOKS_MARK_MASK, HOOKS_IPT_SAVE);
	ipt_chain(s, family, true, out);
	ipt_chain(s, family, false, out);
	for (int j = HOOKS_JUMP_IN; j <= HOOKS_JUMP_OUT; j++)
		if (jumps & 1 << j)
			ipt_jump(&jump_at[j], out);
	fprintf(out, "COMMIT\n");
	hooks_ipt_backstop_text(jumps, out);
	/*
	 * The raw section only with its jump asked for (hooks_print()):
	 * ipt_restore() feeds it apart, best effort - in the main text, a
	 * kernel without the raw table failed the whole install.
	 */
	if (jumps & HOOKS_JUMPS_CLEAR)
		hooks_ipt_clear_text(jumps, out);
}

void hooks_ipt_backstop_text(int jumps, FILE *out)
{
	if (!(jumps & HOOKS_JUMPS_BACKSTOP))
		return;
	fprintf(out, "*security\n");
	for (int j = HOOKS_JUMP_DROP_IN; j <= HOOKS_JUMP_DROP_OUT; j++)
		if (jumps & 1 << j)
			ipt_jump(&jump_at[j], out);
	fprintf(out, "COMMIT\n");
}

void hooks_ipt_clear_text(int jumps, FILE *out)
{
	fprintf(out, "*raw\n:%s - [0:0]\n-F %s\n-A %s -j MARK --and-mark 0x%x\n", HOOKS_IPT_CLEAR,
		HOOKS_IPT_CLEAR, HOOKS_IPT_CLEAR, ~(unsigned)HOOKS_MARK_MASK);
	if (jumps & HOOKS_JUMPS_CLEAR)
		ipt_jump(&jump_at[HOOKS_JUMP_CLEAR_OUT], out);
	fprintf(out, "COMMIT\n");
}

/* Removal needs the jumps gone first; the caller deletes those it finds. */
void hooks_ipt_remove_text(bool raw, FILE *out)
{
	if (raw) {
		fprintf(out, "*raw\n-F %s\n-X %s\nCOMMIT\n", HOOKS_IPT_CLEAR, HOOKS_IPT_CLEAR);
		return;
	}
	fprintf(out, "*%s\n-F %s\n-F %s\n-F %s\n-X %s\n-X %s\n-X %s\nCOMMIT\n", HOOKS_IPT_TABLE,
		HOOKS_IPT_IN, HOOKS_IPT_OUT, HOOKS_IPT_SAVE, HOOKS_IPT_IN, HOOKS_IPT_OUT,
		HOOKS_IPT_SAVE);
	fprintf(out, "*filter\n-F %s\n-F %s\n-X %s\n-X %s\nCOMMIT\n", HOOKS_IPT_REJECT_IN,
		HOOKS_IPT_REJECT_OUT, HOOKS_IPT_REJECT_IN, HOOKS_IPT_REJECT_OUT);
}
