/* ips_scan.c - per-packet IPS: vectorscan prefilter, exact confirmation, flow state, actions. */
/* Beside it: ips_head.c header tests, ips_stream.c reassembly, ips_pending.c pending rules. */
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "ips_rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum {
	SEEN_CAND = 1,
	SEEN_MATCHED = 2,
	SEEN_LIT = 4,     /* its literal was seen by the packet prefilter */
	SEEN_NOMATCH = 8, /* the payload cannot match it (a literal missing, or inspected) */
};

/*
 * A pending rule that can match anywhere in the stream (IRF_FLOAT) is
 * re-checked on the stream's last PEND_WINDOW bytes (plus the ruleset's
 * longest content, so that one always fits), not all of it: each
 * check read the whole stream (up to stream-depth) twice, and one rule,
 * content:"aaaa"; pcre:"/a{1,65535}b/", over 560 KB of 'a' took 95 s (PCRE2
 * stops looking ahead for the required 'b' in long subjects); and a rule
 * stays pending for 4 KiB of one-byte segments (ips_pending.c). A match that
 * starts further back than this is missed, as Suricata's raw stream
 * inspection misses what lies before its window. Rules placed from the
 * stream's start (offset, depth, anchors) still read it all, unless memory
 * pressure made the stream slide (ips_stream.c): then they read it no more.
 * (PEND_WINDOW: ips_rules.h.)
 */
struct ips_worker {
	const struct ips_ruleset *rs;
	uint64_t rs_id; /* as for flows: the pointer alone may be reused by a later ruleset */
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	uint32_t *cand, ncand;
	uint64_t *live; /* rank << 32 | rule: the packet pass's candidates left to inspect */
	uint8_t *seen; /* per rule, SEEN_* for the packet being scanned */
	uint8_t *pend_at; /* per rule, 1 + its place in the flow's pending list while it is indexed */
	uint64_t *lits; /* bit per literal id of the group's lit_db: occurs in the packet */
	uint32_t nlits_words;
};

/* Per-flow state, in flow->ips. */
struct fstate {
	uint64_t rs_id; /* the ruleset the flowbit and rule ids refer to (a pointer may be reused) */
	uint8_t *bits;
	struct ips_stream *st[2];
	struct ips_tcp tcp;  /* each side as the other's receiver knows it (ips_tcp.c) */
	uint32_t isn[2];     /* the first TCP sequence number seen each way, for stream_size */
	uint8_t isn_seen;    /* bit per direction */
	bool iponly_done[2]; /* ip-only rules already ran for this direction */
	struct ips_pending pend[2]; /* ips_pending.c */
};

/* The flow direction's stream after this segment (ips_stream_add()). */
struct sview {
	const uint8_t *d;
	uint32_t len, new_off;
	uint32_t base; /* d[0] is this byte of the stream (ips_stream_base()) */
	bool in_order; /* the new bytes are exactly the packet's payload */
};

/* Everything one scan needs. */
struct scan {
	struct ips_worker *w;
	const struct ips_ruleset *rs;
	const struct flow *f;
	struct fstate *fs;
	const struct pkt *p;
	int dir; /* 0 to_server, 1 to_client */
	uint64_t now_us;
	struct ips_result *res;
	bool stop; /* a pass rule matched */
	bool iponly_done; /* not the flow's first packet this way: skip ip-only rules */
	struct sview sv;  /* len 0: no stream stage for this packet */
};

static void worker_clear(struct ips_worker *w)
{
	hs_free_scratch(w->scratch);
	pcre2_match_data_free(w->md);
	free(w->cand);
	free(w->live);
	free(w->seen);
	free(w->pend_at);
	free(w->lits);
	memset(w, 0, sizeof(*w));
}

/* Size the scratch for every database of @rs; 0, or -1 with @w left empty. */
static int worker_init(struct ips_worker *w, const struct ips_ruleset *rs)
{
	worker_clear(w);
	w->md = pcre2_match_data_create(32, NULL);
	w->cand = calloc(2 * rs->nrules + 1, sizeof(*w->cand)); /* packet pass + stream pass */
	w->live = calloc(2 * rs->nrules + 1, sizeof(*w->live));
	w->seen = calloc(rs->nrules + 1, 1);
	w->pend_at = calloc(rs->nrules + 1, 1);
	if (!w->md || !w->cand || !w->live || !w->seen || !w->pend_at)
		goto fail;
	for (int g = 0; g < IPG__N; g++)
		for (int d = 0; d < 2; d++)
			for (uint32_t k = 0; k < rs->g[g][d].nsub; k++) {
				const struct ips_group *sg = &rs->g[g][d].sub[k];
				if ((sg->db && hs_alloc_scratch(sg->db, &w->scratch) != HS_SUCCESS) ||
				    (sg->lit_db && hs_alloc_scratch(sg->lit_db, &w->scratch) != HS_SUCCESS))
					goto fail;
				if (sg->nlit / 64 + 1 > w->nlits_words)
					w->nlits_words = sg->nlit / 64 + 1;
			}
	if (!(w->lits = calloc(w->nlits_words + 1, sizeof(*w->lits))))
		goto fail;
	w->rs = rs;
	w->rs_id = rs->id;
	return 0;
fail:
	worker_clear(w);
	return -1;
}

struct ips_worker *ips_worker_new(const struct ips_ruleset *rs)
{
	struct ips_worker *w = calloc(1, sizeof(*w));

	if (w && rs)
		worker_init(w, rs); /* or left empty: ips_scan() tries again */
	return w;
}

void ips_worker_free(struct ips_worker *w)
{
	if (!w)
		return;
	worker_clear(w);
	free(w);
}

void ips_flow_free(void *state)
{
	struct fstate *fs = state;

	if (!fs)
		return;
	ips_stream_free(fs->st[0]);
	ips_stream_free(fs->st[1]);
	free(fs->bits);
	free(fs);
}

/* The flow's state for @rs; a new ruleset starts the flowbits afresh. */
static struct fstate *flow_state(struct flow *f, const struct ips_ruleset *rs)
{
	struct fstate *fs;

	if (!f)
		return NULL;
	fs = f->ips;
	if (fs && fs->rs_id == rs->id)
		return fs;
	if (!fs && !(fs = calloc(1, sizeof(*fs))))
		return NULL;
	f->ips = fs;
	free(fs->bits);
	if (!(fs->bits = calloc(rs->nfb / 8 + 1, 1)))
		return NULL; /* tried again on the next packet */
	fs->rs_id = rs->id;
	fs->pend[0].n = fs->pend[1].n = 0;
	fs->iponly_done[0] = fs->iponly_done[1] = false;
	return fs;
}

static void add_cand(struct ips_worker *w, uint32_t ri, uint8_t how)
{
	if (w->seen[ri])
		return;
	w->seen[ri] = how;
	w->cand[w->ncand++] = ri;
}

struct hit_ctx {
	struct ips_worker *w;
	const struct ips_group *g;
};

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	struct hit_ctx *h = ctx;

	(void)from, (void)to, (void)flags;
	if (id >= h->g->npat) { /* a folded literal (h->g->lit_fold) */
		id -= h->g->npat;
		h->w->lits[id / 64] |= 1ull << (id % 64);
		return 0;
	}
	for (uint32_t k = h->g->pat_off[id]; k < h->g->pat_off[id + 1]; k++)
		add_cand(h->w, h->g->pat_rule[k], SEEN_CAND | SEEN_LIT);
	return 0;
}

/* Prefilter: rules whose fast pattern occurs in @buf. */
static void prefilter(struct ips_worker *w, const struct ips_group *g, const uint8_t *buf,
		      uint32_t len)
{
	struct hit_ctx h = { w, g };

	if (g->db && len)
		hs_scan(g->db, (const char *)buf, len, 0, w->scratch, on_hit, &h);
}

static int on_lit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	uint64_t *lits = ctx;

	(void)from, (void)to, (void)flags;
	lits[id / 64] |= 1ull << (id % 64);
	return 0;
}

/*
 * Can the rule at @ri be in @buf at all? Every positive content of a rule
 * with two or more must occur in it: one scan of the group's literal
 * database (on the first rule that asks, per packet; for a folded group the
 * prefilter's scan, *@scanned already true) answers for all.
 */
static bool lits_present(struct ips_worker *w, const struct ips_group *g, uint32_t ri,
			 const uint8_t *buf, uint32_t len, bool *scanned)
{
	uint32_t a = g->lit_off ? g->lit_off[ri] : 0, b = g->lit_off ? g->lit_off[ri + 1] : 0;

	if (a == b)
		return true;
	if (!len)
		return false;
	if (!*scanned) {
		memset(w->lits, 0, (g->nlit / 64 + 1) * sizeof(*w->lits));
		hs_scan(g->lit_db, (const char *)buf, len, 0, w->scratch, on_lit, w->lits);
		*scanned = true;
	}
	for (uint32_t k = a; k < b; k++)
		if (!(w->lits[g->lit_ids[k] / 64] & (1ull << (g->lit_ids[k] % 64))))
			return false;
	return true;
}

/*
 * Suricata's flow:established: TCP after a complete three-way handshake
 * (its default, midstream off), so a flow picked up mid-stream is not
 * established; UDP and others once the responder has answered.
 */
static bool established(const struct scan *s)
{
	if (!s->f)
		return false;
	/*
	 * TCP: the three-way handshake, as the flow table followed it (before
	 * this packet, flow_update() ran). It follows every flow, also the
	 * ones opened before the first policy with IPS rules; one picked up
	 * mid-stream never counts (Suricata's midstream: false).
	 */
	if (s->p->proto == IPPROTO_TCP_)
		return s->f->tcp_bits & FLOW_HANDSHAKE;
	return s->dir == 1 || s->f->pkts[1] > 0;
}

static bool flow_ok(const struct scan *s, const struct ips_rule *r)
{
	if ((r->flow & IF_TO_SERVER) && s->dir != 0)
		return false;
	if ((r->flow & IF_TO_CLIENT) && s->dir != 1)
		return false;
	if ((r->flow & IF_ESTABLISHED) && !established(s))
		return false;
	return !((r->flow & IF_NOT_EST) && established(s));
}

/* The first sequence number @dir sent, where the flow keeps a record of them (a RST first: none). */
static void note_isn(struct fstate *fs, const struct flow *f, const struct pkt *p, int dir)
{
	struct pkt_tcp_opts o;

	if (p->proto != IPPROTO_TCP_)
		return;
	/*
	 * The host's own SYN-ACK names the SYN its listener took (flow.c,
	 * tcp_advance()): the opener's first number is its ACK less one. So
	 * where that SYN was signed and skipped below, but the host holds the
	 * key (BGP): counted from the next segment instead, stream_size was
	 * one less than Suricata's (rvw26b).
	 */
	if (dir == 1 && p->dir == PKT_DIR_OUT && !(fs->isn_seen & 1) &&
	    (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) &&
	    (f->tcp_bits & FLOW_END_KNOWN(0))) {
		fs->isn[0] = p->tcp_ack - 1;
		fs->isn_seen |= 1;
	}
	if (!(f->tcp_bits & FLOW_END_KNOWN(dir)) || (fs->isn_seen & 1u << dir))
		return;
	/*
	 * Not a remote SYN signed with TCP MD5 or TCP-AO: a listener without
	 * the key drops it (tcp_inbound_hash()), and one 1,000,000 behind the
	 * real SYN made stream_size count a million bytes the client never
	 * sent (stream_size:client,<,10000 never matched: rev26). The host's
	 * own signed SYN it sent with the key.
	 */
	if ((p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && p->dir != PKT_DIR_OUT) {
		pkt_tcp_opts(p, &o);
		if (pkt_tcp_signed(&o))
			return;
	}
	fs->isn[dir] = p->tcp_seq;
	fs->isn_seen |= (uint8_t)(1u << dir);
}

/*
 * stream_size as Suricata counts it: the sequence space side @dir has used
 * since its first segment (the SYN counts one), from the flow's record of
 * its next sequence number - a retransmission adds nothing; counting the
 * payload, it added its bytes again and stream_size:client,<,10000 stopped
 * matching.
 */
static uint64_t stream_bytes(const struct scan *s, int dir)
{
	if (!s->fs || !(s->fs->isn_seen & 1u << dir) || !(s->f->tcp_bits & FLOW_END_KNOWN(dir)))
		return 0;
	return s->f->tcp_end[dir] - s->fs->isn[dir];
}

static bool ssize_ok(const struct scan *s, const struct ips_rule *r)
{
	uint64_t srv = stream_bytes(s, 1), cli = stream_bytes(s, 0);
	bool a = ips_uint_match(&r->ssize, srv), b = ips_uint_match(&r->ssize, cli);

	if (s->p->proto != IPPROTO_TCP_)
		return false;
	switch (r->ss_which) {
	case ISS_SERVER: return a;
	case ISS_CLIENT: return b;
	case ISS_BOTH: return a && b;
	default: return a || b;
	}
}

/* dsize, ttl, itype, icode, icmp_id, icmp_seq, flags, ipopts, tcp.mss, stream_size. */
static bool hdr_ok(const struct scan *s, const struct ips_rule *r)
{
	const struct pkt *p = s->p;
	bool icmp = p->proto == IPPROTO_ICMP_ || p->proto == IPPROTO_ICMPV6_;

	if (!r->hdr)
		return true;
	if ((r->hdr & IH_DSIZE) && !ips_uint_match(&r->dsize, p->paylen))
		return false;
	if ((r->hdr & IH_TTL) && !ips_uint_match(&r->ttl, p->ttl))
		return false;
	if ((r->hdr & IH_ITYPE) && (!icmp || !ips_uint_match(&r->itype, p->icmp_type)))
		return false;
	if ((r->hdr & IH_ICODE) && (!icmp || !ips_uint_match(&r->icode, p->icmp_code)))
		return false;
	if ((r->hdr & (IH_ICMP_ID | IH_ICMP_SEQ)) && !ips_head_icmp_ok(r, p))
		return false;
	if ((r->hdr & IH_FLAGS) && !ips_head_flags_ok(r, p))
		return false;
	if ((r->hdr & IH_IPOPTS) && !ips_head_ipopt_ok(r, p))
		return false;
	if ((r->hdr & IH_TCPMSS) && !ips_head_mss_ok(r, p))
		return false;
	return !(r->hdr & IH_SSIZE) || ssize_ok(s, r);
}

static bool bit(const struct fstate *fs, uint16_t id)
{
	return fs->bits[id / 8] & (1u << (id % 8));
}

/* isset / isnotset conditions. */
static bool flowbits_ok(const struct scan *s, const struct ips_rule *r)
{
	for (uint32_t i = 0; i < r->nfb; i++) {
		const struct ips_flowbit *fb = &r->fb[i];
		uint32_t set = 0;
		if (fb->cmd != IFB_ISSET && fb->cmd != IFB_ISNOTSET)
			continue;
		for (uint32_t k = 0; s->fs && k < fb->n; k++)
			set += bit(s->fs, fb->ids[k]);
		bool want = fb->cmd == IFB_ISSET;
		uint32_t hits = want ? set : fb->n - set;
		if (fb->and_ ? hits != fb->n : hits == 0)
			return false;
	}
	return true;
}

static void flowbits_apply(const struct scan *s, const struct ips_rule *r)
{
	for (uint32_t i = 0; s->fs && i < r->nfb; i++)
		for (uint32_t k = 0; k < r->fb[i].n; k++) {
			uint16_t id = r->fb[i].ids[k];
			uint8_t m = (uint8_t)(1u << (id % 8));
			if (r->fb[i].cmd == IFB_SET)
				s->fs->bits[id / 8] |= m;
			else if (r->fb[i].cmd == IFB_UNSET)
				s->fs->bits[id / 8] &= (uint8_t)~m;
			else if (r->fb[i].cmd == IFB_TOGGLE)
				s->fs->bits[id / 8] ^= m;
		}
}

/* Everything but the payload. */
static bool rule_head_ok(const struct scan *s, const struct ips_rule *r)
{
	return ips_head_proto_ok(r, s->p->proto, s->p->family) && ips_head_addrs_ok(r, s->p) &&
	       flow_ok(s, r) && hdr_ok(s, r) && flowbits_ok(s, r);
}

/* A rule matched: flowbits, threshold, then the action and the alert. */
static void on_match(struct scan *s, uint32_t ri)
{
	const struct ips_rule *r = &s->rs->rules[ri];
	struct ips_result *res = s->res;
	int th;

	/*
	 * A pending rule, or one without a literal, may match on a packet
	 * that did not make it a candidate: listed with them, its mark is
	 * cleared after the packet too. Left, it hid the rule on every later
	 * packet this worker judged, any flow's (add_cand() refused it, and
	 * the stream stage took it as settled), until the next ruleset (rvw26).
	 */
	if (!s->w->seen[ri])
		s->w->cand[s->w->ncand++] = ri;
	s->w->seen[ri] = SEEN_MATCHED;
	flowbits_apply(s, r);
	th = ips_thresh_hit(s->rs, ri, s->p->src, s->p->dst, s->now_us);
	if (th == IPS_TH_NONE)
		return;
	if (r->action == IRA_PASS) {
		res->action = IPS_ACT_PASS;
		s->stop = true;
		return;
	}
	if (r->action != IRA_ALERT && res->action == IPS_ACT_NONE) {
		res->action = r->action == IRA_DROP ? IPS_ACT_DROP : IPS_ACT_REJECT;
		res->sid = r->sid;
	} else if (r->action == IRA_REJECT && res->action == IPS_ACT_DROP) {
		/* a drop and a reject: Suricata does both (its action flags add up), so it answers */
		res->action = IPS_ACT_REJECT;
		res->sid = r->sid;
	}
	if (th == IPS_TH_ALERT && !r->noalert && res->nalerts < IPS_MAX_ALERTS)
		res->alerts[res->nalerts++] = r->sid;
}

static bool stream_only(const struct ips_rule *r)
{
	return r->proto == IPSP_TCP_STREAM || (r->flow & IF_ONLY_STREAM);
}

/* rank << 32 | rule keys, ascending: insertion sort, the lists are short (tens). */
static void sort_u64(uint64_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		uint32_t j = i;
		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/*
 * The ACK: present (but on a SYN), not of bytes never sent. One too old
 * (before the receiver's first byte, or further back than its window) is
 * ips_tcp_take()'s: a test against the first byte alone took every ACK
 * for "before" once 2 GiB had been acknowledged.
 */
static bool ack_ok(const struct scan *s)
{
	const struct pkt *p = s->p;
	int other = !s->dir;

	if (!(p->tcp_flags & TCPF_ACK))
		return false;
	/*
	 * No SYN-ACK yet: there is nothing to acknowledge (in a simultaneous
	 * open, none that acknowledged a SYN: flow_update() moved the state
	 * on for one that did). Linux answers such
	 * an ACK with a RST (a Fast Open child in SYN_RECV drops it), and one
	 * taken here, blind, made every real segment after it "too old".
	 */
	if (s->f->tcp_state == FT_SYN_SENT || s->f->tcp_state == FT_SYN_SENT2)
		return false;
	/* an offloaded flow is back: the kernel passed what the record has not seen */
	return s->f->offloaded || !(s->f->tcp_bits & FLOW_END_KNOWN(other)) ||
	       (int32_t)(p->tcp_ack - s->f->tcp_end[other]) <= 0;
}

/*
 * Does the receiver keep @s's segment? Linux drops one without ACK (but a
 * SYN or a RST), one that acknowledges bytes the other side never sent (RFC
 * 9293 3.10.7.4), a SYN once the handshake is through, and one whose
 * checksum is wrong; ips_tcp_take() adds the window, PAWS and ACKs too old
 * (before the receiver's first byte, or further back than its window). An attacker sends
 * such a segment first, with bytes the host never sees, then the real ones
 * at the same sequence numbers, and a stream that kept the first copy saw
 * neither. (The checksum: live only, where NFQUEUE says whether the kernel
 * has it to check; captures from the sending host hold unfilled ones.) A
 * segment taken updates what the receiver is known to hold (fs->tcp).
 */
static bool receiver_takes(const struct scan *s, bool *sig)
{
	const struct pkt *p = s->p;
	struct ips_stream *rcv = s->fs->st[!s->dir];
	uint32_t start;
	const uint32_t *sp = rcv && ips_stream_start(rcv, &start) ? &start : NULL;

	if (pkt_tcp_discarded(p))
		return false;
	if (s->f->offloaded)
		ips_tcp_forget(&s->fs->tcp);
	/*
	 * One the receiver drops for its timestamps (the flow's record left it
	 * out too); the host's RST as the opener in SYN_SENT, which answers a
	 * SYN-ACK it rejected and ends nothing: it waits for the next one
	 * (flow.c, rst_plausible()).
	 */
	if (flow_tcp_opening(s->f) &&
	    (ips_tcp_opening_drops(&s->fs->tcp, s->f->tcp_state, p, s->dir, s->now_us) ||
	     (s->f->tcp_state == FT_SYN_SENT && s->dir == 0 && p->dir == PKT_DIR_OUT &&
	      (p->tcp_flags & TCPF_RST))))
		return false;
	/*
	 * A SYN once the handshake is through (the flow table says so: it has
	 * taken this packet already) is answered with a challenge ACK and
	 * dropped (RFC 5961 4); taken, a SYN|ACK's made-up ACK made every
	 * real segment after it "too old", and its start moved the other
	 * side's stream. A RST's ACK is not looked at (tcp_validate_incoming()).
	 * A SYN-ACK that left the flow in SYN_SENT, or in a simultaneous open
	 * in SYN_SENT2, acknowledged no SYN: the receiver drops it too
	 * (taken, a server's SYN-ACK of nothing set where its bytes start,
	 * and the real ones after the real SYN-ACK were "old"). A client
	 * connected by a remote server's first SYN-ACK drops its next one at
	 * another number too (a listener on the host under SYN cookies may
	 * send one for another SYN: README, not followed).
	 */
	if ((p->tcp_flags & TCPF_SYN) &&
	    (!flow_tcp_opening(s->f) ||
	     ((s->f->tcp_state == FT_SYN_SENT2 || s->f->tcp_state == FT_SYN_SENT) &&
	      (p->tcp_flags & TCPF_ACK)) ||
	     (s->dir == 1 && p->dir != PKT_DIR_OUT && (s->fs->isn_seen & 2) &&
	      p->tcp_seq != s->fs->isn[1])))
		return false;
	if (!(p->tcp_flags & (TCPF_SYN | TCPF_RST)) && !ack_ok(s))
		return false;
	return ips_tcp_take(&s->fs->tcp, p, s->dir, sp, s->now_us, sig);
}

/*
 * Feed the segment to the stream of its direction. In order, the new bytes
 * are the payload; the packet pass then scans from the seam (the last
 * max_pat - 1 bytes before them, where a literal cut by the segment
 * boundary starts) to the end: one scan for the packet and the seam.
 */
static void stream_feed(struct scan *s)
{
	struct fstate *fs = s->fs;
	struct sview *v = &s->sv;
	bool is_pkt, fin_before, sig = false, rec = receiver_takes(s, &sig);
	/* a signed segment the flow's record takes: only the receiver can check it */
	bool takes = rec && !sig;
	const uint8_t both = TCPF_SYN | TCPF_ACK;
	/* the SYN-ACK that connected a Fast Open opener, which reads its bytes (flow_update()) */
	bool tfo_reply = s->dir == 1 && (s->p->tcp_flags & both) == both &&
			 (s->f->tcp_bits & FLOW_HANDSHAKE) && flow_tcp_opening(s->f);

	if (!fs->st[s->dir] && !(fs->st[s->dir] = ips_stream_new()))
		return;
	/*
	 * A SYN-ACK says where the other side's bytes start; any other ACK,
	 * after a resync of that side's stream, where its receiver's next byte
	 * is (a RST's ACK is not looked at, tcp_validate_incoming()).
	 */
	if (takes && (s->p->tcp_flags & TCPF_ACK) && fs->st[!s->dir]) {
		if (s->p->tcp_flags & TCPF_SYN)
			ips_stream_acked(fs->st[!s->dir], s->p->tcp_ack);
		else if (!(s->p->tcp_flags & TCPF_RST))
			ips_stream_ack(fs->st[!s->dir], s->p->tcp_ack);
	}
	/*
	 * The flow's record took this segment already (flow_update()): one
	 * the receiver drops must not move it (judge() puts it back). Else a
	 * RST or FIN Linux drops (a TCP MD5 option it has no key for), or one
	 * at the end of bytes it dropped (PAWS, an ACK of bytes never sent,
	 * past the window), ended the flow while the connection went on, and
	 * the client's next bytes, 10 s on, were a new flow picked up
	 * mid-stream, never established (rev25).
	 */
	s->res->untaken = !rec;
	fin_before = ips_stream_fin_taken(fs->st[s->dir]);
	ips_stream_add(fs->st[s->dir], s->rs, s->p, takes, tfo_reply, &v->d, &v->len, &v->new_off,
		       &is_pkt);
	/*
	 * Back from offload, the remote side's stream began at whatever
	 * segment came first, a blind attacker's as well: a RST at the end of
	 * its bytes (or a FIN after them) ended the flow while the connection
	 * went on (off26). Its RST and FIN count once the host acknowledges
	 * all it holds, as after a resync; until then the flow's record judges
	 * them. (Refused for good in ips(), a real FIN the record held "ahead"
	 * of blind bytes left the flow in FIN_WAIT: rvw26d.)
	 */
	if (flow_tcp_unplaced(s->f, s->p))
		ips_stream_unsure(fs->st[s->dir]);
	/*
	 * The receiver took this side's FIN (every byte before it came): the
	 * flow's record must end as the connection does. It reads a FIN at
	 * the sender's known end only, which bytes past a hole, or past the
	 * window, moved on: the real FIN was "old", the flow never closed,
	 * and the client's next connection from the same port rode it, its
	 * segments outside the old stream, matched one by one (red24).
	 */
	v->base = ips_stream_base(fs->st[s->dir]);
	if (!fin_before && ips_stream_fin_taken(fs->st[s->dir]))
		s->res->fin = true;
	if (v->new_off >= v->len) {
		v->len = 0;
		/*
		 * A RST the receiver takes ends the connection there: both
		 * streams give their memory back now, not when the flow expires
		 * (5,000 aborted connections held the 256 MiB of reassembly, and
		 * later split signatures went unseen). Only at the exact sequence
		 * number, as Linux takes one (RFC 5961 3.2): any other is answered
		 * with a challenge ACK and the connection - and its stream - go on.
		 */
		if (takes && (s->p->tcp_flags & TCPF_RST) &&
		    ips_stream_rst_ends(fs->st[s->dir], s->p->tcp_seq, s->f->sack_syn == 3)) {
			ips_stream_end(fs->st[s->dir]);
			if (fs->st[!s->dir])
				ips_stream_end(fs->st[!s->dir]);
			s->res->reset = true;
		}
		return;
	}
	v->in_order = is_pkt || (v->len - v->new_off == s->p->paylen &&
				 !memcmp(v->d + v->new_off, s->p->payload, s->p->paylen));
}

/* Where a literal that reaches into the stream's new bytes can start. */
static uint32_t seam_start(const struct scan *s)
{
	uint32_t back = s->rs->max_pat ? s->rs->max_pat - 1 : 0;

	return s->sv.new_off > back ? s->sv.new_off - back : 0;
}

/*
 * Packet pass. With the seam in front of the payload a candidate (or a
 * folded literal's bit) may come from there alone: the exact inspection of
 * the payload then fails, and the stream stage makes it pending as before.
 */
static uint32_t packet_cands(struct scan *s, const struct ips_group *g)
{
	struct ips_worker *w = s->w;
	const struct pkt *p = s->p;
	bool scanned = g->lit_fold;
	bool seam = s->sv.len && s->sv.in_order && s->sv.new_off;
	uint32_t n = 0, from = seam ? seam_start(s) : 0;

	if (g->lit_fold)
		memset(w->lits, 0, (g->nlit / 64 + 1) * sizeof(*w->lits));
	if (seam)
		prefilter(w, g, s->sv.d + from, s->sv.len - from);
	else
		prefilter(w, g, p->payload, p->paylen);
	for (uint32_t i = 0; i < g->nalways; i++)
		add_cand(w, g->always[i], SEEN_CAND);
	/* a candidate missing one of its literals is out before its rule is read */
	for (uint32_t i = 0; i < w->ncand; i++) {
		uint32_t ri = w->cand[i];
		if (!lits_present(w, g, ri, p->payload, p->paylen, &scanned)) {
			w->seen[ri] |= SEEN_NOMATCH;
			continue;
		}
		w->live[n++] = (uint64_t)s->rs->rules[ri].rank << 32 | ri; /* in rank order */
	}
	sort_u64(w->live, n);
	return n;
}

/* Rule @ri on the packet's payload. */
static void packet_one(struct scan *s, uint32_t ri)
{
	struct ips_worker *w = s->w;
	const struct pkt *p = s->p;
	const struct ips_rule *r = &s->rs->rules[ri];

	/* a header-only tcp-stream rule is ip-only: checked here, on the packet */
	if ((stream_only(r) && !r->iponly) || (r->iponly && s->iponly_done) || !rule_head_ok(s, r))
		return;
	/* header buffers first: a few dozen bytes each, where the payload may be thousands */
	if ((r->nhl && !ips_head_buffers_ok(r, p, w->md)) ||
	    (r->nitems && (!p->paylen || !ips_inspect(r, p->payload, p->paylen, w->md)))) {
		w->seen[ri] |= SEEN_NOMATCH;
		return;
	}
	on_match(s, ri);
}

/*
 * Stream stage: literals seen in the new bytes (plus an overlap for patterns
 * cut by a segment boundary) make their rules pending; a pending rule alerts
 * when it matches the stream so far but did not match it before this segment.
 *
 * When the new bytes are this packet's payload, the packet pass's @nlive
 * rules (w->live) run here too, merged with the stream's in one rank order,
 * each rule on the packet and then on the stream: as Suricata inspects a
 * rule's packet and raw stream together before the next rule, so a flowbit
 * that a match on the stream sets or clears is seen by the packet-scoped
 * rules ranked after it on the same packet. Otherwise (bytes that fill a
 * gap, or an overlap) the packet pass has run already.
 */
static void scan_stream(struct scan *s, const struct ips_group *g, uint32_t nlive)
{
	struct fstate *fs = s->fs;
	struct ips_worker *w = s->w;
	const uint8_t *d = s->sv.d;
	uint32_t len = s->sv.len, new_off = s->sv.new_off;
	uint32_t npkt = w->ncand;
	struct ips_pending *pl = &fs->pend[s->dir];
	bool merged = s->sv.in_order;

	ips_pend_index(pl, w->pend_at, true);
	bool same = false; /* the stream is this payload alone: the packet pass judged it */
	if (merged) {
		same = new_off == 0;
	} else {
		for (uint32_t i = 0; i < w->ncand; i++)
			w->seen[w->cand[i]] &= SEEN_MATCHED; /* candidates of the packet pass are done */
		prefilter(w, g, d + seam_start(s), len - seam_start(s));
		for (uint32_t i = npkt; i < w->ncand; i++)
			if (s->rs->rflags[w->cand[i]] & IRF_STREAM)
				ips_pend_add(pl, w->pend_at, s->rs, w->cand[i], s->sv.base + len);
	}
	/* in rank order like the packet pass, so that a pass rule wins here too;
	 * what this packet settles is left out when its turn comes */
	uint64_t *order = w->live + nlive; /* 2 * nrules + 1 long: both lists fit */
	uint32_t n = 0;
	for (uint32_t i = 0; i < pl->n; i++)
		order[n++] = (uint64_t)s->rs->rules[pl->p[i].rule].rank << 32 | pl->p[i].rule;
	/* the packet pass scanned the seam and the new bytes: what it saw is pending */
	for (uint32_t i = 0; merged && i < npkt; i++) {
		uint32_t ri = w->cand[i];
		if ((w->seen[ri] & SEEN_LIT) && (s->rs->rflags[ri] & IRF_STREAM) && !w->pend_at[ri])
			order[n++] = (uint64_t)s->rs->rules[ri].rank << 32 | ri;
	}
	/*
	 * Rules without a prefilter literal (pcre, byte_test or isdataat alone,
	 * contents all NUL bytes) never become pending: Suricata runs such
	 * non-prefilter rules on every packet, against the reassembled stream
	 * too, so check them on each segment's new bytes here.
	 */
	for (uint32_t i = 0; i < g->nalways; i++)
		if (s->rs->rflags[g->always[i]] & IRF_STREAM)
			order[n++] = (uint64_t)s->rs->rules[g->always[i]].rank << 32 | g->always[i];
	sort_u64(order, n);
	/*
	 * A rule that can match anywhere reads the window before the new bytes
	 * (a content fits) and all the new bytes: a hole filled behind 16 KiB
	 * of queued bytes, or one large segment (GRO, which the queue hands
	 * over whole), brought more than the window, and a match cut where the
	 * new bytes start went unseen ("GET " | "EVIL" + 40,000 bytes: the host
	 * read "GET EVIL", red25). Not only their seam: a rule of two contents
	 * or a pcre starts further back than one content (rvw25).
	 */
	uint32_t win = PEND_WINDOW + s->rs->max_pat, tail = new_off > win ? new_off - win : 0;

	for (uint32_t i = 0, k = 0; (i < nlive || k < n) && !s->stop;) {
		/* the same rule in both lists: its packet first, as in the packet pass */
		if (i < nlive && (k == n || w->live[i] <= order[k])) {
			packet_one(s, (uint32_t)w->live[i++]);
			continue;
		}
		uint32_t ri = (uint32_t)order[k++];
		const struct ips_rule *r = &s->rs->rules[ri];
		uint32_t ws = (s->rs->rflags[ri] & IRF_FLOAT) ? tail : 0;
		uint8_t seen = w->seen[ri];

		/* placed from the stream's start, which a stream under memory pressure let go */
		if (!(s->rs->rflags[ri] & IRF_MIDSTREAM) && s->sv.base)
			continue;

		/* settled by this packet already: matched, or no match on the very bytes the stream holds */
		if (seen == SEEN_MATCHED || (same && (seen & SEEN_NOMATCH)))
			continue;
		/* a one-literal rule is pending only when its literal was just seen */
		if (!rule_head_ok(s, r) ||
		    (ips_pend_ttl(s->rs, ri) > 1 && !ips_may_match_new(r, d, len, new_off)))
			continue;
		/*
		 * It matches now and did not before, or a match reaches the new
		 * bytes: an earlier occurrence that did not fire (a flowbit not
		 * yet set, flow state, a detection_filter's first count) must not
		 * hide a new one cut by a segment boundary.
		 */
		uint32_t old = new_off > ws ? new_off - ws : 0;
		if (ips_inspect(r, d + ws, len - ws, w->md) &&
		    (!ips_inspect(r, d + ws, old, w->md) ||
		     ips_inspect_fresh(r, d + ws, len - ws, old, w->md)))
			on_match(s, ri);
	}
	for (uint32_t i = 0; merged && i < npkt; i++)
		if ((w->seen[w->cand[i]] & (SEEN_LIT | SEEN_MATCHED)) == SEEN_LIT &&
		    (s->rs->rflags[w->cand[i]] & IRF_STREAM))
			ips_pend_add(pl, w->pend_at, s->rs, w->cand[i], s->sv.base + len);
	ips_pend_index(pl, w->pend_at, false);
	ips_pend_age(pl, s->sv.base + len);
}

bool ips_opening_drops(const struct flow *f, const struct pkt *p, int to_server, uint64_t now_us)
{
	struct fstate *fs = f->ips;

	return fs && p->proto == IPPROTO_TCP_ && p->l4_ok && flow_tcp_opening(f) &&
	       ips_tcp_opening_drops(&fs->tcp, f->tcp_state, p, !to_server, now_us);
}

bool ips_decoy_ahead(const struct flow *f)
{
	const struct fstate *fs = f->ips;

	return fs && fs->tcp.decoy_ahead;
}

void ips_scan(struct ips_worker *w, const struct ips_ruleset *rs, struct flow *f,
	      const struct pkt *p, int to_server, uint64_t now_us, struct ips_result *res)
{
	struct scan s = { .w = w, .rs = rs, .f = f, .p = p, .dir = to_server ? 0 : 1,
			  .now_us = now_us, .res = res };
	const struct ips_group *g;
	bool sig = false;

	memset(res, 0, sizeof(*res));
	if (!rs || !rs->nrules)
		return;
	/* without its scratch nothing is inspected: the pipeline must not take that for "no match" */
	if (!w || ((w->rs != rs || w->rs_id != rs->id) && worker_init(w, rs))) {
		res->nomem = true;
		return;
	}
	s.fs = flow_state(f, rs);
	if (s.fs) {
		note_isn(s.fs, f, p, s.dir);
		/*
		 * An ICMP error inspected with the TCP or UDP flow it quotes is no
		 * packet of that flow (Suricata's FlowUpdateSeenFlag()): it must
		 * not use up the direction's ip-only check, or one sent ahead of
		 * the first real packet that way hid every header-only rule for it.
		 */
		if (f->key.proto && f->key.proto != p->proto) {
			s.iponly_done = true;
		} else {
			s.iponly_done = s.fs->iponly_done[s.dir];
			s.fs->iponly_done[s.dir] = true;
		}
	}
	g = ips_group_of(rs, p, s.dir);
	/*
	 * With no stream to feed (packet rules only), the receiver's reading
	 * of the segment still decides whether it moves the flow's record
	 * (judge() puts it back): else a RST with a TCP MD5 option at the
	 * receiver's next byte, or one at the end of bytes Linux dropped (an
	 * ACK of bytes never sent, a TSval PAWS refuses), closed the flow
	 * while the connection went on, and the client's bytes 20 s on were a
	 * new flow picked up mid-stream, never established: past every
	 * flow:established packet rule (rev26). The same reading as the
	 * stream's: 218 instructions a TCP packet more for such sets (callgrind).
	 */
	if (p->proto == IPPROTO_TCP_ && s.fs && rs->stream_rules)
		stream_feed(&s);
	else if (p->proto == IPPROTO_TCP_ && s.fs)
		res->untaken = !receiver_takes(&s, &sig);
	uint32_t nlive = packet_cands(&s, g);
	if (!s.sv.len || !s.sv.in_order)
		for (uint32_t i = 0; i < nlive && !s.stop; i++)
			packet_one(&s, (uint32_t)w->live[i]);
	if (s.sv.len && !s.stop)
		scan_stream(&s, g, s.sv.in_order ? nlive : 0);
	/*
	 * A stream that takes no more (its FIN, or full) gives its buffer back
	 * now that it has been read: else only at the side's next segment,
	 * which after its FIN may never come (64 closed 3 MB replies held the
	 * 256 MiB of reassembly for their TIME_WAIT).
	 */
	if (s.fs && s.fs->st[s.dir]) {
		ips_stream_settle(s.fs->st[s.dir]);
		ips_stream_trim(s.fs->st[s.dir], rs);
	}
	for (uint32_t i = 0; i < w->ncand; i++)
		w->seen[w->cand[i]] = 0;
	w->ncand = 0;
}
