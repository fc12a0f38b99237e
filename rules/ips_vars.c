/* ips_vars.c - Suricata rule-header addresses and ports, with $VARIABLES and their defaults. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

/*
 * Suricata's default address-groups and port-groups (suricata.yaml, 7.0).
 * HOME_NET is special: a `define` wins, then the host's addresses from the
 * engine (policy_opts), then Suricata's own default below.
 */
static const struct {
	const char *name, *val;
	bool port;
} builtin_vars[] = {
	{ "HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]", false },
	{ "EXTERNAL_NET", "!$HOME_NET", false },
	{ "HTTP_SERVERS", "$HOME_NET", false },
	{ "SMTP_SERVERS", "$HOME_NET", false },
	{ "SQL_SERVERS", "$HOME_NET", false },
	{ "DNS_SERVERS", "$HOME_NET", false },
	{ "TELNET_SERVERS", "$HOME_NET", false },
	{ "AIM_SERVERS", "$EXTERNAL_NET", false },
	{ "DC_SERVERS", "$HOME_NET", false },
	{ "DNP3_SERVER", "$HOME_NET", false },
	{ "DNP3_CLIENT", "$HOME_NET", false },
	{ "MODBUS_CLIENT", "$HOME_NET", false },
	{ "MODBUS_SERVER", "$HOME_NET", false },
	{ "ENIP_CLIENT", "$HOME_NET", false },
	{ "ENIP_SERVER", "$HOME_NET", false },
	{ "HTTP_PORTS", "80", true },
	{ "SHELLCODE_PORTS", "!80", true },
	{ "ORACLE_PORTS", "1521", true },
	{ "SSH_PORTS", "22", true },
	{ "DNP3_PORTS", "20000", true },
	{ "MODBUS_PORTS", "502", true },
	{ "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]", true },
	{ "FTP_PORTS", "21", true },
	{ "GENEVE_PORTS", "6081", true },
	{ "VXLAN_PORTS", "4789", true },
	{ "TEREDO_PORTS", "3544", true },
};

/* ips_var_is_builtin() - see ips_rules.h. */
bool ips_var_is_builtin(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(builtin_vars) / sizeof(builtin_vars[0]); i++)
		if (strlen(builtin_vars[i].name) == n && !memcmp(builtin_vars[i].name, name, n))
			return true;
	return false;
}


#define MAX_VAR_DEPTH 16
#define MAX_LIST_NEST 64 /* '[' inside '[': the parser recurses, and 20,000 of them overflowed its stack */

/* A growable range set over a 128-bit (addresses) or 16-bit (ports) space. */
struct rset {
	struct ip_range *r;
	uint32_t n, cap;
};

struct pstate {
	struct ips_pctx *c;
	const char *s; /* cursor */
	bool port;
	int depth; /* variables expanded */
	int nest;  /* lists open */
};

static const ll_ip IP_MIN = { 0, 0 };
static const ll_ip IP_MAX = { UINT64_MAX, UINT64_MAX };

static ll_ip ip_inc(ll_ip a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

static ll_ip ip_dec(ll_ip a)
{
	if (a.lo-- == 0)
		a.hi--;
	return a;
}

static int rset_add(struct rset *s, ll_ip lo, ll_ip hi)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 4;
		struct ip_range *v = realloc(s->r, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->r = v;
		s->cap = cap;
	}
	s->r[s->n].lo = lo;
	s->r[s->n++].hi = hi;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	return ll_ip_cmp(((const struct ip_range *)a)->lo, ((const struct ip_range *)b)->lo);
}

/* Sort and merge overlapping or adjacent ranges. */
static void rset_norm(struct rset *s)
{
	uint32_t o = 0;

	uint32_t k = 1;

	if (!s->n)
		return;
	/* a variable's ranges arrive normalised already: no sort for them */
	while (k < s->n && ll_ip_cmp(s->r[k - 1].lo, s->r[k].lo) <= 0)
		k++;
	if (k < s->n)
		qsort(s->r, s->n, sizeof(*s->r), range_cmp);
	for (uint32_t i = 1; i < s->n; i++) {
		struct ip_range *last = &s->r[o];
		if (ll_ip_cmp(last->hi, IP_MAX) == 0 ||
		    ll_ip_cmp(s->r[i].lo, ip_inc(last->hi)) <= 0) {
			if (ll_ip_cmp(s->r[i].hi, last->hi) > 0)
				last->hi = s->r[i].hi;
		} else {
			s->r[++o] = s->r[i];
		}
	}
	s->n = o + 1;
}

/* Complement of a normalised set within [0, max]. */
static int rset_not(const struct rset *s, ll_ip max, struct rset *out)
{
	ll_ip next = IP_MIN;
	bool more = true;

	for (uint32_t i = 0; i < s->n && more; i++) {
		if (ll_ip_cmp(s->r[i].lo, next) > 0 &&
		    rset_add(out, next, ip_dec(s->r[i].lo)))
			return -ENOMEM;
		more = ll_ip_cmp(s->r[i].hi, max) < 0;
		next = ip_inc(s->r[i].hi);
	}
	if (more && rset_add(out, next, max))
		return -ENOMEM;
	return 0;
}

/* a minus b, both normalised. */
static int rset_sub(const struct rset *a, const struct rset *b, ll_ip max, struct rset *out)
{
	struct rset nb = { 0 };
	int rc = rset_not(b, max, &nb);

	for (uint32_t i = 0, j = 0; !rc && i < a->n && j < nb.n;) {
		ll_ip lo = ll_ip_cmp(a->r[i].lo, nb.r[j].lo) > 0 ? a->r[i].lo : nb.r[j].lo;
		ll_ip hi = ll_ip_cmp(a->r[i].hi, nb.r[j].hi) < 0 ? a->r[i].hi : nb.r[j].hi;
		if (ll_ip_cmp(lo, hi) <= 0)
			rc = rset_add(out, lo, hi);
		if (ll_ip_cmp(a->r[i].hi, nb.r[j].hi) < 0)
			i++;
		else
			j++;
	}
	free(nb.r);
	return rc;
}

static int parse_item(struct pstate *st, struct rset *out);

static int perr(struct pstate *st, const char *what)
{
	ips_perr(st->c, "bad %s '%s'", st->port ? "port" : "address", what);
	return -EINVAL;
}

/* An address literal: IP, IP/len or IP-IP. */
static int parse_ip_lit(struct pstate *st, const char *tok, struct rset *out)
{
	char buf[128], *sl, *dash;
	ll_ip lo, hi;
	long plen;
	int rc;

	snprintf(buf, sizeof(buf), "%s", tok);
	sl = strchr(buf, '/');
	dash = strchr(buf, '-');
	if (sl)
		*sl++ = 0;
	if (dash && !sl)
		*dash++ = 0;
	if ((rc = ll_ip_parse_rule(buf, &lo)) == 0)
		hi = lo;
	if (rc == 0 && dash)
		rc = ll_ip_parse_rule(dash, &hi);
	if (rc == -EAFNOSUPPORT) {
		ips_perr(st->c, "'%s': " LL_V4_MAPPED_WHY, tok);
		return -EINVAL;
	}
	if (rc || (dash && (ll_ip_cmp(hi, lo) < 0 || ll_ip_is_v4(hi) != ll_ip_is_v4(lo))))
		return perr(st, tok);
	if (sl) {
		char *end;
		int bits = ll_ip_is_v4(lo) ? 32 : 128;
		plen = strtol(sl, &end, 10);
		if (*end || end == sl || plen < 0 || plen > bits)
			return perr(st, tok);
		plen += 128 - bits;
		ll_ip m = { plen >= 64 ? UINT64_MAX : plen ? ~0ULL << (64 - plen) : 0,
			    plen <= 64 ? 0 : ~0ULL << (128 - plen) };
		lo.hi &= m.hi, lo.lo &= m.lo;
		hi.hi = lo.hi | ~m.hi, hi.lo = lo.lo | ~m.lo;
	}
	return rset_add(out, lo, hi);
}

/* A port literal: N, N:M, N: or :M. */
static int parse_port_lit(struct pstate *st, const char *tok, struct rset *out)
{
	long lo = 0, hi = 65535;
	char *end;
	const char *colon = strchr(tok, ':');

	if (tok[0] != ':') {
		lo = strtol(tok, &end, 10);
		if (end == tok || (*end && *end != ':'))
			return perr(st, tok);
	}
	if (!colon)
		hi = lo;
	else if (colon[1]) {
		hi = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1)
			return perr(st, tok);
	}
	if (lo < 0 || hi > 65535 || lo > hi)
		return perr(st, tok);
	return rset_add(out, (ll_ip){ 0, (uint64_t)lo }, (ll_ip){ 0, (uint64_t)hi });
}

static int parse_text(struct pstate *st, const char *text, struct rset *out)
{
	struct pstate sub = *st;
	int rc;

	if (++sub.depth > MAX_VAR_DEPTH)
		return perr(st, text);
	sub.s = text;
	rc = parse_item(&sub, out);
	if (!rc && *sub.s)
		return perr(st, text);
	return rc;
}

/* $NAME: a policy define, the host's addresses for HOME_NET, or a Suricata default. */
static int parse_var(struct pstate *st, const char *name, struct rset *out)
{
	const struct fw_set *set = policy_set(st->c->p, name, strlen(name));
	const struct policy_opts *o = st->c->o;

	if (set) {
		if ((set->kind == SET_PORT) != st->port && !set->any) {
			ips_perr(st->c, "'$%s' is %s set, used as %s", name,
				 st->port ? "an address" : "a port", st->port ? "ports" : "addresses");
			return -EINVAL;
		}
		for (uint32_t i = 0; i < set->n; i++) {
			int rc = st->port ? rset_add(out, (ll_ip){ 0, set->ports[i].lo },
						     (ll_ip){ 0, set->ports[i].hi })
					  : rset_add(out, set->addrs[i].lo, set->addrs[i].hi);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!st->port && !strcmp(name, "HOME_NET"))
		st->c->rs->reads_home_net = true; /* the engine compiles again when they change */
	if (!st->port && !strcmp(name, "HOME_NET") && o && o->nhome_net) {
		for (uint32_t i = 0; i < o->nhome_net; i++)
			if (rset_add(out, o->home_net[i].lo, o->home_net[i].hi))
				return -ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < LL_ARRAY_SIZE(builtin_vars); i++)
		if (!strcmp(builtin_vars[i].name, name) && builtin_vars[i].port == st->port)
			return parse_text(st, builtin_vars[i].val, out);
	ips_perr(st->c, "undefined %s variable '$%s'", st->port ? "port" : "address", name);
	return -EINVAL;
}

/* '[' item (',' item)* ']': union of positives (any if none) minus the negated items. */
static int parse_list(struct pstate *st, struct rset *out)
{
	struct rset pos = { 0 }, neg = { 0 };
	ll_ip max = st->port ? (ll_ip){ 0, 65535 } : IP_MAX;
	int rc = 0;

	if (st->nest >= MAX_LIST_NEST) {
		ips_perr(st->c, "%s lists nested deeper than %d", st->port ? "port" : "address",
			 MAX_LIST_NEST);
		return -EINVAL;
	}
	st->nest++;
	st->s++;
	while (!rc) {
		while (*st->s == ' ')
			st->s++;
		bool n = *st->s == '!';
		struct rset *dst = n ? &neg : &pos;
		if (n)
			st->s++;
		st->c->addr_neg |= n && !st->port;
		rc = parse_item(st, dst);
		while (!rc && *st->s == ' ')
			st->s++;
		if (rc || *st->s == ']')
			break;
		if (*st->s != ',')
			rc = perr(st, st->s);
		st->s++;
	}
	if (!rc && *st->s++ != ']')
		rc = perr(st, "unterminated list");
	if (!rc && !pos.n)
		rc = rset_add(&pos, IP_MIN, max);
	rset_norm(&pos);
	rset_norm(&neg);
	if (!rc)
		rc = rset_sub(&pos, &neg, max, out);
	free(pos.r);
	free(neg.r);
	st->nest--;
	return rc;
}

static int parse_atom(struct pstate *st, const char *tok, struct rset *out)
{
	if (!strcmp(tok, "any"))
		return rset_add(out, IP_MIN, st->port ? (ll_ip){ 0, 65535 } : IP_MAX);
	if (tok[0] == '$')
		return parse_var(st, tok + 1, out);
	return st->port ? parse_port_lit(st, tok, out) : parse_ip_lit(st, tok, out);
}

/* One item, possibly negated: '!'? (list | atom). */
static int parse_item(struct pstate *st, struct rset *out)
{
	struct rset tmp = { 0 };
	bool neg = false;
	char tok[128];
	size_t n = 0;
	int rc;

	while (*st->s == '!') {
		neg = !neg;
		st->s++;
	}
	st->c->addr_neg |= neg && !st->port;
	if (*st->s == '[') {
		rc = parse_list(st, &tmp);
	} else {
		while (st->s[n] && !strchr(",] ", st->s[n]) && n < sizeof(tok) - 1)
			n++;
		memcpy(tok, st->s, n);
		tok[n] = 0;
		st->s += n;
		rc = n ? parse_atom(st, tok, &tmp) : perr(st, "(empty)");
	}
	rset_norm(&tmp);
	if (!rc && neg)
		rc = rset_not(&tmp, st->port ? (ll_ip){ 0, 65535 } : IP_MAX, out);
	else
		for (uint32_t i = 0; !rc && i < tmp.n; i++)
			rc = rset_add(out, tmp.r[i].lo, tmp.r[i].hi);
	free(tmp.r);
	return rc;
}

static int parse_set(struct ips_pctx *c, const char *s, bool port, struct rset *out)
{
	struct pstate st = { .c = c, .s = s, .port = port };
	int rc = parse_item(&st, out);

	if (!rc && *st.s)
		rc = perr(&st, s);
	rset_norm(out);
	if (!rc && !out->n) {
		ips_perr(c, "'%s' matches no %s", s, port ? "port" : "address");
		rc = -EINVAL;
	}
	return rc;
}

int ips_parse_addr(struct ips_pctx *c, const char *s, struct ips_addr *out)
{
	struct rset r = { 0 };
	int rc = parse_set(c, s, false, &r);

	memset(out, 0, sizeof(*out));
	if (rc) {
		free(r.r);
		return rc;
	}
	out->any = r.n == 1 && ll_ip_eq(r.r[0].lo, IP_MIN) && ll_ip_eq(r.r[0].hi, IP_MAX);
	out->n = r.n;
	out->r = r.r;
	return 0;
}

int ips_parse_ports(struct ips_pctx *c, const char *s, struct ips_ports *out)
{
	struct rset r = { 0 };
	int rc = parse_set(c, s, true, &r);

	memset(out, 0, sizeof(*out));
	if (!rc && r.n) {
		out->r = calloc(r.n, sizeof(*out->r));
		rc = out->r ? 0 : -ENOMEM;
	}
	for (uint32_t i = 0; !rc && i < r.n; i++)
		out->r[i] = (struct port_range){ (uint16_t)r.r[i].lo.lo, (uint16_t)r.r[i].hi.lo };
	if (!rc) {
		out->n = r.n;
		out->any = r.n == 1 && out->r[0].lo == 0 && out->r[0].hi == 65535;
	}
	free(r.r);
	return rc;
}

/* Binary search over the merged ranges. */
bool ips_addr_has(const struct ips_addr *a, ll_ip ip)
{
	uint32_t lo = 0, hi = a->n;

	if (a->any)
		return true;
	while (lo < hi) {
		uint32_t m = (lo + hi) / 2;
		if (ll_ip_cmp(ip, a->r[m].lo) < 0)
			hi = m;
		else if (ll_ip_cmp(ip, a->r[m].hi) > 0)
			lo = m + 1;
		else
			return true;
	}
	return false;
}

/* The same over ports (normalised too: ips_parse_ports()). A list of every odd port was 44 ms a packet as a scan. */
bool ips_ports_has(const struct ips_ports *a, uint16_t port)
{
	uint32_t lo = 0, hi = a->n;

	if (a->any)
		return true;
	while (lo < hi) {
		uint32_t m = (lo + hi) / 2;
		if (port < a->r[m].lo)
			hi = m;
		else if (port > a->r[m].hi)
			lo = m + 1;
		else
			return true;
	}
	return false;
}
