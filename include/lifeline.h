/* lifeline.h - the traffic no policy may cut (SPEC section 5). */
#ifndef LL_LIFELINE_H
#define LL_LIFELINE_H

#include "config.h"
#include "pkt.h"

#define LIFELINE_MAX_DNS 64
#define LIFELINE_MAX_MANAGERS 64

struct lifeline_dns {
	ll_ip addr;
	uint64_t expires_us; /* 0: never (configured, or no lease time) */
	uint8_t learned;     /* 1: from DHCP, 0: configured/resolv.conf */
	uint8_t v6;          /* learned from DHCPv6 (replaced by the next v6 Reply) */
	uint8_t host;        /* not learned: from the host's resolv.conf, not the config */
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
};

/*
 * lifeline_init() - ports, literal managers and dns-server lines of @c. With
 * no manager named any_manager is set; named managers match nothing until
 * lifeline_set_managers() gives their addresses.
 */
void lifeline_init(struct lifeline *l, const struct config *c);
/* lifeline_set_managers() - replace the manager list (re-resolved names). */
void lifeline_set_managers(struct lifeline *l, const ll_ip *addrs, uint32_t n);
/*
 * lifeline_add_dns() - add a static server (config, resolv.conf): never
 * replaced by DHCP, never expires; a learned twin becomes static. Ignored
 * when LIFELINE_MAX_DNS are known.
 */
void lifeline_add_dns(struct lifeline *l, ll_ip addr);

/*
 * lifeline_match() - is @p lifeline traffic? Returns the reason (R_HEARTBEAT,
 * R_DHCP, R_DNS, R_ICMP_PMTU, R_ICMP6_PMTU, R_NDP) or -1. Pure: no learning.
 */
int lifeline_match(const struct lifeline *l, const struct pkt *p, uint64_t now_us);

/*
 * lifeline_learn() - when @p is a DHCPACK (option 6, option 52 overload) or a
 * DHCPv6 Reply (option 23), replace the learned servers of that family.
 * Returns the number of servers learned, 0 when @p is no such reply. Only
 * replies the host receives count: @p->dir PKT_DIR_OUT (the host is itself
 * a DHCP server) teaches nothing.
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
};

/*
 * dhcp4_parse_ack() - @b/@len is a BOOTP message (UDP payload). When it is a
 * DHCPACK (option 53 = 5) carrying option 6, fill @out (options continued in
 * `file`/`sname` per option 52 are honoured, split options are joined as in
 * RFC 3396) and return 0. -ENOENT: not an ACK or no option 6; -EBADMSG:
 * malformed.
 */
int dhcp4_parse_ack(const uint8_t *b, size_t len, struct dhcp_lease *out);
/*
 * dhcp6_parse_reply() - @b/@len is a DHCPv6 message (UDP payload). When it is
 * a Reply (type 7) carrying option 23, fill @out (lifetime: the shortest
 * non-zero valid lifetime of the IA_NA/IA_TA addresses, when any) and return
 * 0. -ENOENT: not a Reply or no option 23; -EBADMSG: malformed.
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
