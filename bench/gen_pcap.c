/* gen_pcap.c - captures whose headers hit a generated rule set's ranges: every packet a new flow, or ~20 per flow. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define LINKTYPE_RAW 101
#define ACTIVE 256 /* flows open at once in the mixed capture */

struct tup {
	int fam, dir, proto;
	u128 slo, shi, dlo, dhi;
	unsigned splo, sphi, dplo, dphi;
};

struct flow5 {
	int fam, proto;
	u128 src, dst;
	unsigned sport, dport, type;
	int left;   /* packets still to send (mixed capture) */
	int sent;
};

static uint64_t rs = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static u128 hex128(const char *s)
{
	u128 v = 0;

	for (; *s; s++)
		v = v * 16 + (u128)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
	return v;
}

static struct tup *read_tuples(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	struct tup *v = NULL;
	size_t cap = 0;
	char a[4][40], line[512];

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		struct tup t;

		if (sscanf(line, "%d %d %d %39s %39s %39s %39s %u %u %u %u", &t.fam, &t.dir, &t.proto, a[0],
			   a[1], a[2], a[3], &t.splo, &t.sphi, &t.dplo, &t.dphi) != 11)
			continue;
		t.slo = hex128(a[0]);
		t.shi = hex128(a[1]);
		t.dlo = hex128(a[2]);
		t.dhi = hex128(a[3]);
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				exit(1);
		}
		v[(*n)++] = t;
	}
	fclose(f);
	return v;
}

/* A point of [lo, hi] in the family's space (v4-mapped for IPv4). */
static u128 pick_addr(int fam, u128 lo, u128 hi)
{
	u128 r = (u128)rnd() << 64 | rnd();

	if (lo == 0 && hi == ~(u128)0) /* any: somewhere in the family */
		return fam == 4 ? ((u128)0xffff << 32 | (uint32_t)r)
				: ((u128)0x20010db8 << 96 | (r & (((u128)1 << 96) - 1)));
	return hi - lo == ~(u128)0 ? r : lo + r % (hi - lo + 1);
}

static unsigned pick_port(unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rnd() % (hi - lo + 1));
}

/* A flow aimed at rule @t (or, 10 % of the time, at another rule's addresses with any service). */
static void aim(struct flow5 *f, const struct tup *t, const struct tup *other)
{
	static const int protos[] = { 6, 6, 6, 6, 6, 6, 17, 17, 17, 1 };

	f->fam = t->fam;
	f->src = pick_addr(t->fam, t->slo, t->shi);
	f->dst = pick_addr(t->fam, other->fam == t->fam ? other->dlo : t->dlo,
			   other->fam == t->fam ? other->dhi : t->dhi);
	f->proto = t->proto >= 0 ? t->proto : protos[rnd() % 10];
	if (f->proto == 1 && t->fam == 6)
		f->proto = 58;
	if (f->proto == 58 && t->fam == 4)
		f->proto = 1;
	f->sport = pick_port(t->splo, t->sphi);
	f->dport = pick_port(t->dplo, t->dphi);
	f->type = t->splo == t->sphi && (t->splo == 0 || t->splo == 8 || t->splo == 128 || t->splo == 129) ?
			  t->splo : (f->fam == 4 ? 8 : 128);
	if (f->proto == 1 || f->proto == 58)
		f->sport = (unsigned)(rnd() & 0xffff); /* echo id */
}

/* Open-addressing set of flow hashes: every packet of the new-flow capture is a new flow. */
static uint64_t *seen;
static size_t seen_mask;

static uint64_t flow_hash(const struct flow5 *f)
{
	uint64_t h = 1469598103934665603ULL;
	uint64_t w[6] = { (uint64_t)f->src, (uint64_t)(f->src >> 64), (uint64_t)f->dst,
			  (uint64_t)(f->dst >> 64), (uint64_t)f->sport << 16 | f->dport,
			  (uint64_t)f->proto << 8 | f->type };

	for (int i = 0; i < 6; i++)
		h = (h ^ w[i]) * 1099511628211ULL ^ (h >> 29);
	return h | 1;
}

static int seen_add(const struct flow5 *f)
{
	uint64_t h = flow_hash(f);

	for (size_t i = h & seen_mask;; i = (i + 1) & seen_mask) {
		if (seen[i] == h)
			return 0;
		if (!seen[i]) {
			seen[i] = h;
			return 1;
		}
	}
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static void put_addr(uint8_t *p, u128 a, int fam)
{
	if (fam == 4) {
		put32(p, (uint32_t)a);
		return;
	}
	for (int i = 0; i < 16; i++)
		p[i] = (uint8_t)(a >> (120 - 8 * i));
}

/* A TCP side's initial sequence number, from the flow's addresses and ports. */
static uint32_t isn(const struct flow5 *f, int side)
{
	return (uint32_t)f->src * 2654435761u ^ (uint32_t)f->dst * 40503u ^ f->sport << 16 ^ f->dport ^
	       (side ? 0x9e3779b9u : 0);
}

/*
 * L4 header at @p; returns its length. @reply: the answering direction.
 * TCP numbers are a real handshake's, as the flow table checks them: a
 * SYN-ACK and an ACK acknowledge the other side's SYN (no payload).
 */
static int l4(uint8_t *p, const struct flow5 *f, int reply, int first)
{
	unsigned sp = reply ? f->dport : f->sport, dp = reply ? f->sport : f->dport;

	if (f->proto == 6) {
		uint8_t fl = first ? 0x02 : reply && f->sent == 1 ? 0x12 : 0x10;

		memset(p, 0, 20);
		put16(p, sp);
		put16(p + 2, dp);
		put32(p + 4, isn(f, reply) + !(fl & 0x02));
		if (fl & 0x10)
			put32(p + 8, isn(f, !reply) + 1);
		p[12] = 0x50;
		p[13] = fl;
		put16(p + 14, 65535);
		return 20;
	}
	if (f->proto == 17) {
		memset(p, 0, 16);
		put16(p, sp);
		put16(p + 2, dp);
		put16(p + 4, 16);
		return 16;
	}
	memset(p, 0, 8);
	p[0] = (uint8_t)(reply ? (f->type == 8 ? 0 : f->type == 128 ? 129 : f->type) : f->type);
	put16(p + 4, f->sport);
	put16(p + 6, (unsigned)f->sent);
	return 8;
}

static void write_pkt(FILE *out, const struct flow5 *f, int reply, int first, uint64_t us)
{
	uint8_t b[128];
	uint32_t hdr[4];
	int ip = f->fam == 4 ? 20 : 40, n;
	u128 s = reply ? f->dst : f->src, d = reply ? f->src : f->dst;

	memset(b, 0, sizeof(b));
	n = l4(b + ip, f, reply, first);
	if (f->fam == 4) {
		b[0] = 0x45;
		put16(b + 2, (unsigned)(ip + n));
		put16(b + 6, 0x4000);
		b[8] = 64;
		b[9] = (uint8_t)f->proto;
		put_addr(b + 12, s, 4);
		put_addr(b + 16, d, 4);
	} else {
		b[0] = 0x60;
		put16(b + 4, (unsigned)n);
		b[6] = (uint8_t)f->proto;
		b[7] = 64;
		put_addr(b + 8, s, 6);
		put_addr(b + 24, d, 6);
	}
	hdr[0] = (uint32_t)(us / 1000000); /* record headers in host order, as the magic */
	hdr[1] = (uint32_t)(us % 1000000);
	hdr[2] = hdr[3] = (uint32_t)(ip + n);
	fwrite(hdr, 1, sizeof(hdr), out);
	fwrite(b, 1, (size_t)(ip + n), out);
}

static FILE *open_pcap(const char *path)
{
	static const uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, LINKTYPE_RAW };
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(gh, 1, sizeof(gh), f) != sizeof(gh)) {
		fprintf(stderr, "gen_pcap: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

static void new_flow(struct flow5 *f, const struct tup *t, size_t nt)
{
	const struct tup *r = &t[rnd() % nt];

	aim(f, r, rnd() % 10 ? r : &t[rnd() % nt]);
}

/* Every packet opens a flow: a SYN (or first datagram) never seen before. */
static void gen_new(const char *path, const struct tup *t, size_t nt, size_t npk)
{
	FILE *out = open_pcap(path);

	for (size_t i = 0; i < npk; i++) {
		struct flow5 f;
		int tries = 0, fresh;

		do {
			new_flow(&f, t, nt);
			fresh = seen_add(&f);
		} while (!fresh && ++tries < 8);
		while (!fresh) { /* a tiny set: spread it over the source ports */
			f.sport = (f.sport + 1) & 0xffff;
			fresh = seen_add(&f);
		}
		f.sent = 0;
		write_pkt(out, &f, 0, 1, 1000000 + i);
	}
	fclose(out);
}

/* About 20 packets per flow (1-39), both directions, ACTIVE flows interleaved. */
static void gen_mix(const char *path, const struct tup *t, size_t nt, size_t npk)
{
	FILE *out = open_pcap(path);
	struct flow5 act[ACTIVE];

	for (int i = 0; i < ACTIVE; i++) {
		new_flow(&act[i], t, nt);
		act[i].left = 1 + (int)(rnd() % 39);
		act[i].sent = 0;
	}
	for (size_t i = 0; i < npk; i++) {
		struct flow5 *f = &act[rnd() % ACTIVE];
		int reply = f->sent > 0 && (rnd() & 1);

		write_pkt(out, f, reply, f->sent == 0, 1000000 + i);
		f->sent++;
		if (--f->left == 0) {
			new_flow(f, t, nt);
			f->left = 1 + (int)(rnd() % 39);
			f->sent = 0;
		}
	}
	fclose(out);
}

int main(int argc, char **argv)
{
	size_t nt, npk;
	struct tup *t;

	if (argc < 4) {
		fprintf(stderr, "usage: gen_pcap TUPLES NEW.pcap MIX.pcap [PACKETS] [SEED]\n");
		return 2;
	}
	npk = argc > 4 ? strtoul(argv[4], NULL, 0) : 1000000;
	if (argc > 5)
		rs ^= strtoull(argv[5], NULL, 0) * 0x2545F4914F6CDD1DULL;
	t = read_tuples(argv[1], &nt);
	if (!t || !nt) {
		fprintf(stderr, "gen_pcap: %s: no tuples\n", argv[1]);
		return 1;
	}
	for (seen_mask = 1; seen_mask < npk * 2; seen_mask <<= 1)
		;
	seen = calloc(seen_mask, sizeof(*seen));
	seen_mask--;
	if (!seen)
		return 1;
	gen_new(argv[2], t, nt, npk);
	gen_mix(argv[3], t, nt, npk);
	free(seen);
	free(t);
	return 0;
}
