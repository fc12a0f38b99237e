/* reason.h - every verdict carries a (by, reason) pair from one table. */
#ifndef LL_REASON_H
#define LL_REASON_H

#include <stdint.h>

enum ll_by {
	BY_LIFELINE,
	BY_FIREWALL,
	BY_FLOW,
	BY_IPS,
	BY_DEFAULT,
	BY_SANITY,
	BY__COUNT
};

/*
 * One enum for every reason the engine can give. The names (reason.c) are
 * the words printed by --verdicts, stats and events; never reuse a value.
 */
enum ll_reason {
	/* by lifeline */
	R_HEARTBEAT,
	R_DHCP,
	R_DNS,
	R_ICMP_PMTU,
	R_ICMP6_PMTU,
	R_NDP,
	/* by firewall (and by flow, repeating the opening packet's reason) */
	R_BYPASS,
	R_FORCE_ALLOW,
	R_DENY,
	R_ALLOW,
	R_NOT_ALLOWED,
	/* by ips */
	R_IPS_DROP,
	R_IPS_REJECT,
	/* by default */
	R_DEFAULT,
	R_EMPTY_POLICY,
	R_NOT_IP,
	/* by sanity: malformed or truncated packets */
	R_TRUNCATED,      /* a header the engine needs is cut short */
	R_BAD_VERSION,    /* IP version is neither 4 nor 6 (or not the link's) */
	R_BAD_IHL,        /* IPv4 header length < 20 or past the packet */
	R_BAD_LENGTH,     /* IP total/payload length inconsistent with the data */
	R_BAD_OPTIONS,    /* IPv4 options malformed */
	R_BAD_EXTHDR,     /* IPv6 extension header chain malformed */
	R_BAD_TCP_OFFSET, /* TCP data offset < 5 or past the segment */
	R_BAD_UDP_LENGTH, /* UDP length field < 8 or past the datagram */
	R_FRAG_OVERLAP,   /* overlapping fragments: the kernel drops the datagram */
	R_FRAG_TOO_BIG,   /* reassembled datagram over 65535 bytes */
	R_FRAG_TIMEOUT,   /* fragments never completed (timeout or end of capture) */
	R_FRAG_LIMIT,     /* reassembly memory bound hit */
	R_BAD_FRAG,       /* fragment malformed (bad offset/length) */
	R_BAD_ADDR,       /* IPv6 header with a v4-mapped address (never on the wire) */
	R_IPS_CUT,        /* the IPS must inspect it, but the queue delivered part of it (BIG TCP) */
	R_BAD_TSECR,      /* an inspected flow's SYN-ACK to the host echoing no TSval of its SYNs */
	R_IPS_NOMEM,      /* the IPS must inspect it, but had no memory for the rule set's scratch */
	R__COUNT
};

const char *ll_by_name(enum ll_by by);
const char *ll_reason_name(enum ll_reason r);
/* The `by` a reason belongs to when it is not repeated by a flow. */
enum ll_by ll_reason_by(enum ll_reason r);

#endif
