/* community_id.c - Community ID v1 flow hashes, so events join with Zeek and Suricata logs. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "event.h"

#define PROTO_SCTP 132

/*
 * ICMP types that have a counterpart, as Zeek pairs them: the pair forms a
 * bidirectional "flow" with (type, counter-type) as ports. Other types are
 * one-way, hashed as (type, code) and never reordered.
 */
static int icmp4_counter(uint8_t type)
{
	switch (type) {
	case 8: return 0;   /* echo <-> echo reply */
	case 0: return 8;
	case 13: return 14; /* timestamp */
	case 14: return 13;
	case 15: return 16; /* information */
	case 16: return 15;
	case 10: return 9;  /* router solicitation <-> advertisement */
	case 9: return 10;
	case 17: return 18; /* address mask */
	case 18: return 17;
	}
	return -1;
}

static int icmp6_counter(uint8_t type)
{
	switch (type) {
	case 128: return 129; /* echo */
	case 129: return 128;
	case 130: return 131; /* MLD query <-> report */
	case 131: return 130;
	case 133: return 134; /* router solicitation <-> advertisement */
	case 134: return 133;
	case 135: return 136; /* neighbor solicitation <-> advertisement */
	case 136: return 135;
	case 139: return 140; /* node information */
	case 140: return 139;
	case 144: return 145; /* home agent address discovery */
	case 145: return 144;
	}
	return -1;
}

static size_t put_addr(uint8_t *b, ll_ip a, int family)
{
	uint8_t full[16];

	ll_ip_to_bytes(a, full);
	if (family == 4) {
		memcpy(b, full + 12, 4);
		return 4;
	}
	memcpy(b, full, 16);
	return 16;
}

/* Ports (or their ICMP equivalents); *one_way when the tuple must not be flipped. */
static int tuple_ports(const struct ev_tuple *t, uint16_t *sp, uint16_t *dp, bool *one_way,
		       bool *has_ports)
{
	int counter;

	*one_way = false;
	*has_ports = true;
	if (t->proto == IPPROTO_ICMP_ || t->proto == IPPROTO_ICMPV6_) {
		if (!t->has_icmp)
			return -EINVAL;
		counter = t->proto == IPPROTO_ICMP_ ? icmp4_counter(t->icmp_type)
						    : icmp6_counter(t->icmp_type);
		*sp = t->icmp_type;
		*dp = counter >= 0 ? (uint16_t)counter : t->icmp_code;
		*one_way = counter < 0;
		return 0;
	}
	if (t->proto == IPPROTO_TCP_ || t->proto == IPPROTO_UDP_ || t->proto == PROTO_SCTP) {
		if (!t->has_ports)
			return -EINVAL;
		*sp = t->sport;
		*dp = t->dport;
		return 0;
	}
	*has_ports = false;
	*sp = *dp = 0;
	return 0;
}

/* The spec's order: the smaller (address, port) endpoint comes first. */
static bool must_flip(const struct ev_tuple *t, uint16_t sp, uint16_t dp, bool one_way,
		      bool has_ports)
{
	int c;

	if (one_way)
		return false;
	c = ll_ip_cmp(t->src, t->dst);
	if (c)
		return c > 0;
	return !(has_ports && sp < dp);
}

int community_id_v1(const struct ev_tuple *t, uint16_t seed, char out[COMMUNITY_ID_LEN])
{
	uint8_t buf[2 + 16 + 16 + 2 + 4], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint16_t sp, dp;
	bool one_way, has_ports;
	ll_ip a, b;
	size_t n = 0;

	out[0] = '\0';
	if ((t->family != 4 && t->family != 6) || tuple_ports(t, &sp, &dp, &one_way, &has_ports))
		return -EINVAL;
	a = t->src;
	b = t->dst;
	if (must_flip(t, sp, dp, one_way, has_ports)) {
		uint16_t tp = sp;
		a = t->dst;
		b = t->src;
		sp = dp;
		dp = tp;
	}
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	n += put_addr(buf + n, a, t->family);
	n += put_addr(buf + n, b, t->family);
	buf[n++] = t->proto;
	buf[n++] = 0;
	if (has_ports) {
		buf[n++] = (uint8_t)(sp >> 8);
		buf[n++] = (uint8_t)sp;
		buf[n++] = (uint8_t)(dp >> 8);
		buf[n++] = (uint8_t)dp;
	}
	if (!EVP_Digest(buf, n, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return -EIO;
	out[0] = '1';
	out[1] = ':';
	EVP_EncodeBlock((unsigned char *)out + 2, md, (int)mdlen);
	return 0;
}
