/* reason.c - the one name table for verdict reasons (printed, counted, logged). */
#include "ll.h"
#include "reason.h"

static const char *const by_names[BY__COUNT] = {
	[BY_LIFELINE] = "lifeline", [BY_FIREWALL] = "firewall", [BY_FLOW] = "flow",
	[BY_IPS] = "ips",	    [BY_DEFAULT] = "default",	[BY_SANITY] = "sanity",
};

static const struct {
	const char *name;
	enum ll_by by;
} reasons[R__COUNT] = {
	[R_HEARTBEAT] = { "heartbeat", BY_LIFELINE },
	[R_DHCP] = { "dhcp", BY_LIFELINE },
	[R_DNS] = { "dns", BY_LIFELINE },
	[R_ICMP_PMTU] = { "icmp-pmtu", BY_LIFELINE },
	[R_ICMP6_PMTU] = { "icmp6-pmtu", BY_LIFELINE },
	[R_NDP] = { "ndp", BY_LIFELINE },
	[R_BYPASS] = { "bypass", BY_FIREWALL },
	[R_FORCE_ALLOW] = { "force-allow", BY_FIREWALL },
	[R_DENY] = { "deny", BY_FIREWALL },
	[R_ALLOW] = { "allow", BY_FIREWALL },
	[R_NOT_ALLOWED] = { "not-allowed", BY_FIREWALL },
	[R_IPS_DROP] = { "drop", BY_IPS },
	[R_IPS_REJECT] = { "reject", BY_IPS },
	[R_DEFAULT] = { "default", BY_DEFAULT },
	[R_EMPTY_POLICY] = { "empty-policy", BY_DEFAULT },
	[R_NOT_IP] = { "not-ip", BY_DEFAULT },
	[R_TRUNCATED] = { "truncated", BY_SANITY },
	[R_BAD_VERSION] = { "bad-version", BY_SANITY },
	[R_BAD_IHL] = { "bad-ihl", BY_SANITY },
	[R_BAD_LENGTH] = { "bad-length", BY_SANITY },
	[R_BAD_OPTIONS] = { "bad-options", BY_SANITY },
	[R_BAD_EXTHDR] = { "bad-exthdr", BY_SANITY },
	[R_BAD_TCP_OFFSET] = { "bad-tcp-offset", BY_SANITY },
	[R_BAD_UDP_LENGTH] = { "bad-udp-length", BY_SANITY },
	[R_FRAG_OVERLAP] = { "frag-overlap", BY_SANITY },
	[R_FRAG_TOO_BIG] = { "frag-too-big", BY_SANITY },
	[R_FRAG_TIMEOUT] = { "frag-timeout", BY_SANITY },
	[R_FRAG_LIMIT] = { "frag-limit", BY_SANITY },
	[R_BAD_FRAG] = { "bad-frag", BY_SANITY },
	[R_BAD_ADDR] = { "bad-addr", BY_SANITY },
	[R_IPS_CUT] = { "ips-cut", BY_SANITY },
	[R_BAD_TSECR] = { "bad-tsecr", BY_SANITY },
	[R_IPS_NOMEM] = { "ips-nomem", BY_SANITY },
};

const char *ll_by_name(enum ll_by by)
{
	return (unsigned)by < BY__COUNT ? by_names[by] : "?";
}

const char *ll_reason_name(enum ll_reason r)
{
	return (unsigned)r < R__COUNT && reasons[r].name ? reasons[r].name : "?";
}

enum ll_by ll_reason_by(enum ll_reason r)
{
	return (unsigned)r < R__COUNT ? reasons[r].by : BY_DEFAULT;
}
