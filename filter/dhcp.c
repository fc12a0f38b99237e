/* dhcp.c - DNS servers and lease times from DHCPACKs and DHCPv6 Replies, bounds-checked. */
#include <errno.h>
#include <string.h>

#include "lifeline.h"

/* BOOTP fixed header (RFC 2131 section 2). */
#define BOOTP_OP 0
#define BOOTP_HLEN 2
#define BOOTP_XID 4
#define BOOTP_CHADDR 28
#define BOOTP_CHADDR_LEN 16
#define BOOTP_SNAME 44
#define BOOTP_SNAME_LEN 64
#define BOOTP_FILE 108
#define BOOTP_FILE_LEN 128
#define BOOTP_COOKIE 236
#define BOOTP_OPTIONS 240
#define BOOTREQUEST 1
#define BOOTREPLY 2

enum {
	OPT_PAD = 0,
	OPT_DNS = 6,
	OPT_LEASE = 51,
	OPT_OVERLOAD = 52,
	OPT_MSGTYPE = 53,
	OPT_END = 255,
};
#define DHCPACK 5

#define DHCP6_REPLY 7
enum {
	OPT6_CLIENTID = 1,
	OPT6_SERVERID = 2,
	OPT6_IA_NA = 3,
	OPT6_IA_TA = 4,
	OPT6_IAADDR = 5,
	OPT6_STATUS = 13,
	OPT6_DNS = 23,
};

/* Option 6 bytes joined across instances and areas (RFC 3396), bounded. */
#define DNS_BYTES_MAX (4 * LIFELINE_MAX_DNS)

struct dhcp4_acc {
	int msgtype;      /* -1 until option 53 is seen */
	bool msgtype_odd; /* option 53 not one byte, or repeated with another value */
	int overload;     /* option 52: 1 file, 2 sname, 3 both */
	bool has_lease;
	uint32_t lease;
	bool has_dns;
	uint8_t dns[DNS_BYTES_MAX];
	size_t ndns;
};

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t get24(const uint8_t *b)
{
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void acc_option(struct dhcp4_acc *a, uint8_t code, const uint8_t *v, uint8_t len,
		       bool main_area)
{
	size_t room;

	switch (code) {
	case OPT_MSGTYPE:
		/*
		 * Clients disagree on an odd option 53: ISC dhclient joins the
		 * instances (RFC 3396) and reads the first byte, busybox udhcpc
		 * reads the first instance's first byte, sd-dhcp-client refuses
		 * a length other than 1 and lets the last instance win. So [2 5]
		 * then [5] is an OFFER to the first two, and no message to the
		 * third: the type is the first byte, and an odd option 53 makes
		 * no ACK (dhcp4_parse_ack()), whatever the instances say.
		 */
		if (len != 1 || (a->msgtype >= 0 && a->msgtype != v[0]))
			a->msgtype_odd = true;
		if (len >= 1 && a->msgtype < 0)
			a->msgtype = v[0];
		break;
	case OPT_OVERLOAD:
		/* only meaningful in the options field itself (RFC 2132 9.3) */
		if (len == 1 && main_area && v[0] >= 1 && v[0] <= 3)
			a->overload = v[0];
		break;
	case OPT_LEASE:
		if (len == 4 && !a->has_lease) {
			a->has_lease = true;
			a->lease = get32(v);
		}
		break;
	case OPT_DNS:
		a->has_dns = true;
		room = sizeof(a->dns) - a->ndns;
		if (len > room)
			len = (uint8_t)room;
		memcpy(a->dns + a->ndns, v, len);
		a->ndns += len;
		break;
	}
}

/*
 * Walk one option area. An option that runs past the area is malformed; an
 * area without an END option (zero padding to its end) is accepted, as
 * clients do.
 */
static int scan_area(struct dhcp4_acc *a, const uint8_t *b, size_t len, bool main_area)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = b[i];

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return 0;
		if (i + 2 > len || i + 2 + b[i + 1] > len)
			return -EBADMSG;
		acc_option(a, code, b + i + 2, b[i + 1], main_area);
		i += 2 + (size_t)b[i + 1];
	}
	return 0;
}

/* Multicast of either family (224.0.0.0/4, ff00::/8): never a server's address. */
static bool is_multicast(ll_ip a)
{
	return ll_ip_is_v4(a) ? (a.lo >> 28 & 0xf) == 0xe : (a.hi >> 56) == 0xff;
}

/* Append @addr to @out unless it is useless (multicast) or known. */
static void lease_add(struct dhcp_lease *out, ll_ip addr)
{
	if (out->nservers >= LIFELINE_MAX_DNS || is_multicast(addr))
		return;
	for (uint32_t i = 0; i < out->nservers; i++)
		if (ll_ip_eq(out->servers[i], addr))
			return;
	out->servers[out->nservers++] = addr;
}

static void lease_add_v4(struct dhcp_lease *out, const uint8_t *dns, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint32_t v4 = get32(dns + i);
		/* unspecified and broadcast name no server */
		if (v4 != 0 && v4 != 0xffffffffu)
			lease_add(out, ll_ip_from_v4(v4));
	}
}

static const uint8_t cookie[4] = { 99, 130, 83, 99 };

/* The chaddr of BOOTP message @b (at least BOOTP_OPTIONS bytes): its hlen bytes, at most 16. */
static void chaddr(const uint8_t *b, struct dhcp_client_id *cid)
{
	cid->len = b[BOOTP_HLEN] < BOOTP_CHADDR_LEN ? b[BOOTP_HLEN] : BOOTP_CHADDR_LEN;
	memcpy(cid->b, b + BOOTP_CHADDR, cid->len);
}

int dhcp4_request(const uint8_t *b, size_t len, uint32_t *xid, struct dhcp_client_id *cid)
{
	if (len < BOOTP_OPTIONS || memcmp(b + BOOTP_COOKIE, cookie, 4) || b[BOOTP_OP] != BOOTREQUEST)
		return -ENOENT;
	*xid = get32(b + BOOTP_XID);
	chaddr(b, cid);
	return 0;
}

int dhcp4_parse_ack(const uint8_t *b, size_t len, struct dhcp_lease *out)
{
	struct dhcp4_acc a = { .msgtype = -1 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < BOOTP_OPTIONS)
		return -EBADMSG;
	if (memcmp(b + BOOTP_COOKIE, cookie, 4) || b[BOOTP_OP] != BOOTREPLY)
		return -ENOENT;
	out->xid = get32(b + BOOTP_XID);
	chaddr(b, &out->cid);
	rc = scan_area(&a, b + BOOTP_OPTIONS, len - BOOTP_OPTIONS, true);
	/* RFC 2131 4.1: with overload, `file` is read before `sname` */
	if (!rc && (a.overload & 1))
		rc = scan_area(&a, b + BOOTP_FILE, BOOTP_FILE_LEN, false);
	if (!rc && (a.overload & 2))
		rc = scan_area(&a, b + BOOTP_SNAME, BOOTP_SNAME_LEN, false);
	if (rc)
		return rc;
	if (a.msgtype != DHCPACK || a.msgtype_odd)
		return -ENOENT;
	if (!a.has_dns)
		return -ENODATA;
	lease_add_v4(out, a.dns, a.ndns);
	out->has_lifetime = a.has_lease;
	out->lifetime_s = a.lease;
	return 0;
}

/* State of one DHCPv6 walk: servers found, shortest valid lifetime. */
struct dhcp6_acc {
	struct dhcp_lease *out;
	bool has_dns, has_sid;
	bool failed; /* a message-level Status Code other than Success */
};

static void note_lifetime(struct dhcp_lease *out, uint32_t valid)
{
	/* 0 withdraws an old address during renumbering; it ends no lease */
	if (valid == 0)
		return;
	if (!out->has_lifetime || valid < out->lifetime_s)
		out->lifetime_s = valid;
	out->has_lifetime = true;
}

static int walk6(struct dhcp6_acc *a, const uint8_t *b, size_t len, int depth);

/* Option 1 (Client Identifier) among the top-level options @b/@len, when one fits; malformed: none. */
static void clientid6(const uint8_t *b, size_t len, struct dhcp_client_id *cid)
{
	cid->len = 0;
	for (size_t i = 0; i + 4 <= len;) {
		uint16_t code = get16(b + i), olen = get16(b + i + 2);

		if (i + 4 + olen > len)
			return;
		if (code == OPT6_CLIENTID) {
			if (olen && olen <= DHCP_CID_MAX) {
				cid->len = (uint8_t)olen;
				memcpy(cid->b, b + i + 4, olen);
			}
			return;
		}
		i += 4 + (size_t)olen;
	}
}

static int option6(struct dhcp6_acc *a, uint16_t code, const uint8_t *v, size_t len, int depth)
{
	switch (code) {
	case OPT6_SERVERID:
		if (depth == 0 && len > 0)
			a->has_sid = true;
		return 0;
	case OPT6_STATUS:
		/* RFC 8415 18.2.10: UnspecFail, UseMulticast...: the client takes nothing */
		if (depth == 0 && len >= 2 && get16(v) != 0)
			a->failed = true;
		return 0;
	case OPT6_DNS:
		if (depth) /* RFC 3646: a message option; a client reads none inside an IA */
			return 0;
		a->has_dns = true;
		for (size_t i = 0; i + 16 <= len; i += 16) {
			ll_ip s = ll_ip_from_bytes(v + i, 6);
			/*
			 * Not unspecified, and not v4-mapped: that would make an
			 * IPv4 address a server (the kernel never takes one off
			 * the wire in an IPv6 header anyway).
			 */
			if ((s.hi || s.lo) && !ll_ip_is_v4(s))
				lease_add(a->out, s);
		}
		return 0;
	case OPT6_IA_NA:
		return len < 12 ? -EBADMSG : walk6(a, v + 12, len - 12, depth + 1);
	case OPT6_IA_TA:
		return len < 4 ? -EBADMSG : walk6(a, v + 4, len - 4, depth + 1);
	case OPT6_IAADDR:
		if (depth == 0) /* only inside an IA */
			return 0;
		if (len < 24)
			return -EBADMSG;
		note_lifetime(a->out, get32(v + 20));
		return 0;
	}
	return 0;
}

/* Walk DHCPv6 options; depth bounds the nesting an attacker can make us follow. */
static int walk6(struct dhcp6_acc *a, const uint8_t *b, size_t len, int depth)
{
	size_t i = 0;

	if (depth > 2)
		return 0;
	while (i + 4 <= len) {
		uint16_t code = get16(b + i), olen = get16(b + i + 2);
		int rc;

		if (i + 4 + olen > len)
			return -EBADMSG;
		rc = option6(a, code, b + i + 4, olen, depth);
		if (rc)
			return rc;
		i += 4 + (size_t)olen;
	}
	return i == len ? 0 : -EBADMSG;
}

int dhcp6_request(const uint8_t *b, size_t len, uint32_t *xid, struct dhcp_client_id *cid)
{
	/*
	 * RFC 8415 7.3: what a client sends (Solicit .. Information-request,
	 * not Relay-forw), less Release and Decline, whose Reply configures
	 * nothing (18.2.7, 18.2.8): it answers no request here.
	 */
	static const uint16_t client_types = 1u << 1 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 |
					     1u << 11;

	if (len < 4 || b[0] > 15 || !(client_types >> b[0] & 1))
		return -ENOENT;
	*xid = get24(b + 1);
	clientid6(b + 4, len - 4, cid);
	return 0;
}

int dhcp6_parse_reply(const uint8_t *b, size_t len, struct dhcp_lease *out)
{
	struct dhcp6_acc a = { .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -EBADMSG;
	if (b[0] != DHCP6_REPLY)
		return -ENOENT;
	out->xid = get24(b + 1);
	clientid6(b + 4, len - 4, &out->cid);
	rc = walk6(&a, b + 4, len - 4, 0);
	/* RFC 8415 16.10: a client discards a Reply without a Server Identifier */
	if (!rc && !a.has_sid)
		rc = -EBADMSG;
	if (!rc && a.failed)
		rc = -EPROTO;
	if (rc) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return a.has_dns ? 0 : -ENODATA;
}
