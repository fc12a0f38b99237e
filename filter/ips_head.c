/*
 * ips_head.c - rule header tests on the packet alone: protocol, addresses,
 * ports, flags, ICMP ids, IP and TCP options, header buffers.
 */
#include "ips_rules.h"

bool ips_head_proto_ok(const struct ips_rule *r, uint8_t proto, uint8_t family)
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

bool ips_head_addrs_ok(const struct ips_rule *r, const struct pkt *p)
{
	bool ports = p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_;

	return ends_ok(r, p->src, p->sport, p->dst, p->dport, ports) ||
	       (r->bidir && ends_ok(r, p->dst, p->dport, p->src, p->sport, ports));
}

bool ips_head_flags_ok(const struct ips_rule *r, const struct pkt *p)
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

/* icmp_id / icmp_seq: only messages that carry them (Suricata: echo, timestamp, info, mask). */
bool ips_head_icmp_ok(const struct ips_rule *r, const struct pkt *p)
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

bool ips_may_match(const struct ips_ruleset *rs, const struct fw_key *k)
{
	bool ports = k->proto == IPPROTO_TCP_ || k->proto == IPPROTO_UDP_;

	for (uint32_t i = 0; rs && i < rs->nrules; i++) {
		const struct ips_rule *r = &rs->rules[i];
		if (ips_head_proto_ok(r, k->proto, k->family) &&
		    (ends_ok(r, k->src, k->sport, k->dst, k->dport, ports) ||
		     ends_ok(r, k->dst, k->dport, k->src, k->sport, ports)))
			return true;
	}
	return false;
}

/*
 * The first option of @type (IPS_IPOPT_ANY: the first one at all) in a
 * list of IPv4 or TCP options, walked as Suricata's decoder walks them
 * (pkt_opt_next(): EOL is found itself, then ends the list); one found
 * fits before @end. NULL when the list has none or breaks first.
 */
static const uint8_t *opt_find(const uint8_t *o, const uint8_t *end, unsigned type)
{
	for (const uint8_t *next; o < end; o = next) {
		if (!(next = pkt_opt_next(o, end)))
			return NULL;
		if (type == IPS_IPOPT_ANY || o[0] == type)
			return o;
	}
	return NULL;
}

/* Header buffer @b of @p; false when @p has no such header, or not all of it captured. */
static bool hbuf_of(const struct pkt *p, unsigned b, const uint8_t **d, uint32_t *len)
{
	/* transport headers: the protocol each belongs to, sized by the decoder */
	static const uint8_t proto[IHB__N] = { [IHB_TCP] = IPPROTO_TCP_, [IHB_UDP] = IPPROTO_UDP_,
					       [IHB_ICMPV4] = IPPROTO_ICMP_,
					       [IHB_ICMPV6] = IPPROTO_ICMPV6_ };

	if (b == IHB_IPV4 || b == IHB_IPV6) {
		*d = p->l3, *len = b == IHB_IPV4 ? p->l3hlen : 40u;
		return p->l3 && p->family == (b == IHB_IPV4 ? 4 : 6);
	}
	*d = p->l4, *len = p->l4hlen;
	return p->l4_ok && p->l4 && p->proto == proto[b] && p->l4hlen && p->l4hlen <= p->l4len &&
	       (b != IHB_ICMPV4 || p->family == 4) && (b != IHB_ICMPV6 || p->family == 6);
}

bool ips_head_ipopt_ok(const struct ips_rule *r, const struct pkt *p)
{
	const uint8_t *h;
	uint32_t len;

	return hbuf_of(p, IHB_IPV4, &h, &len) && opt_find(h + 20, h + len, r->ipopt);
}

bool ips_head_mss_ok(const struct ips_rule *r, const struct pkt *p)
{
	const uint8_t *h, *o;
	uint32_t len;

	if (!hbuf_of(p, IHB_TCP, &h, &len) || !(o = opt_find(h + 20, h + len, 2)))
		return false;
	return o[1] == 4 && ips_uint_match(&r->tcp_mss, (uint64_t)o[2] << 8 | o[3]);
}

bool ips_head_buffers_ok(const struct ips_rule *r, const struct pkt *p, void *md)
{
	for (uint8_t i = 0; i < r->nhl; i++) {
		const uint8_t *d;
		uint32_t len;

		if (!hbuf_of(p, r->hl[i].buf, &d, &len) ||
		    !ips_inspect_items(r->hl[i].items, r->hl[i].nitems, d, len, md))
			return false;
	}
	return true;
}
