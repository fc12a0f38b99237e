/* lifeline.c - the traffic no policy may cut: heartbeat, DHCP, DNS, PMTU, NDP (SPEC section 5). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lifeline.h"

#define DHCP4_SERVER 67
#define DHCP4_CLIENT 68
#define DHCP6_CLIENT 546
#define DHCP6_SERVER 547
#define DNS_PORT 53

#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP6_PACKET_TOO_BIG 2
#define ND_ROUTER_SOLICIT 133
#define ND_NEIGHBOR_ADVERT 136
#define ND_HOP_LIMIT 255

/* The config's part of @l, the fields before `asked`, from @c. */
static void from_config(struct lifeline *l, const struct config *c)
{
	memset(l, 0, offsetof(struct lifeline, asked));
	l->heartbeat_port = c->heartbeat_port;
	l->agent_port = c->agent_port;
	/* names are resolved later; until then a named manager matches nothing */
	l->any_manager = c->nmanagers == 0;
	for (uint32_t i = 0; i < c->nmanagers && l->nmanagers < LIFELINE_MAX_MANAGERS; i++)
		if (c->managers[i].is_literal)
			l->managers[l->nmanagers++] = c->managers[i].addr;
	for (uint32_t i = 0; i < c->ndns_servers; i++)
		lifeline_add_dns(l, c->dns_servers[i]);
}

void lifeline_init(struct lifeline *l, const struct config *c)
{
	memset(l, 0, sizeof(*l));
	from_config(l, c);
}

/*
 * lifeline_reinit() - see lifeline.h. What follows `asked` in struct
 * lifeline is not the config's: the DHCP transactions and DNS queries
 * under way (their answers still match), and the count of unasked replies.
 */
void lifeline_reinit(struct lifeline *l, const struct config *c)
{
	from_config(l, c);
}

/*
 * @addrs is the whole manager list (the config's literals plus what its
 * names resolve to), deduplicated here and cut at LIFELINE_MAX_MANAGERS.
 * any_manager is the config's choice (no manager named) and stays.
 */
void lifeline_set_managers(struct lifeline *l, const ll_ip *addrs, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n && k < LIFELINE_MAX_MANAGERS; i++) {
		uint32_t j;
		for (j = 0; j < k; j++)
			if (ll_ip_eq(l->managers[j], addrs[i]))
				break;
		if (j == k)
			l->managers[k++] = addrs[i];
	}
	l->nmanagers = k;
}

static int dns_find(const struct lifeline *l, ll_ip a)
{
	for (uint32_t i = 0; i < l->ndns; i++)
		if (ll_ip_eq(l->dns[i].addr, a))
			return (int)i;
	return -1;
}

/* A static server is never replaced nor expires; a learned twin becomes static. */
void lifeline_add_dns(struct lifeline *l, ll_ip addr)
{
	int i = dns_find(l, addr);

	if (i >= 0) {
		if (l->dns[i].learned) {
			l->dns[i] = (struct lifeline_dns){ .addr = addr };
			l->dns_changes++;
		}
		return;
	}
	if (l->ndns >= LIFELINE_MAX_DNS)
		return;
	l->dns[l->ndns++] = (struct lifeline_dns){ .addr = addr };
	l->dns_changes++;
}

static bool is_manager(const struct lifeline *l, ll_ip a)
{
	if (l->any_manager)
		return true;
	for (uint32_t i = 0; i < l->nmanagers; i++)
		if (ll_ip_eq(l->managers[i], a))
			return true;
	return false;
}

/* @peer holds @peer_port, the host @own_port: one side of a packet as a heartbeat. */
static bool heartbeat_side(const struct lifeline *l, ll_ip peer, uint16_t peer_port,
			   uint16_t own_port)
{
	/* ports first: they rule out nearly every packet without a set lookup */
	return (peer_port == l->heartbeat_port || own_port == l->agent_port) && is_manager(l, peer);
}

/*
 * Heartbeat: the manager's port is heartbeat_port (host connects out) or
 * the host's port is agent_port (manager connects in), either direction of
 * such a connection. A manager connecting in to the heartbeat port, or the
 * host connecting out to the agent port, is ordinary traffic; so is any
 * other address. As the kernel rules do, the peer is the destination of
 * what goes out and the source of what comes in: the host is never its
 * own peer, even when every address is a manager (none configured) or the
 * host's own resolver is a DNS server. Replay without a host address in
 * the packet cannot tell the direction: either side may be the peer then.
 */
static bool is_heartbeat(const struct lifeline *l, const struct pkt *p)
{
	bool out = p->dir == PKT_DIR_OUT;

	/* a guessed direction (replay): the other side may be the peer as well */
	return heartbeat_side(l, out ? p->dst : p->src, out ? p->dport : p->sport,
			      out ? p->sport : p->dport) ||
	       (p->dir_guessed && heartbeat_side(l, out ? p->src : p->dst, out ? p->sport : p->dport,
						 out ? p->dport : p->sport));
}

static bool dns_known(const struct lifeline *l, ll_ip a, uint64_t now_us)
{
	int i = dns_find(l, a);

	if (i < 0)
		return false;
	return l->dns[i].expires_us == 0 || now_us < l->dns[i].expires_us;
}

/* The host's query to @server from its @port, recent: its slot, or -1. */
static int find_query(const struct lifeline *l, ll_ip server, uint16_t port, uint8_t proto,
		      uint64_t now_us)
{
	uint32_t n = l->nqueries < LIFELINE_MAX_QUERIES ? l->nqueries : LIFELINE_MAX_QUERIES;

	for (uint32_t i = 0; i < n; i++) {
		const struct lifeline_query *q = &l->queries[i];

		/*
		 * a capture's clock may step back a little: an answer "before" its
		 * query is one - a little, as after it: stepped back an hour (live,
		 * the wall clock), every noted port stayed open for that hour
		 */
		if (q->port == port && q->proto == proto && ll_ip_eq(q->server, server) &&
		    q->at_us &&
		    (now_us >= q->at_us ? now_us - q->at_us : q->at_us - now_us) < LIFELINE_QUERY_US)
			return (int)i;
	}
	return -1;
}

/*
 * DNS, the host the client: a query to port 53 of a known server, and
 * that server's answer from port 53 to the port the query came from (the
 * kernel rules: conntrack's established). Not any packet from port 53 of
 * a server's address: spoofed, or from the server itself, that reached
 * every port of the host (ssh, snmp) past any policy. The peer is as for
 * the heartbeat; a guessed direction (replay) takes either reading.
 */
static bool is_dns(const struct lifeline *l, const struct pkt *p, uint64_t now_us)
{
	bool out = p->dir == PKT_DIR_OUT;

	if ((out || p->dir_guessed) && p->dport == DNS_PORT && dns_known(l, p->dst, now_us))
		return true;
	return (!out || p->dir_guessed) && p->sport == DNS_PORT && dns_known(l, p->src, now_us) &&
	       find_query(l, p->src, p->dport, p->proto, now_us) >= 0;
}

/* lifeline_note_query() - see lifeline.h. */
void lifeline_note_query(struct lifeline *l, const struct pkt *p, uint64_t now_us)
{
	struct lifeline_query *q;
	int i;

	if (p->dport != DNS_PORT || (p->dir != PKT_DIR_OUT && !p->dir_guessed) ||
	    !dns_known(l, p->dst, now_us))
		return; /* an answer (or not DNS): nothing to note */
	i = find_query(l, p->dst, p->sport, p->proto, now_us);
	if (i >= 0) {
		q = &l->queries[i];
	} else {
		q = &l->queries[l->nqueries++ % LIFELINE_MAX_QUERIES];
		/* once full, it stays at or above the size (2^32 queries wrapped to 0 hid them all) */
		if (l->nqueries == 2 * LIFELINE_MAX_QUERIES)
			l->nqueries = LIFELINE_MAX_QUERIES;
	}
	*q = (struct lifeline_query){ .server = p->dst, .at_us = now_us ? now_us : 1,
				      .port = p->sport, .proto = p->proto };
}

static bool ports_pair(const struct pkt *p, uint16_t a, uint16_t b)
{
	return (p->sport == a && p->dport == b) || (p->sport == b && p->dport == a);
}

int lifeline_match_icmp(const struct pkt *p)
{
	if (p->family == 4 && p->proto == IPPROTO_ICMP_ &&
	    p->icmp_type == ICMP_DEST_UNREACH && p->icmp_code == ICMP_FRAG_NEEDED)
		return R_ICMP_PMTU;
	if (p->family != 6 || p->proto != IPPROTO_ICMPV6_)
		return -1;
	if (p->icmp_type == ICMP6_PACKET_TOO_BIG)
		return R_ICMP6_PMTU;
	/* RFC 4861: a hop limit below 255 means the packet crossed a router */
	if (p->icmp_type >= ND_ROUTER_SOLICIT && p->icmp_type <= ND_NEIGHBOR_ADVERT &&
	    p->ttl == ND_HOP_LIMIT)
		return R_NDP;
	return -1;
}

/* is_dns(), which needs port 53 on one side: most packets are ruled out without the call. */
static inline bool port53_dns(const struct lifeline *l, const struct pkt *p, uint64_t now_us)
{
	return (p->dport == DNS_PORT || p->sport == DNS_PORT) && is_dns(l, p, now_us);
}

int lifeline_match(const struct lifeline *l, const struct pkt *p, uint64_t now_us)
{
	/* the pipeline reassembles first; a lone fragment proves nothing */
	if (p->is_frag)
		return -1;
	switch (p->proto) {
	case IPPROTO_TCP_:
		if (!p->l4_ok)
			return -1;
		if (is_heartbeat(l, p))
			return R_HEARTBEAT;
		return port53_dns(l, p, now_us) ? R_DNS : -1;
	case IPPROTO_UDP_:
		if (!p->l4_ok)
			return -1;
		if (p->family == 4 && ports_pair(p, DHCP4_CLIENT, DHCP4_SERVER))
			return R_DHCP;
		if (p->family == 6 && ports_pair(p, DHCP6_CLIENT, DHCP6_SERVER))
			return R_DHCP;
		return port53_dns(l, p, now_us) ? R_DNS : -1;
	default:
		return lifeline_match_icmp(p);
	}
}

/* lifeline_quote_counts() - see lifeline.h. */
bool lifeline_quote_counts(const struct pkt *p)
{
	if (p->proto == IPPROTO_ICMP_)
		return p->icmp_type == 3 || p->icmp_type == 11 || p->icmp_type == 12;
	return p->proto == IPPROTO_ICMPV6_ && p->icmp_type >= 1 && p->icmp_type <= 4;
}

/* lifeline_match_quoted() - see lifeline.h. */
int lifeline_match_quoted(const struct lifeline *l, const struct pkt *p, uint64_t now_us)
{
	const struct pkt_inner *in = &p->inner;
	struct pkt q = { 0 };
	int r;

	/* the quote: a TCP or UDP packet the error's destination sent, its ports quoted */
	if (!lifeline_quote_counts(p))
		return -1;
	if (!in->present || !in->has_ports || !ll_ip_eq(in->src, p->dst) ||
	    (in->proto != IPPROTO_TCP_ && in->proto != IPPROTO_UDP_))
		return -1;
	q.family = in->family;
	q.proto = in->proto;
	q.src = in->src;
	q.dst = in->dst;
	q.sport = in->sport;
	q.dport = in->dport;
	q.l4_ok = 1;
	q.dir = p->dir == PKT_DIR_OUT ? PKT_DIR_IN : PKT_DIR_OUT; /* it came the other way */
	q.dir_guessed = p->dir_guessed;
	r = lifeline_match(l, &q, now_us);
	return r == R_HEARTBEAT || r == R_DHCP || r == R_DNS ? r : -1;
}

/*
 * Drop the learned servers a new lease of family @v6 on interface @ifindex
 * replaces (those of another known interface stay), and any learned server
 * past its lease. Returns how many learned servers of the family stay.
 */
static uint32_t dns_forget(struct lifeline *l, bool v6, int ifindex, uint64_t now_us)
{
	uint32_t k = 0, kept = 0;

	for (uint32_t i = 0; i < l->ndns; i++) {
		const struct lifeline_dns *d = &l->dns[i];
		bool expired = d->expires_us && now_us >= d->expires_us;
		bool same_if = !ifindex || !d->ifindex || d->ifindex == ifindex;

		if (d->learned && ((d->v6 == v6 && same_if) || expired))
			continue;
		kept += d->learned && d->v6 == v6;
		l->dns[k++] = *d;
	}
	l->ndns = k;
	return kept;
}

static uint64_t lease_expiry(const struct dhcp_lease *ls, uint64_t now_us)
{
	if (!ls->has_lifetime || ls->lifetime_s == 0xffffffffu)
		return 0;
	return now_us + (uint64_t)ls->lifetime_s * 1000000u;
}

static bool dns_same(const struct lifeline_dns *a, const struct lifeline_dns *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!ll_ip_eq(a[i].addr, b[i].addr) || a[i].expires_us != b[i].expires_us ||
		    a[i].learned != b[i].learned || a[i].v6 != b[i].v6)
			return false;
	return true;
}

static int dns_replace(struct lifeline *l, const struct dhcp_lease *ls, bool v6, int ifindex,
		       uint64_t now_us)
{
	struct lifeline_dns before[LIFELINE_MAX_DNS];
	uint32_t nbefore = l->ndns, added;
	uint64_t exp = lease_expiry(ls, now_us);
	int n = 0;

	memcpy(before, l->dns, sizeof(before[0]) * nbefore);
	added = dns_forget(l, v6, ifindex, now_us); /* other interfaces' count toward the room */
	for (uint32_t i = 0; i < ls->nservers; i++) {
		if (dns_find(l, ls->servers[i]) >= 0) {
			n++; /* configured already: it stays static */
			continue;
		}
		/* half the room a family: a lease naming 64 servers leaves the other family its own */
		if (l->ndns >= LIFELINE_MAX_DNS || added == LIFELINE_MAX_DNS / 2)
			break;
		added++;
		l->dns[l->ndns++] = (struct lifeline_dns){
			.addr = ls->servers[i], .expires_us = exp, .learned = 1, .v6 = v6,
			.ifindex = ifindex,
		};
		n++;
	}
	if (nbefore != l->ndns || !dns_same(before, l->dns, nbefore))
		l->dns_changes++;
	return n;
}

static bool same_ask(const struct lifeline_asked *a, uint32_t xid, bool v6, int ifindex)
{
	return a->at_us && a->xid == xid && a->v6 == v6 &&
	       (!a->ifindex || !ifindex || a->ifindex == ifindex);
}

static void asked_add(struct lifeline *l, uint32_t xid, bool v6, int ifindex,
		      const struct dhcp_client_id *cid, uint64_t now_us)
{
	struct lifeline_asked *a = NULL;

	for (uint32_t i = 0; i < LIFELINE_MAX_ASKED && !a; i++)
		if (same_ask(&l->asked[i], xid, v6, ifindex) && l->asked[i].ifindex == ifindex)
			a = &l->asked[i]; /* a retransmission */
	if (!a)
		a = &l->asked[l->nasked++ % LIFELINE_MAX_ASKED];
	*a = (struct lifeline_asked){ .at_us = now_us, .xid = xid, .ifindex = ifindex, .v6 = v6,
				      .cid = *cid };
}

/* Is a reply for @cid the answer to request @a: for the client it named (none named: any)? */
static bool same_client(const struct lifeline_asked *a, const struct dhcp_client_id *cid)
{
	return !a->cid.len || (a->cid.len == cid->len && !memcmp(a->cid.b, cid->b, cid->len));
}

/*
 * Did the host ask, in the last LIFELINE_ASKED_US, in the transaction of
 * reply @ls, for the client it is for (the request's chaddr, or its DUID
 * when it named one: a client drops a reply for another), on the device
 * the reply came in on (@ifindex; 0 or an unknown request device: any)?
 * A guest behind a bridge asks through a bridge port, while the reply
 * reaches the host on the bridge itself. A reply stamped before
 * its request (a capture's clock going back) answers nothing: the unsigned
 * difference is then huge. Counts the replies that fail.
 */
static struct lifeline_asked *was_asked(struct lifeline *l, const struct dhcp_lease *ls, bool v6,
					  int ifindex, uint64_t now_us)
{
	for (uint32_t i = 0; i < LIFELINE_MAX_ASKED; i++)
		if (same_ask(&l->asked[i], ls->xid, v6, ifindex) && same_client(&l->asked[i], &ls->cid) &&
		    now_us - l->asked[i].at_us <= LIFELINE_ASKED_US)
			return &l->asked[i];
	l->unasked++;
	return NULL;
}

int lifeline_learn(struct lifeline *l, const struct pkt *p, uint64_t now_us)
{
	struct dhcp_lease ls;
	bool v6 = p->family == 6;
	uint16_t cli = v6 ? DHCP6_CLIENT : DHCP4_CLIENT, srv = v6 ? DHCP6_SERVER : DHCP4_SERVER;
	uint32_t xid = 0;
	struct dhcp_client_id cid = { 0 };
	struct lifeline_asked *a;
	int rc;

	if (p->is_frag || p->proto != IPPROTO_UDP_ || !p->l4_ok || !p->payload)
		return 0;
	if (p->sport == cli && p->dport == srv) {
		if (!(v6 ? dhcp6_request : dhcp4_request)(p->payload, p->paylen, &xid, &cid))
			asked_add(l, xid, v6, p->ifindex, &cid, now_us);
		return 0;
	}
	/*
	 * A reply the host sends is its own DHCP server talking, not its
	 * lease; one whose UDP checksum is wrong (live: engine_nflog.c checks
	 * the copy), or an IPv6 one behind an extension header the stack
	 * drops it for after the input hook (the kernel rule accepted and
	 * copied it all the same), never reaches the client, which drops one
	 * for another chaddr or DUID too (was_asked()): none answers its
	 * request.
	 */
	if (p->sport != srv || p->dport != cli || p->dir == PKT_DIR_OUT || p->csum_bad ||
	    p->v6_undelivered)
		return 0;
	rc = (v6 ? dhcp6_parse_reply : dhcp4_parse_ack)(p->payload, p->paylen, &ls);
	if (rc && rc != -ENODATA)
		return 0;
	a = was_asked(l, &ls, v6, p->ifindex, now_us);
	if (!a)
		return 0;
	/*
	 * One reply a transaction, as the client takes it, with DNS servers or
	 * without: bound, it ignores a later ACK/Reply with the same xid,
	 * which anyone who saw the broadcast (DHCPv6: multicast) request can
	 * send. Learned, such a reply replaced the servers the client uses
	 * (under a policy that denies DNS, the host's DNS was cut) and opened
	 * the DNS lifeline to an address of the sender's choice, for as long
	 * as the lease it named. The client's next request asks again.
	 */
	a->at_us = 0;
	return rc ? 0 : dns_replace(l, &ls, v6, p->ifindex, now_us);
}

