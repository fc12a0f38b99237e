/* ips_scan.c - per-packet IPS: vectorscan prefilter, exact confirmation, flow state, actions. */
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "ips_rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Rules whose literal was seen in a stream and may still complete, per direction. */
#define PEND_MAX 64
/*
 * Segments a pending rule is re-checked after its literal was last seen.
 * Each check reads the stream from its start (offsets count from there), so
 * this bounds the cost per literal sighting; a match that needs more later
 * segments than this is missed unless the literal shows up again.
 */
#define PEND_SEGMENTS 16

struct pend {
	uint32_t rule;
	uint32_t ttl;
};

enum {
	SEEN_CAND = 1,
	SEEN_MATCHED = 2,
	SEEN_LIT = 4,     /* its literal was seen by the packet prefilter */
	SEEN_NOMATCH = 8, /* the payload cannot match it (a literal missing, or inspected) */
};

/* The three-way handshake as the IPS saw it (flow.c also adopts mid-stream flows). */
enum { HS_SYN = 1, HS_SYNACK = 2, HS_DONE = 4 };

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
	uint64_t bytes[2]; /* payload bytes per direction, for stream_size */
	bool iponly_done[2]; /* ip-only rules already ran for this direction */
	uint8_t hs;          /* TCP handshake seen: HS_* */
	struct pend pend[2][PEND_MAX];
	uint32_t npend[2];
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

	if (w && rs && worker_init(w, rs)) {
		ips_worker_free(w);
		return NULL;
	}
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
	fs->npend[0] = fs->npend[1] = 0;
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
 * database (on the first rule that asks, per packet) answers for all.
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

static bool proto_ok(const struct ips_rule *r, uint8_t proto, uint8_t family)
{
	if (r->family && family && r->family != family)
		return false;
	switch (r->proto) {
	case IPSP_IP: return true;
	case IPSP_UDP: return proto == IPPROTO_UDP_;
	case IPSP_ICMP: return proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
	default: return proto == IPPROTO_TCP_;
	}
}

static bool ends_ok(const struct ips_rule *r, ll_ip s, uint16_t sp, ll_ip d, uint16_t dp, bool ports)
{
	if (!ips_addr_has(&r->src, s) || !ips_addr_has(&r->dst, d))
		return false;
	if (r->sp.any && r->dp.any)
		return true;
	return ports && ips_ports_has(&r->sp, sp) && ips_ports_has(&r->dp, dp);
}

static bool addrs_ok(const struct ips_rule *r, const struct pkt *p)
{
	bool ports = p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_;

	return ends_ok(r, p->src, p->sport, p->dst, p->dport, ports) ||
	       (r->bidir && ends_ok(r, p->dst, p->dport, p->src, p->sport, ports));
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
	if (s->p->proto == IPPROTO_TCP_)
		return s->fs && (s->fs->hs & HS_DONE);
	return s->dir == 1 || s->f->pkts[1] > 0;
}

static void track_handshake(struct fstate *fs, const struct pkt *p, int dir)
{
	uint8_t fl = p->tcp_flags & (TCPF_SYN | TCPF_ACK | TCPF_RST);

	if (fl == TCPF_SYN && dir == 0)
		fs->hs |= HS_SYN;
	else if (fl == (TCPF_SYN | TCPF_ACK) && dir == 1 && (fs->hs & HS_SYN))
		fs->hs |= HS_SYNACK;
	else if (fl == TCPF_ACK && dir == 0 && (fs->hs & HS_SYNACK))
		fs->hs |= HS_DONE;
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

static bool tcp_flags_ok(const struct ips_rule *r, const struct pkt *p)
{
	uint8_t f = p->tcp_flags & (uint8_t)~r->flags_mask, want = r->flags_want;

	if (p->proto != IPPROTO_TCP_)
		return false;
	if (!want && p->tcp_flags) /* flags:0 against a packet with flags, as Suricata */
		return r->flags_mode == IFM_NOT;
	switch (r->flags_mode) {
	case IFM_PLUS: return (f & want) == want;
	case IFM_ANY: return (f & want) != 0;
	case IFM_NOT: return (f & want) != want;
	default: return f == want;
	}
}

static bool ssize_ok(const struct scan *s, const struct ips_rule *r)
{
	uint64_t srv = s->fs ? s->fs->bytes[1] : 0, cli = s->fs ? s->fs->bytes[0] : 0;
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

/* icmp_id / icmp_seq: only messages that carry them (Suricata: echo, timestamp, info, mask). */
static bool icmp_echo_ok(const struct ips_rule *r, const struct pkt *p)
{
	static const uint8_t v4[] = { 0, 8, 13, 14, 15, 16, 17, 18 };
	bool has = p->proto == IPPROTO_ICMPV6_ && (p->icmp_type == 128 || p->icmp_type == 129);

	for (size_t i = 0; p->proto == IPPROTO_ICMP_ && i < sizeof(v4); i++)
		has |= p->icmp_type == v4[i];
	if (!has || !p->l4 || p->l4len < 8)
		return false;
	uint16_t id = (uint16_t)(p->l4[4] << 8 | p->l4[5]), seq = (uint16_t)(p->l4[6] << 8 | p->l4[7]);
	return (!(r->hdr & IH_ICMP_ID) || ips_uint_match(&r->icmp_id, id)) &&
	       (!(r->hdr & IH_ICMP_SEQ) || ips_uint_match(&r->icmp_seq, seq));
}

/* dsize, ttl, itype, icode, icmp_id, icmp_seq, flags, stream_size. */
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
	if ((r->hdr & (IH_ICMP_ID | IH_ICMP_SEQ)) && !icmp_echo_ok(r, p))
		return false;
	if ((r->hdr & IH_FLAGS) && !tcp_flags_ok(r, p))
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
	return proto_ok(r, s->p->proto, s->p->family) && addrs_ok(r, s->p) && flow_ok(s, r) &&
	       hdr_ok(s, r) && flowbits_ok(s, r);
}

/* A rule matched: flowbits, threshold, then the action and the alert. */
static void on_match(struct scan *s, uint32_t ri)
{
	const struct ips_rule *r = &s->rs->rules[ri];
	struct ips_result *res = s->res;
	int th;

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

static void scan_packet(struct scan *s, const struct ips_group *g)
{
	struct ips_worker *w = s->w;
	const struct pkt *p = s->p;
	bool scanned = false;
	uint32_t n = 0;

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
	for (uint32_t i = 0; i < n && !s->stop; i++) {
		uint32_t ri = (uint32_t)w->live[i];
		const struct ips_rule *r = &s->rs->rules[ri];
		if (stream_only(r) || (r->iponly && s->iponly_done) || !rule_head_ok(s, r))
			continue;
		if (r->nitems && (!p->paylen || !ips_inspect(r, p->payload, p->paylen, w->md))) {
			w->seen[ri] |= SEEN_NOMATCH;
			continue;
		}
		on_match(s, ri);
	}
}

/*
 * A rule whose only payload test is one positive content can match anew
 * only where its literal shows up again, which the prefilter reports: it is
 * checked on the segment that showed the literal, and not kept pending.
 */
static uint32_t pend_ttl(const struct ips_ruleset *rs, uint32_t ri)
{
	return (rs->rflags[ri] & IRF_ONE) ? 1 : PEND_SEGMENTS;
}

/* Index (@on) or unindex the pending list of @dir in w->pend_at, for pend_add(). */
static void pend_index(struct ips_worker *w, struct fstate *fs, int dir, bool on)
{
	for (uint32_t i = 0; i < fs->npend[dir]; i++)
		w->pend_at[fs->pend[dir][i].rule] = on ? (uint8_t)(i + 1) : 0;
}

/* Make @ri pending (again: a fresh ttl, same place); the list is indexed. */
static void pend_add(struct ips_worker *w, struct fstate *fs, const struct ips_ruleset *rs, int dir,
		     uint32_t ri)
{
	uint32_t i = w->pend_at[ri] ? w->pend_at[ri] - 1u : fs->npend[dir];

	if (i == PEND_MAX)
		return;
	fs->pend[dir][i] = (struct pend){ ri, pend_ttl(rs, ri) };
	if (i == fs->npend[dir])
		w->pend_at[ri] = (uint8_t)++fs->npend[dir];
}

/* Age the pending rules by one segment, dropping the expired ones. */
static void pend_age(struct fstate *fs, int dir)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < fs->npend[dir]; i++)
		if (--fs->pend[dir][i].ttl)
			fs->pend[dir][o++] = fs->pend[dir][i];
	fs->npend[dir] = o;
}

/*
 * Stream stage: literals seen in the new bytes (plus an overlap for patterns
 * cut by a segment boundary) make their rules pending; a pending rule alerts
 * when it matches the stream so far but did not match it before this segment.
 */
static void scan_stream(struct scan *s, const struct ips_group *g)
{
	struct fstate *fs = s->fs;
	struct ips_worker *w = s->w;
	const uint8_t *d;
	uint32_t len, new_off, from;
	bool is_pkt;

	if (!fs->st[s->dir] && !(fs->st[s->dir] = ips_stream_new()))
		return;
	ips_stream_add(fs->st[s->dir], s->rs, s->p, &d, &len, &new_off, &is_pkt);
	if (new_off >= len)
		return;
	from = new_off > s->rs->max_pat ? new_off - s->rs->max_pat : 0;
	uint32_t npkt = w->ncand;
	pend_index(w, fs, s->dir, true);
	bool same = false; /* the stream is this payload alone: the packet pass judged it */
	if (is_pkt || (len - new_off == s->p->paylen &&
		       !memcmp(d + new_off, s->p->payload, s->p->paylen))) {
		same = new_off == 0;
		/* in order: the packet pass saw the literals inside the new bytes;
		 * scan only the seam, for literals that start in the old bytes */
		for (uint32_t i = 0; i < npkt; i++)
			if ((w->seen[w->cand[i]] & (SEEN_LIT | SEEN_MATCHED)) == SEEN_LIT &&
			    (s->rs->rflags[w->cand[i]] & IRF_STREAM))
				pend_add(w, fs, s->rs, s->dir, w->cand[i]);
		uint32_t end = len - new_off > s->rs->max_pat ? new_off + s->rs->max_pat - 1 : len;
		if (new_off) /* else no old bytes: the packet pass saw every literal */
			prefilter(w, g, d + from, end - from);
	} else {
		for (uint32_t i = 0; i < w->ncand; i++)
			w->seen[w->cand[i]] &= SEEN_MATCHED; /* candidates of the packet pass are done */
		prefilter(w, g, d + from, len - from);
	}
	for (uint32_t i = npkt; i < w->ncand; i++)
		if (s->rs->rflags[w->cand[i]] & IRF_STREAM)
			pend_add(w, fs, s->rs, s->dir, w->cand[i]);
	pend_index(w, fs, s->dir, false);
	/* in rank order like the packet pass, so that a pass rule wins here too;
	 * what this packet already settled is left out before sorting */
	uint64_t order[PEND_MAX];
	uint32_t n = 0;
	for (uint32_t i = 0; i < fs->npend[s->dir]; i++) {
		uint32_t ri = fs->pend[s->dir][i].rule;
		if (w->seen[ri] != SEEN_MATCHED && !(same && (w->seen[ri] & SEEN_NOMATCH)))
			order[n++] = (uint64_t)s->rs->rules[ri].rank << 32 | ri;
	}
	sort_u64(order, n);
	for (uint32_t i = 0; i < n && !s->stop; i++) {
		uint32_t ri = (uint32_t)order[i];
		const struct ips_rule *r = &s->rs->rules[ri];
		/* a one-literal rule is pending only when its literal was just seen */
		if (!rule_head_ok(s, r) ||
		    (pend_ttl(s->rs, ri) > 1 && !ips_may_match_new(r, d, len, new_off)))
			continue;
		if (ips_inspect(r, d, len, w->md) && !ips_inspect(r, d, new_off, w->md))
			on_match(s, ri);
	}
	pend_age(fs, s->dir);
}

void ips_scan(struct ips_worker *w, const struct ips_ruleset *rs, struct flow *f,
	      const struct pkt *p, int to_server, uint64_t now_us, struct ips_result *res)
{
	struct scan s = { .w = w, .rs = rs, .f = f, .p = p, .dir = to_server ? 0 : 1,
			  .now_us = now_us, .res = res };
	const struct ips_group *g;

	memset(res, 0, sizeof(*res));
	if (!rs || !w || !rs->nrules)
		return;
	if ((w->rs != rs || w->rs_id != rs->id) && worker_init(w, rs))
		return;
	s.fs = flow_state(f, rs);
	if (s.fs) {
		s.fs->bytes[s.dir] += p->paylen;
		s.iponly_done = s.fs->iponly_done[s.dir];
		s.fs->iponly_done[s.dir] = true;
		if (p->proto == IPPROTO_TCP_)
			track_handshake(s.fs, p, s.dir);
	}
	g = ips_group_of(rs, p, s.dir);
	scan_packet(&s, g);
	if (p->proto == IPPROTO_TCP_ && s.fs && !s.stop && rs->stream_rules)
		scan_stream(&s, g);
	for (uint32_t i = 0; i < w->ncand; i++)
		w->seen[w->cand[i]] = 0;
	w->ncand = 0;
}

bool ips_may_match(const struct ips_ruleset *rs, const struct fw_key *k)
{
	bool ports = k->proto == IPPROTO_TCP_ || k->proto == IPPROTO_UDP_;

	for (uint32_t i = 0; rs && i < rs->nrules; i++) {
		const struct ips_rule *r = &rs->rules[i];
		if (proto_ok(r, k->proto, k->family) &&
		    (ends_ok(r, k->src, k->sport, k->dst, k->dport, ports) ||
		     ends_ok(r, k->dst, k->dport, k->src, k->sport, ports)))
			return true;
	}
	return false;
}
