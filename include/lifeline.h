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

void lifeline_init(struct lifeline *l, const struct config *c);
/* lifeline_set_managers() - replace the manager list (re-resolved names). */
void lifeline_set_managers(struct lifeline *l, const ll_ip *addrs, uint32_t n);
/* lifeline_add_dns() - add a static server (config, resolv.conf). */
void lifeline_add_dns(struct lifeline *l, ll_ip addr);

/*
 * lifeline_match() - is @p lifeline traffic? Returns the reason (R_HEARTBEAT,
 * R_DHCP, R_DNS, R_ICMP_PMTU, R_ICMP6_PMTU, R_NDP) or -1. Pure: no learning.
 */
int lifeline_match(const struct lifeline *l, const struct pkt *p, uint64_t now_us);

/*
 * lifeline_learn() - when @p is a DHCPACK (option 6, option 52 overload) or a
 * DHCPv6 Reply (option 23), replace the learned servers of that family.
 * Returns the number of servers learned, 0 when @p is no such reply.
 */
int lifeline_learn(struct lifeline *l, const struct pkt *p, uint64_t now_us);

#endif
