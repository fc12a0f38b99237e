/* pkt.c - one bounds-checked parse of an IPv4/IPv6 packet into struct pkt (L3 part). */
#include <string.h>

#include "pkt.h"
#include "pkt_int.h"

#define V6_MAX_EXTHDRS 32 /* more than any sane chain; bounds the walk */

enum {
	NH_HOP = 0,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_ESP = 50,
	NH_AH = 51,
	NH_NONE = 59,
	NH_DEST = 60,
};

/* The default is replay's: a current distribution kernel's (see pkt.h). */
struct pkt_kernel pkt_kernel = { .tcp_ao = true, .mip6 = true, .auth_parse = true };

static int fail(enum ll_reason *why, enum ll_reason r)
{
	*why = r;
	return -1;
}

/* pkt_opt_next() - see pkt.h. */
const uint8_t *pkt_opt_next(const uint8_t *o, const uint8_t *end)
{
	if (o[0] == 0)
		return end;
	if (o[0] == 1)
		return o + 1;
	if (end - o < 2 || o[1] < 2 || o[1] > end - o)
		return NULL;
	return o + o[1];
}

/*
 * The kernel's own walk for authentication options (tcp_do_parse_auth_options(),
 * built with CONFIG_TCP_MD5SIG or CONFIG_TCP_AO), which tcp_inbound_hash()
 * drops the segment for when it fails, whatever the socket: it reads options
 * while 18 bytes are left (5 with TCP-AO), and fails on a length below 2 or
 * past the header's end, an MD5 option not 18 bytes long, a TCP-AO option of
 * 4 bytes or less, or a second MD5 or TCP-AO option. (tcp_parse_options()
 * only stops at a broken list.) Checked on 6.18 without TCP-AO: a decoy
 * with such options 18 bytes before the end is dropped, one later taken.
 */
static bool tcp_auth_opts_bad(const uint8_t *x, const uint8_t *end)
{
	long minlen = pkt_kernel.tcp_ao ? 5 : 18;
	bool seen = false;

	while (end - x >= minlen) {
		if (x[0] == 0)
			return false;
		if (x[0] == 1) {
			x++;
			continue;
		}
		if (x[1] < 2 || x[1] > end - x)
			return true;
		if (x[0] == 19 || x[0] == 29) {
			if (x[0] == 19 ? x[1] != 18 : x[1] <= 4)
				return true;
			if (seen)
				return true;
			seen = true;
		}
		x += x[1];
	}
	return false;
}

/* pkt_tcp_opts() - see pkt.h. */
void pkt_tcp_opts(const struct pkt *p, struct pkt_tcp_opts *o)
{
	const uint8_t *h = p->l4, *end, *next;

	memset(o, 0, sizeof(*o));
	if (!h || p->l4hlen <= 20 || p->l4hlen > p->l4len)
		return;
	end = h + p->l4hlen;
	o->auth_bad = pkt_kernel.auth_parse && tcp_auth_opts_bad(h + 20, end);
	for (const uint8_t *x = h + 20; x < end; x = next) {
		if (!(next = pkt_opt_next(x, end)))
			return;
		if (x[0] == 3 && x[1] == 3) {
			o->ws = true;
			o->shift = x[2] > 14 ? 14 : x[2];
		} else if (x[0] == 4 && x[1] == 2) {
			o->sack = true;
		} else if (x[0] == 19 && x[1] == 18) {
			o->md5 = true;
		} else if (x[0] == 29 && end - x >= 5) {
			/*
			 * TCP-AO (RFC 5925). With CONFIG_TCP_AO the kernel's
			 * tcp_do_parse_auth_options() reads options while 5
			 * bytes are left; there, kind 29 of any length is either
			 * malformed (4 or less: -EINVAL) or an AO header, which a
			 * socket without AO keys drops (tcp_inbound_ao_hash()).
			 */
			o->ao = true;
		} else if (x[0] == 8 && x[1] == 10) {
			o->ts = true;
			o->tsval = pkt_be32(x + 2);
			o->tsecr = pkt_be32(x + 6);
		} else if (x[0] == 34 || (x[0] == 254 && x[1] >= 4 && pkt_be16(x + 2) == 0xf989)) {
			o->tfo = true; /* RFC 7413's kind, or the experimental one with its magic */
		}
	}
}

/*
 * IPv4 options as ip_options_compile() reads them (pkt_opt_next()). The
 * kernel drops packets that break this after PREROUTING.
 */
static int ip4_opts_ok(const uint8_t *o, uint32_t len)
{
	const uint8_t *end = o + len;

	while (o && o < end)
		o = pkt_opt_next(o, end);
	return o != NULL;
}

static void ip4_frag(struct pkt *p, const uint8_t *d)
{
	uint16_t fo = pkt_be16(d + 6);

	p->frag_off = (uint16_t)((fo & 0x1fff) * 8);
	p->frag_more = !!(fo & 0x2000);
	p->is_frag = p->frag_more || p->frag_off;
	p->frag_first = p->is_frag && !p->frag_off;
	p->frag_id = pkt_be16(d + 4);
}

/* The fields every verdict line shows, read as soon as the fixed header is there. */
static void ip4_basics(struct pkt *p, const uint8_t *d)
{
	p->family = 4;
	p->len = pkt_be16(d + 2);
	p->ttl = d[8];
	p->proto = d[9];
	p->src = ll_ip_from_bytes(d + 12, 4);
	p->dst = ll_ip_from_bytes(d + 16, 4);
}

static int parse_ip4(struct pkt *p, const uint8_t *d, uint32_t cap, uint32_t wire,
		     enum ll_reason *why)
{
	uint32_t hlen, tot;

	if (cap < 20)
		return fail(why, R_TRUNCATED);
	ip4_basics(p, d);
	hlen = (d[0] & 0x0f) * 4u;
	/*
	 * Total length 0 above 64 KiB: a BIG TCP super-packet (Linux, GRO past
	 * 64 KiB): its length is the packet's, as the kernel's iph_totlen()
	 * takes it. Any smaller packet of length 0 is malformed.
	 */
	if (p->len == 0 && wire > 65535)
		p->len = wire;
	tot = p->len;
	if (hlen < 20)
		return fail(why, R_BAD_IHL);
	if (hlen > wire)
		return fail(why, R_BAD_IHL);
	if (tot < hlen || tot > wire)
		return fail(why, R_BAD_LENGTH);
	if (hlen > cap)
		return fail(why, R_TRUNCATED);
	if (hlen > 20 && !ip4_opts_ok(d + 20, hlen - 20))
		return fail(why, R_BAD_OPTIONS);

	p->caplen = cap < tot ? cap : tot; /* trims Ethernet padding */
	p->ipopts = hlen > 20;
	p->l3hlen = (uint16_t)hlen;
	ip4_frag(p, d);
	if (p->is_frag && !p->frag_first)
		return 0; /* no transport header here: not malformed */

	struct pkt_l4 v = { d + hlen, p->caplen - hlen, tot - hlen, 4, p->proto, p->is_frag };
	return pkt_l4_parse(p, &v, why);
}

/*
 * Hop-by-hop / destination options: every TLV must fit (ip6_parse_tlv).
 * @jumbo (may be NULL): the value of a Jumbo Payload option (0xC2, 4 bytes).
 */
static int v6_tlv_ok(const uint8_t *h, uint32_t len, uint32_t *jumbo)
{
	uint32_t i = 2;

	while (i < len) {
		if (h[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 1 >= len || h[i + 1] > len - i - 2)
			return 0;
		if (jumbo && h[i] == 0xc2 && h[i + 1] == 4)
			*jumbo = pkt_be32(h + i + 2);
		i += 2u + h[i + 1];
	}
	return 1;
}

#define V6_MAX_DST_OPTS 8 /* net.ipv6.max_dst_opts_number, its default */
#define V6_MAX_HBH_OPTS 8 /* net.ipv6.max_hbh_opts_number, its default */

/*
 * Hop-by-hop options Linux knows (ip6_parse_tlv()'s list): Router Alert,
 * whose length must be 2 (ipv6_hop_ra()); a Jumbo Payload, only in a packet
 * of payload length 0 (ipv6_hop_jumbo(); parse_ip6() checks the rest);
 * CALIPSO and IOAM, taken here as the kernel may (their own checks are
 * not followed). 1: known and fine, 0: unknown, -1: dropped.
 */
static int v6_hbh_known(const uint8_t *o, int jumbo)
{
	switch (o[0]) {
	case 0x05:
		return o[1] == 2 ? 1 : -1;
	case 0xc2:
		return jumbo ? 1 : -1;
	case 0x07:
	case 0x31:
		return 1;
	default:
		return 0;
	}
}

/*
 * A hop-by-hop (@hbh; @jumbo: payload length 0) or destination options
 * header as ip6_parse_tlv() reads it (v6_tlv_ok() checked the lengths):
 * the packet is dropped for more than 7 bytes of padding in a row, a PadN
 * whose bytes are not all zero, more than 8 other options (the sysctls'
 * defaults), a known hop-by-hop option its handler refuses, or an unknown
 * option whose type says "discard" (ip6_tlvopt_unknown()). Hop-by-hop is
 * read in ip6_rcv_core(), before netfilter: such a packet never reaches
 * the queue, nor the host; destination options after the input hook.
 */
static int v6_tlv_drop(const uint8_t *h, uint32_t len, int hbh, int jumbo)
{
	uint32_t i = 2, pad = 0, opts = 0;

	while (i < len) {
		uint32_t olen = h[i] ? 2u + h[i + 1] : 1u;

		if (h[i] <= 1) { /* Pad1, PadN */
			pad += olen;
			if (pad > 7)
				return 1;
			for (uint32_t j = 2; j < olen; j++)
				if (h[i + j])
					return 1;
		} else {
			int known = hbh ? v6_hbh_known(h + i, jumbo) : 0;

			if (++opts > (hbh ? V6_MAX_HBH_OPTS : V6_MAX_DST_OPTS) || known < 0 ||
			    (!known && (h[i] & 0xc0)))
				return 1;
			pad = 0;
		}
		i += olen;
	}
	return 0;
}

/*
 * Handled after netfilter's input hook (ip6_input_finish()), where Linux
 * drops the packet: a destination options header ip6_parse_tlv() refuses
 * (v6_destopts_drop()); a routing header on a packet to a multicast
 * address, with segments left, or of type 3 (RPL) or 4 (SRv6), both off
 * by default (ipv6_rthdr_rcv()); on a kernel with Mobile IPv6
 * (pkt_kernel.mip6), one of type 2 that the home-agent code did not put
 * there, which with no segments left is any; AH without a security
 * association.
 */
static int v6_ext_drops(uint8_t nh, const uint8_t *h, uint32_t len, int mcast)
{
	if (nh == NH_AH)
		return 1;
	if (nh == NH_ROUTING)
		return mcast || h[3] != 0 || h[2] == 3 || h[2] == 4 ||
		       (h[2] == 2 && pkt_kernel.mip6);
	return nh == NH_DEST && v6_tlv_drop(h, len, 0, 0);
}

static int v6_is_ext(uint8_t nh)
{
	return nh == NH_HOP || nh == NH_ROUTING || nh == NH_FRAGMENT || nh == NH_AH ||
	       nh == NH_DEST;
}

/* A chain problem: an error when @strict, else the walk just stops. */
static int v6_stop(struct pkt_v6chain *c, int strict, enum ll_reason r, enum ll_reason *why)
{
	c->cut = 1;
	if (strict)
		return fail(why, r);
	return 0;
}

/* Length of the extension header at @h of type @nh (2 bytes readable). */
static uint32_t v6_ext_len(uint8_t nh, const uint8_t *h)
{
	if (nh == NH_FRAGMENT)
		return 8;
	if (nh == NH_AH)
		return (h[1] + 2u) * 4;
	return (h[1] + 1u) * 8;
}

/*
 * pkt_v6_chain() - walk the extension headers of the IPv6 packet @d (@cap
 * bytes present of @tot). Stops at the upper-layer header, ESP, no-next-header
 * or the fragment header of a non-first fragment. @strict: report problems as
 * sanity reasons; else (a quoted header inside ICMPv6) stop quietly with
 * c->cut set. In a first fragment, a chain cut by the fragment's end is not
 * malformed (c->cut set).
 */
int pkt_v6_chain(const uint8_t *d, uint32_t cap, uint32_t tot, int strict, struct pkt_v6chain *c,
		 enum ll_reason *why)
{
	uint32_t off = 40, hl;
	uint8_t nh = d[6], in_frag = 0;
	int n;

	memset(c, 0, sizeof(*c));
	for (n = 0; v6_is_ext(nh); n++) {
		if (n >= V6_MAX_EXTHDRS || (nh == NH_HOP && off != 40))
			return v6_stop(c, strict, R_BAD_EXTHDR, why);
		if (off + 2 > tot) /* in a first fragment the chain goes on in the next one */
			return v6_stop(c, strict && !in_frag, R_BAD_EXTHDR, why);
		if (off + 2 > cap)
			return v6_stop(c, strict, R_TRUNCATED, why);
		hl = v6_ext_len(nh, d + off);
		if (off + hl > tot)
			return v6_stop(c, strict && !in_frag, R_BAD_EXTHDR, why);
		if (off + hl > cap)
			return v6_stop(c, strict, R_TRUNCATED, why);
		if ((nh == NH_HOP || nh == NH_DEST) && !v6_tlv_ok(d + off, hl, NULL))
			return v6_stop(c, strict, R_BAD_EXTHDR, why);
		/* dropped before netfilter: live, never queued; replay drops it too */
		if (strict && nh == NH_HOP && v6_tlv_drop(d + off, hl, 1, pkt_be16(d + 4) == 0))
			return fail(why, R_BAD_EXTHDR);
		if (v6_ext_drops(nh, d + off, hl, d[24] == 0xff))
			c->dropped = 1;
		if (nh == NH_FRAGMENT) {
			uint16_t fo = pkt_be16(d + off + 2);

			if (c->frag_off) /* a second one: the kernel would not reassemble it */
				return v6_stop(c, strict, R_BAD_EXTHDR, why);
			c->frag_off = (uint16_t)off;
			in_frag = !!(fo & 1);
			if (fo & 0xfff8) { /* non-first fragment: nothing more to read */
				c->off = off + hl;
				c->nh = d[off];
				return 0;
			}
		}
		nh = d[off];
		off += hl;
	}
	c->off = off;
	c->nh = nh;
	return 0;
}

static void ip6_frag(struct pkt *p, const uint8_t *fh)
{
	uint16_t fo = pkt_be16(fh + 2);

	p->frag_off = fo & 0xfff8;
	p->frag_more = fo & 1;
	p->frag_id = pkt_be32(fh + 4);
	/* An atomic fragment (offset 0, M=0) is no fragment for the kernel. */
	p->is_frag = p->frag_more || p->frag_off;
	p->frag_first = p->is_frag && !p->frag_off;
}

/*
 * A jumbogram's payload length (RFC 2675): payload length 0 and a Jumbo
 * Payload option (0xC2, 4 bytes, above 65535) in the hop-by-hop header, as
 * Linux BIG TCP hands the queue its GRO super-packets. 0: not one (a
 * misplaced or small option is then malformed, as for the kernel).
 */
static uint32_t v6_jumbo_len(const uint8_t *d, uint32_t cap)
{
	uint32_t hl, v = 0;

	if (pkt_be16(d + 4) != 0 || d[6] != NH_HOP || cap < 48)
		return 0;
	hl = (d[41] + 1u) * 8;
	if (40 + hl > cap || !v6_tlv_ok(d + 40, hl, &v))
		return 0;
	return v > 65535 ? v : 0;
}

static int parse_ip6(struct pkt *p, const uint8_t *d, uint32_t cap, uint32_t wire,
		     enum ll_reason *why)
{
	struct pkt_v6chain c;
	uint64_t len;
	uint32_t tot, jumbo;

	if (cap < 40)
		return fail(why, R_TRUNCATED);
	jumbo = v6_jumbo_len(d, cap);
	/*
	 * Payload length 0 above 64 KiB and no hop-by-hop header: a BIG TCP
	 * super-packet of a kernel that no longer inserts the Jumbo Payload
	 * option; its length is the packet's, as for IPv4's total length 0.
	 */
	if (!jumbo && pkt_be16(d + 4) == 0 && d[6] != NH_HOP && wire - 40 > 65535)
		jumbo = wire - 40;
	len = 40u + (uint64_t)(jumbo ? jumbo : pkt_be16(d + 4));
	tot = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	p->family = 6;
	p->len = tot;
	p->ttl = d[7];
	p->proto = d[6];
	p->src = ll_ip_from_bytes(d + 8, 6);
	p->dst = ll_ip_from_bytes(d + 24, 6);
	/*
	 * ::ffff:0:0/96 is how the engine holds IPv4: an IPv6 header naming
	 * one would be judged as IPv4 (its rules, flows, lifeline). Such an
	 * address must not appear on the wire (RFC 4291 2.5.5.2); Linux drops
	 * an IPv6 packet from one before netfilter.
	 */
	if (ll_ip_is_v4(p->src) || ll_ip_is_v4(p->dst))
		return fail(why, R_BAD_ADDR);
	if (len > wire)
		return fail(why, R_BAD_LENGTH);
	p->caplen = cap < tot ? cap : tot;
	if (pkt_v6_chain(d, p->caplen, tot, 1, &c, why) < 0)
		return -1;
	p->proto = c.nh;
	p->l3hlen = (uint16_t)c.off;
	p->v6_undelivered = c.dropped;
	if (c.frag_off) {
		p->frag_hdr_off = c.frag_off;
		ip6_frag(p, d + c.frag_off);
		if (p->is_frag && !p->frag_first)
			return 0;
	}
	if (c.cut) /* first fragment whose chain goes on in a later fragment */
		return 0;

	struct pkt_l4 v = { d + c.off, p->caplen - c.off, tot - c.off, 6, c.nh, p->is_frag };
	return pkt_l4_parse(p, &v, why);
}

/*
 * pkt_parse_wire() - parse the IP packet at @data: @caplen bytes captured of
 * @wirelen bytes that were on the wire (both counted from the IP header).
 * An IP total/payload length above @wirelen is R_BAD_LENGTH (the link
 * delivered less than the header claims); one above @caplen only is snaplen
 * truncation: the packet is judged on what is there, and R_TRUNCATED only
 * when a header the engine needs is cut. Bytes past the IP length (Ethernet
 * padding) are trimmed: p->caplen never exceeds p->len. Returns 0, or -1 with
 * *@why set; @p then holds what was read before the problem (family,
 * addresses, protocol; ports when the header held them) for the verdict line.
 * @p->dir, ifindex and ifname are kept. Never reads past @caplen.
 */
int pkt_parse_wire(struct pkt *p, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
		   enum ll_reason *why)
{
	uint8_t dir = p->dir;
	int ifindex = p->ifindex;
	const char *ifname = p->ifname;

	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->ifindex = ifindex;
	p->ifname = ifname;
	p->l3 = data;
	p->caplen = caplen;
	if (wirelen < caplen)
		wirelen = caplen;
	if (caplen < 1)
		return fail(why, R_TRUNCATED);
	switch (data[0] >> 4) {
	case 4:
		return parse_ip4(p, data, caplen, wirelen, why);
	case 6:
		return parse_ip6(p, data, caplen, wirelen, why);
	default:
		return fail(why, R_BAD_VERSION);
	}
}

/* pkt_parse() - pkt_parse_wire() for a packet seen whole: wire = caplen. */
int pkt_parse(struct pkt *p, const uint8_t *data, uint32_t caplen, enum ll_reason *why)
{
	return pkt_parse_wire(p, data, caplen, caplen, why);
}
