/* pkt_int.h - helpers shared by the packet parser's files (pkt.c, pkt_l4.c); not an API. */
#ifndef LL_PKT_INT_H
#define LL_PKT_INT_H

#include "pkt.h"

static inline uint16_t pkt_be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t pkt_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * The ones' complement sum of @n bytes at @b as 16-bit big-endian words,
 * added to @sum (an odd length pads with a zero byte); pkt_csum_fold()
 * makes it the 16-bit sum. 2^16 = 1 in this sum: a 32-bit word counts as
 * its two halves.
 */
static inline uint64_t pkt_csum_add(uint64_t sum, const uint8_t *b, uint32_t n)
{
	for (; n >= 4; b += 4, n -= 4)
		sum += pkt_be32(b);
	if (n >= 2) {
		sum += pkt_be16(b);
		b += 2, n -= 2;
	}
	if (n)
		sum += (uint64_t)b[0] << 8;
	return sum;
}

static inline uint16_t pkt_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * A transport-layer view: @cap bytes captured from @l4, @wire bytes of the
 * datagram from @l4 (>= cap), @frag set when the datagram is a first fragment
 * (its transport header may be cut by fragmentation, which is not malformed).
 */
struct pkt_l4 {
	const uint8_t *l4;
	uint32_t cap, wire;
	uint8_t family, proto, frag;
};

/* Parse TCP/UDP/ICMP/ICMPv6 into @p. 0, or -1 with *@why. */
int pkt_l4_parse(struct pkt *p, const struct pkt_l4 *v, enum ll_reason *why);

/* Walk an IPv6 extension-header chain (see pkt.c). */
struct pkt_v6chain {
	uint32_t off;     /* upper-layer header offset when done */
	uint8_t nh;       /* upper-layer protocol */
	uint16_t frag_off; /* offset of the fragment header, 0 if none */
	uint8_t cut;      /* the chain ran past the available bytes */
	uint8_t dropped;  /* a header the host's stack drops it for, after netfilter's input hook */
};
int pkt_v6_chain(const uint8_t *d, uint32_t cap, uint32_t tot, int strict, struct pkt_v6chain *c,
		 enum ll_reason *why);

#endif
