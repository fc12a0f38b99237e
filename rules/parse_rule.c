/* parse_rule.c - one firewall rule line: ACTION [priority N] DIR PROTO [clauses...]. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "pkt.h"

struct rule_ctx {
	struct fw_rule r;
	struct token action;
	bool dir, proto, pri, id, msg, nolog, on, from, to, type, code, flags;
	struct srcloc addr_loc[2]; /* from, to: where the address value starts */
};

static const char *const actions[FW__ACTIONS] = {
	[FW_BYPASS] = "bypass", [FW_LOG_ONLY] = "log-only", [FW_FORCE_ALLOW] = "force-allow",
	[FW_DENY] = "deny",     [FW_ALLOW] = "allow",
};

/* action_lookup() - the fw_action a word names, or -1. */
int action_lookup(const struct token *t)
{
	for (int a = 0; a < FW__ACTIONS; a++)
		if (tok_is(t, actions[a]))
			return a;
	return -1;
}

static bool proto_has_ports(const struct fw_rule *r)
{
	return r->proto_kind == FWP_TCP || r->proto_kind == FWP_UDP ||
	       r->proto_kind == FWP_TCP_UDP;
}

static bool proto_is_icmp(const struct fw_rule *r)
{
	return r->proto_kind == FWP_ICMP || r->proto_kind == FWP_ICMP6;
}

/* A number word at the current token, or a reported error. Consumes it. */
static int number(struct parser *ps, const char *what, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char buf[TOK_DESC_LEN];
	int rc;

	if (ps->tok.type != T_WORD) {
		perr(ps, &ps->tok.loc, "expected %s, got %s", what, desc(ps, buf));
		return -1;
	}
	rc = parse_u64(ps->tok.s, ps->tok.n, hi, out);
	if (rc == -EINVAL)
		perr(ps, &ps->tok.loc, "bad %s %s", what, desc(ps, buf));
	else if (rc || *out < lo)
		perr(ps, &ps->tok.loc, "%s %s out of range %llu-%llu", what, desc(ps, buf),
		     (unsigned long long)lo, (unsigned long long)hi);
	next(ps);
	return rc || *out < lo ? 1 : 0;
}

static int kw_priority(struct parser *ps, struct rule_ctx *c)
{
	struct srcloc at;
	uint64_t v;
	int rc;

	next(ps);
	at = ps->tok.loc;
	if ((rc = number(ps, "priority", 0, 4, &v)) != 0)
		return rc < 0 ? -1 : 0;
	c->r.priority = (uint8_t)v;
	if (c->r.action == FW_ALLOW && v != 0)
		perr(ps, &at, "'allow' exists only at priority 0, not %llu", (unsigned long long)v);
	if (c->r.action == FW_LOG_ONLY && v != 4)
		perr(ps, &at, "'log-only' exists only at priority 4, not %llu",
		     (unsigned long long)v);
	return 0;
}

static int kw_id(struct parser *ps, struct rule_ctx *c, struct srcloc *idloc)
{
	uint64_t v;
	int rc;

	next(ps);
	*idloc = ps->tok.loc;
	if ((rc = number(ps, "id", 1, UINT32_MAX, &v)) != 0)
		return rc < 0 ? -1 : 0;
	c->r.id = (uint32_t)v;
	return 0;
}

static int kw_msg(struct parser *ps, struct rule_ctx *c)
{
	char buf[TOK_DESC_LEN];

	next(ps);
	if (ps->tok.type != T_STRING) {
		perr(ps, &ps->tok.loc, "expected a quoted string after 'msg', got %s", desc(ps, buf));
		return -1;
	}
	if (!(c->r.msg = lex_string_value(&ps->tok)))
		ps->oom = true;
	next(ps);
	return 0;
}

static int kw_dir(struct parser *ps, struct rule_ctx *c)
{
	static const char *const dirs[] = { [FW_DIR_IN] = "in", [FW_DIR_OUT] = "out",
					    [FW_DIR_ANY] = "any" };
	char buf[TOK_DESC_LEN];

	for (uint8_t d = FW_DIR_IN; d <= FW_DIR_ANY; d++) {
		if (tok_is(&ps->tok, dirs[d])) {
			c->r.dir = d;
			next(ps);
			return 0;
		}
	}
	perr(ps, &ps->tok.loc, "expected a direction (in, out or any), got %s", desc(ps, buf));
	return -1;
}

static int kw_proto(struct parser *ps, struct rule_ctx *c)
{
	static const char *const protos[] = {
		[FWP_ANY] = "any",   [FWP_TCP] = "tcp",	    [FWP_UDP] = "udp",
		[FWP_TCP_UDP] = "tcp-udp", [FWP_ICMP] = "icmp", [FWP_ICMP6] = "icmp6",
	};
	char buf[TOK_DESC_LEN];
	uint64_t v;

	for (uint8_t k = 0; k < LL_ARRAY_SIZE(protos); k++) {
		if (tok_is(&ps->tok, protos[k])) {
			c->r.proto_kind = k;
			next(ps);
			return 0;
		}
	}
	if (tok_is(&ps->tok, "proto")) {
		next(ps);
		c->r.proto_kind = FWP_NUM;
		if (number(ps, "protocol number", 0, 255, &v))
			return -1;
		c->r.proto_num = (uint8_t)v;
		return 0;
	}
	perr(ps, &ps->tok.loc, "unknown protocol %s", desc(ps, buf));
	return -1;
}

static int kw_on(struct parser *ps, struct rule_ctx *c)
{
	char buf[TOK_DESC_LEN];

	next(ps);
	if (ps->tok.type != T_WORD || tok_is(&ps->tok, "any")) {
		perr(ps, &ps->tok.loc, "expected an interface name after 'on', got %s",
		     desc(ps, buf));
		return -1;
	}
	if (ps->tok.n >= sizeof(c->r.iface))
		perr(ps, &ps->tok.loc, "interface name %s is longer than %zu characters",
		     desc(ps, buf), sizeof(c->r.iface) - 1);
	/* Linux names no interface so (dev_valid_name()): such a rule would never match */
	else if (!ll_ifname_ok(ps->tok.s, ps->tok.n))
		perr(ps, &ps->tok.loc, "%s cannot name a Linux interface (" LL_IFNAME_WHY
		     "): the rule would never match", desc(ps, buf));
	else
		memcpy(c->r.iface, ps->tok.s, ps->tok.n);
	next(ps);
	return 0;
}

static void take_value(struct pvalue *v, bool *any, bool *neg, uint32_t *n, char **text)
{
	*any = v->any;
	*neg = v->neg;
	*n = v->n;
	*text = sb_steal(&v->text);
}

static ll_ip ip_next(ll_ip a)
{
	return (ll_ip){ a.hi + (a.lo == UINT64_MAX), a.lo + 1 };
}

/*
 * Do sorted, merged @r cover all of their family (of both, family 0), so
 * that their negation ('! ::/0', '! 0.0.0.0/0') can never match?
 */
static bool covers_family(const struct ip_range *r, uint32_t n, int family)
{
	const ll_ip v4lo = ll_ip_from_v4(0), v4hi = ll_ip_from_v4(UINT32_MAX);
	ll_ip want = family == 4 ? v4lo : (ll_ip){ 0, 0 };

	for (uint32_t i = 0; i < n; i++) {
		if (family == 6 && ll_ip_eq(want, v4lo))
			want = ip_next(v4hi); /* IPv6 ranges leave the IPv4 block out */
		if (ll_ip_cmp(r[i].lo, want) > 0)
			return false;
		if (ll_ip_cmp(r[i].hi, want) >= 0) {
			if (ll_ip_eq(r[i].hi, family == 4 ? v4hi : (ll_ip){ UINT64_MAX, UINT64_MAX }))
				return true;
			want = ip_next(r[i].hi);
		}
	}
	return false;
}

/* Ports: do the ranges hold 0-65535? */
static bool covers_ports(const struct port_range *r, uint32_t n)
{
	uint32_t want = 0;

	for (uint32_t i = 0; i < n && r[i].lo <= want; i++)
		if (r[i].hi >= want)
			want = r[i].hi + 1u;
	return want > 65535;
}

static int kw_addr(struct parser *ps, struct rule_ctx *c, bool src)
{
	struct addr_match *am = src ? &c->r.src : &c->r.dst;
	struct port_match *pm = src ? &c->r.sport : &c->r.dport;
	struct pvalue v;
	struct srcloc at;
	char buf[TOK_DESC_LEN];
	bool fixed;

	next(ps);
	c->addr_loc[!src] = ps->tok.loc;
	if (parse_value(ps, WANT_ADDR, true, &v) < 0)
		goto fail;
	take_value(&v, &am->any, &am->neg, &am->n, &am->text);
	am->r = v.addrs;
	v.addrs = NULL;
	am->family = am->any ? 0 : (uint8_t)ll_ranges_family(am->r, am->n);
	fixed = v.has_any_set || !strchr(am->text, '$');
	pvalue_free(&v);
	/* a literal or an any define only: a set that 'table' fills may pass through "everything" */
	if (am->neg && !ps->ran && fixed && covers_family(am->r, am->n, am->family))
		perr(ps, &c->addr_loc[!src], "'%s' leaves no address of its family: the rule can "
		     "never match", am->text);
	if (!tok_is(&ps->tok, "port"))
		return 0;
	if (!proto_has_ports(&c->r))
		perr(ps, &ps->tok.loc, "%s needs protocol tcp, udp or tcp-udp", desc(ps, buf));
	next(ps);
	at = ps->tok.loc;
	if (parse_value(ps, WANT_PORT, true, &v) < 0)
		goto fail;
	free(pm->text);
	take_value(&v, &pm->any, &pm->neg, &pm->n, &pm->text);
	pm->r = v.ports;
	v.ports = NULL;
	fixed = v.has_any_set || !strchr(pm->text, '$');
	pvalue_free(&v);
	if (pm->neg && !ps->ran && fixed && covers_ports(pm->r, pm->n))
		perr(ps, &at, "'%s' leaves no port: the rule can never match", pm->text);
	return 0;
fail:
	pvalue_free(&v);
	return -1;
}

/* A type or code: a number 0-255 or an nft name for the rule's ICMP family. */
static int icmp_value(struct parser *ps, struct rule_ctx *c, bool code, int16_t *out)
{
	bool v6 = c->r.proto_kind == FWP_ICMP6;
	const char *what = code ? (v6 ? "icmp6 code" : "icmp code") :
				  (v6 ? "icmp6 type" : "icmp type");
	char buf[TOK_DESC_LEN];
	uint64_t v;
	int named;

	if (ps->tok.type == T_WORD && ps->tok.s[0] >= '0' && ps->tok.s[0] <= '9') {
		if (number(ps, what, 0, 255, &v) == 0)
			*out = (int16_t)v;
		return 0;
	}
	named = ps->tok.type != T_WORD ? -1 :
		code ? icmp_code_lookup(v6, ps->tok.s, ps->tok.n) :
		       icmp_type_lookup(v6, ps->tok.s, ps->tok.n);
	if (named < 0) {
		perr(ps, &ps->tok.loc, "unknown %s %s", what, desc(ps, buf));
		return -1;
	}
	*out = (int16_t)named;
	next(ps);
	return 0;
}

static int kw_icmp(struct parser *ps, struct rule_ctx *c, bool code)
{
	char buf[TOK_DESC_LEN];

	if (code && !c->type)
		perr(ps, &ps->tok.loc, "'code' needs a 'type' before it");
	else if (c->r.proto_kind == FWP_NUM && (c->r.proto_num == 1 || c->r.proto_num == 58))
		perr(ps, &ps->tok.loc, "%s needs protocol icmp or icmp6: write '%s', not 'proto %u'",
		     desc(ps, buf), c->r.proto_num == 1 ? "icmp" : "icmp6", c->r.proto_num);
	else if (!proto_is_icmp(&c->r))
		perr(ps, &ps->tok.loc, "%s needs protocol icmp or icmp6", desc(ps, buf));
	next(ps);
	return icmp_value(ps, c, code, code ? &c->r.icmp_code : &c->r.icmp_type);
}

static int kw_flags(struct parser *ps, struct rule_ctx *c)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
	char buf[TOK_DESC_LEN];

	if (c->r.proto_kind != FWP_TCP)
		perr(ps, &ps->tok.loc, "'flags' needs protocol tcp");
	do {
		size_t i;

		next(ps);
		for (i = 0; i < LL_ARRAY_SIZE(names); i++)
			if (ps->tok.type == T_WORD && ps->tok.n == 3 &&
			    strncasecmp(ps->tok.s, names[i], 3) == 0)
				break;
		if (i == LL_ARRAY_SIZE(names)) {
			perr(ps, &ps->tok.loc, "unknown TCP flag %s (FIN, SYN, RST, PSH, ACK, URG)",
			     desc(ps, buf));
			return -1;
		}
		c->r.tcp_flags |= (uint8_t)(1u << i); /* TCPF_* follow the wire order */
		next(ps);
	} while (ps->tok.type == T_COMMA);
	return 0;
}

/* Once-only clauses: a repeat is an error rather than a silent override. */
static int once(struct parser *ps, bool *seen)
{
	char buf[TOK_DESC_LEN];

	if (*seen) {
		perr(ps, &ps->tok.loc, "%s given twice", desc(ps, buf));
		return -1;
	}
	*seen = true;
	return 0;
}

/* rule_keyword() - see parse.h: the words kw_anywhere() and kw_clause() take, and port. */
bool rule_keyword(const struct token *t)
{
	static const char *const words[] = { "priority", "id", "msg", "nolog", "on", "from", "to",
					     "port", "type", "code", "flags" };

	for (size_t i = 0; i < LL_ARRAY_SIZE(words); i++)
		if (tok_is(t, words[i]))
			return true;
	return false;
}

/* Words allowed anywhere after ACTION. 1: not one of them. */
static int kw_anywhere(struct parser *ps, struct rule_ctx *c, struct srcloc *idloc)
{
	char buf[TOK_DESC_LEN];

	if (tok_is(&ps->tok, "priority"))
		return once(ps, &c->pri) ?: kw_priority(ps, c);
	if (tok_is(&ps->tok, "id"))
		return once(ps, &c->id) ?: kw_id(ps, c, idloc);
	if (tok_is(&ps->tok, "msg"))
		return once(ps, &c->msg) ?: kw_msg(ps, c);
	if (tok_is(&ps->tok, "nolog")) {
		if (once(ps, &c->nolog))
			return -1;
		if (c->r.action != FW_DENY)
			perr(ps, &ps->tok.loc, "%s applies only to deny rules", desc(ps, buf));
		c->r.nolog = true;
		next(ps);
		return 0;
	}
	return 1;
}

static int kw_clause(struct parser *ps, struct rule_ctx *c)
{
	char buf[TOK_DESC_LEN];

	if (!c->dir)
		return (c->dir = true), kw_dir(ps, c);
	if (!c->proto)
		return (c->proto = true), kw_proto(ps, c);
	if (tok_is(&ps->tok, "on"))
		return once(ps, &c->on) ?: kw_on(ps, c);
	if (tok_is(&ps->tok, "from"))
		return once(ps, &c->from) ?: kw_addr(ps, c, true);
	if (tok_is(&ps->tok, "to"))
		return once(ps, &c->to) ?: kw_addr(ps, c, false);
	if (tok_is(&ps->tok, "type"))
		return once(ps, &c->type) ?: kw_icmp(ps, c, false);
	if (tok_is(&ps->tok, "code"))
		return once(ps, &c->code) ?: kw_icmp(ps, c, true);
	if (tok_is(&ps->tok, "flags"))
		return once(ps, &c->flags) ?: kw_flags(ps, c);
	if (tok_is(&ps->tok, "port"))
		perr(ps, &ps->tok.loc, "'port' must follow 'from ADDR' or 'to ADDR'");
	else if (ps->tok.type == T_WORD)
		perr(ps, &ps->tok.loc, "unknown keyword %s", desc(ps, buf));
	else if (ps->tok.type == T_COMMA && (c->from || c->to))
		perr(ps, &ps->tok.loc, "unexpected ',': a list needs braces, as in "
		     "'port { 80, 443 }' or 'from { 192.0.2.1, 198.51.100.0/24 }'");
	else if (ps->tok.type != T_BAD)
		perr(ps, &ps->tok.loc, "unexpected %s", desc(ps, buf));
	return -1;
}

static void rule_init(struct rule_ctx *c, struct parser *ps, enum fw_action a)
{
	memset(c, 0, sizeof(*c));
	c->action = ps->tok;
	c->r.action = (uint8_t)a;
	c->r.priority = a == FW_LOG_ONLY ? 4 : 0;
	c->r.src.any = c->r.dst.any = true;
	c->r.sport.any = c->r.dport.any = true;
	c->r.icmp_type = c->r.icmp_code = -1;
	c->r.loc = ps->tok.loc;
}

static int rule_append(struct parser *ps, struct rule_ctx *c, const struct srcloc *idloc)
{
	struct policy *p = ps->p;

	if (p->nrules == ps->rules_cap) {
		uint32_t cap = ps->rules_cap ? ps->rules_cap * 2 : 16;
		struct fw_rule *r = realloc(p->rules, cap * sizeof(*r));
		struct srcloc *l = realloc(ps->idloc, cap * sizeof(*l));

		if (r)
			p->rules = r;
		if (l)
			ps->idloc = l;
		if (!r || !l)
			return -ENOMEM;
		ps->rules_cap = cap;
	}
	c->r.id_auto = !c->id;
	ps->idloc[p->nrules] = *idloc;
	p->rules[p->nrules++] = c->r;
	if (c->r.action == FW_ALLOW)
		p->allow_dirs |= c->r.dir;
	return 0;
}

static void fill_any_text(struct fw_rule *r)
{
	char **t[] = { &r->src.text, &r->dst.text, &r->sport.text, &r->dport.text };

	for (size_t i = 0; i < LL_ARRAY_SIZE(t); i++)
		if (!*t[i])
			*t[i] = strdup("any");
}

/*
 * A rule whose addresses and protocol name different families can never
 * match: an error, as pfctl makes it, not a rule that silently does nothing.
 */
static void family_check(struct parser *ps, const struct rule_ctx *c)
{
	const struct addr_match *m[2] = { &c->r.src, &c->r.dst };
	int pf = c->r.proto_kind == FWP_ICMP ? 4 : c->r.proto_kind == FWP_ICMP6 ? 6 : 0;

	for (int i = 0; i < 2; i++) {
		if (!m[i]->family)
			continue;
		if (pf && m[i]->family != pf) {
			perr(ps, &c->addr_loc[i], "%s '%s' is IPv%d only, and %s is IPv%d: the rule "
			     "can never match", i ? "to" : "from", m[i]->text, m[i]->family,
			     pf == 4 ? "icmp" : "icmp6", pf);
			return;
		}
		if (i == 1 && m[0]->family && m[0]->family != m[1]->family) {
			perr(ps, &c->addr_loc[1], "to '%s' is IPv%d only, and from '%s' IPv%d only: "
			     "the rule can never match", m[1]->text, m[1]->family, m[0]->text,
			     m[0]->family);
			return;
		}
	}
}

/* parse_rule() - the current token is ACTION. -1 after a syntax error (resync). */
int parse_rule(struct parser *ps, enum fw_action a)
{
	struct srcloc idloc = { 0 };
	struct rule_ctx c;
	int rc = 0;

	rule_init(&c, ps, a);
	next(ps);
	while (rc == 0 && ps->tok.type != T_NL && ps->tok.type != T_EOF) {
		rc = kw_anywhere(ps, &c, &idloc);
		if (rc == 1)
			rc = kw_clause(ps, &c);
	}
	if (rc == 0 && (!c.dir || !c.proto)) {
		perr(ps, &ps->tok.loc, "rule ends before its %s, at %s",
		     c.dir ? "protocol" : "direction (in, out or any)",
		     ps->tok.type == T_EOF ? "end of file" : "end of line");
		rc = -1;
	}
	if (rc == 0)
		family_check(ps, &c);
	fill_any_text(&c.r);
	if (rc == 0 && rule_append(ps, &c, &idloc) < 0) {
		ps->oom = true;
		rc = -1;
	}
	if (rc < 0)
		fw_rule_release(&c.r);
	return rc;
}
