/*
 * pipeline.c - the spine: parse -> lifeline -> flow -> firewall -> IPS ->
 * verdict. pipeline_judge() is the table of contents of the packet path;
 * every stage lives in its own file.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "policy.h"

/*
 * A fresh verdict: the fields before the logged and alert ids, and their
 * counts; the ids are read only up to the counts. (memset of all 148
 * bytes, a `rep stos`, was 4% of the mixed capture with the empty policy.)
 */
static void verdict_clear(struct verdict *v)
{
	memset(v, 0, offsetof(struct verdict, logged));
	v->nalerts = 0;
}

static const struct fw_result empty_result = { .reason = R_EMPTY_POLICY, .accept = true };

/* Hit counters follow the policy: a new policy starts from zero. */
static void reset_hits(struct pipeline *pl)
{
	uint32_t n = pl->policy ? pl->policy->nrules : 0;

	free(pl->rule_hits);
	pl->rule_hits = n ? calloc(n, sizeof(*pl->rule_hits)) : NULL;
	pl->nrule_hits = pl->rule_hits ? n : 0;
}

static void hit(struct pipeline *pl, bool has_rule, uint32_t idx)
{
	if (has_rule && idx < pl->nrule_hits)
		pl->rule_hits[idx]++;
}

int pipeline_init(struct pipeline *pl, const struct config *cfg, struct policy *policy)
{
	memset(pl, 0, sizeof(*pl));
	pl->cfg = cfg;
	pl->policy = policy;
	pl->generation = 1;
	lifeline_init(&pl->lifeline, cfg);
	pl->hosts = cfg->hosts;
	pl->nhosts = cfg->nhosts;
	pl->flows = flow_table_new(cfg->max_flows);
	if (!pl->flows)
		return -ENOMEM;
	pl->ips = ips_worker_new(policy ? policy->ips : NULL);
	if (!pl->ips) {
		pipeline_fini(pl);
		return -ENOMEM;
	}
	reset_hits(pl);
	return 0;
}

void pipeline_fini(struct pipeline *pl)
{
	flow_table_free(pl->flows);
	ips_worker_free(pl->ips);
	free(pl->rule_hits);
	pl->flows = NULL;
	pl->ips = NULL;
	pl->rule_hits = NULL;
	pl->nrule_hits = 0;
}

void pipeline_set_policy(struct pipeline *pl, struct policy *policy)
{
	if (policy && policy->ips) {
		struct ips_worker *w = ips_worker_new(policy->ips);

		if (w) { /* else the old one sizes itself for the new rule set at its next scan */
			ips_worker_free(pl->ips);
			pl->ips = w;
		}
	}
	pl->policy = policy;
	pl->generation++;
	reset_hits(pl);
}

static bool is_host(const struct pipeline *pl, ll_ip a)
{
	for (uint32_t i = 0; i < pl->nhosts; i++)
		if (ll_ip_cmp(a, pl->hosts[i].lo) >= 0 && ll_ip_cmp(a, pl->hosts[i].hi) <= 0)
			return true;
	return false;
}

void pipeline_set_dir(const struct pipeline *pl, struct pkt *p)
{
	bool out = is_host(pl, p->src);

	p->dir = out ? PKT_DIR_OUT : PKT_DIR_IN;
	p->dir_guessed = out == is_host(pl, p->dst); /* both or neither a host's (a /64 in `host`) */
}

static bool policy_is_empty(const struct policy *p)
{
	return !p || (p->nrules == 0 && !p->ips);
}

void pipeline_fw_key(const struct pkt *p, struct fw_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dir = p->dir;
	k->family = p->family;
	k->proto = p->proto;
	k->tcp_flags = p->tcp_flags;
	k->src = p->src;
	k->dst = p->dst;
	k->icmp_type = k->icmp_code = -1;
	if (p->proto == 6 || p->proto == 17) {
		k->sport = p->sport;
		k->dport = p->dport;
	} else if (p->proto == 1 || p->proto == 58) {
		k->icmp_type = p->icmp_type;
		k->icmp_code = p->icmp_code;
	}
	k->ifname = p->ifname;
}

/*
 * @res as the verdict @v, its rule's hit counted. Inlined: a constant @res
 * (an empty policy's) folds into stores.
 */
static inline __attribute__((always_inline)) void
verdict_of(struct pipeline *pl, const struct fw_result *res, struct verdict *v)
{
	v->accept = res->accept;
	v->by = ll_reason_by(res->reason);
	v->reason = (uint8_t)res->reason;
	v->has_rule = res->rule != NULL;
	v->rule = res->rule_id;
	v->nolog = res->nolog;
	v->nlogged = res->nlogged;
	/* nearly always none: a call of memcpy() for no bytes was ~20 instructions a new flow */
	if (res->nlogged)
		memcpy(v->logged, res->logged, res->nlogged * sizeof(res->logged[0]));
	hit(pl, v->has_rule, res->rule ? (uint32_t)(res->rule - pl->policy->rules) : 0);
}

/* @res, with @inspect, as the flow's decision and the verdict @v. */
static inline __attribute__((always_inline)) void
decide(struct pipeline *pl, struct flow *f, const struct fw_result *res, bool inspect,
       struct verdict *v)
{
	f->accept = res->accept;
	f->inspect = inspect;
	f->reason = (uint8_t)res->reason;
	f->has_rule = res->rule != NULL;
	f->rule_id = res->rule_id;
	f->rule_idx = res->rule ? (uint32_t)(res->rule - pl->policy->rules) : 0;
	f->nolog = res->nolog;
	f->generation = pl->generation;
	verdict_of(pl, res, v);
}

/*
 * Firewall stage: judge the flow's opening packet and remember the decision.
 * @pre: the classifier's answer for @k when the batch already asked.
 */
static void firewall(struct pipeline *pl, struct flow *f, const struct fw_key *k,
		     const struct fw_result *pre, struct verdict *v)
{
	struct fw_result own;
	const struct fw_result *res = pre;

	/* a constant decision, which decide() writes out as stores: ~60 instructions a flow less */
	if (policy_is_empty(pl->policy)) {
		decide(pl, f, &empty_result, false, v);
		return;
	}
	if (!pre) {
		fw_classify(pl->policy, k, &own);
		res = &own;
	}
	/* decided once a flow: no inspection where no IPS rule can ever match it */
	decide(pl, f, res, res->inspect && pl->policy->ips && ips_may_match(pl->policy->ips, k), v);
}

/*
 * A new policy: judge the flow again as its opening packet. Not a flow the
 * IPS dropped or rejected, while the new policy has IPS rules: that drop
 * holds for the rest of the flow (Suricata's flow drop), or a `table add`
 * would revive it. A policy without IPS (reset's empty one) judges it
 * again like any flow. Returns whether it judged again.
 */
static bool rejudge(struct pipeline *pl, struct flow *f, struct verdict *v)
{
	struct fw_key k;

	if ((f->reason == R_IPS_DROP || f->reason == R_IPS_REJECT) && pl->policy &&
	    pl->policy->ips) {
		f->generation = pl->generation;
		return false;
	}
	flow_orig(pl->flows, f, &k);
	firewall(pl, f, &k, NULL, v);
	return true;
}

/*
 * The kernel's answer to an IPS reject of an incoming packet - a TCP RST,
 * an ICMP unreachable, to the remote sender - leaves through the output
 * hook like any packet of the flow; it must pass, or the reject is a plain
 * drop. (The answer to an outgoing packet goes to a local address, over
 * lo, which the kernel rules accept before the queue.) Anything else of
 * the flow, a RST from the remote side too, stays dropped.
 */
static bool reject_answer(const struct flow *f, const struct pkt *p)
{
	if (f->accept || f->reason != R_IPS_REJECT || p->dir != PKT_DIR_OUT)
		return false;
	if (p->proto == 6)
		return p->tcp_flags & TCPF_RST;
	return pkt_is_icmp_error(p);
}

/* A flow the firewall denied at its opening packet, of which the other side sent nothing. */
static bool denied_unanswered(const struct flow *f)
{
	return !f->accept && (f->reason == R_DENY || f->reason == R_NOT_ALLOWED) && !f->pkts[1];
}

/*
 * A SYN (no ACK, no RST) on a TCP flow that no SYN opened (picked up
 * mid-stream: an ACK or a lone FIN opened it): the rules judge it too, and
 * what they drop is dropped, this packet only, whatever the flow's decision
 * and under whichever policy it was made (one of an older policy is judged
 * again at the flow's next packet). The flow's decision was
 * the ACK's, which a `flags SYN` rule never sees: kept for the SYN, a bare
 * ACK sent first made the listener's connection a flow the rule had let
 * through (live, the ACK's flow is offloaded at once, so the engine never
 * saw the host's RST that ends it, and the SYN came back to it unjudged).
 * pf creates no state from such an ACK (`flags S/SA`), and conntrack calls
 * the SYN new or opens a new entry for it (tcp_packet()), so both hold it
 * to the rules. A live connection picked up mid-stream keeps its decision:
 * a SYN on it is one its host answers with a challenge ACK.
 *
 * So is a SYN from the responder of a connection offloaded under this
 * policy: conntrack calls one on its established entry INVALID (no entry,
 * so no connmark) and the kernel queues it, a blind attacker's too, who
 * needs only the four-tuple. Taken as a new connection on the tuple (judge()),
 * the flow became the SYN's, denied, and at the next policy load the
 * connection's packets met that decision: an outbound-only policy cut the
 * host's connection to a server the attacker named (off26, live). Dropped
 * alone, it leaves the flow as it was; one the rules accept still opens a
 * new flow (a reopen from the other side, conntrack's TIME_WAIT one).
 */
static bool syn_denied_alone(struct pipeline *pl, const struct flow *f, const struct pkt *p,
			     int from_opener, struct verdict *v)
{
	struct fw_key k;
	struct fw_result r;

	if (f->key.proto != 6 || (p->tcp_flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) != TCPF_SYN ||
	    policy_is_empty(pl->policy))
		return false;
	if ((f->orig_tcp_flags & TCPF_SYN) &&
	    !(f->offloaded && f->generation == pl->generation && !from_opener))
		return false;
	pipeline_fw_key(p, &k);
	fw_classify(pl->policy, &k, &r);
	if (r.accept)
		return false;
	verdict_of(pl, &r, v);
	return true;
}

/* A later packet of a known flow: the flow's decision, reported as `flow`. */
static void from_flow(const struct flow *f, const struct pkt *p, struct verdict *v)
{
	v->accept = f->accept || reject_answer(f, p);
	v->by = BY_FLOW;
	v->reason = f->reason;
	v->has_rule = f->has_rule;
	v->rule = f->rule_id;
	v->nolog = f->nolog;
}

/*
 * The most NFQUEUE copies of a packet: NFQNL_MAX_COPY_RANGE, 0xffff less
 * the attribute header (nla_len is 16 bits), whatever copy range we ask.
 */
#define QUEUE_COPY_MAX 65531u

/*
 * A packet longer than the queue copies, and cut there: a BIG TCP
 * super-packet, but also a 65,532-65,535-byte IPv4 one (a UDP datagram
 * reassembled from fragments, a GRO TCP packet) or IPv6 one. The IPS
 * cannot see the rest, and passing it would let a sender put anything past
 * that offset uninspected. Dropped in inspected flows (TCP sends it again).
 * A capture's snap length cuts packets too: only one past what the queue
 * copies is cut as live cuts it.
 */
static bool ips_cut(const struct pkt *p)
{
	return p->len > QUEUE_COPY_MAX && p->caplen < p->len;
}

/*
 * IPS stage: only flows the firewall accepted for inspection get here.
 * True when the IPS knows the receiver drops @p (ips_result.untaken).
 */
static bool ips(struct pipeline *pl, struct flow *f, const struct pkt *p, int to_server,
		uint64_t now_us, struct verdict *v)
{
	struct ips_result r;

	if (ips_cut(p)) {
		v->accept = false; /* this packet only: the flow's decision stands */
		v->by = BY_SANITY;
		v->reason = R_IPS_CUT;
		return false;
	}
	ips_scan(pl->ips, pl->policy->ips, f, p, to_server, now_us, &r);
	if (r.nomem) { /* uninspected must not mean accepted: this packet only, as ips-cut */
		v->accept = false;
		v->by = BY_SANITY;
		v->reason = R_IPS_NOMEM;
		return false;
	}
	/*
	 * The stream knows the receiver's next byte, which the flow table's
	 * record of what each side sent does not (segments the receiver
	 * dropped move that on): its RST ends the flow too, so that the next
	 * SYN on the tuple opens a connection of its own. (In a flow back
	 * from offload, the remote side's only once the host's ACK placed
	 * its stream: ips_stream_unsure().)
	 */
	if (r.action == IPS_ACT_DROP || r.action == IPS_ACT_REJECT)
		; /* the packet never reaches the receiver: it ends nothing (judge()) */
	else if (r.reset)
		f->tcp_state = FT_CLOSE;
	else if (r.fin)
		flow_tcp_fin(f, !to_server);
	v->nalerts = r.nalerts;
	memcpy(v->alerts, r.alerts, r.nalerts * sizeof(r.alerts[0]));
	if (r.action == IPS_ACT_DROP || r.action == IPS_ACT_REJECT) {
		f->accept = v->accept = false;
		f->inspect = false;
		f->reason = v->reason = r.action == IPS_ACT_DROP ? R_IPS_DROP : R_IPS_REJECT;
		f->has_rule = v->has_rule = true;
		f->rule_id = v->rule = r.sid;
		f->rule_idx = UINT32_MAX; /* an IPS sid: no firewall rule's hit to count */
		v->by = BY_IPS;
	} else if (r.action == IPS_ACT_PASS) {
		f->inspect = false;
	}
	return r.untaken;
}

/* ICMP echo is a query/response flow (as conntrack tracks it); other ICMP is not. */
static bool icmp_untracked(const struct pkt *p)
{
	if (p->proto == 1)
		return p->icmp_type != 0 && p->icmp_type != 8;
	return p->proto == 58 && p->icmp_type != 128 && p->icmp_type != 129;
}

/*
 * An echo flow is requests from its opener and replies back (conntrack
 * keys the type too): a request the other way, with the same id, is no
 * part of it.
 */
static bool echo_turned(const struct pkt *p, int from_opener)
{
	bool request = p->icmp_type == 8 || p->icmp_type == 128;

	return (p->proto == 1 || p->proto == 58) && request != (from_opener != 0);
}

static bool echo_reply(const struct pkt *p)
{
	return (p->proto == 1 && p->icmp_type == 0) || (p->proto == 58 && p->icmp_type == 129);
}

/*
 * Does ICMP error @p travel like the opener of @f: toward the responder? Its
 * destination says so; its source may be a router on the way (an error
 * about the host's reply, sent to the host as the server, was to_client).
 */
static int like_opener(const struct flow *f, const struct pkt *p)
{
	ll_ip opener = f->orig_is_a ? f->key.a : f->key.b;

	return !ll_ip_eq(p->dst, opener);
}

/* A packet judged on its own, with no flow to remember the decision. */
static void judge_alone(struct pipeline *pl, const struct pkt *p, uint64_t now_us,
			struct verdict *v)
{
	struct flow tmp = { 0 };
	struct fw_key k;

	pipeline_fw_key(p, &k);
	firewall(pl, &tmp, &k, NULL, v);
	if (tmp.accept && tmp.inspect)
		ips(pl, &tmp, p, 1, now_us, v); /* a packet alone opens what it is part of */
	if (tmp.ips)
		ips_flow_free(tmp.ips);
}

static void count(struct pipeline *pl, const struct verdict *v)
{
	pl->ctr.packets++;
	if (v->accept)
		pl->ctr.accepted++;
	else
		pl->ctr.dropped++;
	pl->ctr.by_reason[v->reason]++;
	pl->ctr.by_by[v->by]++;
}

/* What flow_update() moves of a TCP flow's record, kept to undo it for a segment nobody took. */
struct tcp_record {
	uint32_t end[2];
	uint8_t state, bits, hole, unplaced;
};

static void record_save(const struct flow *f, struct tcp_record *r)
{
	*r = (struct tcp_record){ { f->tcp_end[0], f->tcp_end[1] }, f->tcp_state, f->tcp_bits, f->hole,
				  f->unplaced };
}

/* The state and its bits back; with @all, also each side's end and marks (hole, unplaced). */
static void record_restore(struct flow *f, const struct tcp_record *r, bool all)
{
	f->tcp_state = r->state;
	f->tcp_bits = r->bits;
	if (all) {
		f->hole = r->hole & 3;
		f->unplaced = r->unplaced & 1;
		f->tcp_end[0] = r->end[0], f->tcp_end[1] = r->end[1];
	}
}

/*
 * One packet through the stages. @pr: its flow probe, when the batch made
 * one; @pre: the classifier's answer for it as a new flow's opening packet,
 * and @kpre the key it was asked with.
 */
static void judge(struct pipeline *pl, struct pkt *p, uint64_t now_us, struct verdict *v,
		  const struct flow_probe *pr, const struct fw_result *pre,
		  const struct fw_key *kpre)
{
	struct fw_key k;
	struct flow *f = NULL;
	struct flow_probe own;
	int ll, from_opener = 1;
	struct tcp_record before = { 0 };

	verdict_clear(v);

	/*
	 * 0. A fragment is judged only after reassembly (replay: frag.c). One
	 * reaches the pipeline alone only where the kernel's defrag let it
	 * through unassembled, and then the host's own stack discards it: an
	 * IPv6 first fragment without all its headers (RFC 8200 4.5), or a
	 * non-last IPv6 fragment whose length is no multiple of 8
	 * (nf_ct_frag6_queue()'s -EPROTO: nf_ct_frag6_gather() passes it on;
	 * ip6_frag_queue() answers a Parameter Problem and drops it). IPv4
	 * fragments never get here (ip_defrag() keeps or frees them). Taken as
	 * a packet, such a first fragment's TCP segment went into the flow's
	 * record and the IPS stream: a decoy the host never read hid the real
	 * bytes at its sequence numbers from every stream rule. So does the
	 * engine discard it, and says why.
	 */
	if (p->is_frag) {
		v->accept = pl->cfg->sanity_accept;
		v->by = BY_SANITY;
		v->reason = R_BAD_FRAG;
		goto done;
	}

	/*
	 * 1. The lifeline, above every rule: accept, no flow, no IPS; an ICMP
	 * error about a lifeline packet goes with it, as "related" to it.
	 */
	ll = lifeline_match(&pl->lifeline, p, now_us);
	if (ll == R_DHCP)
		lifeline_learn(&pl->lifeline, p, now_us);
	else if (ll == R_DNS)
		lifeline_note_query(&pl->lifeline, p, now_us);
	else if (ll < 0 && pkt_is_icmp_error(p))
		ll = lifeline_match_quoted(&pl->lifeline, p, now_us);
	if (ll >= 0) {
		v->accept = true;
		v->by = BY_LIFELINE;
		v->reason = (uint8_t)ll;
		goto done;
	}

	/* 2. Flows: an ICMP error goes with the flow it quotes (conntrack's "related"). */
	if (pkt_is_icmp_error(p) && (f = flow_lookup_icmp_error(pl->flows, p, now_us))) {
		if (f->generation != pl->generation)
			rejudge(pl, f, v);
		from_flow(f, p, v);
		from_opener = like_opener(f, p);
		goto inspect;
	}
	/* Other ICMP that is not an echo is judged by the rules, packet by packet. */
	if (icmp_untracked(p)) {
		judge_alone(pl, p, now_us, v);
		goto done;
	}
	if (!pr) {
		flow_probe_init(pl->flows, p, &own);
		pr = &own;
	}
	f = flow_lookup_probe(pl->flows, pr, p, now_us, &from_opener);
	if (f && syn_denied_alone(pl, f, p, from_opener, v))
		goto done; /* dropped: it moves nothing */
	/*
	 * A SYN on a connection the engine offloaded under this policy: the
	 * kernel queues one only when conntrack made a new entry for it, the
	 * old one (and its mark) gone - closed, timed out, or reopened from
	 * TIME_WAIT or CLOSE (tcp_packet()); a SYN on the live connection it
	 * ignores (sIG) and passes on the mark. So it opens a new connection
	 * on a reused tuple, whose predecessor's end the engine never saw:
	 * kept as that flow's, it rode its decision, an IPS `pass` included,
	 * uninspected, where replay (which sees the close) and Suricata (TCP
	 * session reuse) start a new flow. Under an older policy every packet
	 * comes back, and a SYN is no such sign: the flow is judged again.
	 * So is a flow picked up mid-stream (no SYN opened it): kept, a bare
	 * ACK the IPS passed (a pass without flow:established) carried the
	 * connection a SYN opened on its tuple once the host's RST had ended
	 * the ACK's entry unseen: uninspected (rev23). A SYN the rules drop
	 * was dropped alone above, as on any flow an ACK opened.
	 */
	if (f && f->offloaded && f->generation == pl->generation && f->key.proto == 6 &&
	    (p->tcp_flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN) {
		flow_remove(pl->flows, f);
		f = NULL;
	}
	/*
	 * An echo reply opens nothing (conntrack's icmp_new() takes only a
	 * request as new): kept, a spoofed one held the id, and the host's own
	 * request on it, judged alone, made no flow for the real reply.
	 */
	if ((f && echo_turned(p, from_opener)) || (!f && echo_reply(p))) {
		judge_alone(pl, p, now_us, v);
		goto done;
	}
	/*
	 * A packet the firewall dropped reached nobody, so the other side's
	 * packets on its tuple answer nothing (pf and conntrack keep no state
	 * for a blocked packet). Kept as they were, one spoofed packet squatted
	 * the tuple for as long as the host kept trying: each of the host's own
	 * packets, dropped as the flow's, refreshed it (and, counted as an
	 * answer, gave a UDP flow its 120 s) - a fixed-port UDP peer (ntpd's
	 * 123, IKE's 500, WireGuard) was cut off by one datagram. Such a packet
	 * now moves nothing: the flow ends at its timeout after the opener's
	 * last packet. A TCP SYN is never an answer: it opens a flow of its
	 * own. (A reply seen only in a capture taken without the filter - to a
	 * SYN the host never got live - stays dropped, as SPEC 4 says.)
	 * Not a flow the other side already spoke in (a connection a new
	 * policy denies when it judges it again), nor one the IPS dropped.
	 */
	if (f && !from_opener && denied_unanswered(f) && f->generation == pl->generation) {
		if (f->key.proto != 6 ||
		    (p->tcp_flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) != TCPF_SYN) {
			from_flow(f, p, v);
			hit(pl, f->has_rule, f->rule_idx);
			goto done;
		}
		flow_remove(pl->flows, f);
		f = NULL;
	}
	if (f && (f->generation == pl->generation || !rejudge(pl, f, v))) {
		from_flow(f, p, v);
		hit(pl, f->has_rule, f->rule_idx);
	} else if (!f) {
		f = flow_create_probe(pl->flows, pr, p, now_us);
		if (!f) { /* no memory for a flow */
			judge_alone(pl, p, now_us, v);
			goto done;
		}
		/* 3. The firewall, with the key the batch asked with: one key a packet. */
		if (!kpre) {
			pipeline_fw_key(p, &k);
			kpre = &k;
		}
		flow_set_orig(pl->flows, f, kpre); /* a re-judged flow is judged as this packet */
		firewall(pl, f, kpre, pre, v);
	}
	/* for an IPS drop, or a segment the receiver drops, below */
	record_save(f, &before);
	/*
	 * A handshake segment the receiver drops for its timestamps, which
	 * only an inspected flow's IPS state can tell (ips_tcp.c): it moves
	 * nothing. Other flows, and established ones, pay a test or two.
	 */
	if (f->ips && flow_tcp_opening(f) && ips_opening_drops(f, p, from_opener, now_us)) {
		flow_count(f, p, from_opener, now_us);
		/*
		 * A SYN-ACK to the host echoing no TSval it put on a SYN (a real
		 * server echoes one), past the first the engine saw (ips_tcp.c:
		 * an older one may be of a SYN it missed, which the host takes):
		 * its echo was judged against the engine's reckoning of the
		 * host's clock, which lags the host by as long as the SYN waited
		 * for the engine; one the host would still take made a
		 * connection the IPS never called established (rev20b R3).
		 * A sanity failure (dropped by default): the host takes it no
		 * more than the stream does, and asks again.
		 */
		if (!from_opener && p->dir != PKT_DIR_OUT && ips_decoy_ahead(f) &&
		    (p->tcp_flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == (TCPF_SYN | TCPF_ACK)) {
			v->accept = pl->cfg->sanity_accept; /* this packet only: the flow's stands */
			v->by = BY_SANITY;
			v->reason = R_BAD_TSECR;
			goto done;
		}
	} else {
		flow_update(pl->flows, f, p, from_opener, now_us);
	}
inspect:
	/* 4. IPS, for accepted flows that still want inspection. */
	if (f->accept && f->inspect) {
		bool untaken = ips(pl, f, p, from_opener, now_us, v);

		/*
		 * A FIN or RST the IPS drops never reaches the receiver: it ends
		 * nothing, as on any dropped flow (flow_update()). Counted, the
		 * dropped flow went to FIN_WAIT (120 s) instead of standing still
		 * (30 min: past the client's retransmissions), and the client's
		 * retransmission of the dropped bytes and FIN after a 120 s
		 * backoff was a new flow picked up mid-stream, never established,
		 * past the flow:established rule that had dropped it (rev24).
		 * (The stream's FIN or RST on a dropped packet ips() leaves alone:
		 * bytes that fill a hole before a FIN held out of order.)
		 */
		bool dropped_end = !f->accept && p->proto == 6 && (p->tcp_flags & (TCPF_FIN | TCPF_RST));
		/*
		 * A segment the receiver drops (the IPS's reading of its window,
		 * PAWS, ACK and signature checks: ips_tcp.c) moves nothing in
		 * the flow's record either: flow_update() took its bytes, FIN or
		 * RST at the sender's end. A RST with a TCP MD5 option at the
		 * receiver's next byte, or one at the end of bytes it dropped,
		 * closed the flow while Linux answered a challenge ACK or
		 * nothing, and the client's bytes 10 s on were a new flow picked
		 * up mid-stream, never established: past every flow:established
		 * rule (rev25, live). So does a segment the engine drops itself
		 * while the flow's decision stands (ips-cut, ips-nomem): its FIN
		 * reached nobody, and counted it sent the flow to FIN_WAIT, which
		 * expired while the host waited for those bytes. (Not a segment
		 * the IPS drops, above: the dropped flow keeps the state it
		 * reached, whose timeout outlasts the client's retransmissions.)
		 * A SYN is flow.c's to judge (handshake).
		 */
		bool unseen = (untaken || (!v->accept && f->accept)) && p->proto == 6 &&
			      !(p->tcp_flags & TCPF_SYN);

		if (dropped_end || unseen)
			record_restore(f, &before, unseen);
	}
	/*
	 * The decision is final: the live engine hands the rest of the flow to
	 * the kernel - a TCP flow once its handshake is through (as nft's
	 * flowtable offloads established connections), so that the flow table
	 * sees it whole: an IPS policy loaded later counts the connection as
	 * established only by it.
	 */
	v->offload = f->accept && !f->inspect && pl->cfg->offload &&
		     (f->key.proto != 6 || !flow_tcp_opening(f));
	f->offloaded = v->offload;
done:
	/* 5. The verdict, counted by reason. */
	count(pl, v);
}

void pipeline_judge(struct pipeline *pl, struct pkt *p, uint64_t now_us, struct verdict *v)
{
	judge(pl, p, now_us, v, NULL, NULL, NULL);
}

/* Packets that go through the flow table (the rest are judged alone or with a quoted flow). */
static bool tracked(const struct pkt *p)
{
	return !pkt_is_icmp_error(p) && !icmp_untracked(p);
}

/*
 * Three passes over at most PIPELINE_BATCH packets: start fetching every
 * flow bucket; then, reading only, classify the packets that look like new
 * flows (a pure function of the packet and the policy, so asking early
 * changes nothing; a wrong guess only costs the lookup); then judge each
 * packet in order exactly as pipeline_judge() would.
 */
static void judge_batch(struct pipeline *pl, struct pkt *const pkts[], unsigned n,
			const uint64_t now_us[], struct verdict v[])
{
	struct flow_probe pr[PIPELINE_BATCH];
	struct fw_key keys[PIPELINE_BATCH];
	const struct fw_key *ask[PIPELINE_BATCH];
	struct fw_result res[PIPELINE_BATCH], *pre[PIPELINE_BATCH] = { 0 };
	unsigned nask = 0, nnew = 0, idx[PIPELINE_BATCH];
	bool track[PIPELINE_BATCH];
	uint64_t earlier = 0; /* bit (hash >> 58) of each tracked packet so far */
	bool empty = policy_is_empty(pl->policy); /* the batch's: judging changes no policy */

	for (unsigned i = 0; i < n; i++) {
		track[i] = tracked(pkts[i]);
		if (track[i])
			flow_probe_init(pl->flows, pkts[i], &pr[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t bit;

		/* known flows: their entries are fetched now, for the third pass */
		if (!track[i] || flow_probe_known(pl->flows, &pr[i])) {
			earlier |= track[i] ? 1ull << (pr[i].hash >> 58) : 0;
			continue;
		}
		/*
		 * Not in the table, and judging the packets before it can add
		 * the flow only if one of them has its hash (a bit of it in
		 * @earlier: a false alarm only costs the lookup): otherwise its
		 * lookup would search the bucket again for nothing (~90
		 * instructions of a new flow's ~830).
		 */
		bit = 1ull << (pr[i].hash >> 58);
		pr[i].absent = !(earlier & bit);
		earlier |= bit;
		nnew++;
		if (empty)
			continue;
		pipeline_fw_key(pkts[i], &keys[i]);
		ask[nask] = &keys[i];
		idx[nask++] = i;
	}
	/* the entries the new flows will take (they come from DRAM): fetched while the batch is classified */
	flow_prefetch_new(pl->flows, nnew);
	if (nask) {
		fw_classify_batch(pl->policy, ask, nask, res);
		for (unsigned j = 0; j < nask; j++)
			pre[idx[j]] = &res[j];
	}
	for (unsigned i = 0; i < n; i++)
		judge(pl, pkts[i], now_us[i], &v[i], track[i] ? &pr[i] : NULL, pre[i],
		      pre[i] ? &keys[i] : NULL);
}

void pipeline_judge_batch(struct pipeline *pl, struct pkt *const pkts[], unsigned n,
			  const uint64_t now_us[], struct verdict v[])
{
	for (unsigned i = 0; i < n; i += PIPELINE_BATCH)
		judge_batch(pl, pkts + i, n - i < PIPELINE_BATCH ? n - i : PIPELINE_BATCH,
			    now_us + i, v + i);
}

void pipeline_sanity(struct pipeline *pl, enum ll_reason why, struct verdict *v)
{
	verdict_clear(v);
	v->accept = pl->cfg->sanity_accept;
	v->by = BY_SANITY;
	v->reason = (uint8_t)why;
	count(pl, v);
}

void pipeline_not_ip(struct pipeline *pl, struct verdict *v)
{
	verdict_clear(v);
	v->accept = true;
	v->by = BY_DEFAULT;
	v->reason = R_NOT_IP;
	count(pl, v);
}
