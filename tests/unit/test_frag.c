/* test_frag.c - reassembly as the kernel does it: order, duplicates, overlaps, limits, corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frag.h"
#include "helper_pcap.h"
#include "pkt.h"

#define SEC 1000000ULL

static void put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void csum4(uint8_t *h)
{
	uint32_t s = 0;

	h[10] = h[11] = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(h + 10, ~s & 0xffff);
}

/* A whole IPv4 UDP datagram, @paylen bytes of patterned payload, valid header checksum. */
static uint32_t dgram4(uint8_t *b, uint32_t paylen, uint16_t id)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	put16(b + 2, 28 + paylen);
	put16(b + 4, id);
	b[8] = 64;
	b[9] = 17;
	memcpy(b + 12, (uint8_t[]){ 192, 0, 2, 1, 198, 51, 100, 2 }, 8);
	csum4(b);
	put16(b + 20, 5353);
	put16(b + 22, 53);
	put16(b + 24, 8 + paylen);
	for (uint32_t i = 0; i < paylen; i++)
		b[28 + i] = (uint8_t)(i * 7 + id);
	return 28 + paylen;
}

/* Fragment [off, off+len) of the fragmentable part of IPv4 datagram @d. */
static uint32_t frag4(uint8_t *f, const uint8_t *d, uint32_t off, uint32_t len, int more)
{
	memcpy(f, d, 20);
	put16(f + 2, 20 + len);
	put16(f + 6, (more ? 0x2000 : 0) | off / 8);
	csum4(f);
	memcpy(f + 20, d + 20 + off, len);
	return 20 + len;
}

/* A whole IPv6 UDP datagram; with @ext, hop-by-hop and destination options first. */
static uint32_t dgram6(uint8_t *b, uint32_t paylen, int ext)
{
	uint32_t n = 40;

	memset(b, 0, 56);
	b[0] = 0x60;
	b[6] = ext ? 0 : 17;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 1;
	b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 2;
	if (ext) {
		b[40] = 60, b[42] = 1, b[43] = 4; /* HBH -> DST, PadN */
		b[48] = 17, b[50] = 1, b[51] = 4; /* DST -> UDP, PadN */
		n = 56;
	}
	put16(b + n, 546);
	put16(b + n + 2, 547);
	put16(b + n + 4, 8 + paylen);
	for (uint32_t i = 0; i < paylen; i++)
		b[n + 8 + i] = (uint8_t)(i * 13 + 1);
	put16(b + 4, n - 40 + 8 + paylen);
	return n + 8 + paylen;
}

/* Fragment of IPv6 datagram @d whose unfragmentable part is @uf bytes. */
static uint32_t frag6(uint8_t *f, const uint8_t *d, uint32_t uf, uint32_t off, uint32_t len,
		      int more, uint32_t id)
{
	uint32_t nhoff = uf == 40 ? 6 : uf - 8; /* the last header before the fragment header */

	memcpy(f, d, uf);
	f[uf] = d[nhoff];
	f[uf + 1] = 0;
	put16(f + uf + 2, off | (more ? 1 : 0));
	put16(f + uf + 4, id >> 16);
	put16(f + uf + 6, id & 0xffff);
	f[nhoff] = 44;
	memcpy(f + uf + 8, d + uf + off, len);
	put16(f + 4, uf - 40 + 8 + len);
	return uf + 8 + len;
}

/* Parse an exact heap copy of @f (@cap of @wire bytes) and hand it to frag_add. */
static void add_wire(struct frag_table *t, const uint8_t *f, uint32_t cap, uint32_t wire,
		     uint64_t now, uint64_t cookie, struct frag_result *r)
{
	uint8_t *c = malloc(cap);
	struct pkt p;
	enum ll_reason why;

	assert_non_null(c);
	memcpy(c, f, cap);
	memset(&p, 0, sizeof(p));
	if (pkt_parse_wire(&p, c, cap, wire, &why))
		fail_msg("fragment does not parse: %s", ll_reason_name(why));
	frag_add(t, &p, now, cookie, r);
	free(c); /* frag_add keeps copies */
}

static void add(struct frag_table *t, const uint8_t *f, uint32_t n, uint64_t now, uint64_t cookie,
		struct frag_result *r)
{
	add_wire(t, f, n, n, now, cookie, r);
}

static void assert_cookies(const struct frag_result *r, const uint64_t *want, uint32_t n)
{
	assert_int_equal(r->ncookies, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(r->cookies[i], want[i]);
}

static struct frag_table *table(uint64_t max_bytes)
{
	struct frag_limits lim = { max_bytes, 30 * SEC };
	struct frag_table *t = frag_new(&lim);

	assert_non_null(t);
	return t;
}

static uint8_t D[70000], F[70000];

static void test_v4_in_order(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram4(D, 1192, 7), fl;
	struct pkt p;
	enum ll_reason why;

	(void)state;
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 0, 1, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 400, 400, 1);
	add(t, F, fl, 1, 2, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 2, 3, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_int_equal(r.len, n);
	assert_int_equal(r.caplen, n);
	assert_memory_equal(r.buf, D, n); /* header rebuilt: length, offset, checksum */
	assert_cookies(&r, (uint64_t[]){ 1, 2, 3 }, 3);
	assert_int_equal(pkt_parse(&p, r.buf, r.len, &why), 0);
	assert_false(p.is_frag);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.paylen, 1192);
	frag_free(t);
}

/* The first fragment's options head the datagram; later ones carry fewer. */
static void test_v4_options_first_only(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	static uint8_t w[2000];
	uint32_t n = dgram4(D, 392, 15), fl;
	struct pkt p;
	enum ll_reason why;

	(void)state;
	/* the whole datagram with a router-alert option: IHL 6 */
	memcpy(w, D, 20);
	w[0] = 0x46;
	memcpy(w + 20, (uint8_t[]){ 148, 4, 0, 0 }, 4);
	memcpy(w + 24, D + 20, n - 20);
	put16(w + 2, n + 4);
	memcpy(F, w, 24);
	put16(F + 2, 24 + 200);
	put16(F + 6, 0x2000);
	memcpy(F + 24, w + 24, 200);
	add(t, F, 224, 0, 1, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 200, n - 20 - 200, 0); /* IHL 5 */
	add(t, F, fl, 0, 2, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_int_equal(r.len, n + 4);
	assert_int_equal(pkt_parse(&p, r.buf, r.len, &why), 0);
	assert_true(p.ipopts);
	assert_int_equal(p.l3hlen, 24);
	assert_int_equal(p.paylen, 392);
	assert_memory_equal(r.buf + 24, w + 24, n - 20);
	frag_free(t);
}

static void test_v4_out_of_order(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram4(D, 1192, 8), fl;

	(void)state;
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 30, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 0, 10, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 400, 400, 1);
	add(t, F, fl, 0, 20, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_memory_equal(r.buf, D, n);
	assert_cookies(&r, (uint64_t[]){ 30, 10, 20 }, 3); /* arrival order */
	frag_free(t);
}

static void test_v4_duplicate(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram4(D, 1192, 9), fl;

	(void)state;
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 0, 1, &r);
	fl = frag4(F, D, 400, 400, 1);
	add(t, F, fl, 0, 2, &r);
	add(t, F, fl, 0, 3, &r); /* exact duplicate: the kernel frees it, the queue lives */
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 0, 4, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 5, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_memory_equal(r.buf, D, n);
	assert_cookies(&r, (uint64_t[]){ 1, 2, 3, 4, 5 }, 5);
	frag_free(t);
}

static struct {
	int n;
	enum ll_reason why[8];
	uint64_t first[8];
	uint32_t ncookies[8];
} seen;

static void on_drop(void *arg, const struct frag_result *r)
{
	(void)arg;
	assert_int_equal(r->status, FRAG_DROPPED);
	if (seen.n < 8) {
		seen.why[seen.n] = r->why;
		seen.first[seen.n] = r->ncookies ? r->cookies[0] : 0;
		seen.ncookies[seen.n] = r->ncookies;
	}
	seen.n++;
}

static void test_v4_overlap(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t fl;

	(void)state;
	dgram4(D, 1192, 10);
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 0, 1, &r);
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 2, &r);
	fl = frag4(F, D, 392, 408, 1); /* 8 bytes over the first */
	add(t, F, fl, 0, 3, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_FRAG_OVERLAP);
	assert_cookies(&r, (uint64_t[]){ 1, 2, 3 }, 3);
	/* a later fragment of the same id starts afresh */
	fl = frag4(F, D, 400, 400, 1);
	add(t, F, fl, 0, 4, &r);
	assert_int_equal(r.status, FRAG_HELD);
	memset(&seen, 0, sizeof(seen));
	frag_expire(t, 0, 1, on_drop, NULL);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.first[0], 4);
	frag_free(t);
}

static void test_v4_too_big(void **state)
{
	struct frag_table *t = table(1 << 20);
	struct frag_result r;
	uint32_t fl;

	(void)state;
	dgram4(D, 65500, 11); /* header says 65528: only the fragment sizes matter */
	fl = frag4(F, D, 0, 65504, 1);
	add(t, F, fl, 0, 1, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 65504, 24, 0); /* 20 + 65528 > 65535 */
	add(t, F, fl, 0, 2, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_FRAG_TOO_BIG);
	assert_cookies(&r, (uint64_t[]){ 1, 2 }, 2);
	frag_free(t);
}

static void test_v6_offset_too_big(void **state)
{
	struct frag_table *t = table(1 << 20);
	struct frag_result r;
	uint32_t fl;

	(void)state;
	dgram6(D, 64, 0);
	fl = frag6(F, D, 40, 65528, 16, 0, 5); /* ends at 65544 */
	add(t, F, fl, 0, 1, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_FRAG_TOO_BIG);
	assert_cookies(&r, (uint64_t[]){ 1 }, 1);
	frag_free(t);
}

static void test_timeout(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t fl;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	dgram4(D, 1192, 12);
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 1 * SEC, 1, &r);
	fl = frag4(F, D, 400, 400, 1);
	add(t, F, fl, 20 * SEC, 2, &r); /* a later fragment does not push the timer */
	frag_expire(t, 31 * SEC - 1, 0, on_drop, NULL);
	assert_int_equal(seen.n, 0);
	frag_expire(t, 31 * SEC, 0, on_drop, NULL);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.why[0], R_FRAG_TIMEOUT);
	assert_int_equal(seen.ncookies[0], 2);
	frag_expire(t, 99 * SEC, 0, on_drop, NULL);
	assert_int_equal(seen.n, 1);

	/* met again after the timeout without an expire call: dropped, then a new queue */
	frag_set_drop_cb(t, on_drop, NULL);
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 100 * SEC, 3, &r);
	fl = frag4(F, D, 400, 400, 1);
	add(t, F, fl, 131 * SEC, 4, &r);
	assert_int_equal(r.status, FRAG_HELD);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.why[1], R_FRAG_TIMEOUT);
	assert_int_equal(seen.first[1], 3);
	/* end of capture: everything left goes */
	frag_expire(t, 0, 1, on_drop, NULL);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.first[2], 4);
	frag_free(t);
}

static void test_memory_limit(void **state)
{
	struct frag_table *t = table(3000);
	struct frag_result r;
	uint32_t fl;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	for (uint16_t id = 1; id <= 3; id++) {
		dgram4(D, 1192, id);
		fl = frag4(F, D, 0, 800, 1);
		add(t, F, fl, id, id, &r);
		assert_int_equal(r.status, FRAG_HELD);
	}
	/* no callback: the evicted oldest queue waits for frag_expire */
	frag_expire(t, 4, 0, on_drop, NULL);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.why[0], R_FRAG_LIMIT);
	assert_int_equal(seen.first[0], 1);

	frag_set_drop_cb(t, on_drop, NULL);
	dgram4(D, 1192, 4);
	fl = frag4(F, D, 0, 800, 1);
	add(t, F, fl, 5, 4, &r);
	assert_int_equal(r.status, FRAG_HELD);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.first[1], 2);

	/* one datagram alone over the bound: everything else goes, then it */
	dgram4(D, 4000, 5);
	fl = frag4(F, D, 0, 3200, 1);
	add(t, F, fl, 6, 5, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_FRAG_LIMIT);
	assert_cookies(&r, (uint64_t[]){ 5 }, 1);
	frag_free(t);
}

/*
 * The headers before an IPv6 Fragment header count against the limit too:
 * a first fragment of 8 data bytes after a 2,048-byte destination-options
 * header costs its queue 2 KB, not 8 bytes (3,000 such queues once held
 * 371 MB past a 4 MiB limit).
 */
static void test_memory_limit_headers(void **state)
{
	struct frag_table *t = table(6000);
	struct frag_result r;
	uint32_t uf = 40 + 2048, fl;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	frag_set_drop_cb(t, on_drop, NULL);
	for (uint16_t id = 1; id <= 3; id++) {
		memset(D, 0, uf + 16);
		D[0] = 0x60, D[6] = 60, D[7] = 64; /* -> DST: all Pad1 options, then UDP */
		D[8] = 0x20, D[9] = 0x01, D[10] = 0x0d, D[11] = 0xb8, D[23] = 1;
		D[24] = 0x20, D[25] = 0x01, D[26] = 0x0d, D[27] = 0xb8, D[39] = 2;
		D[40] = 17, D[41] = 2048 / 8 - 1;
		put16(D + uf, 546);
		put16(D + uf + 2, 547);
		put16(D + uf + 4, 8 + 100);
		fl = frag6(F, D, uf, 0, 8, 1, id);
		F[uf - 8] = 0, F[40] = 44, F[uf] = 17; /* frag6() takes the last header to be 8 bytes */
		add(t, F, fl, id, id, &r);
		assert_int_equal(r.status, FRAG_HELD);
	}
	/* two queues of ~2.4 KB fit in 6,000 bytes; the third evicts the oldest */
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.why[0], R_FRAG_LIMIT);
	assert_int_equal(seen.first[0], 1);
	frag_free(t);
}

/* Parse @n bytes at @f as a packet (a fragment stays one: no table here). */
static void parse(struct pkt *p, const uint8_t *f, uint32_t n)
{
	enum ll_reason why;

	memset(p, 0, sizeof(*p));
	if (pkt_parse(p, f, n, &why))
		fail_msg("does not parse: %s", ll_reason_name(why));
}

/*
 * RFC 8200 4.5, as Linux's defrag applies it (ipv6frag_thdr_truncated()): a
 * first fragment must hold every header through the upper-layer one, or it
 * is not reassembled (and the pipeline drops it as bad-frag).
 */
static void test_v6_first_fragment_headers(void **state)
{
	struct pkt p;
	uint32_t fl;

	(void)state;
	dgram6(D, 200, 0); /* UDP */
	fl = frag6(F, D, 40, 0, 8, 1, 7); /* the whole UDP header */
	parse(&p, F, fl);
	assert_true(p.is_frag);
	assert_false(frag_v6_thdr_truncated(&p));
	D[6] = 6, D[40 + 12] = 0x50; /* the same bytes called TCP (offset 5): 8 of its 20 header bytes */
	fl = frag6(F, D, 40, 0, 8, 1, 7);
	parse(&p, F, fl);
	assert_true(frag_v6_thdr_truncated(&p));
	fl = frag6(F, D, 40, 0, 24, 1, 7); /* 24: all 20 */
	parse(&p, F, fl);
	assert_false(frag_v6_thdr_truncated(&p));
	fl = frag6(F, D, 40, 8, 8, 1, 7); /* a later fragment is never the one */
	parse(&p, F, fl);
	assert_false(frag_v6_thdr_truncated(&p));
	/* headers after the fragment header count: HBH, FRAG, then DST (8) and UDP in the data */
	dgram6(D, 200, 1);
	fl = frag6(F, D, 48, 0, 8, 1, 7); /* the DST header alone */
	parse(&p, F, fl);
	assert_true(frag_v6_thdr_truncated(&p));
	fl = frag6(F, D, 48, 0, 16, 1, 7); /* DST, then UDP's 8 */
	parse(&p, F, fl);
	assert_false(frag_v6_thdr_truncated(&p));
}

static void test_v6_ext_before_frag(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram6(D, 1000, 1), fl;
	struct pkt p;
	enum ll_reason why;

	(void)state;
	fl = frag6(F, D, 56, 504, 504, 0, 0x11223344);
	add(t, F, fl, 0, 2, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag6(F, D, 56, 0, 504, 1, 0x11223344);
	add(t, F, fl, 0, 1, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.buf, D, n); /* fragment header gone, DST names UDP again */
	assert_int_equal(pkt_parse(&p, r.buf, r.len, &why), 0);
	assert_false(p.is_frag);
	assert_int_equal(p.frag_hdr_off, 0);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.l3hlen, 56);
	assert_int_equal(p.sport, 546);
	assert_int_equal(p.paylen, 1000);
	frag_free(t);
}

static void test_v6_atomic(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram6(D, 20, 0), fl;

	(void)state;
	fl = frag6(F, D, 40, 0, n - 40, 0, 99);
	add(t, F, fl, 0, 7, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.buf, D, n);
	assert_cookies(&r, (uint64_t[]){ 7 }, 1);
	frag_free(t);
}

static void test_bad_fragments(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram4(D, 1192, 13), fl;

	(void)state;
	fl = frag4(F, D, 0, 4, 1); /* trimmed to a multiple of 8: nothing left */
	add(t, F, fl, 0, 1, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_BAD_FRAG);
	assert_cookies(&r, (uint64_t[]){ 1 }, 1);
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 2, &r);
	fl = frag4(F, D, 800, 408, 1); /* past the last fragment: ip_frag_queue() kills the queue */
	add(t, F, fl, 0, 3, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_BAD_FRAG);
	assert_cookies(&r, (uint64_t[]){ 2, 3 }, 2);
	fl = frag4(F, D, 0, 800, 1); /* a new queue: the last fragment went with the old one */
	add(t, F, fl, 0, 4, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 5, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_memory_equal(r.buf, D, n);
	assert_cookies(&r, (uint64_t[]){ 4, 5 }, 2);

	/*
	 * A decoy first fragment, a zero-length one (the kernel kills the queue),
	 * the real first fragment (the start of a new queue, not a duplicate),
	 * the last: the datagram is the real one.
	 */
	n = dgram4(D, 1192, 15);
	fl = frag4(F, D, 0, 800, 1);
	F[20 + 100] ^= 0xff; /* the decoy's bytes differ */
	add(t, F, fl, 0, 6, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 800, 0, 1);
	add(t, F, fl, 0, 7, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_cookies(&r, (uint64_t[]){ 6, 7 }, 2);
	fl = frag4(F, D, 0, 800, 1);
	add(t, F, fl, 0, 8, &r);
	assert_int_equal(r.status, FRAG_HELD);
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 9, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_memory_equal(r.buf, D, n);
	assert_cookies(&r, (uint64_t[]){ 8, 9 }, 2);

	/* IPv6: a non-last fragment not a multiple of 8 kills the queue */
	dgram6(D, 1000, 0);
	fl = frag6(F, D, 40, 0, 504, 1, 3);
	add(t, F, fl, 0, 5, &r);
	fl = frag6(F, D, 40, 504, 100, 1, 3);
	add(t, F, fl, 0, 6, &r);
	assert_int_equal(r.status, FRAG_DROPPED);
	assert_int_equal(r.why, R_BAD_FRAG);
	assert_cookies(&r, (uint64_t[]){ 5, 6 }, 2);
	frag_free(t);
}

static void test_snaplen_cut_fragment(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t n = dgram4(D, 1192, 14), fl;
	struct pkt p;
	enum ll_reason why;

	(void)state;
	fl = frag4(F, D, 0, 400, 1);
	add(t, F, fl, 0, 1, &r);
	fl = frag4(F, D, 400, 400, 1);
	add_wire(t, F, 120, fl, 0, 2, &r); /* 100 of 400 bytes captured */
	fl = frag4(F, D, 800, 400, 0);
	add(t, F, fl, 0, 3, &r);
	assert_int_equal(r.status, FRAG_DONE);
	assert_int_equal(r.len, n);
	assert_int_equal(r.caplen, 20 + 400 + 100);
	assert_memory_equal(r.buf, D, r.caplen);
	assert_int_equal(pkt_parse_wire(&p, r.buf, r.caplen, r.len, &why), 0);
	assert_int_equal(p.dport, 53);
	frag_free(t);
}

/*
 * Random datagrams cut at random 8-byte boundaries, sent in random order with
 * random exact duplicates: each comes back whole, byte for byte, on its last
 * missing piece.
 */
static void test_random_orders(void **state)
{
	struct frag_table *t = table(4 << 20);
	struct frag_result r;
	uint32_t x = 99, cuts[64], order[128];

	(void)state;
	for (int round = 0; round < 300; round++) {
		int v6 = round & 1, ncut = 0, nord = 0, distinct = 0;
		uint32_t n, plen, uf, done = 0;
		uint64_t seenmask[2] = { 0, 0 };

		x = x * 1103515245 + 12345;
		plen = 100 + (x >> 8) % 6000;
		n = v6 ? dgram6(D, plen, round & 2) : dgram4(D, plen, (uint16_t)round);
		uf = v6 ? (round & 2 ? 56 : 40) : 20;
		for (uint32_t off = 0; off < n - uf; ncut++) {
			cuts[ncut] = off;
			x = x * 1103515245 + 12345;
			off += 8 * (1 + (x >> 8) % 200);
			if (ncut == 62)
				off = n - uf;
		}
		cuts[ncut] = n - uf;
		if (ncut < 2) /* one piece is no fragment */
			continue;
		for (int i = 0; i < ncut; i++) {
			order[nord++] = (uint32_t)i;
			x = x * 1103515245 + 12345;
			if ((x >> 8) % 4 == 0)
				order[nord++] = (uint32_t)i; /* a duplicate */
		}
		for (int i = nord - 1; i > 0; i--) {
			uint32_t k, tmp;

			x = x * 1103515245 + 12345;
			k = (x >> 8) % (uint32_t)(i + 1);
			tmp = order[i], order[i] = order[k], order[k] = tmp;
		}
		for (int i = 0; i < nord; i++) {
			uint32_t a = cuts[order[i]], b = cuts[order[i] + 1], fl;
			int more = (int)order[i] != ncut - 1;

			if (!(seenmask[order[i] / 64] >> (order[i] % 64) & 1)) {
				seenmask[order[i] / 64] |= 1ULL << (order[i] % 64);
				distinct++;
			}

			fl = v6 ? frag6(F, D, uf, a, b - a, more, (uint32_t)round)
				: frag4(F, D, a, b - a, more);
			add(t, F, fl, 0, (uint64_t)i, &r);
			if (r.status == FRAG_DONE) {
				assert_int_equal(r.len, n);
				assert_memory_equal(r.buf, D, n);
				/* first on the last missing piece; again only if duplicates
				 * arriving after it make a second whole copy, as in the kernel */
				if (!done)
					assert_int_equal(distinct, ncut);
				done++;
			} else if (r.status != FRAG_HELD) {
				fail_msg("round %d piece %d (%u..%u of %u): %s", round, i, a, b,
					 n - uf, ll_reason_name(r.why));
			}
		}
		assert_true(done >= 1);
	}
	frag_free(t);
}

/* Many interleaved datagrams: every one completes; per-fragment cost stays flat. */
static void test_many_queues(void **state)
{
	struct frag_table *t = table(64 << 20);
	struct frag_result r;
	uint32_t done = 0, fl;
	static uint8_t d[3][300];

	(void)state;
	for (uint32_t i = 0; i < 40000; i++) {
		dgram4(d[0], 272, (uint16_t)i);
		d[0][12] = (uint8_t)(i >> 16); /* many sources too */
		csum4(d[0]);
		fl = frag4(F, d[0], 0, 144, 1);
		add(t, F, fl, i, 2 * i, &r);
		assert_int_equal(r.status, FRAG_HELD);
	}
	for (uint32_t i = 0; i < 40000; i++) {
		dgram4(d[0], 272, (uint16_t)i);
		d[0][12] = (uint8_t)(i >> 16);
		csum4(d[0]);
		fl = frag4(F, d[0], 144, 136, 0);
		add(t, F, fl, 40000 + i, 2 * i + 1, &r);
		done += r.status == FRAG_DONE && !memcmp(r.buf, d[0], 300);
	}
	assert_int_equal(done, 40000);
	frag_free(t);
}

/* ---- the shared pcap corpus (skipped when absent) ---- */

struct fwalk {
	struct frag_table *t;
	char log[4096];
};

static void logf_(struct fwalk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct fwalk *w, const char *fmt, ...)
{
	size_t n = strlen(w->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->log + n, sizeof(w->log) - n, fmt, ap);
	va_end(ap);
}

/* "FRAME:done:LEN:COOKIES:pPROTO:SPORT>DPORT;" or "FRAME:REASON:COOKIES;" */
static void log_res(struct fwalk *w, const char *at, const struct frag_result *r)
{
	struct pkt p;
	enum ll_reason why;

	if (r->status == FRAG_HELD)
		return;
	if (r->status == FRAG_DONE)
		logf_(w, "%s:done:%u:", at, r->len);
	else
		logf_(w, "%s:%s:", at, ll_reason_name(r->why));
	for (uint32_t i = 0; i < r->ncookies; i++)
		logf_(w, "%s%llu", i ? "," : "", (unsigned long long)r->cookies[i]);
	if (r->status == FRAG_DONE) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(pkt_parse_wire(&p, r->buf, r->caplen, r->len, &why), 0);
		assert_false(p.is_frag);
		logf_(w, ":p%u:%u>%u", p.proto, p.sport, p.dport);
	}
	logf_(w, ";");
}

static void on_end(void *arg, const struct frag_result *r)
{
	log_res(arg, "end", r);
}

static void on_cb(void *arg, const struct frag_result *r)
{
	log_res(arg, "cb", r);
}

static int feed(void *arg, const struct hp_frame *f)
{
	struct fwalk *w = arg;
	struct frag_result r;
	struct pkt p;
	enum ll_reason why;
	char at[16];
	uint8_t *c;

	if (!f->l3)
		return 0;
	c = malloc(f->caplen ? f->caplen : 1);
	assert_non_null(c);
	memcpy(c, f->l3, f->caplen);
	memset(&p, 0, sizeof(p));
	if (pkt_parse_wire(&p, c, f->caplen, f->wirelen, &why) == 0 &&
	    (p.is_frag || p.frag_hdr_off)) {
		frag_add(w->t, &p, f->ts_us, f->n, &r);
		snprintf(at, sizeof(at), "%u", f->n);
		log_res(w, at, &r);
	}
	free(c);
	return 0;
}

/* What the kernel's defrag makes of each capture (tshark agrees where noted). */
static const struct {
	const char *file, *want;
} frag_corpus[] = {
	/* tshark: reassembled TCP length 40, SYN 12345 -> 80 */
	{ "frag/zk__fragmented-syn.pcap", "2:done:60:1,2:p6:12345>80;" },
	/* tshark: reassembled 1408, echo id 0x13c2 */
	{ "frag/sv__ipv4frags.pcap", "2:done:1428:1,2:p1:5058>5058;" },
	/* tshark: reassembled 1208, echo id 0xface; frame 8 repeats frame 6 */
	{ "frag/sv__frag-1.pcap", "9:done:1248:5,6,8,9:p58:64206>64206;" },
	/* frame 8 (offset 680) overlaps frame 7 (408..816): the datagram is dropped */
	{ "frag/sv__frag-7.pcap", "8:frag-overlap:6,7,8;" },
	/* frame 5 (24..72) overlaps frame 3 (48..72): dropped (tshark would overlay it) */
	{ "frag/zk__fragmented-4.pcap", "5:frag-overlap:2,3,4,5;" },
	/*
	 * Frame 1 carries 18 bytes with MF: trimmed to 16, a hole is left at
	 * 16..48; frame 3 (0..304, MF) reaches past the last fragment's end (164):
	 * ip_frag_queue() drops the whole queue with it (discard_qp). (tshark
	 * "reassembles" a malformed 164-byte datagram at frame 3.)
	 */
	{ "frag/zk__fragmented-1.pcap", "3:bad-frag:1,2,3;" },
	/* same hole; frame 3 repeats frame 1 */
	{ "frag/zk__fragmented-2.pcap", "end:frag-timeout:1,2,3;" },
	/* five fragments, all with MF: never complete */
	{ "frag/zk__fragmented-3.pcap", "end:frag-timeout:1,2,3,4,5;" },
	/* tshark: reassembled UDP length 3238 at frame 8; frame 4's first part is not captured */
	{ "frag/zk__ipv6-fragmented-dns.pcap", "8:done:3278:6,7,8:p17:53>51851;end:frag-timeout:4;" },
	/* atomic fragments pass at once, without their fragment header */
	{ "frag/zk__ipv6-http-atomic-frag.pcap",
	  "13:done:60:13:p6:59694>80;15:done:60:15:p6:59694>80;16:done:75:16:p6:59694>80;"
	  "20:done:60:20:p6:59694>80;21:done:60:21:p6:59694>80;" },
	/* malformed: no fragment gets as far as reassembly */
	{ "frag/td__ip6_frag_asan.pcap", "" },
	{ "frag/td__ipv6_frag6_negative_len.pcap", "" },
};

static void test_corpus_frag(void **state)
{
	(void)state;
	if (!hp_corpus()) {
		print_message("SKIP: no pcap corpus ($LL_SHARED or $LL_ROOT/../shared absent)\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(frag_corpus) / sizeof(frag_corpus[0]); i++) {
		struct fwalk w = { table(4 << 20), "" };

		frag_set_drop_cb(w.t, on_cb, &w);
		if (hp_each(hp_path(frag_corpus[i].file), feed, &w) < 0)
			fail_msg("cannot read %s", frag_corpus[i].file);
		frag_expire(w.t, 0, 1, on_end, &w);
		if (strcmp(w.log, frag_corpus[i].want))
			fail_msg("%s:\n  got  %s\n  want %s", frag_corpus[i].file, w.log,
				 frag_corpus[i].want);
		frag_free(w.t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_in_order),
		cmocka_unit_test(test_v4_options_first_only),
		cmocka_unit_test(test_v4_out_of_order),
		cmocka_unit_test(test_v4_duplicate),
		cmocka_unit_test(test_v4_overlap),
		cmocka_unit_test(test_v4_too_big),
		cmocka_unit_test(test_v6_offset_too_big),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_memory_limit),
		cmocka_unit_test(test_memory_limit_headers),
		cmocka_unit_test(test_v6_first_fragment_headers),
		cmocka_unit_test(test_v6_ext_before_frag),
		cmocka_unit_test(test_v6_atomic),
		cmocka_unit_test(test_bad_fragments),
		cmocka_unit_test(test_snaplen_cut_fragment),
		cmocka_unit_test(test_random_orders),
		cmocka_unit_test(test_many_queues),
		cmocka_unit_test(test_corpus_frag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
