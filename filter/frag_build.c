/* frag_build.c - write a reassembled datagram with the header a whole packet would have. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frag_int.h"
#include "pkt_int.h"

static int out_reserve(struct frag_out *o, uint32_t n)
{
	uint8_t *b;

	if (n <= o->cap)
		return 0;
	b = realloc(o->buf, n);
	if (!b)
		return -ENOMEM;
	o->buf = b;
	o->cap = n;
	return 0;
}

static void ip4_csum(uint8_t *h, uint32_t hlen)
{
	uint16_t s;

	h[10] = h[11] = 0;
	s = (uint16_t)~pkt_csum_fold(pkt_csum_add(0, h, hlen));
	h[10] = (uint8_t)(s >> 8);
	h[11] = (uint8_t)s;
}

static void put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

uint32_t frag_v6_nh_off(const uint8_t *h, uint32_t fh)
{
	uint32_t off = 40, nhoff = 6;
	uint8_t nh = h[6];

	while (off + 2 <= fh) {
		nhoff = off;
		off += nh == 51 ? (h[off + 1] + 2u) * 4 : (h[off + 1] + 1u) * 8;
		nh = h[nhoff];
	}
	return nhoff;
}

/*
 * Write the unfragmentable part @hdr with the header fields of a whole
 * datagram of @datalen fragmentable bytes: IPv4 total length, no MF, offset 0,
 * fresh checksum; IPv6 payload length and the fragment header unlinked.
 */
static void fix_header(uint8_t *o, uint8_t family, uint32_t hdrlen, uint32_t datalen,
		       uint32_t nh_off, uint8_t nexthdr)
{
	if (family == 4) {
		put16(o + 2, hdrlen + datalen);
		o[6] &= 0x40; /* keep DF, clear MF and the offset */
		o[7] = 0;
		ip4_csum(o, hdrlen);
		return;
	}
	put16(o + 4, hdrlen - 40 + datalen);
	o[nh_off] = nexthdr;
}

int frag_too_big(uint8_t family, uint32_t hdrlen, uint32_t datalen)
{
	return (family == 4 ? hdrlen : hdrlen - 40) + datalen > FRAG_MAXLEN;
}

/*
 * frag_build() - the datagram of a complete queue: the offset-0 fragment's
 * unfragmentable part, then every piece in order. Bytes a snaplen cut off
 * are zeros; res->caplen stops before the first of them.
 */
int frag_build(struct frag_out *o, const struct fq *q, struct frag_result *res)
{
	uint32_t pos = q->hdrlen, cap = q->hdrlen, gap = 0;

	if (out_reserve(o, q->hdrlen + q->len) < 0)
		return -ENOMEM;
	memcpy(o->buf, q->hdr, q->hdrlen);
	for (uint32_t i = 0; i < q->npc; i++) {
		const struct piece *pc = &q->pc[i];

		memcpy(o->buf + pos, pc->data, pc->have);
		memset(o->buf + pos + pc->have, 0, pc->end - pc->off - pc->have);
		pos += pc->end - pc->off;
		if (!gap)
			cap += pc->have;
		gap |= pc->have < pc->end - pc->off;
	}
	fix_header(o->buf, q->family, q->hdrlen, q->len, q->nh_off, q->nexthdr);
	res->status = FRAG_DONE;
	res->buf = o->buf;
	res->len = pos;
	res->caplen = cap;
	res->cookies = q->ck;
	res->ncookies = q->nck;
	return 0;
}

/*
 * frag_build_whole() - a packet that needs no reassembly, copied as it is;
 * an IPv6 atomic fragment (offset 0, M=0) loses its fragment header, as the
 * kernel treats it as the whole datagram it is.
 */
int frag_build_whole(struct frag_out *o, const struct pkt *p, struct frag_result *res)
{
	uint32_t fh = p->family == 6 ? p->frag_hdr_off : 0, skip = fh ? 8 : 0;
	const uint8_t *l3 = p->l3;

	if (out_reserve(o, p->len) < 0)
		return -ENOMEM;
	if (!fh) {
		memcpy(o->buf, l3, p->caplen);
	} else {
		memcpy(o->buf, l3, fh);
		memcpy(o->buf + fh, l3 + fh + 8, p->caplen - fh - 8);
		fix_header(o->buf, 6, fh, p->len - fh - 8, frag_v6_nh_off(l3, fh), l3[fh]);
	}
	memset(o->buf + p->caplen - skip, 0, p->len - p->caplen);
	res->status = FRAG_DONE;
	res->buf = o->buf;
	res->len = p->len - skip;
	res->caplen = p->caplen - skip;
	return 0;
}
