/*
 * flow.c - the flow table: bidirectional flows keyed on the normalised
 * 5-tuple, TCP state with conntrack's default timeouts, LRU eviction at
 * max-flows. One table per packet worker; not thread-safe by design.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flow.h"
#include "ips.h"

#define S_US 1000000ULL

/* conntrack's defaults (nf_conntrack_proto_{tcp,udp,icmp,generic}.c). */
static const uint64_t tcp_timeout_s[] = {
	[FT_NONE] = 600,	   [FT_SYN_SENT] = 120,	 [FT_SYN_RECV] = 60,
	[FT_ESTABLISHED] = 432000, [FT_FIN_WAIT] = 120,	 [FT_CLOSE_WAIT] = 60,
	[FT_TIME_WAIT] = 120,	   [FT_CLOSE] = 10,
};
#define UDP_TIMEOUT_S 30
#define UDP_STREAM_TIMEOUT_S 120
#define ICMP_TIMEOUT_S 30
#define GENERIC_TIMEOUT_S 600

#define CHUNK 1024

struct flow_chunk {
	struct flow_chunk *next;
	struct flow f[CHUNK];
};

struct flow_table {
	struct flow **bucket;
	uint64_t mask;       /* buckets - 1 */
	uint64_t max;
	struct flow *lru_head, *lru_tail; /* head: most recently used */
	struct flow *free;
	struct flow_chunk *chunks;
	struct flow_stats st;
	uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * Every word of the key goes through its own mixing round: folding ports
 * into an address's low bits made whole blocks of flows collide. The seed
 * is random per table, so that no one can choose tuples that chain in
 * every host's table (hash flooding); nothing visible depends on it.
 */
static uint64_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint64_t h = mix64(t->seed ^ k->a.lo);

	h = mix64(h ^ k->a.hi);
	h = mix64(h ^ k->b.lo);
	h = mix64(h ^ k->b.hi);
	return mix64(h ^ ((uint64_t)k->pa << 32 | (uint64_t)k->pb << 16 | k->proto));
}

static bool key_eq(const struct flow_key *x, const struct flow_key *y)
{
	return ll_ip_eq(x->a, y->a) && ll_ip_eq(x->b, y->b) && x->pa == y->pa &&
	       x->pb == y->pb && x->proto == y->proto;
}

static void make_key(struct flow_key *k, uint8_t proto, ll_ip s, uint16_t sp, ll_ip d,
		     uint16_t dp, int *src_is_a)
{
	int c = ll_ip_cmp(s, d);
	int s_first = c < 0 || (c == 0 && sp <= dp);

	memset(k, 0, sizeof(*k));
	k->proto = proto;
	k->family = ll_ip_is_v4(s) ? 4 : 6;
	if (s_first) {
		k->a = s, k->pa = sp, k->b = d, k->pb = dp;
	} else {
		k->a = d, k->pa = dp, k->b = s, k->pb = sp;
	}
	if (src_is_a)
		*src_is_a = s_first;
}

void flow_key_of(const struct pkt *p, struct flow_key *k, int *src_is_a)
{
	make_key(k, p->proto, p->src, p->sport, p->dst, p->dport, src_is_a);
}

/*
 * Buckets for max-flows up front (one per flow, at most 2^22): calloc'd
 * pages stay unbacked until touched, so a small table costs little, and a
 * busy one never pays for rehashing a million flows while packets wait.
 */
static uint64_t initial_buckets(uint64_t max_flows)
{
	uint64_t n = 4096;

	while (n < max_flows && n < (1ULL << 22))
		n *= 2;
	return n;
}

struct flow_table *flow_table_new(uint64_t max_flows)
{
	struct flow_table *t = calloc(1, sizeof(*t));
	uint64_t n = initial_buckets(max_flows);

	if (!t)
		return NULL;
	t->max = max_flows ? max_flows : 1;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL; /* early boot: ASLR */
	t->bucket = calloc(n, sizeof(*t->bucket));
	if (!t->bucket) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	for (struct flow *f = t->lru_head; f; f = f->lru_next)
		if (f->ips)
			ips_flow_free(f->ips);
	while (t->chunks) {
		struct flow_chunk *c = t->chunks;
		t->chunks = c->next;
		free(c);
	}
	free(t->bucket);
	free(t);
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_push(struct flow_table *t, struct flow *f)
{
	f->lru_prev = NULL;
	f->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = f;
	t->lru_head = f;
	if (!t->lru_tail)
		t->lru_tail = f;
}

static void lru_touch(struct flow_table *t, struct flow *f)
{
	if (t->lru_head == f)
		return;
	lru_unlink(t, f);
	lru_push(t, f);
}

static void hash_link(struct flow **head, struct flow *f)
{
	f->hnext = *head;
	if (f->hnext)
		f->hnext->hpprev = &f->hnext;
	*head = f;
	f->hpprev = head;
}

void flow_remove(struct flow_table *t, struct flow *f)
{
	/* no walk from the bucket: eviction touches only the flow and its neighbour */
	*f->hpprev = f->hnext;
	if (f->hnext)
		f->hnext->hpprev = f->hpprev;
	lru_unlink(t, f);
	if (f->ips)
		ips_flow_free(f->ips);
	f->ips = NULL;
	f->hnext = t->free;
	t->free = f;
	t->st.active--;
}

/* Double the buckets when the load factor passes 1 (amortised O(1)). */
static void maybe_grow(struct flow_table *t)
{
	uint64_t n = (t->mask + 1) * 2;
	struct flow **nb;

	if (t->st.active <= t->mask + 1 || n > (1ULL << 26))
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* keep the longer chains; still correct */
	for (uint64_t i = 0; i <= t->mask; i++) {
		struct flow *f = t->bucket[i], *next;
		for (; f; f = next) {
			next = f->hnext;
			hash_link(&nb[key_hash(t, &f->key) & (n - 1)], f);
		}
	}
	free(t->bucket);
	t->bucket = nb;
	t->mask = n - 1;
}

static struct flow *alloc_flow(struct flow_table *t, uint64_t now_us)
{
	struct flow *f;

	/* Reclaim expired flows from the cold end first, then evict the LRU. */
	for (int i = 0; i < 2 && t->lru_tail && t->lru_tail->expires_us <= now_us; i++) {
		flow_remove(t, t->lru_tail);
		t->st.expired++;
	}
	if (t->st.active >= t->max && t->lru_tail) {
		flow_remove(t, t->lru_tail);
		t->st.evicted++;
	}
	if (!t->free) {
		struct flow_chunk *c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->next = t->chunks;
		t->chunks = c;
		for (int i = CHUNK - 1; i >= 0; i--) {
			c->f[i].hnext = t->free;
			t->free = &c->f[i];
		}
	}
	f = t->free;
	t->free = f->hnext;
	memset(f, 0, sizeof(*f));
	return f;
}

static uint64_t timeout_us(const struct flow *f)
{
	switch (f->key.proto) {
	case 6:
		return tcp_timeout_s[f->tcp_state] * S_US;
	case 17:
		return (f->pkts[1] ? UDP_STREAM_TIMEOUT_S : UDP_TIMEOUT_S) * S_US;
	case 1:
	case 58:
		return ICMP_TIMEOUT_S * S_US;
	default:
		return GENERIC_TIMEOUT_S * S_US;
	}
}

static struct flow *find(struct flow_table *t, const struct flow_key *k)
{
	struct flow *f = t->bucket[key_hash(t, k) & t->mask];

	while (f && !key_eq(&f->key, k))
		f = f->hnext;
	return f;
}

static struct flow *lookup_key(struct flow_table *t, const struct flow_key *k, uint64_t now_us)
{
	struct flow *f = find(t, k);

	if (f && f->expires_us <= now_us) {
		flow_remove(t, f);
		t->st.expired++;
		return NULL;
	}
	return f;
}

/* A SYN on a closed or time-wait flow starts a new connection (as conntrack does). */
static bool tcp_reopens(const struct flow *f, const struct pkt *p)
{
	return f->key.proto == 6 && (p->tcp_flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN &&
	       (f->tcp_state == FT_CLOSE || f->tcp_state == FT_TIME_WAIT);
}

struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, uint64_t now_us,
			 int *from_opener)
{
	struct flow_key k;
	int src_is_a;
	struct flow *f;

	flow_key_of(p, &k, &src_is_a);
	f = lookup_key(t, &k, now_us);
	if (!f)
		return NULL;
	if (tcp_reopens(f, p)) {
		flow_remove(t, f);
		return NULL;
	}
	*from_opener = src_is_a == f->orig_is_a;
	lru_touch(t, f);
	return f;
}

struct flow *flow_create(struct flow_table *t, const struct pkt *p, uint64_t now_us)
{
	struct flow *f = alloc_flow(t, now_us);
	int src_is_a;
	uint64_t h;

	if (!f)
		return NULL;
	flow_key_of(p, &f->key, &src_is_a);
	f->orig_is_a = (uint8_t)src_is_a;
	f->last_us = now_us;
	if (p->proto == 6) {
		if ((p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
			f->tcp_state = FT_SYN_SENT;
		else
			f->tcp_state = FT_ESTABLISHED; /* picked up mid-stream */
	}
	f->expires_us = now_us + timeout_us(f);
	h = key_hash(t, &f->key) & t->mask;
	hash_link(&t->bucket[h], f);
	lru_push(t, f);
	t->st.active++;
	t->st.created++;
	maybe_grow(t);
	return f;
}

static void tcp_advance(struct flow *f, const struct pkt *p, int from_opener)
{
	uint8_t fl = p->tcp_flags;

	if (fl & TCPF_RST) {
		f->tcp_state = FT_CLOSE;
		return;
	}
	if (fl & TCPF_FIN)
		f->fin_seen |= from_opener ? 1 : 2;
	switch (f->tcp_state) {
	case FT_SYN_SENT:
		if (!from_opener && (fl & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
			f->tcp_state = FT_SYN_RECV;
		break;
	case FT_SYN_RECV:
		if (from_opener && (fl & TCPF_ACK))
			f->tcp_state = FT_ESTABLISHED;
		break;
	case FT_CLOSE_WAIT:
		if ((fl & TCPF_ACK) && !(fl & TCPF_FIN))
			f->tcp_state = FT_TIME_WAIT;
		break;
	default:
		break;
	}
	if (f->fin_seen && f->tcp_state <= FT_FIN_WAIT && f->tcp_state != FT_NONE)
		f->tcp_state = f->fin_seen == 3 ? FT_CLOSE_WAIT : FT_FIN_WAIT;
}

void flow_update(struct flow_table *t, struct flow *f, const struct pkt *p, int from_opener,
		 uint64_t now_us)
{
	(void)t;
	if (p->proto == 6 && p->l4_ok)
		tcp_advance(f, p, from_opener);
	f->pkts[from_opener ? 0 : 1]++;
	f->bytes[from_opener ? 0 : 1] += p->len;
	f->last_us = now_us;
	f->expires_us = now_us + timeout_us(f);
}

struct flow *flow_lookup_icmp_error(struct flow_table *t, const struct pkt *p, uint64_t now_us)
{
	const struct pkt_inner *in = &p->inner;
	struct flow_key k;
	struct flow *f;

	if (!in->present)
		return NULL;
	if ((in->proto == 6 || in->proto == 17) && !in->has_ports)
		return NULL;
	/* a quoted echo carries its id once; echo flows key on it both ways */
	if (in->proto == 1 || in->proto == 58)
		make_key(&k, in->proto, in->src, in->sport, in->dst, in->sport, NULL);
	else
		make_key(&k, in->proto, in->src, in->sport, in->dst, in->dport, NULL);
	f = lookup_key(t, &k, now_us);
	if (f)
		lru_touch(t, f);
	return f;
}

void flow_table_stats(const struct flow_table *t, struct flow_stats *s)
{
	*s = t->st;
}

void flow_foreach(struct flow_table *t, void (*cb)(void *arg, struct flow *f), void *arg)
{
	struct flow *f = t->lru_head, *next;

	for (; f; f = next) {
		next = f->lru_next;
		cb(arg, f);
	}
}
