/* ips_stream.c - bounded in-order TCP reassembly per flow direction, for IPS matches across segments. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

/* Out-of-order segments held while waiting for the gap to fill. */
#define OOO_MAX_SEGS 32
#define OOO_MAX_BYTES (64u << 10)
/*
 * Past half the memcap a stream queues 16 KiB at most (more: it gives up
 * its order, resync()), as its buffer keeps a 32 KiB window (slide()):
 * else a connection that left a hole held 64 KiB of queue besides, and
 * 1,500 of them, not 4,224, held the whole cap.
 */
#define OOO_PRESSED_BYTES (16u << 10)

struct seg {
	uint32_t seq, len;
	bool fin; /* its FIN counts in Linux's end_seq */
	struct seg *next;
	uint8_t data[];
};

/*
 * Bytes from the first byte after the SYN (or the first data seen) up to
 * next_seq, without holes: data never mixes two sides of a gap, so a match
 * can only be found in bytes the receiver really got in this order.
 */
#define SACK_BLOCKS 4 /* TCP_NUM_SACKS */

struct ips_stream {
	bool init, full;
	bool fin;  /* the receiver took a FIN, at fin_seq (take_fin()) */
	bool done; /* full, or complete up to the FIN: no byte can be added any more */
	bool start_known; /* start: this side's first byte, from its SYN or the other's SYN-ACK */
	bool urg;         /* urg_seq: the urgent byte, left out when it comes (urgent()) */
	bool synack;      /* the other side's SYN-ACK came: a SYN's data is taken no more */
	bool lost;        /* resync()ed past a hole: next_seq is no longer the receiver's rcv_nxt */
	bool lost_fin;    /* a FIN resync() let go: the receiver may have taken it, lost for good */
	bool slid;        /* under memory pressure it keeps only a window (slide()) */
	uint32_t next_seq, fin_seq, start, urg_seq;
	uint32_t lost_top; /* lost: where it started again, or past it the end of what it let go */
	uint32_t syn_len; /* bytes from start its SYNs carried, the SYN-ACK yet to say if taken */
	uint8_t *buf;
	uint32_t len, cap;
	uint32_t base;    /* bytes slide() let go from the front: buf[0] is byte base of the stream */
	uint32_t mark;    /* where in buf the bytes the current ips_stream_add() brings start */
	struct seg *ooo; /* sorted by seq */
	uint32_t nooo, ooo_bytes;
	/*
	 * The SACK blocks the receiver keeps, newest first, as Linux keeps
	 * them (tp->selective_acks: 4, the oldest forgotten): where it takes a
	 * RST past a hole (ips_stream_rst_ends()).
	 */
	uint32_t sack_lo[SACK_BLOCKS], sack_hi[SACK_BLOCKS];
	uint8_t nsack;
};

static _Atomic uint64_t stream_mem;

uint64_t ips_stream_mem(void)
{
	return atomic_load(&stream_mem);
}

static _Atomic uint64_t memcap_hits;

uint64_t ips_stream_memcap_hits(void)
{
	return atomic_load(&memcap_hits);
}

static _Atomic uint64_t slid_streams;

uint64_t ips_stream_slid(void)
{
	return atomic_load(&slid_streams);
}

/*
 * Stream buffers come from a per-thread pool of power-of-two sizes, 4 KiB
 * to 16 MiB. With malloc() alone, glibc handed the large ones back to the
 * kernel (munmap, heap trim) as streams finished and the next streams
 * faulted fresh zeroed pages in, in the packet path: on the IPS bench
 * capture (HTTP/TLS/DNS, 1,000 rules) page faults and malloc took a third
 * of the CPU time. Up to POOL_MAX idle bytes per thread stay for reuse,
 * outside the memcap (which bounds the bytes streams hold); the rest goes
 * back to malloc. A thread's pool is freed when it exits. A thread that
 * judges no packets (the control thread: `flows --kill` frees a worker's
 * streams, explain builds one) keeps none: its pool would only ever fill,
 * up to POOL_MAX for the life of the engine, with buffers no worker reuses.
 */
#define POOL_MIN_SHIFT 12
#define POOL_CLASSES 13 /* 4 KiB .. 16 MiB */
#define POOL_MAX (32ull << 20)

struct pool {
	void *head[POOL_CLASSES]; /* free lists, linked through each buffer's first bytes */
	uint64_t bytes;
	bool off;                 /* ips_stream_pool_off(): malloc() and free() only */
};

static _Thread_local struct pool pool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_drain(void *unused)
{
	(void)unused;
	for (unsigned c = 0; c < POOL_CLASSES; c++)
		while (pool.head[c]) {
			void *b = pool.head[c];
			memcpy(&pool.head[c], b, sizeof(void *));
			free(b);
		}
	pool.bytes = 0;
}

static void pool_exit(void)
{
	pool_drain(NULL);
}

static void pool_setup(void)
{
	/* the key's destructor runs at a worker's exit; the main thread's pool at exit() */
	if (pthread_key_create(&pool_key, pool_drain) == 0)
		atexit(pool_exit);
}

/* The size class of @size bytes: the smallest power of two >= it, or -1 beyond the pool. */
static int pool_class(uint32_t size)
{
	unsigned c = 0;

	while (c < POOL_CLASSES && (1u << (POOL_MIN_SHIFT + c)) < size)
		c++;
	return c < POOL_CLASSES ? (int)c : -1;
}

static void *buf_get(int c, uint32_t size)
{
	void *b;

	if (c < 0 || pool.off)
		return malloc(size); /* in a class, @size is the class's (grow()) */
	if ((b = pool.head[c])) {
		memcpy(&pool.head[c], b, sizeof(void *));
		pool.bytes -= 1u << (POOL_MIN_SHIFT + c);
		return b;
	}
	pthread_once(&pool_once, pool_setup);
	pthread_setspecific(pool_key, &pool); /* non-NULL: the destructor runs */
	return malloc(1u << (POOL_MIN_SHIFT + c));
}

static void buf_put(void *b, uint32_t size)
{
	int c = b ? pool_class(size) : -1;

	if (c < 0 || (1u << (POOL_MIN_SHIFT + c)) != size || pool.bytes + size > POOL_MAX || pool.off) {
		free(b);
		return;
	}
	memcpy(b, &pool.head[c], sizeof(void *));
	pool.head[c] = b;
	pool.bytes += size;
}

void ips_stream_pool_off(void)
{
	pool_drain(NULL);
	pool.off = true;
}

uint64_t ips_stream_pool_bytes(void)
{
	return pool.bytes;
}

struct ips_stream *ips_stream_new(void)
{
	return calloc(1, sizeof(struct ips_stream));
}

static void ooo_clear(struct ips_stream *s)
{
	for (struct seg *g = s->ooo, *nx; g; g = nx) {
		nx = g->next;
		atomic_fetch_sub(&stream_mem, g->len);
		free(g);
	}
	s->ooo = NULL;
	s->nooo = s->ooo_bytes = 0;
	s->nsack = 0;
}

/* Drop block @i, moving the later ones up. */
static void sack_zap(struct ips_stream *s, unsigned i)
{
	for (; i + 1 < s->nsack; i++)
		s->sack_lo[i] = s->sack_lo[i + 1], s->sack_hi[i] = s->sack_hi[i + 1];
	s->nsack--;
}

/* tcp_sack_extend(): does [lo, hi) touch block @i? Then it grows to cover it. */
static bool sack_extend(struct ips_stream *s, unsigned i, uint32_t lo, uint32_t hi)
{
	if ((int32_t)(lo - s->sack_hi[i]) > 0 || (int32_t)(s->sack_lo[i] - hi) > 0)
		return false;
	if ((int32_t)(lo - s->sack_lo[i]) < 0)
		s->sack_lo[i] = lo;
	if ((int32_t)(hi - s->sack_hi[i]) > 0)
		s->sack_hi[i] = hi;
	return true;
}

/*
 * The receiver queued [lo, hi) out of order (or already held it): its SACK
 * blocks change as Linux's do - tcp_sack_remove() once rcv_nxt passed a
 * block, tcp_sack_new_ofo_skb(): the block it touches grows and comes
 * first (tcp_sack_maybe_coalesce()), or a new one comes first and the
 * oldest of four is forgotten. Called before the segment is queued.
 */
static void sack_note(struct ips_stream *s, uint32_t lo, uint32_t hi)
{
	unsigned i;

	if (!s->ooo)
		s->nsack = 0; /* the first out-of-order segment: one block */
	for (i = 0; i < s->nsack;)
		if ((int32_t)(s->next_seq - s->sack_lo[i]) >= 0)
			sack_zap(s, i);
		else
			i++;
	for (i = 0; i < s->nsack; i++) {
		if (!sack_extend(s, i, lo, hi))
			continue;
		for (; i > 0; i--) { /* to the front */
			uint32_t l = s->sack_lo[i], h = s->sack_hi[i];

			s->sack_lo[i] = s->sack_lo[i - 1], s->sack_hi[i] = s->sack_hi[i - 1];
			s->sack_lo[i - 1] = l, s->sack_hi[i - 1] = h;
		}
		for (unsigned j = 1; j < s->nsack;)
			if (sack_extend(s, 0, s->sack_lo[j], s->sack_hi[j]))
				sack_zap(s, j);
			else
				j++;
		return;
	}
	if (s->nsack == SACK_BLOCKS)
		s->nsack--;
	for (i = s->nsack; i > 0; i--)
		s->sack_lo[i] = s->sack_lo[i - 1], s->sack_hi[i] = s->sack_hi[i - 1];
	s->sack_lo[0] = lo, s->sack_hi[0] = hi;
	s->nsack++;
}

void ips_stream_free(struct ips_stream *s)
{
	if (!s)
		return;
	ooo_clear(s);
	atomic_fetch_sub(&stream_mem, s->cap);
	buf_put(s->buf, s->cap);
	free(s);
}

/*
 * The first buffer holds FIRST_SEGS times the first bytes: a stream that
 * opens with a full segment (a response, a download) is a bulk one and
 * reaches 16K without the 4K -> 8K -> 16K copies; a short request stays 4K.
 */
#define FIRST_SEGS 8

/*
 * Past half the memcap a stream that would grow beyond slide_cap() keeps a
 * window instead: the PEND_WINDOW (+ longest content) bytes before the
 * ones being added, which is all a floating rule reads (ips_scan.c), and
 * lets the older ones go (base counts them; stream-depth still counts
 * from the stream's first byte). Rules placed from the stream's start
 * are not checked on it any more - as on a stream the memcap cut short,
 * which is what it was before: then 256 idle connections that each sent
 * 512 KiB and a byte held a 1 MiB buffer each, all of the 256 MiB, and
 * every other stream on the host went packet by packet (red25). Now one
 * that slid holds 32 KiB once read (ips_stream_trim()): half the memcap
 * in large buffers and the rest in 32 KiB ones is 128 + 4,096 streams.
 * Below the mark nothing changes.
 */
static uint32_t slide_keep(const struct ips_ruleset *rs)
{
	return PEND_WINDOW + rs->max_pat;
}

/* A window and a full segment, as a power of two (32 KiB for contents up to 15 KiB). */
static uint32_t slide_cap(const struct ips_ruleset *rs)
{
	uint32_t cap = 4096;

	while (cap < slide_keep(rs) + 1500)
		cap *= 2;
	return cap;
}

/* Let the bytes before the window go; returns how many. */
static uint32_t slide(struct ips_stream *s, const struct ips_ruleset *rs)
{
	uint32_t keep = slide_keep(rs), gone = s->mark > keep ? s->mark - keep : 0;

	if (!s->slid)
		atomic_fetch_add(&slid_streams, 1);
	s->slid = true;
	if (!gone)
		return 0;
	memmove(s->buf, s->buf + gone, s->len - gone);
	s->len -= gone;
	s->mark -= gone;
	s->base += gone;
	return gone;
}

/* Grow the buffer to hold @need bytes, within the depth and the global cap. */
static bool reserve(struct ips_stream *s, const struct ips_ruleset *rs, uint32_t need)
{
	uint32_t cap = s->cap ? s->cap : 4096;
	uint8_t *b;
	int c;

	if (need <= s->cap)
		return true;
	while (!s->cap && cap < rs->stream_depth / 2 && cap < (uint64_t)need * FIRST_SEGS)
		cap *= 2;
	while (cap < need)
		cap = cap > rs->stream_depth / 2 ? rs->stream_depth : cap * 2;
	if ((c = pool_class(cap)) >= 0)
		cap = 1u << (POOL_MIN_SHIFT + c); /* a depth that is no power of two rounds up */
	if (cap > slide_cap(rs) &&
	    (s->slid || atomic_load(&stream_mem) + cap - s->cap > rs->stream_memcap / 2)) {
		need -= slide(s, rs);
		if (need <= s->cap)
			return true;
		for (cap = slide_cap(rs); cap < need;)
			cap *= 2;
		c = pool_class(cap);
	}
	if (atomic_fetch_add(&stream_mem, cap - s->cap) + cap - s->cap > rs->stream_memcap ||
	    !(b = buf_get(c, cap))) {
		atomic_fetch_sub(&stream_mem, cap - s->cap);
		return false;
	}
	if (s->len)
		memcpy(b, s->buf, s->len);
	buf_put(s->buf, s->cap);
	s->buf = b;
	s->cap = cap;
	return true;
}

/* Append data at @seq (<= next_seq), skipping what the stream already has. */
static void append(struct ips_stream *s, const struct ips_ruleset *rs, uint32_t seq,
		   const uint8_t *d, uint32_t n)
{
	uint32_t skip = s->next_seq - seq, room, at;

	if (skip >= n || s->full)
		return;
	d += skip;
	n -= skip;
	at = s->urg_seq - s->next_seq;
	if (s->urg && at < n) { /* the bytes around the urgent one */
		append(s, rs, s->next_seq, d, at);
		if (s->full)
			return;
		s->urg = false;
		s->next_seq++;
		append(s, rs, s->next_seq, d + at + 1, n - at - 1);
		return;
	}
	room = rs->stream_depth - s->base - s->len;
	if (n >= room) {
		n = room;
		s->full = true;
	}
	if (!reserve(s, rs, s->len + n)) {
		s->full = true;
		atomic_fetch_add(&memcap_hits, 1);
		return;
	}
	memcpy(s->buf + s->len, d, n);
	s->len += n;
	s->next_seq = seq + skip + n;
}

/*
 * Queue an out-of-order segment; false when the queue is full, or the bytes
 * all streams hold would pass the memcap (counted like buffers: without it,
 * flows that each took a small buffer held 64 KiB of queue each past it).
 */
static bool ooo_add(struct ips_stream *s, const struct ips_ruleset *rs, uint32_t seq,
		    const uint8_t *d, uint32_t n, bool fin)
{
	struct seg **pp = &s->ooo, *g;

	if (s->nooo >= OOO_MAX_SEGS || s->ooo_bytes + n > OOO_MAX_BYTES ||
	    (s->ooo_bytes + n > OOO_PRESSED_BYTES &&
	     atomic_load(&stream_mem) + n > rs->stream_memcap / 2))
		return false;
	sack_note(s, seq, seq + n + fin);
	if (atomic_fetch_add(&stream_mem, n) + n > rs->stream_memcap ||
	    !(g = malloc(sizeof(*g) + n))) {
		atomic_fetch_sub(&stream_mem, n);
		return false;
	}
	g->seq = seq;
	g->len = n;
	g->fin = fin;
	if (n) /* a bare FIN queued ahead of a hole brings no bytes (and may bring no buffer) */
		memcpy(g->data, d, n);
	while (*pp && (int32_t)((*pp)->seq - seq) < 0)
		pp = &(*pp)->next;
	/*
	 * At the same sequence number a strictly longer segment replaces the
	 * queued one, as Linux's out-of-order queue does (tcp_data_queue_ofo());
	 * one as long or shorter is dropped there ("all the bits are present"),
	 * so a decoy of the same length cannot stand for the queued bytes.
	 */
	if (*pp && (*pp)->seq == seq) {
		struct seg *old = *pp;

		if (old->len + old->fin >= n + fin) {
			atomic_fetch_sub(&stream_mem, n);
			free(g);
			return true;
		}
		g->next = old->next;
		*pp = g;
		s->ooo_bytes += n - old->len;
		atomic_fetch_sub(&stream_mem, old->len);
		free(old);
		return true;
	}
	g->next = *pp;
	*pp = g;
	s->nooo++;
	s->ooo_bytes += n;
	return true;
}

/*
 * The receiver takes a FIN at @seq (tcp_fin()): the stream ends there, and
 * what it held out of order is purged, as Linux purges its out-of-order
 * queue. A FIN counts only on the segment that brings rcv_nxt to it, in
 * order or drained from the queue: one queued ahead of a hole is lost when
 * a segment in order covers it (tcp_ofo_queue() drops a queued segment that
 * ends at or before rcv_nxt, FIN and all), or when a longer one replaces it.
 * Counted when it was seen, a FIN ahead of a hole made the stream take the
 * bytes queued from its number on (which tcp_fin() purges) and miss the FIN
 * the receiver did take, or stand for a FIN the receiver never took and
 * ignore the real one: either way the flow never closed, and the client's
 * next connection from the same port rode it, its segments outside the old
 * stream, matched one by one (red24b).
 */
static void take_fin(struct ips_stream *s, uint32_t seq)
{
	s->fin = true;
	s->fin_seq = seq;
	ooo_clear(s);
}

/* Move queued segments that the stream now reaches into it. */
static void ooo_drain(struct ips_stream *s, const struct ips_ruleset *rs)
{
	struct seg *g;

	while ((g = s->ooo) && (int32_t)(g->seq - s->next_seq) <= 0) {
		bool fin = g->fin && !s->full && s->next_seq - g->seq <= g->len;
		uint32_t end = g->seq + g->len;

		s->ooo = g->next;
		s->nooo--;
		s->ooo_bytes -= g->len;
		append(s, rs, g->seq, g->data, g->len);
		atomic_fetch_sub(&stream_mem, g->len);
		free(g);
		if (fin && s->next_seq == end) {
			take_fin(s, s->next_seq);
			break;
		}
	}
}

/* A hole that will not fill: start a new stream window after it. */
static void resync(struct ips_stream *s, const struct ips_ruleset *rs, uint32_t seq,
		   const uint8_t *d, uint32_t n)
{
	/*
	 * The receiver still waits for the hole and holds what was queued:
	 * a RST at the new next_seq, or a FIN the new window reaches, is not
	 * one it takes (ips_stream_rst_ends(), ips_stream_fin_taken()). Taken,
	 * they ended the flow while the connection went on, and the client's
	 * next bytes were a new flow picked up mid-stream (rev25). Until the
	 * receiver's ACK says where its next byte is (ips_stream_ack()).
	 */
	if (!s->lost || (int32_t)(seq - s->lost_top) > 0)
		s->lost_top = seq;
	s->lost = true;
	for (struct seg *g = s->ooo; g; g = g->next) {
		if ((int32_t)(g->seq + g->len + g->fin - s->lost_top) > 0)
			s->lost_top = g->seq + g->len + g->fin;
		s->lost_fin |= g->fin;
	}
	ooo_clear(s);
	s->len = s->base = s->mark = 0;
	s->full = false;
	s->next_seq = seq;
	append(s, rs, seq, d, n);
}

/*
 * A stream that can take no more bytes is never inspected again (only new
 * bytes make the stream stage look at it): its buffer goes back to the pool,
 * where the next flow's stream finds it, instead of holding fresh pages for
 * as long as the flow lingers in FIN_WAIT. A receiver drops data beyond the
 * FIN, and so does this (Suricata too reassembles nothing after it).
 */
static void finish(struct ips_stream *s)
{
	ooo_clear(s);
	atomic_fetch_sub(&stream_mem, s->cap);
	buf_put(s->buf, s->cap);
	s->buf = NULL;
	s->len = s->cap = 0;
}

/*
 * An urgent pointer (tcp_check_urg()): Linux, unless the socket has
 * SO_OOBINLINE, reads the byte before seq + pointer (0: the first) out of
 * band, and recv() skips it - "GET " + "EXVIL" with the X urgent is
 * "GET EVIL" to the server. A pointer before the stream's next byte, or
 * not past the one pending, changes nothing. (One pending at a time, as in
 * Linux; a second pointer that comes before the reader reached the first
 * byte leaves that one in Linux's stream, but it is already out of this.)
 */
static void urgent(struct ips_stream *s, const struct pkt *p)
{
	uint32_t at = p->tcp_seq + p->tcp_urp - (p->tcp_urp != 0);

	if ((int32_t)(at - s->next_seq) < 0 || (s->urg && (int32_t)(at - s->urg_seq) <= 0))
		return;
	s->urg = true;
	s->urg_seq = at;
}

/* Back to nothing taken, the next byte at @seq: what the stream held the receiver never got. */
static void restart(struct ips_stream *s, uint32_t seq)
{
	ooo_clear(s);
	s->len = s->base = s->mark = 0;
	s->full = s->done = s->fin = s->urg = false;
	s->next_seq = seq;
}

/*
 * Data on a SYN (TCP Fast Open, RFC 7413) went into the stream when the SYN
 * came, to be inspected with it as Suricata does; the first SYN-ACK says
 * what the server kept. Linux queues the data of the SYN that opened the
 * connection, all of it (tcp_fastopen_add_skb()), or none - no cookie, TFO
 * off, a full queue: the SYN-ACK acknowledges ISN + 1 only, and the client
 * sends the bytes again as segments, which must find the stream empty
 * (else the SYN's copy stood for them, or they were read twice). Bytes
 * taken after the SYN's, before any SYN-ACK, go with them. A stream that
 * the SYN's data filled and whose buffer went back (done) stays so if the
 * server took bytes.
 */
static void syn_acked(struct ips_stream *s, uint32_t ack)
{
	uint32_t took = ack - s->start, carried = s->syn_len;

	s->syn_len = 0;
	if (took == carried)
		return;
	if (took > carried) { /* not an ACK of the SYN's bytes: start where it says */
		restart(s, ack);
		s->start = ack;
	} else if (!took) {
		restart(s, ack);
	} else if (took <= s->base + s->len && !s->done) {
		uint32_t base = s->base < took ? s->base : took;

		restart(s, ack);
		s->base = base;
		s->len = took - base; /* the buffer still holds them (what slide() kept) */
	}
}

void ips_stream_acked(struct ips_stream *s, uint32_t ack)
{
	bool first = !s->synack;

	s->synack = true;
	if (first && s->syn_len) {
		syn_acked(s, ack);
		return;
	}
	if (s->done || s->len || s->ooo || s->fin)
		return;
	s->init = true;
	s->next_seq = s->start = ack;
	s->start_known = true;
}

/*
 * The receiver acknowledged @ack: past the hole a resync() left (every
 * byte before where the stream started again), past all it let go, and not
 * past the stream's next byte, its rcv_nxt is again where the stream's bytes
 * put it once those in flight arrive, as on any stream. Lost for good, an
 * ordinary bulk transfer that reordered a segment under memory pressure
 * ended on no RST of its sender while bytes were in flight (the flow's
 * record takes one at the sender's end only once the other side acked it
 * all): the flow stayed ESTABLISHED, 432,000 s, holding its stream buffer
 * (sync26). Not after a FIN it let go: the receiver may have taken that one
 * (tcp_ofo_queue()) and dropped the bytes the stream took after it.
 */
void ips_stream_ack(struct ips_stream *s, uint32_t ack)
{
	/*
	 * Nor while it holds segments out of order: their SACK blocks are
	 * not the receiver's. The bytes it took in order since the resync
	 * were out of order there, and each one's block came first in the
	 * receiver's four: the highest block the stream keeps may be one
	 * the receiver forgot, where a RST gets a challenge ACK (rvw26c).
	 * Once the queue is gone (the receiver in step by then), the next
	 * out-of-order segment starts its blocks anew, as there (sack_note()).
	 */
	if (s->lost && !s->lost_fin && !s->ooo && (int32_t)(ack - s->lost_top) >= 0 &&
	    (int32_t)(s->next_seq - ack) >= 0)
		s->lost = false;
}

void ips_stream_unsure(struct ips_stream *s)
{
	if (!s->init)
		return;
	if (!s->lost || (int32_t)(s->next_seq - s->lost_top) > 0)
		s->lost_top = s->next_seq;
	s->lost = true;
}

bool ips_stream_rst_ends(const struct ips_stream *s, uint32_t seq, bool sack)
{
	uint32_t top;
	bool held = false;

	if (!s->init || s->full || s->lost)
		return false;
	if (seq == s->next_seq || (s->fin && s->next_seq == s->fin_seq && seq == s->fin_seq + 1))
		return true;
	if (!sack || !s->ooo || !s->nsack)
		return false;
	/*
	 * tcp_validate_incoming(): with SACK, the end of the highest block it
	 * keeps (tp->selective_acks, of what it queued: in its window). Only
	 * the four newest: past a fifth, a RST at the highest end of the queue
	 * gets a challenge ACK, and, taken, ended the flow while the
	 * connection went on (rev24). Blocks rcv_nxt passed are gone.
	 */
	top = 0;
	for (unsigned i = 0; i < s->nsack; i++)
		if ((int32_t)(s->next_seq - s->sack_lo[i]) < 0 &&
		    (!held || (int32_t)(s->sack_hi[i] - top) > 0))
			top = s->sack_hi[i], held = true;
	return held && seq == top;
}

bool ips_stream_fin_taken(const struct ips_stream *s)
{
	return s->init && !s->lost && s->fin && s->next_seq == s->fin_seq;
}

void ips_stream_end(struct ips_stream *s)
{
	s->done = true;
	ips_stream_settle(s);
}

void ips_stream_settle(struct ips_stream *s)
{
	if (s->done && (s->buf || s->ooo))
		finish(s);
}

void ips_stream_trim(struct ips_stream *s, const struct ips_ruleset *rs)
{
	uint32_t keep, cap;
	uint8_t *b;

	if (!s->slid || !s->buf)
		return;
	keep = slide_keep(rs), cap = slide_cap(rs);
	if (s->cap <= cap || !(b = buf_get(pool_class(cap), cap)))
		return;
	if (s->len > keep) {
		s->base += s->len - keep;
		memcpy(b, s->buf + s->len - keep, keep);
		s->len = keep;
	} else {
		memcpy(b, s->buf, s->len);
	}
	atomic_fetch_sub(&stream_mem, s->cap - cap);
	buf_put(s->buf, s->cap);
	s->buf = b;
	s->cap = cap;
}

uint32_t ips_stream_base(const struct ips_stream *s)
{
	return s->base;
}

bool ips_stream_start(const struct ips_stream *s, uint32_t *start)
{
	*start = s->start;
	return s->start_known;
}

/*
 * A SYN's data (TCP Fast Open): the first bytes, from ISN + 1, while the
 * stream holds nothing but SYN data and no SYN-ACK has said what the
 * server kept (syn_acked()). A SYN sent again with data adds only bytes
 * past the first one's: a Linux server keeps the data of the first SYN it
 * got, and its SYN-ACK cuts what else went in. The data on a SYN-ACK is the
 * server's, which the client takes only on a Fast Open of its own
 * (@reply: the flow's record says so), all of it and at once: the first
 * bytes too, with nothing for an ACK to take back.
 */
static void syn_data(struct ips_stream *s, const struct ips_ruleset *rs, const struct pkt *p,
		     bool reply, bool *whole)
{
	uint32_t at = p->tcp_seq + 1;

	if ((p->tcp_flags & TCPF_RST) || (!!(p->tcp_flags & TCPF_ACK) != reply) || s->synack ||
	    s->full || !s->start_known || at != s->start || s->ooo ||
	    s->next_seq - s->start != s->syn_len)
		return;
	*whole = !s->syn_len;
	append(s, rs, at, p->payload, p->paylen);
	/* all it carried, also what the depth or the memcap left out: what an ACK of it says */
	if (!reply && p->paylen > s->syn_len)
		s->syn_len = p->paylen;
}

void ips_stream_add(struct ips_stream *s, const struct ips_ruleset *rs, const struct pkt *p,
		    bool takes, bool fast_open_reply, const uint8_t **data, uint32_t *len,
		    uint32_t *new_off, bool *is_pkt)
{
	bool whole = false; /* p's payload went in from its first byte, nothing else after it */
	bool fin, inorder = false;
	int32_t diff;

	*is_pkt = false;
	s->mark = s->len; /* slide() keeps the window before it */
	if (s->done) {
		ips_stream_settle(s); /* ips_scan() settles it, but a caller of its own may not */
		*data = NULL;
		*len = *new_off = 0;
		return;
	}
	if (!takes) { /* the host drops it: it must not stand for the bytes the host keeps */
		*data = s->buf;
		*len = *new_off = s->len;
		return;
	}
	if (p->tcp_flags & TCPF_SYN) {
		if (!s->init) {
			s->next_seq = s->start = p->tcp_seq + 1;
			s->start_known = true;
		}
		s->init = true;
		if (p->paylen)
			syn_data(s, rs, p, fast_open_reply, &whole);
	} else if (p->paylen && !s->init) {
		s->init = true;
		s->next_seq = p->tcp_seq;
	}
	if ((p->tcp_flags & (TCPF_URG | TCPF_SYN | TCPF_RST)) == TCPF_URG && s->init)
		urgent(s, p);
	diff = (int32_t)(p->tcp_seq - s->next_seq);
	/* a RST's FIN says nothing: the RST ends the connection there, or it is dropped */
	fin = (p->tcp_flags & (TCPF_FIN | TCPF_RST)) == TCPF_FIN && s->init && !s->fin;
	if ((p->paylen || fin) && !(p->tcp_flags & (TCPF_SYN | TCPF_RST)) && !s->full) {
		if (diff <= 0) {
			append(s, rs, p->tcp_seq, p->payload, p->paylen), whole = diff == 0;
			/* tcp_data_queue(): its FIN counts when it ends past rcv_nxt, before the queue */
			inorder = -(uint32_t)diff <= p->paylen; /* diff may be INT32_MIN */
			/*
			 * Past a resync, a FIN before the stream's next byte may be
			 * in the hole the receiver waits on: it queues the FIN, takes
			 * it when the hole fills and purges what the stream took
			 * after it, and its ACK then lies in the stream's window
			 * (ips_stream_ack()), where a RST got a challenge ACK (rvw26c).
			 */
			if (fin && !inorder && s->lost)
				s->lost_fin = true;
		} else if (!ooo_add(s, rs, p->tcp_seq, p->payload, p->paylen, fin)) {
			resync(s, rs, p->tcp_seq, p->payload, p->paylen), whole = true;
			inorder = true;
		}
		if (fin && inorder && !s->full && s->next_seq == p->tcp_seq + p->paylen)
			take_fin(s, s->next_seq);
		else
			ooo_drain(s, rs);
	}
	*data = s->buf;
	*len = s->len;
	*new_off = s->mark <= s->len ? s->mark : 0;
	*is_pkt = whole && s->len - *new_off == p->paylen; /* not cut by the depth, nothing drained */
	s->done = s->full || (s->fin && s->next_seq == s->fin_seq);
}
