/* lifeline.h - the traffic no policy may cut (SPEC section 5). */
#ifndef LL_LIFELINE_H
#define LL_LIFELINE_H

#include "config.h"
#include "pkt.h"

#define LIFELINE_MAX_DNS 64
#define LIFELINE_MAX_MANAGERS 64
#define LIFELINE_MAX_ASKED 16          /* the host's recent DHCP transactions */
#define LIFELINE_ASKED_US (120 * 1000000ull) /* a reply answers a request this recent */
#define LIFELINE_MAX_QUERIES 1024      /* the host's recent DNS queries, by server and port */
#define LIFELINE_QUERY_US (120 * 1000000ull) /* an answer follows its query's last packet so soon */

struct lifeline_dns {
	ll_ip addr;
	uint64_t expires_us; /* 0: never (configured, or no lease time) */
	uint8_t learned;     /* 1: from DHCP, 0: configured/resolv.conf */
	uint8_t v6;          /* learned from DHCPv6 (replaced by the next v6 Reply) */
	uint8_t host;        /* not learned: from the host's resolv.conf, not the config */
	int ifindex;         /* learned: the interface the lease came on, 0 unknown */
};

/* One of the host's own DHCP requests. */
/*
 * Who a DHCP message is for: the BOOTP chaddr (its hlen bytes, at most 16),
 * or the DHCPv6 Client Identifier option (a DUID, at most 130 bytes).
 */
#define DHCP_CID_MAX 130
struct dhcp_client_id {
	uint8_t len; /* 0: none */
	uint8_t b[DHCP_CID_MAX];
};

struct lifeline_asked {
	uint64_t at_us; /* 0: free */
	uint32_t xid;
	int ifindex;    /* the device it left on; 0: not known (replay) */
	uint8_t v6;
	struct dhcp_client_id cid; /* the request's: a reply for another client is not its answer */
};

/*
 * The host's query to a DNS server (or TCP connection to one), from one of
 * its ports: the server's packets come back to that port. Live, conntrack
 * does this in the kernel rules; the engine sees DNS when they did not
 * take it (replay, a reply conntrack calls new).
 */
struct lifeline_query {
	ll_ip server;
	uint64_t at_us; /* its last packet; 0: free */
	uint16_t port;  /* the host's */
	uint8_t proto;
};

/*
 * struct lifeline - the state the match needs: managers (any when none),
 * ports, DNS servers. Owned by one thread (the pipeline's); the live engine
 * publishes copies to the kernel sets.
 */
struct lifeline {
	uint16_t heartbeat_port, agent_port;
	bool any_manager; /* no manager configured: ports from and to any address */
	ll_ip managers[LIFELINE_MAX_MANAGERS];
	uint32_t nmanagers;
	struct lifeline_dns dns[LIFELINE_MAX_DNS];
	uint32_t ndns;
	uint64_t dns_changes; /* bumped whenever the DNS set changes */
	/* from here on, not the config's: lifeline_reinit() keeps it */
	/* the transactions of the host's own DHCP requests: only their replies teach */
	struct lifeline_asked asked[LIFELINE_MAX_ASKED];
	uint32_t nasked;      /* requests seen: the next one goes to asked[nasked % MAX] */
	uint64_t unasked;     /* replies ignored: no request of the host's had their id */
	/* the host's DNS queries: a server's packets answer one, or are ordinary traffic */
	struct lifeline_query queries[LIFELINE_MAX_QUERIES];
	uint32_t nqueries;    /* queries seen: the next new one goes to queries[n % MAX] */
};

/*
 * lifeline_init() - ports, literal managers and dns-server lines of @c. With
 * no manager named any_manager is set; named managers match nothing until
 * lifeline_set_managers() gives their addresses.
 */
void lifeline_init(struct lifeline *l, const struct config *c);
/*
 * lifeline_reinit() - lifeline_init() for a config read again (SIGHUP),
 * keeping what is not the config's: the DHCP transactions and DNS queries
 * under way (their answers still count) and the count of unanswered replies.
 */
void lifeline_reinit(struct lifeline *l, const struct config *c);
/* lifeline_set_managers() - replace the manager list (re-resolved names). */
void lifeline_set_managers(struct lifeline *l, const ll_ip *addrs, uint32_t n);
/*
 * lifeline_add_dns() - add a static server (config, resolv.conf): never
 * replaced by DHCP, never expires; a learned twin becomes static. Ignored
 * when LIFELINE_MAX_DNS are known.
 */
void lifeline_add_dns(struct lifeline *l, ll_ip addr);

/*
 * lifeline_note_query() - @p, which lifeline_match() called R_DNS, noted
 * when it is the host's query (to port 53), so that the server's answers
 * to its port match.
 */
void lifeline_note_query(struct lifeline *l, const struct pkt *p, uint64_t now_us);

/*
 * lifeline_match() - is @p lifeline traffic? Returns the reason (R_HEARTBEAT,
 * R_DHCP, R_DNS, R_ICMP_PMTU, R_ICMP6_PMTU, R_NDP) or -1. Pure: no learning.
 */
int lifeline_match(const struct lifeline *l, const struct pkt *p, uint64_t now_us);

/*
 * lifeline_match_quoted() - is ICMP error @p about a lifeline packet: one
 * the error's destination sent (heartbeat, DHCP, DNS, read in the
 * direction it went)? Returns that packet's reason, or -1. Like conntrack's
 * "related" for the lifeline, which keeps no flows: a manager or resolver
 * that is unreachable must say so, or the host's connect() and resolver
 * wait out their timeouts before trying the next one.
 */
int lifeline_match_quoted(const struct lifeline *l, const struct pkt *p, uint64_t now_us);
/*
 * lifeline_match_icmp() - the ICMP/ICMPv6 the lifeline takes by type alone,
 * whatever it quotes: R_ICMP_PMTU, R_ICMP6_PMTU, R_NDP, or -1.
 * lifeline_quote_counts() - is @p an error that lifeline_match_quoted()
 * reads the quote of: unreachable, time exceeded, parameter problem (not a
 * redirect, which changes routes, nor a source quench)?
 */
int lifeline_match_icmp(const struct pkt *p);
bool lifeline_quote_counts(const struct pkt *p);

/*
 * lifeline_learn() - when @p is a DHCP client's request, remember its
 * transaction id; when it is a DHCPACK (option 6, option 52 overload) or a
 * DHCPv6 Reply (option 23) answering one of those within
 * LIFELINE_ASKED_US, replace the learned servers of that family and of
 * its interface (@p->ifindex; all of the family when it or theirs is
 * unknown: a host with DHCP on two interfaces keeps both leases' servers),
 * at most LIFELINE_MAX_DNS / 2 learned servers a family. Returns
 * the number of servers learned, 0 when @p teaches nothing. A reply to no
 * request of the host's (a forged or stray ACK: anyone can send UDP 67 ->
 * 68) teaches nothing, nor does one the host sends (@p->dir PKT_DIR_OUT:
 * the host is itself a DHCP server). The live engine sees the replies
 * through NFLOG copies (the kernel accepts them before the queue) and the
 * host's requests through a packet socket (engine_dhcp_tap.c). In replay a
 * request counts whatever its direction: an Ethernet capture does not say
 * whether the host or another client on the link sent it.
 */
int lifeline_learn(struct lifeline *l, const struct pkt *p, uint64_t now_us);


/*
 * DHCP replies, parsed by dhcp.c with every read bounds-checked (the packet
 * is attacker-chosen). A lease's DNS servers and how long they hold.
 */
struct dhcp_lease {
	ll_ip servers[LIFELINE_MAX_DNS];
	uint32_t nservers;
	bool has_lifetime;   /* lease time (v4 option 51) or valid lifetime (v6) given */
	uint32_t lifetime_s; /* 0xffffffff: infinite */
	uint32_t xid;        /* the transaction id (DHCPv6: 24 bits) */
	struct dhcp_client_id cid; /* the client it is for */
};

/*
 * dhcp4_request() / dhcp6_request() - when @b/@len is a message a DHCP
 * client sends (a BOOTREQUEST; a DHCPv6 Solicit, Request, Confirm, Renew,
 * Rebind, Release, Decline or Information-request), its transaction id in
 * @xid, the client it names in @cid (DHCPv6: none when it has no Client
 * Identifier option), and 0; else -ENOENT.
 */
int dhcp4_request(const uint8_t *b, size_t len, uint32_t *xid, struct dhcp_client_id *cid);
int dhcp6_request(const uint8_t *b, size_t len, uint32_t *xid, struct dhcp_client_id *cid);

/*
 * dhcp4_parse_ack() - @b/@len is a BOOTP message (UDP payload). When it is a
 * DHCPACK (option 53 = 5) carrying option 6, fill @out (options continued in
 * `file`/`sname` per option 52 are honoured, split options are joined as in
 * RFC 3396) and return 0. -ENODATA: an ACK without option 6 (@out->xid
 * and ->cid set); -ENOENT: not an ACK; -EBADMSG: malformed.
 */
int dhcp4_parse_ack(const uint8_t *b, size_t len, struct dhcp_lease *out);
/*
 * dhcp6_parse_reply() - @b/@len is a DHCPv6 message (UDP payload). When it is
 * a Reply (type 7) carrying option 23, fill @out (lifetime: the shortest
 * non-zero valid lifetime of the IA_NA/IA_TA addresses, when any) and return
 * 0. -ENODATA: a Reply without option 23 (@out->xid and ->cid set);
 * -ENOENT: not a Reply; -EBADMSG: malformed, or without the Server
 * Identifier every client requires (it drops such a Reply unread);
 * -EPROTO: a message-level Status Code other than Success (the client
 * takes nothing from it). Option 23 counts at the message level only.
 */
int dhcp6_parse_reply(const uint8_t *b, size_t len, struct dhcp_lease *out);

/*
 * resolv_read_servers() - the addresses of the `nameserver` lines of the
 * resolv.conf at @path (duplicates dropped, a %zone suffix ignored), at most
 * @max into @out. Returns the count or -errno (file unreadable).
 */
int resolv_read_servers(const char *path, ll_ip *out, int max);
/*
 * resolv_host_servers() - the resolvers the host uses: those of @path
 * (/etc/resolv.conf), or, when the only one there is systemd-resolved's stub
 * 127.0.0.53, the upstream list of @upstream_path
 * (/run/systemd/resolve/resolv.conf) if that names any. Count or -errno.
 */
int resolv_host_servers(const char *path, const char *upstream_path, ll_ip *out, int max);
/* The host's own files for it: what a starting engine reads, and what doctor counts. */
#define RESOLV_HOST_PATH "/etc/resolv.conf"
#define RESOLV_UPSTREAM_PATH "/run/systemd/resolve/resolv.conf"

#endif
