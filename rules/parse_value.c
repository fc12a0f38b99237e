/* parse_value.c - ADDR and PORTS values (any, !, $name, lists, CIDRs, ranges) to merged ranges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"
#include "parse.h"

void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *ns;

		while (cap < b->n + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

void sb_puts(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sb_add(b, s, (size_t)n);
	free(s);
}

char *sb_steal(struct strbuf *b)
{
	char *s = b->oom ? NULL : b->s;

	if (b->oom)
		free(b->s);
	else if (!s)
		s = strdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

/* parse_u64() - decimal digits only; -EINVAL not a number, -ERANGE above @max. */
int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool big = false;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		uint64_t d = (uint64_t)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			big = true;
		else
			v = v * 10 + d;
	}
	if (big || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

void pvalue_free(struct pvalue *v)
{
	free(v->addrs);
	free(v->ports);
	free(v->text.s);
	memset(v, 0, sizeof(*v));
}

static int grow(struct pvalue *v, size_t elem, void **arr)
{
	void *na;
	uint32_t cap;

	if (v->n < v->cap)
		return 0;
	cap = v->cap ? v->cap * 2 : 4;
	na = realloc(*arr, cap * elem);
	if (!na)
		return -ENOMEM;
	*arr = na;
	v->cap = cap;
	return 0;
}

int pvalue_add_addr(struct pvalue *v, struct ip_range r)
{
	if (grow(v, sizeof(r), (void **)&v->addrs))
		return -ENOMEM;
	v->addrs[v->n++] = r;
	return 0;
}

int pvalue_add_port(struct pvalue *v, struct port_range r)
{
	if (grow(v, sizeof(r), (void **)&v->ports))
		return -ENOMEM;
	v->ports[v->n++] = r;
	return 0;
}

static int cmp_ip_range(const void *a, const void *b)
{
	return ll_ip_cmp(((const struct ip_range *)a)->lo, ((const struct ip_range *)b)->lo);
}

static int cmp_port_range(const void *a, const void *b)
{
	return (int)((const struct port_range *)a)->lo - (int)((const struct port_range *)b)->lo;
}

static ll_ip ip_inc(ll_ip a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

static bool ip_is_max(ll_ip a)
{
	return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

/* pvalue_normalize() - sort, then merge overlapping and adjacent ranges. */
void pvalue_normalize(struct pvalue *v)
{
	uint32_t j = 0;

	if (v->n == 0)
		return;
	if (v->kind == SET_ADDR) {
		qsort(v->addrs, v->n, sizeof(*v->addrs), cmp_ip_range);
		for (uint32_t i = 1; i < v->n; i++) {
			struct ip_range *m = &v->addrs[j];
			if (ip_is_max(m->hi) || ll_ip_cmp(v->addrs[i].lo, ip_inc(m->hi)) <= 0) {
				if (ll_ip_cmp(v->addrs[i].hi, m->hi) > 0)
					m->hi = v->addrs[i].hi;
			} else {
				v->addrs[++j] = v->addrs[i];
			}
		}
	} else {
		qsort(v->ports, v->n, sizeof(*v->ports), cmp_port_range);
		for (uint32_t i = 1; i < v->n; i++) {
			struct port_range *m = &v->ports[j];
			if ((uint32_t)v->ports[i].lo <= (uint32_t)m->hi + 1) {
				if (v->ports[i].hi > m->hi)
					m->hi = v->ports[i].hi;
			} else {
				v->ports[++j] = v->ports[i];
			}
		}
	}
	v->n = j + 1;
}

static int word_ip(struct parser *ps, const struct token *t, const char *s, ll_ip *out)
{
	char buf[TOK_DESC_LEN];

	int rc = ll_ip_parse_rule(s, out);

	if (rc == 0)
		return 0;
	if (rc == -EAFNOSUPPORT)
		perr(ps, &t->loc, "%s: " LL_V4_MAPPED_WHY, tok_desc(t, buf, sizeof(buf)));
	else
		perr(ps, &t->loc, "bad address %s", tok_desc(t, buf, sizeof(buf)));
	return -1;
}

static void add_text_ip(struct strbuf *sb, ll_ip a)
{
	char buf[64];

	sb_puts(sb, ll_ip_str(a, buf, sizeof(buf)));
}

static int addr_cidr(struct parser *ps, const struct token *t, char *s, char *slash,
		     struct ip_range *r, struct strbuf *sb)
{
	char buf[TOK_DESC_LEN];
	uint64_t bits;
	ll_ip a;
	unsigned max;
	bool v6;

	*slash = 0;
	/* IPv6 text in the IPv4-mapped block is judged by its masked range, below */
	if (ll_ip_parse(s, &a) < 0) {
		perr(ps, &t->loc, "bad address %s", tok_desc(t, buf, sizeof(buf)));
		return -1;
	}
	v6 = strchr(s, ':') != NULL;
	max = v6 || !ll_ip_is_v4(a) ? 128 : 32;
	if (parse_u64(slash + 1, strlen(slash + 1), max, &bits)) {
		perr(ps, &t->loc, "bad prefix length in %s (0-%u)", tok_desc(t, buf, sizeof(buf)),
		     max);
		return -1;
	}
	*r = ll_prefix_range(a, (unsigned)bits + (128 - max));
	if (v6 && ll_ip_is_v4(r->lo) && ll_ip_is_v4(r->hi)) { /* ::/64 holds more: fine */
		perr(ps, &t->loc, "%s: " LL_V4_MAPPED_WHY, tok_desc(t, buf, sizeof(buf)));
		return -1;
	}
	add_text_ip(sb, r->lo);
	if (bits != max)
		sb_printf(sb, "/%u", (unsigned)bits);
	return 0;
}

static int addr_range(struct parser *ps, const struct token *t, char *s, char *dash,
		      struct ip_range *r, struct strbuf *sb)
{
	char buf[TOK_DESC_LEN];

	*dash = 0;
	if (word_ip(ps, t, s, &r->lo) || word_ip(ps, t, dash + 1, &r->hi))
		return -1;
	if (ll_ip_is_v4(r->lo) != ll_ip_is_v4(r->hi)) {
		perr(ps, &t->loc, "range %s mixes IPv4 and IPv6", tok_desc(t, buf, sizeof(buf)));
		return -1;
	}
	if (ll_ip_cmp(r->lo, r->hi) > 0) {
		perr(ps, &t->loc, "range %s: start is above end", tok_desc(t, buf, sizeof(buf)));
		return -1;
	}
	add_text_ip(sb, r->lo);
	if (!ll_ip_eq(r->lo, r->hi)) {
		sb_puts(sb, "-");
		add_text_ip(sb, r->hi);
	}
	return 0;
}

/* @r as written: an IPv6 one without the IPv4 block it may cover (ll_range_as_written()). */
static void add_family_range(struct parser *ps, struct pvalue *v, struct ip_range r)
{
	struct ip_range piece[2];
	uint32_t n = ll_range_as_written(r, piece);

	for (uint32_t i = 0; i < n; i++)
		if (pvalue_add_addr(v, piece[i]))
			ps->oom = true;
}

/* One address, CIDR or A-B range word. Errors are semantic: the token is consumed. */
static void item_addr(struct parser *ps, struct pvalue *v, struct strbuf *sb)
{
	const struct token *t = &ps->tok;
	char s[128], buf[TOK_DESC_LEN];
	struct ip_range r;
	char *sep;
	int rc;

	if (t->n >= sizeof(s)) {
		perr(ps, &t->loc, "bad address %s", tok_desc(t, buf, sizeof(buf)));
		return;
	}
	memcpy(s, t->s, t->n);
	s[t->n] = 0;
	if ((sep = strchr(s, '/')))
		rc = addr_cidr(ps, t, s, sep, &r, sb);
	else if ((sep = strchr(s, '-')))
		rc = addr_range(ps, t, s, sep, &r, sb);
	else if ((rc = word_ip(ps, t, s, &r.lo)) == 0)
		add_text_ip(sb, r.hi = r.lo);
	if (rc == 0)
		add_family_range(ps, v, r);
}

/* Letters only: what /etc/services would name ("ssh"). */
static bool is_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return n > 0;
}

static int port_num(struct parser *ps, const struct token *t, const char *s, size_t n,
		    uint16_t *out)
{
	char buf[TOK_DESC_LEN];
	uint64_t v = 0;
	int rc = parse_u64(s, n, 65535, &v);

	if (rc == -ERANGE)
		perr(ps, &t->loc, "port %s out of range 0-65535", tok_desc(t, buf, sizeof(buf)));
	else if (rc && is_name(s, n))
		perr(ps, &t->loc, "bad port %s: service names are not supported, write the number",
		     tok_desc(t, buf, sizeof(buf)));
	else if (rc)
		perr(ps, &t->loc, "bad port %s", tok_desc(t, buf, sizeof(buf)));
	*out = (uint16_t)v;
	return rc;
}

static void item_port(struct parser *ps, struct pvalue *v, struct strbuf *sb)
{
	const struct token *t = &ps->tok;
	const char *dash = memchr(t->s, '-', t->n);
	char buf[TOK_DESC_LEN];
	struct port_range r;

	if (!dash) {
		if (port_num(ps, t, t->s, t->n, &r.lo))
			return;
		r.hi = r.lo;
	} else if (port_num(ps, t, t->s, (size_t)(dash - t->s), &r.lo) ||
		   port_num(ps, t, dash + 1, t->n - (size_t)(dash + 1 - t->s), &r.hi)) {
		return;
	}
	if (r.lo > r.hi) {
		perr(ps, &t->loc, "range %s: start is above end", tok_desc(t, buf, sizeof(buf)));
		return;
	}
	if (r.lo == r.hi)
		sb_printf(sb, "%u", r.lo);
	else
		sb_printf(sb, "%u-%u", r.lo, r.hi);
	if (pvalue_add_port(v, r))
		ps->oom = true;
}

static bool looks_like_port(const struct token *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		if ((t->s[i] < '0' || t->s[i] > '9') && t->s[i] != '-')
			return false;
	return true;
}

static void set_kind(struct pvalue *v, enum set_kind k)
{
	v->kind = k;
	v->kind_known = true;
}

/*
 * The line of a `define NAME` after the lexer's position in the same file,
 * or 0: a define must come before its first use, and saying where the late
 * one is beats a bare "undefined". Error path only: the rest of the file is
 * lexed again by a copy of the lexer, whose errors are dropped (the parse
 * reports them once).
 */
static uint32_t defined_later(const struct lexer *lx, const char *name, size_t n)
{
	struct ll_errlist quiet = { 0 };
	struct lexer l = *lx;
	struct token t;
	uint32_t line = 0;
	bool bol = false;

	l.errs = &quiet;
	for (lex_next(&l, &t); t.type != T_EOF && !line; lex_next(&l, &t)) {
		if (bol && tok_is(&t, "define")) {
			lex_next(&l, &t);
			if (t.type == T_WORD && t.n == n && memcmp(t.s, name, n) == 0)
				line = t.loc.line;
		}
		bol = t.type == T_NL;
	}
	ll_err_free(&quiet);
	return line;
}

static void item_var(struct parser *ps, struct pvalue *v, struct strbuf *sb)
{
	const struct token *t = &ps->tok;
	const struct fw_set *s = policy_set(ps->p, t->s + 1, t->n - 1);
	char buf[TOK_DESC_LEN];

	sb_add(sb, t->s, t->n);
	if (!s) {
		uint32_t later = defined_later(ps->lx, t->s + 1, t->n - 1);

		if (later)
			perr(ps, &t->loc, "%s is used before its define (line %u): define it first",
			     tok_desc(t, buf, sizeof(buf)), later);
		else if (ips_var_is_builtin(t->s + 1, t->n - 1))
			perr(ps, &t->loc, "undefined %s (Suricata's IPS variables serve IPS rules "
			     "only: define it for firewall rules)", tok_desc(t, buf, sizeof(buf)));
		else
			perr(ps, &t->loc, "undefined %s", tok_desc(t, buf, sizeof(buf)));
		return;
	}
	/* an any define in a define's value makes that one any too, of either kind */
	if (s->any && (!v->kind_known || v->inferred)) {
		v->any = true;
		return;
	}
	if (!v->kind_known) {
		set_kind(v, s->kind);
		v->inferred = true;
	}
	v->has_any_set |= s->any;
	if (s->kind != v->kind && !s->any) {
		if (v->inferred)
			perr(ps, &t->loc, "%s: a define cannot mix addresses and ports",
			     tok_desc(t, buf, sizeof(buf)));
		else
			perr(ps, &t->loc, "%s is %s, not %s", tok_desc(t, buf, sizeof(buf)),
			     s->kind == SET_ADDR ? "an address set" : "a port set",
			     v->kind == SET_ADDR ? "addresses" : "ports");
		return;
	}
	for (uint32_t i = 0; i < s->n; i++)
		if (v->kind == SET_ADDR ? pvalue_add_addr(v, s->addrs[i]) :
					  pvalue_add_port(v, s->ports[i]))
			ps->oom = true;
}

/* One item at the current token; consumes it. -1 on a syntax error. */
static int parse_item(struct parser *ps, struct pvalue *v, struct strbuf *sb)
{
	const struct token *t = &ps->tok;
	char buf[TOK_DESC_LEN];

	if (t->type == T_VAR) {
		item_var(ps, v, sb);
	} else if (t->type == T_WORD && !tok_is(t, "any")) {
		if (!v->kind_known) {
			set_kind(v, looks_like_port(t) ? SET_PORT : SET_ADDR);
			v->inferred = true;
		}
		if (v->inferred && looks_like_port(t) != (v->kind == SET_PORT))
			perr(ps, &t->loc, "%s: a define cannot mix addresses and ports",
			     tok_desc(t, buf, sizeof(buf)));
		else if (v->kind == SET_ADDR)
			item_addr(ps, v, sb);
		else
			item_port(ps, v, sb);
	} else if (t->type == T_BANG) {
		perr(ps, &t->loc, "'!' inside a list: negate the whole list instead");
		return -1;
	} else {
		perr(ps, &t->loc, "expected %s, got %s",
		     !v->kind_known ? "an address or port" :
		     v->kind == SET_ADDR ? "an address" : "a port",
		     tok_desc(t, buf, sizeof(buf)));
		return -1;
	}
	v->items++;
	next(ps);
	return 0;
}

static int parse_list(struct parser *ps, struct pvalue *v, struct strbuf *sb)
{
	struct srcloc open = ps->tok.loc;
	struct strbuf items = { 0 };
	uint32_t n0 = v->items;
	int rc = 0;

	next(ps);
	for (;;) {
		bool new_line = false;

		while (ps->tok.type == T_NL || ps->tok.type == T_COMMA) {
			new_line |= ps->tok.type == T_NL;
			next(ps);
		}
		if (ps->tok.type == T_RBRACE || ps->tok.type == T_EOF)
			break;
		/* a list may span lines, but not swallow the next rule: one error, here */
		if (new_line && starts_statement(&ps->tok)) {
			char buf[TOK_DESC_LEN];

			perr(ps, &open, "'{' is never closed: line %u starts with %s", ps->tok.loc.line,
			     tok_desc(&ps->tok, buf, sizeof(buf)));
			rc = -1;
			goto out;
		}
		/* a rule's next clause: the list was left open on this line */
		if (rule_keyword(&ps->tok)) {
			char buf[TOK_DESC_LEN];

			perr(ps, &open, "'{' is never closed before %s", tok_desc(&ps->tok, buf, sizeof(buf)));
			rc = -1;
			goto out;
		}
		if (v->items > n0)
			sb_puts(&items, ", ");
		if ((rc = parse_item(ps, v, &items)) < 0)
			goto out;
	}
	if (ps->tok.type == T_EOF) {
		perr(ps, &open, "'{' is never closed");
		rc = -1;
		goto out;
	}
	next(ps);
	if (v->items - n0 == 1) {
		sb_add(sb, items.s, items.n);
	} else {
		sb_puts(sb, "{ ");
		if (items.n)
			sb_add(sb, items.s, items.n), sb_puts(sb, " ");
		sb_puts(sb, "}");
	}
out:
	free(items.s);
	return rc;
}

/* parse_value() - see parse.h. */
int parse_value(struct parser *ps, enum want_kind want, bool allow_any_neg, struct pvalue *v)
{
	char buf[TOK_DESC_LEN];
	int rc;

	memset(v, 0, sizeof(*v));
	if (want != WANT_ANY_KIND)
		set_kind(v, (enum set_kind)want);
	if (allow_any_neg && tok_is(&ps->tok, "any")) {
		v->any = true;
		sb_puts(&v->text, "any");
		next(ps);
		return 0;
	}
	if (ps->tok.type == T_BANG) {
		if (!allow_any_neg) {
			perr(ps, &ps->tok.loc, "'!' is not allowed in a define");
			return -1;
		}
		v->neg = true;
		sb_puts(&v->text, "! ");
		next(ps);
		if (tok_is(&ps->tok, "any") || ps->tok.type == T_BANG) {
			perr(ps, &ps->tok.loc, ps->tok.type == T_BANG ? "%s given twice" :
					       "%s cannot be negated", desc(ps, buf));
			return -1;
		}
	}
	if (ps->tok.type == T_LBRACE) {
		struct srcloc open = ps->tok.loc;

		rc = parse_list(ps, v, &v->text);
		/* pf and nft refuse '{ }'; in a rule it would silently match nothing (or, negated, all) */
		if (rc == 0 && allow_any_neg && v->items == 0 && !ps->ran)
			perr(ps, &open, "'{ }' is empty: a rule with it would match %s; write %s",
			     v->neg ? "every address or port" : "nothing",
			     v->neg ? "'any'" : "a define (a set 'table' fills) or leave the rule out");
	} else
		rc = parse_item(ps, v, &v->text);
	if (!v->kind_known) /* an empty define: address sets are the ones tables fill */
		set_kind(v, SET_ADDR);
	pvalue_normalize(v);
	return rc;
}
