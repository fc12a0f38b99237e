/* icmp_names.c - ICMP and ICMPv6 type and code names, as nftables spells them. */
#include <string.h>

#include "parse.h"

struct icmp_name {
	const char *name;
	uint8_t value;
};

static const struct icmp_name icmp4_types[] = {
	{ "echo-reply", 0 },
	{ "destination-unreachable", 3 },
	{ "source-quench", 4 },
	{ "redirect", 5 },
	{ "echo-request", 8 },
	{ "router-advertisement", 9 },
	{ "router-solicitation", 10 },
	{ "time-exceeded", 11 },
	{ "parameter-problem", 12 },
	{ "timestamp-request", 13 },
	{ "timestamp-reply", 14 },
	{ "info-request", 15 },
	{ "info-reply", 16 },
	{ "address-mask-request", 17 },
	{ "address-mask-reply", 18 },
};

/* The first name of a value is the one printed (mld-listener-done over -reduction). */
static const struct icmp_name icmp6_types[] = {
	{ "destination-unreachable", 1 },
	{ "packet-too-big", 2 },
	{ "time-exceeded", 3 },
	{ "parameter-problem", 4 },
	{ "echo-request", 128 },
	{ "echo-reply", 129 },
	{ "mld-listener-query", 130 },
	{ "mld-listener-report", 131 },
	{ "mld-listener-done", 132 },
	{ "mld-listener-reduction", 132 },
	{ "nd-router-solicit", 133 },
	{ "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 },
	{ "nd-neighbor-advert", 136 },
	{ "nd-redirect", 137 },
	{ "router-renumbering", 138 },
	{ "ind-neighbor-solicit", 141 },
	{ "ind-neighbor-advert", 142 },
	{ "mld2-listener-report", 143 },
};

static const struct icmp_name icmp4_codes[] = {
	{ "net-unreachable", 0 },
	{ "host-unreachable", 1 },
	{ "prot-unreachable", 2 },
	{ "port-unreachable", 3 },
	{ "frag-needed", 4 },
	{ "net-prohibited", 9 },
	{ "host-prohibited", 10 },
	{ "admin-prohibited", 13 },
};

static const struct icmp_name icmp6_codes[] = {
	{ "no-route", 0 },
	{ "admin-prohibited", 1 },
	{ "addr-unreachable", 3 },
	{ "port-unreachable", 4 },
	{ "policy-fail", 5 },
	{ "reject-route", 6 },
};

static int lookup(const struct icmp_name *t, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, s, len) == 0)
			return t[i].value;
	return -1;
}

static const char *name_of(const struct icmp_name *t, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return t[i].name;
	return NULL;
}

/* icmp_type_lookup() - the type named @s (@len bytes) for ICMP (@v6 false) or ICMPv6; -1 if none. */
int icmp_type_lookup(bool v6, const char *s, size_t len)
{
	if (v6)
		return lookup(icmp6_types, LL_ARRAY_SIZE(icmp6_types), s, len);
	return lookup(icmp4_types, LL_ARRAY_SIZE(icmp4_types), s, len);
}

/* icmp_code_lookup() - the destination-unreachable code named @s; -1 if none. */
int icmp_code_lookup(bool v6, const char *s, size_t len)
{
	if (v6)
		return lookup(icmp6_codes, LL_ARRAY_SIZE(icmp6_codes), s, len);
	return lookup(icmp4_codes, LL_ARRAY_SIZE(icmp4_codes), s, len);
}

/* icmp_type_name() - the printed name of @type, or NULL when it has none. */
const char *icmp_type_name(bool v6, int type)
{
	if (v6)
		return name_of(icmp6_types, LL_ARRAY_SIZE(icmp6_types), type);
	return name_of(icmp4_types, LL_ARRAY_SIZE(icmp4_types), type);
}

/*
 * icmp_code_name() - the printed name of @code under @type, or NULL. Code
 * names belong to destination-unreachable: code 0 of time-exceeded is not
 * "net-unreachable", so other types print codes as numbers.
 */
const char *icmp_code_name(bool v6, int type, int code)
{
	if (type != (v6 ? 1 : 3))
		return NULL;
	if (v6)
		return name_of(icmp6_codes, LL_ARRAY_SIZE(icmp6_codes), code);
	return name_of(icmp4_codes, LL_ARRAY_SIZE(icmp4_codes), code);
}
