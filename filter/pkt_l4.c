/* pkt_l4.c - transport headers (TCP, UDP, ICMP, ICMPv6) and the IP header quoted in ICMP errors. */
#include <string.h>

#include "pkt.h"
#include "pkt_int.h"

static int fail(enum ll_reason *why, enum ll_reason r)
{
	*why = r;
	return -1;
}

/*
 * The header must be whole in the datagram and in the capture. A first
 * fragment whose header is cut by fragmentation is fine: l4_ok stays 0 and
 * the verdict waits for reassembly. Returns 1 present, 0 cut (fragment), -1.
 */
static int need_n(const struct pkt_l4 *v, uint32_t n, uint32_t capn, enum ll_reason *why)
{
	if (v->wire < n) {
		if (v->frag)
			return 0;
		return fail(why, R_TRUNCATED);
	}
	if (v->cap < capn)
		return fail(why, R_TRUNCATED);
	return 1;
}

static int need(const struct pkt_l4 *v, uint32_t n, enum ll_reason *why)
{
	return need_n(v, n, n, why);
}

static void set_payload(struct pkt *p, const struct pkt_l4 *v, uint32_t hlen, uint32_t end)
{
	if (end > v->cap)
		end = v->cap;
	if (hlen < end) {
		p->payload = v->l4 + hlen;
		p->paylen = end - hlen;
	}
}

/*
 * TCP: the 20-byte fixed header is needed (ports, flags, seq, ack). Options
 * cut by the capture's snap length are tolerated (the payload is then empty);
 * a data offset < 5 or past the segment is malformed.
 */
static int parse_tcp(struct pkt *p, const struct pkt_l4 *v, enum ll_reason *why)
{
	const uint8_t *t = v->l4;
	uint32_t doff;
	int r = need(v, 20, why);

	if (r <= 0)
		return r;
	p->sport = pkt_be16(t);
	p->dport = pkt_be16(t + 2);
	doff = (t[12] >> 4) * 4u;
	if (doff < 20 || (!v->frag && doff > v->wire))
		return fail(why, R_BAD_TCP_OFFSET);
	p->tcp_seq = pkt_be32(t + 4);
	p->tcp_ack = pkt_be32(t + 8);
	p->tcp_flags = t[13];
	p->tcp_win = pkt_be16(t + 14);
	p->tcp_urp = pkt_be16(t + 18);
	p->l4_ok = 1;
	p->l4hlen = (uint16_t)doff;
	set_payload(p, v, doff, v->wire);
	return 0;
}

/* UDP: the length field must cover the header and stay inside the datagram. */
static int parse_udp(struct pkt *p, const struct pkt_l4 *v, enum ll_reason *why)
{
	const uint8_t *u = v->l4;
	uint32_t ulen;
	int r = need(v, 8, why);

	if (r <= 0)
		return r;
	p->sport = pkt_be16(u);
	p->dport = pkt_be16(u + 2);
	ulen = pkt_be16(u + 4);
	if (!v->frag && (ulen < 8 || ulen > v->wire))
		return fail(why, R_BAD_UDP_LENGTH);
	p->l4_ok = 1;
	p->l4hlen = 8;
	set_payload(p, v, 8, v->frag ? v->wire : ulen);
	return 0;
}

static int icmp_is_echo(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == 8 || type == 0;
	return type == 128 || type == 129;
}

/* Ports (or ICMP id) of the quoted transport header, when they were quoted. */
static void inner_ports(struct pkt_inner *in, const uint8_t *t, uint32_t n)
{
	if (pkt_proto_has_ports(in->proto)) {
		if (n < 4)
			return;
		in->sport = pkt_be16(t);
		in->dport = pkt_be16(t + 2);
		in->has_ports = 1;
		return;
	}
	if (in->proto == IPPROTO_ICMP_ || in->proto == IPPROTO_ICMPV6_) {
		if (n >= 2) {
			in->icmp_type = t[0];
			in->icmp_code = t[1];
		}
		if (n >= 6 && icmp_is_echo(in->family, t[0])) {
			in->sport = pkt_be16(t + 4);
			in->has_ports = 1;
		}
	}
}

static void inner_ip4(struct pkt_inner *in, const uint8_t *q, uint32_t n)
{
	uint32_t hlen = (q[0] & 0x0f) * 4u;

	if (n < 20 || (q[0] >> 4) != 4 || hlen < 20)
		return;
	in->present = 1;
	in->family = 4;
	in->proto = q[9];
	in->src = ll_ip_from_bytes(q + 12, 4);
	in->dst = ll_ip_from_bytes(q + 16, 4);
	if (pkt_be16(q + 6) & 0x1fff) /* a non-first fragment quotes no ports */
		return;
	if (hlen < n)
		inner_ports(in, q + hlen, n - hlen);
}

static void inner_ip6(struct pkt_inner *in, const uint8_t *q, uint32_t n)
{
	struct pkt_v6chain c;
	enum ll_reason why;
	ll_ip s, d;

	if (n < 40 || (q[0] >> 4) != 6)
		return;
	s = ll_ip_from_bytes(q + 8, 6);
	d = ll_ip_from_bytes(q + 24, 6);
	if (ll_ip_is_v4(s) || ll_ip_is_v4(d)) /* no IPv6 packet the host sent or got: quotes nothing */
		return;
	in->present = 1;
	in->family = 6;
	in->src = s;
	in->dst = d;
	/* The quote is usually shorter than its payload length says. */
	pkt_v6_chain(q, n, 0xffff + 40u, 0, &c, &why);
	if (c.cut) {
		in->proto = q[6];
		return;
	}
	in->proto = c.nh;
	if (c.frag_off && (pkt_be16(q + c.frag_off + 2) & 0xfff8))
		return;
	if (c.off < n)
		inner_ports(in, q + c.off, n - c.off);
}

/*
 * Where an ICMPv4 message's payload starts, as Suricata's decoder has it:
 * 8, 20 for a timestamp or its reply, 8 plus the addresses for a router
 * advertisement - when the @len bytes of the message on the wire hold that
 * much, else 8. @h has @cap >= 4 bytes captured.
 */
static uint32_t icmpv4_hlen(const uint8_t *h, uint32_t cap, uint32_t len)
{
	uint32_t extra = h[0] == 13 || h[0] == 14 ? 12 :
			 h[0] == 9 && cap >= 6 ? (uint32_t)h[4] * h[5] * 4u : 0;

	return len >= 8 + extra ? 8 + extra : 8;
}

/*
 * ICMP/ICMPv6: the 8-byte header must be in the datagram; type and code
 * (4 bytes) must be captured, and for echo the identifier (bytes 4-5), which
 * goes into sport and dport so that flows key on it. Errors quote the
 * offending IP header + 8 bytes after the ICMP header: a short quote is
 * normal, we fill what is there.
 */
static int parse_icmp(struct pkt *p, const struct pkt_l4 *v, enum ll_reason *why)
{
	const uint8_t *h = v->l4;
	int r = need_n(v, 8, 4, why); /* 8 bytes on the wire, as icmp_rcv() pulls */

	if (r <= 0)
		return r;
	p->icmp_type = h[0];
	p->icmp_code = h[1];
	if (icmp_is_echo(v->family, h[0])) {
		/* the 8-byte header on the wire; its id (bytes 4-5) captured */
		if ((r = need_n(v, 8, 6, why)) <= 0)
			return r;
		p->sport = p->dport = pkt_be16(h + 4);
	}
	p->l4_ok = 1;
	p->l4hlen = (uint16_t)(v->family == 4 ? icmpv4_hlen(h, v->cap, v->wire) : 8);
	set_payload(p, v, p->l4hlen, v->wire);
	if (v->frag || !pkt_icmp_type_is_error(v->family == 4 ? 1 : 58, h[0]) || v->cap <= 8)
		return 0;
	if (v->family == 4)
		inner_ip4(&p->inner, h + 8, v->cap - 8);
	else
		inner_ip6(&p->inner, h + 8, v->cap - 8);
	return 0;
}

/*
 * pkt_l4_parse() - the transport part of pkt_parse(). Protocols we do not
 * parse (ESP, GRE, no-next-header, ...) need nothing more: l4_ok = 1 (0 in
 * a first fragment, which waits for reassembly) and the whole rest is
 * payload.
 */
int pkt_l4_parse(struct pkt *p, const struct pkt_l4 *v, enum ll_reason *why)
{
	p->l4 = v->l4;
	p->l4len = v->cap;
	switch (v->proto) {
	case IPPROTO_TCP_:
		return parse_tcp(p, v, why);
	case IPPROTO_UDP_:
		return parse_udp(p, v, why);
	case IPPROTO_ICMP_:
		if (v->family == 4)
			return parse_icmp(p, v, why);
		break;
	case IPPROTO_ICMPV6_:
		if (v->family == 6)
			return parse_icmp(p, v, why);
		break;
	}
	p->l4_ok = !v->frag;
	/* SCTP, DCCP and UDP-Lite start with the two ports too: flows keep them apart, as conntrack does */
	if (pkt_proto_has_ports(v->proto) && p->l4_ok && v->cap >= 4) {
		p->sport = (uint16_t)(v->l4[0] << 8 | v->l4[1]);
		p->dport = (uint16_t)(v->l4[2] << 8 | v->l4[3]);
	}
	set_payload(p, v, 0, v->wire);
	return 0;
}

/*
 * The checksum of @p checked: 1 right, 0 wrong, -1 cannot tell; @partial:
 * also take a pseudo-header sum. A UDP datagram is its length field's
 * bytes: Linux trims the packet to it before it sums them, with that
 * length in the pseudo-header (__udp4_lib_rcv(), __udp6_lib_rcv(); so does
 * dhclient on its packet socket). Summed to the IP length, bytes past it
 * decided: a DHCP reply right only with them was taken (learned), one
 * right without them refused.
 */
static int l4_csum(const struct pkt *p, bool partial)
{
	uint32_t seg = p->len - p->l3hlen;
	uint64_t sum;
	uint16_t field;

	if ((p->proto != 6 && p->proto != 17) || !p->l4_ok || p->is_frag || p->len < p->l3hlen ||
	    p->l4len != seg || p->l4 != p->l3 + p->l3hlen)
		return -1;
	if (p->proto == 17) {
		uint32_t ulen = pkt_be16(p->l4 + 4);

		if (ulen < 8 || ulen > seg)
			return -1; /* parse_udp() refused it, or a jumbogram's 0 */
		seg = ulen;
	}
	field = pkt_be16(p->l4 + (p->proto == 6 ? 16 : 6));
	/*
	 * UDP checksum 0: over IPv4, none; over IPv6 none is allowed (RFC 8200
	 * 8.1) and Linux drops it unless the socket opted in (a tunnel's,
	 * UDP_NO_CHECK6_RX; udp6_csum_zero_error()). A datagram whose right
	 * checksum is 0xffff would pass the sum below with a 0 as well.
	 */
	if (p->proto == 17 && field == 0)
		return p->family == 4 ? -1 : 0;
	/* the pseudo-header: addresses, length, protocol */
	sum = p->family == 4 ? pkt_csum_add(0, p->l3 + 12, 8) : pkt_csum_add(0, p->l3 + 8, 32);
	sum += seg + p->proto;
	/* a local sender's unfilled one (CHECKSUM_PARTIAL: a veth or VM peer) holds that sum */
	if (partial && field == pkt_csum_fold(sum))
		return 1;
	return pkt_csum_fold(pkt_csum_add(sum, p->l4, seg)) == 0xffff;
}

/* pkt_l4_csum_ok() - see pkt.h. */
bool pkt_l4_csum_ok(const struct pkt *p)
{
	return l4_csum(p, false) != 0;
}

/* pkt_l4_csum_taken() - see pkt.h. */
bool pkt_l4_csum_taken(const struct pkt *p)
{
	return l4_csum(p, true) != 0;
}
