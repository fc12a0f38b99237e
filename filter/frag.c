/* frag.c - IPv4/IPv6 reassembly by the rules of ip_fragment.c and nf_conntrack_reasm.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frag_int.h"
#include "pkt_int.h"

#define FRAG_BUCKETS 4096 /* power of two */
#define FRAG_QUEUE_COST 256 /* bookkeeping charged per queue and per piece */

struct frag_table {
	struct frag_limits lim;
	struct fq *hash[FRAG_BUCKETS];
	struct fq *oldest, *newest;
	uint64_t mem;
	struct fq *retired; /* the queue last reported: its buffers live until the next call */
	struct fq *pending; /* dropped inside frag_add, not yet reported */
	struct frag_out out;
	uint64_t one_cookie;
	void (*drop_cb)(void *arg, const struct frag_result *res);
	void *drop_arg;
	uint64_t seed[LL_HASH_SEED_WORDS]; /* fq_hash()'s random words */
};

/* What frag_add() learns from one fragment. */
struct frag_in {
	const uint8_t *data; /* fragmentable bytes */
	uint32_t off, end, have;
	uint8_t more;
	uint32_t hdrlen; /* unfragmentable part (IPv4 header; IPv6 up to the fragment header) */
};

/*
 * Keyed, as the flow table's (ll_hash5()): with a fixed hash, a capture
 * could put every queue in one bucket (8,000 queues of 160,000 fragments
 * took 15.3 s to replay against 1.1-2.0 s spread out).
 */
static uint32_t fq_hash(const struct frag_table *t, const struct pkt *p)
{
	uint64_t id = (uint64_t)p->frag_id << 8 | (p->family == 4 ? p->proto : 0);

	return (uint32_t)ll_hash5(t->seed, p->src.lo, p->src.hi, p->dst.lo, p->dst.hi, id) &
	       (FRAG_BUCKETS - 1);
}

/* The kernel's key: (src, dst, id, proto) for IPv4, (src, dst, id) for IPv6. */
static int fq_match(const struct fq *q, const struct pkt *p)
{
	return q->family == p->family && q->id == p->frag_id && ll_ip_eq(q->src, p->src) &&
	       ll_ip_eq(q->dst, p->dst) && (p->family == 6 || q->proto == p->proto);
}

/* Capture clocks may step back: a queue is only old when now is past its birth. */
static int fq_expired(const struct frag_table *t, const struct fq *q, uint64_t now)
{
	return now > q->born_us && now - q->born_us >= t->lim.timeout_us;
}

static void fq_destroy(struct fq *q)
{
	if (!q)
		return;
	for (uint32_t i = 0; i < q->npc; i++)
		free(q->pc[i].data);
	free(q->pc);
	free(q->ck);
	free(q->hdr);
	free(q);
}

/* Take @q out of the hash and the age list, and its memory out of the count. */
static void fq_unlink(struct frag_table *t, struct fq *q)
{
	struct fq **pp;

	for (pp = &t->hash[q->bucket]; *pp && *pp != q; pp = &(*pp)->hnext)
		;
	if (*pp == q)
		*pp = q->hnext;
	if (q->older)
		q->older->newer = q->newer;
	else
		t->oldest = q->newer;
	if (q->newer)
		q->newer->older = q->older;
	else
		t->newest = q->older;
	t->mem -= q->mem;
	q->hnext = q->older = q->newer = NULL;
}

static void result_dropped(struct frag_result *res, const struct fq *q)
{
	memset(res, 0, sizeof(*res));
	res->status = FRAG_DROPPED;
	res->why = q->why;
	res->cookies = q->ck;
	res->ncookies = q->nck;
}

/* Hand a queue dropped inside frag_add() to the callback, or keep it for frag_expire(). */
static void fq_drop_aside(struct frag_table *t, struct fq *q, enum ll_reason why)
{
	struct frag_result r;

	q->why = why;
	if (t->drop_cb) {
		result_dropped(&r, q);
		t->drop_cb(t->drop_arg, &r);
		fq_destroy(q);
		return;
	}
	q->pnext = t->pending;
	t->pending = q;
}

static int push_cookie(struct fq *q, uint64_t cookie)
{
	if (q->nck == q->capck) {
		uint32_t n = q->capck ? q->capck * 2 : 4;
		uint64_t *v = realloc(q->ck, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		q->ck = v;
		q->capck = n;
	}
	q->ck[q->nck++] = cookie;
	return 0;
}

/* frag_new() - see frag.h. */
struct frag_table *frag_new(const struct frag_limits *lim)
{
	struct frag_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lim = *lim;
	if (!t->lim.max_bytes)
		t->lim.max_bytes = 4u << 20;
	if (!t->lim.timeout_us)
		t->lim.timeout_us = 30u * 1000000u;
	ll_hash_seed(t->seed);
	return t;
}

static void retire(struct frag_table *t)
{
	fq_destroy(t->retired);
	t->retired = NULL;
}

/* frag_free() - see frag.h; NULL is fine. */
void frag_free(struct frag_table *t)
{
	struct fq *q, *n;

	if (!t)
		return;
	retire(t);
	for (q = t->oldest; q; q = n) {
		n = q->newer;
		fq_destroy(q);
	}
	for (q = t->pending; q; q = n) {
		n = q->pnext;
		fq_destroy(q);
	}
	free(t->out.buf);
	free(t);
}

/* frag_set_drop_cb() - see frag.h. */
void frag_set_drop_cb(struct frag_table *t, void (*cb)(void *arg, const struct frag_result *res),
		      void *arg)
{
	t->drop_cb = cb;
	t->drop_arg = arg;
}

static void report_pending(struct frag_table *t,
			   void (*cb)(void *arg, const struct frag_result *res), void *arg)
{
	struct frag_result r;
	struct fq *q, *n, *rev = NULL;

	for (q = t->pending; q; q = n) { /* oldest drop first */
		n = q->pnext;
		q->pnext = rev;
		rev = q;
	}
	t->pending = NULL;
	for (q = rev; q; q = n) {
		n = q->pnext;
		result_dropped(&r, q);
		if (cb)
			cb(arg, &r);
		fq_destroy(q);
	}
}

/*
 * frag_expire() - see frag.h. Queues dropped earlier inside frag_add() without
 * a drop callback come first, then timed-out queues, oldest first.
 */
void frag_expire(struct frag_table *t, uint64_t now_us, int all,
		 void (*cb)(void *arg, const struct frag_result *res), void *arg)
{
	struct frag_result r;
	struct fq *q;

	retire(t);
	report_pending(t, cb, arg);
	while ((q = t->oldest) && (all || fq_expired(t, q, now_us))) {
		fq_unlink(t, q);
		q->why = R_FRAG_TIMEOUT;
		result_dropped(&r, q);
		if (cb)
			cb(arg, &r);
		fq_destroy(q);
	}
}

static void fill_in(const struct pkt *p, struct frag_in *in)
{
	uint32_t hl = p->family == 4 ? p->l3hlen : p->frag_hdr_off + 8u;

	in->hdrlen = p->family == 4 ? p->l3hlen : p->frag_hdr_off;
	in->data = p->l3 + hl;
	in->off = p->frag_off;
	in->end = p->frag_off + (p->len > hl ? p->len - hl : 0);
	in->more = p->frag_more;
	/* ip_frag_queue() trims a non-last IPv4 fragment to a multiple of 8 */
	if (p->family == 4 && in->more)
		in->end &= ~7u;
	in->have = p->caplen > hl ? p->caplen - hl : 0;
	if (in->have > in->end - in->off)
		in->have = in->end - in->off;
}

static void single(struct frag_table *t, struct frag_result *res, enum frag_status st,
		   enum ll_reason why, uint64_t cookie)
{
	memset(res, 0, sizeof(*res));
	res->status = st;
	res->why = why;
	t->one_cookie = cookie;
	res->cookies = &t->one_cookie;
	res->ncookies = 1;
}

static struct fq *fq_find(struct frag_table *t, const struct pkt *p, uint32_t b)
{
	struct fq *q;

	for (q = t->hash[b]; q; q = q->hnext)
		if (fq_match(q, p))
			return q;
	return NULL;
}

static struct fq *fq_create(struct frag_table *t, const struct pkt *p, uint32_t b, uint64_t now)
{
	struct fq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->family = p->family;
	q->proto = p->proto;
	q->src = p->src;
	q->dst = p->dst;
	q->id = p->frag_id;
	q->born_us = now;
	q->bucket = b;
	q->mem = FRAG_QUEUE_COST;
	t->mem += q->mem;
	q->hnext = t->hash[b];
	t->hash[b] = q;
	q->older = t->newest;
	if (t->newest)
		t->newest->newer = q;
	else
		t->oldest = q;
	t->newest = q;
	return q;
}

enum { INS_OK, INS_DUP, INS_OVERLAP };

/*
 * Where [off, end) goes, as inet_frag_queue_insert() decides: past the tail
 * it extends the last run (adjacent) or starts one; otherwise it must not
 * touch any run, except lying wholly inside one (a duplicate, ignored).
 * Sets *@at to the insertion index.
 */
static int fq_place(const struct fq *q, uint32_t off, uint32_t end, uint32_t *at, uint8_t *head)
{
	const struct piece *last = q->npc ? &q->pc[q->npc - 1] : NULL;
	uint32_t i, j;

	*at = q->npc;
	*head = 1;
	if (!last)
		return INS_OK;
	if (last->end < end) {
		if (off < last->end)
			return INS_OVERLAP;
		*head = off != last->end;
		return INS_OK;
	}
	for (i = 0; i < q->npc; i = j) {
		uint32_t rs = q->pc[i].off, re;

		for (j = i + 1; j < q->npc && !q->pc[j].run_head; j++)
			;
		re = q->pc[j - 1].end;
		if (end <= rs) {
			*at = i;
			return INS_OK;
		}
		if (off < re)
			return off >= rs && end <= re ? INS_DUP : INS_OVERLAP;
	}
	return INS_OK;
}

static int fq_insert(struct frag_table *t, struct fq *q, const struct frag_in *in, uint32_t at,
		     uint8_t head)
{
	struct piece pc = { in->off, in->end, in->have, head, malloc(in->have ? in->have : 1) };

	if (!pc.data)
		return -ENOMEM;
	if (q->npc == q->cappc) {
		uint32_t n = q->cappc ? q->cappc * 2 : 4;
		struct piece *v = realloc(q->pc, n * sizeof(*v));

		if (!v) {
			free(pc.data);
			return -ENOMEM;
		}
		q->pc = v;
		q->cappc = n;
	}
	memcpy(pc.data, in->data, in->have);
	memmove(q->pc + at + 1, q->pc + at, (q->npc - at) * sizeof(pc));
	q->pc[at] = pc;
	q->npc++;
	q->meat += in->end - in->off;
	q->mem += in->end - in->off + FRAG_QUEUE_COST;
	t->mem += in->end - in->off + FRAG_QUEUE_COST;
	return 0;
}

/*
 * Keep the unfragmentable part of the offset-0 fragment: it heads the
 * datagram. It counts against the memory limit like data: IPv6 extension
 * headers before the Fragment header may be ~64 KiB of it (3,000 such
 * queues held 371 MB past a 4 MiB limit when only data counted).
 */
static int fq_set_header(struct frag_table *t, struct fq *q, const struct pkt *p,
			 const struct frag_in *in)
{
	free(q->hdr);
	q->mem -= q->hdrlen;
	t->mem -= q->hdrlen;
	q->hdrlen = 0;
	q->hdr = malloc(in->hdrlen);
	if (!q->hdr)
		return -ENOMEM;
	memcpy(q->hdr, p->l3, in->hdrlen);
	q->hdrlen = in->hdrlen;
	q->mem += q->hdrlen;
	t->mem += q->hdrlen;
	if (p->family == 6) {
		q->nh_off = frag_v6_nh_off(p->l3, in->hdrlen);
		q->nexthdr = p->l3[in->hdrlen];
	}
	q->first_in = 1;
	return 0;
}

/* End the queue: it is reported in @res and freed at the next call. */
static void fq_finish(struct frag_table *t, struct fq *q, enum ll_reason why,
		      struct frag_result *res)
{
	fq_unlink(t, q);
	q->why = why;
	result_dropped(res, q);
	t->retired = q;
}

/* Evict the oldest queues but @keep until @need more bytes fit. */
static void make_room(struct frag_table *t, struct fq *keep, uint64_t need)
{
	struct fq *q = t->oldest, *n;

	for (; q && t->mem + need > t->lim.max_bytes; q = n) {
		n = q->newer;
		if (q == keep)
			continue;
		fq_unlink(t, q);
		fq_drop_aside(t, q, R_FRAG_LIMIT);
	}
}

/*
 * The length checks of ip_frag_queue()/nf_ct_frag6_queue(). Returns 0 or
 * R_BAD_FRAG; *@kill says whether the kernel drops the whole queue or this
 * fragment alone. IPv4 kills it for every one of them (ip_frag_queue()'s
 * discard_qp): kept, the queue took a later fragment with its id, which
 * the kernel puts in a new one, and the engine judged a datagram of
 * fragments the host never put together (a decoy first fragment, then a
 * zero-length one, then the real first fragment: a duplicate here, the
 * start of a new datagram there). IPv6 (nf_ct_frag6_queue()) kills it only
 * for a non-last fragment not a multiple of 8, and drops the others alone.
 */
static enum ll_reason fq_check(struct fq *q, const struct frag_in *in, uint8_t family, int *kill)
{
	*kill = family == 4;
	if (!in->more) {
		if (in->end < q->len || (q->last_in && in->end != q->len))
			return R_BAD_FRAG;
		q->last_in = 1;
		q->len = in->end;
	} else {
		if (family == 6 && (in->end & 7)) {
			*kill = 1; /* nf_ct_frag6_queue() kills the queue */
			return R_BAD_FRAG;
		}
		if (in->end > q->len) {
			if (q->last_in)
				return R_BAD_FRAG;
			q->len = in->end;
		}
	}
	return in->end == in->off ? R_BAD_FRAG : 0;
}

static struct fq *fq_get(struct frag_table *t, const struct pkt *p, uint64_t now)
{
	uint32_t b = fq_hash(t, p);
	struct fq *q = fq_find(t, p, b);

	if (q && fq_expired(t, q, now)) {
		fq_unlink(t, q);
		fq_drop_aside(t, q, R_FRAG_TIMEOUT);
		q = NULL;
	}
	return q ? q : fq_create(t, p, b, now);
}

/* Queue @in; a completed datagram goes to @res. Returns 0, or why the whole queue dies. */
static enum ll_reason fq_add(struct frag_table *t, struct fq *q, const struct pkt *p,
			     const struct frag_in *in, uint64_t cookie, struct frag_result *res)
{
	uint64_t cost = in->end - in->off + FRAG_QUEUE_COST + (in->off ? 0 : in->hdrlen);
	uint32_t at;
	uint8_t head;
	int kill, r;
	enum ll_reason why = fq_check(q, in, p->family, &kill);

	if (why && !kill) { /* this fragment alone */
		single(t, res, FRAG_DROPPED, why, cookie);
		if (!q->nck) {
			fq_unlink(t, q);
			fq_destroy(q);
		}
		return 0;
	}
	if (push_cookie(q, cookie) < 0)
		return R_FRAG_LIMIT;
	if (why)
		return why;
	r = fq_place(q, in->off, in->end, &at, &head);
	if (r == INS_OVERLAP)
		return R_FRAG_OVERLAP;
	if (r == INS_DUP)
		return 0; /* the kernel frees a duplicate and keeps waiting */
	make_room(t, q, cost);
	if (t->mem + cost > t->lim.max_bytes || fq_insert(t, q, in, at, head) < 0 ||
	    (!in->off && fq_set_header(t, q, p, in) < 0))
		return R_FRAG_LIMIT;
	if (!q->first_in || !q->last_in || q->meat != q->len)
		return 0;
	if (frag_too_big(q->family, q->hdrlen, q->len))
		return R_FRAG_TOO_BIG;
	if (frag_build(&t->out, q, res) < 0)
		return R_FRAG_LIMIT;
	fq_unlink(t, q);
	t->retired = q;
	return 0;
}

/* frag_v6_thdr_truncated() - see frag.h: the kernel's test, over what the capture holds. */
bool frag_v6_thdr_truncated(const struct pkt *p)
{
	uint32_t off = p->frag_hdr_off, need;
	uint8_t nh = 44; /* the walk starts at the fragment header, as ipv6_skip_exthdr() does there */

	if (p->family != 6 || !p->frag_first || !p->frag_hdr_off)
		return false;
	while (nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60) {
		const uint8_t *h = p->l3 + off;

		/* it reads 8 bytes of a fragment header, 2 of others; one it cannot read is "not truncated" */
		if (off + (nh == 44 ? 8u : 2u) > p->caplen)
			return false;
		if (nh == 44) {
			if ((h[2] << 8 | h[3]) & 0xfff8) /* a later fragment's header ends the walk */
				break;
			need = 8;
		} else {
			need = nh == 51 ? (h[1] + 2u) * 4 : (h[1] + 1u) * 8;
		}
		nh = h[0];
		off += need;
	}
	if (nh == 59) /* no next header: nothing to be truncated */
		return false;
	need = nh == 6 ? 20 : nh == 17 ? 8 : nh == 58 ? 8 : 1;
	return off + need > p->len;
}

/*
 * frag_add() - see frag.h. Per fragment: one hash lookup, a scan of the
 * queue's runs only when the fragment does not go to the tail (in-order
 * arrival is O(1)). A fragment the kernel would drop alone (IPv6: bad
 * length, beyond the last one, end past 65535) comes back as FRAG_DROPPED
 * with its own cookie only; the queue waits on. An IPv4 one of bad length
 * or beyond the last kills its queue, as ip_frag_queue() does.
 */
void frag_add(struct frag_table *t, const struct pkt *p, uint64_t now_us, uint64_t cookie,
	      struct frag_result *res)
{
	struct frag_in in;
	struct fq *q;

	enum ll_reason why;

	retire(t);
	memset(res, 0, sizeof(*res));
	res->why = R_DEFAULT; /* only meaningful with FRAG_DROPPED */
	if (!p->is_frag) {
		single(t, res, FRAG_DONE, R_DEFAULT, cookie);
		if (frag_build_whole(&t->out, p, res) < 0)
			single(t, res, FRAG_DROPPED, R_FRAG_LIMIT, cookie);
		return;
	}
	fill_in(p, &in);
	if (p->family == 6 && in.end > FRAG_MAXLEN) { /* nf_ct_frag6_queue(): "offset is too large" */
		single(t, res, FRAG_DROPPED, R_FRAG_TOO_BIG, cookie);
		return;
	}
	q = fq_get(t, p, now_us);
	if (!q) {
		single(t, res, FRAG_DROPPED, R_FRAG_LIMIT, cookie);
		return;
	}
	res->status = FRAG_HELD;
	why = fq_add(t, q, p, &in, cookie, res);
	if (why)
		fq_finish(t, q, why, res);
}
