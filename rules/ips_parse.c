/* ips_parse.c - one Suricata/Snort rule line: header, option splitting, meta keywords. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

void ips_perr(struct ips_pctx *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ll_err_add(c->errs, &c->loc, "%s", buf);
}

/* Point c->loc at byte @off of the rule text: on its own line when a continuation holds it. */
static void at(struct ips_pctx *c, const struct srcloc *base, size_t off)
{
	uint32_t k = c->nconts;

	while (k && c->conts[k - 1] > off)
		k--;
	c->loc = *base;
	if (!k) {
		c->loc.col = base->col + (uint32_t)off;
		return;
	}
	c->loc.line = base->line + k;
	c->loc.col = 1 + (uint32_t)(off - c->conts[k - 1]);
}

static const char *const actions[] = { "alert", "drop", "reject", "pass" };

static const struct {
	const char *name;
	uint8_t proto, family;
} protos[] = {
	{ "ip", IPSP_IP, 0 },	  { "tcp", IPSP_TCP, 0 },     { "udp", IPSP_UDP, 0 },
	{ "icmp", IPSP_ICMP, 0 }, { "tcp-pkt", IPSP_TCP_PKT, 0 }, { "tcp-stream", IPSP_TCP_STREAM, 0 },
	{ "ipv4", IPSP_IP, 4 },	  { "ipv6", IPSP_IP, 6 },     { "icmpv4", IPSP_ICMP, 4 },
	{ "icmpv6", IPSP_ICMP, 6 },
};

/* Next header token: whitespace-separated, but [lists] may hold spaces. */
static size_t next_tok(const char *s, size_t i, char *tok, size_t cap, size_t *start)
{
	size_t n = 0;
	int depth = 0;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	*start = i;
	for (; s[i] && s[i] != '(' && (depth || (s[i] != ' ' && s[i] != '\t')); i++) {
		depth += s[i] == '[';
		depth -= s[i] == ']';
		if (n < cap - 1 && s[i] != ' ' && s[i] != '\t')
			tok[n++] = s[i];
	}
	tok[n] = 0;
	return i;
}

static int parse_proto(struct ips_pctx *c, const char *tok, struct ips_rule *r)
{
	for (size_t i = 0; i < LL_ARRAY_SIZE(protos); i++)
		if (!strcmp(tok, protos[i].name)) {
			r->proto = protos[i].proto;
			r->family = protos[i].family;
			return 0;
		}
	snprintf(c->unsup_buf, sizeof(c->unsup_buf), "protocol %.40s", tok);
	c->unsup = tok[0] ? c->unsup_buf : NULL;
	c->unsup_loc = c->loc;
	if (!tok[0])
		ips_perr(c, "missing protocol");
	return tok[0] ? -ENOTSUP : -EINVAL;
}

/* action proto src sport -> dst dport, in @tok (room for the text's bytes); the offset of '(' or -EINVAL. */
static long header_in(struct ips_pctx *c, const char *text, struct ips_rule *r, char *buf,
		      size_t cap)
{
	const struct srcloc base = c->loc;
	char *tok[7];
	size_t i = 0, st[7];
	int rc = 0;

	for (int k = 0; k < 7; k++) { /* as long as the text: an inline list may hold hundreds of addresses */
		tok[k] = buf;
		i = next_tok(text, i, tok[k], cap, &st[k]);
		cap -= strlen(tok[k]) + 1;
		buf += strlen(tok[k]) + 1;
	}
	while (text[i] == ' ' || text[i] == '\t')
		i++;
	if (text[i] != '(' || !tok[6][0]) {
		/* `drop in tcp ...`: nft's and pf's words for a firewall rule */
		bool fw = !strcmp(tok[1], "in") || !strcmp(tok[1], "out") || !strcmp(tok[1], "any");

		at(c, &base, i);
		ips_perr(c, "rule header needs 'action proto src port -> dst port ('%s",
			 fw ? " (a firewall rule's action is allow, deny, force-allow, bypass or log-only; "
			      "drop, reject, pass and alert start IPS rules)" : "");
		return -EINVAL;
	}
	r->action = 0xff;
	for (size_t a = 0; a < LL_ARRAY_SIZE(actions); a++)
		if (!strcmp(tok[0], actions[a]))
			r->action = (uint8_t)a;
	/* Suricata's reject is rejectsrc: the answer goes to the packet's sender, as here */
	if (!strcmp(tok[0], "rejectsrc"))
		r->action = IRA_REJECT;
	if (!strcmp(tok[0], "rejectdst") || !strcmp(tok[0], "rejectboth")) {
		/* an answer to the receiver too: the engine sends none (a rule, not a typo: skippable) */
		snprintf(c->unsup_buf, sizeof(c->unsup_buf), "action %s", tok[0]);
		c->unsup = c->unsup_buf;
		c->unsup_loc = c->loc;
		return -ENOTSUP;
	}
	at(c, &base, st[1]);
	if ((rc = parse_proto(c, tok[1], r)))
		return rc;
	at(c, &base, st[2]);
	c->addr_neg = false;
	rc |= ips_parse_addr(c, tok[2], &r->src);
	at(c, &base, st[3]);
	rc |= ips_parse_ports(c, tok[3], &r->sp);
	at(c, &base, st[4]);
	if (strcmp(tok[4], "->") && strcmp(tok[4], "<>")) {
		ips_perr(c, "bad direction '%s' (-> or <>)", tok[4]);
		rc = -EINVAL;
	}
	r->bidir = !strcmp(tok[4], "<>");
	at(c, &base, st[5]);
	rc |= ips_parse_addr(c, tok[5], &r->dst);
	at(c, &base, st[6]);
	rc |= ips_parse_ports(c, tok[6], &r->dp);
	c->loc = base;
	return rc ? -EINVAL : (long)i;
}

static long parse_header(struct ips_pctx *c, const char *text, struct ips_rule *r)
{
	size_t cap = strlen(text) + 7; /* the tokens' bytes come from the text, plus their NULs */
	char *buf = malloc(cap);
	long rc;

	if (!buf)
		return -ENOMEM;
	rc = header_in(c, text, r, buf, cap);
	free(buf);
	return rc;
}

/* Strip "…" and undo the escapes Suricata allows inside: \" \\ \; \: . */
char *ips_unquote(char *s)
{
	size_t n = strlen(s), o = 0;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = 0;
		s++;
	}
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] && strchr("\"\\;:", s[i + 1]))
			i++;
		s[o++] = s[i];
	}
	s[o] = 0;
	return s;
}

int ips_parse_num(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	while (*s == ' ')
		s++;
	errno = 0;
	v = strtoll(s, &end, 0);
	while (*end == ' ')
		end++;
	if (end == s || *end || errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_str(struct ips_pctx *c, char **dst, char *val, const char *kw)
{
	if (!val) {
		ips_perr(c, "%s needs a value", kw);
		return -EINVAL;
	}
	free(*dst);
	*dst = strdup(ips_unquote(val));
	return *dst ? 0 : -ENOMEM;
}

/*
 * reference and metadata may repeat: keep every value, "a; b", in a buffer
 * that grows geometrically (joining anew each time took 8.8 s for 100,000
 * metadata options of one rule).
 */
static int append_str(struct ips_pctx *c, int which, char **dst, const char *val, const char *kw)
{
	size_t *len = &c->join_len[which], *cap = &c->join_cap[which];
	size_t vlen, need;

	if (!val) {
		ips_perr(c, "%s needs a value", kw);
		return -EINVAL;
	}
	if (!*dst)
		*len = *cap = 0;
	vlen = strlen(val);
	need = *len + (*len ? 2 : 0) + vlen + 1;
	if (need > *cap) {
		size_t ncap = need > 2 * *cap ? need : 2 * *cap;
		char *b = realloc(*dst, ncap);

		if (!b)
			return -ENOMEM;
		*dst = b;
		*cap = ncap;
	}
	if (*len) {
		memcpy(*dst + *len, "; ", 2);
		*len += 2;
	}
	memcpy(*dst + *len, val, vlen + 1);
	*len += vlen;
	return 0;
}

static int set_u32(struct ips_pctx *c, uint32_t *dst, const char *val, const char *kw)
{
	int64_t v;

	if (!val || ips_parse_num(val, 0, UINT32_MAX, &v)) {
		ips_perr(c, "%s: bad number '%s'", kw, val ? val : "");
		return -EINVAL;
	}
	*dst = (uint32_t)v;
	return 0;
}

/* msg, sid, rev, gid, classtype, priority and the recorded-only keywords. */
static int parse_info(struct ips_pctx *c, struct ips_rule *r, const char *name, char *val)
{
	uint32_t u = 0;

	if (!strcmp(name, "msg"))
		return set_str(c, &r->msg, val, name);
	if (!strcmp(name, "classtype"))
		return set_str(c, &r->classtype, val, name);
	/* as Suricata's detect-sid.c and detect-rev.c: a second one, or rev 0, is an error */
	if (((!strcmp(name, "sid") && r->sid) || (!strcmp(name, "rev") && r->rev)) && ips_strict(c)) {
		ips_perr(c, "%s given twice", name);
		return -EINVAL;
	}
	if (!strcmp(name, "sid"))
		return set_u32(c, &r->sid, val, name);
	if (!strcmp(name, "rev")) {
		if (set_u32(c, &r->rev, val, name))
			return -EINVAL;
		if (r->rev || !ips_strict(c))
			return 0;
		ips_perr(c, "rev 0 is invalid");
		return -EINVAL;
	}
	if (!strcmp(name, "gid"))
		return set_u32(c, &r->gid, val, name);
	if (!strcmp(name, "priority")) {
		int rc = set_u32(c, &u, val, name);
		r->priority = (int32_t)u;
		return rc;
	}
	if (!strcmp(name, "reference"))
		return append_str(c, 0, &r->refs, val, name);
	if (!strcmp(name, "metadata"))
		return append_str(c, 1, &r->metadata, val, name);
	if (!strcmp(name, "target")) {
		r->target = val && !strcmp(val, "src_ip") ? 1 : val && !strcmp(val, "dest_ip") ? 2 : 0;
		if (r->target)
			return 0;
		ips_perr(c, "target: expected src_ip or dest_ip");
		return -EINVAL;
	}
	return -ENOENT;
}

/* Split off the next "name[:value];" from @s; NULL at the end. */
static char *next_opt(char **s, char **val, int *err)
{
	char *p = *s, *name, *o;
	bool quoted = false;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	name = o = p;
	*val = NULL;
	for (; *p && (quoted || *p != ';'); p++) {
		if (*p == '\\' && p[1]) {
			*o++ = *p++;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (*p == ':' && !*val && !quoted) {
			*o++ = 0;
			*val = o;
			continue;
		}
		*o++ = *p;
	}
	*err = *p != ';';
	*s = *p ? p + 1 : p;
	*o = 0;
	for (char *e = o; e > name && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = 0;
	for (char *e = name + strlen(name); e > name && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = 0;
	while (*val && (**val == ' ' || **val == '\t'))
		(*val)++;
	return name;
}

static int parse_one(struct ips_pctx *c, struct ips_rule *r, const char *name, char *val)
{
	int rc = parse_info(c, r, name, val);

	if (rc == -ENOENT)
		rc = ips_parse_option(c, r, name, val);
	if (rc == -ENOENT)
		rc = ips_parse_meta(c, r, name, val);
	if (rc == -ENOENT && (!*name || name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
						      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])) {
		/* not a keyword at all: a typo, never "unsupported" (--skip-unsupported would hide it) */
		ips_perr(c, "'%s' is not a keyword (a ';' or '\"' missing or extra?)", name);
		return -EINVAL;
	}
	if (rc == -ENOENT) {
		snprintf(c->unsup_buf, sizeof(c->unsup_buf), "%s", name);
		c->unsup = c->unsup_buf;
		return -ENOTSUP;
	}
	return rc;
}

/* @body is a copy of the text between the parentheses, which starts at @off. */
static int parse_options(struct ips_pctx *c, char *body, size_t off, struct ips_rule *r)
{
	const struct srcloc base = c->loc;
	char *s = body, *name, *val;
	int rc = 0, err = 0;

	while (!rc && (name = next_opt(&s, &val, &err))) {
		at(c, &base, (size_t)(name - body) + off);
		if (err) {
			ips_perr(c, "option '%s' is not terminated by ';'", name);
			rc = -EINVAL;
		} else {
			rc = parse_one(c, r, name, val);
		}
		if (rc == -ENOTSUP)
			c->unsup_loc = c->loc;
	}
	c->loc = base;
	return rc;
}

/* Fewest payload bytes the positive contents need (distance may be negative). */
static int64_t min_payload(const struct ips_rule *r)
{
	int64_t end = 0, need = 0;

	for (uint32_t i = 0; i < r->nitems; i++) {
		const struct ips_content *ct = &r->items[i].u.c;
		if (r->items[i].kind != II_CONTENT || (ct->flags & IC_NEG))
			continue;
		if (ct->flags & (IC_DISTANCE | IC_WITHIN))
			end = (end + ct->distance < 0 ? 0 : end + ct->distance) + ct->len;
		else
			end = ((ct->flags & IC_OFFSET) ? ct->offset : 0) + ct->len;
		if (end > need)
			need = end;
	}
	return need;
}

/* Like Suricata, refuse a rule whose dsize forbids the payload its contents need. */
static int check_dsize(struct ips_pctx *c, const struct ips_rule *r)
{
	const struct ips_uint *d = &r->dsize;
	int64_t max = d->op == IU_EQ || d->op == IU_LE ? (int64_t)d->a :
		      d->op == IU_LT ? (int64_t)d->a - 1 : d->op == IU_RANGE ? (int64_t)d->b - 1 : -1;
	int64_t need;

	if (!(r->hdr & IH_DSIZE) || max < 0 || (need = min_payload(r)) <= max)
		return 0;
	ips_perr(c, "signature can't match: dsize allows at most %lld bytes, the contents need %lld",
		 (long long)max, (long long)need);
	return -EINVAL;
}

/* A header buffer the rule's protocol (or family) can never have, as Suricata refuses it. */
static int check_hlists(struct ips_pctx *c, const struct ips_rule *r)
{
	unsigned bufs = 0, v4, v6, l4;

	if (r->nhl && (r->proto == IPSP_TCP_STREAM || (r->flow & IF_ONLY_STREAM))) {
		ips_perr(c, "header buffers need packets: not with tcp-stream or flow:only_stream");
		return -EINVAL;
	}
	for (uint8_t i = 0; i < r->nhl; i++)
		bufs |= 1u << r->hl[i].buf;
	/* a packet has one family and one transport header */
	v4 = bufs & (1u << IHB_IPV4 | 1u << IHB_ICMPV4);
	v6 = bufs & (1u << IHB_IPV6 | 1u << IHB_ICMPV6);
	l4 = bufs & (1u << IHB_TCP | 1u << IHB_UDP | 1u << IHB_ICMPV4 | 1u << IHB_ICMPV6);
	if ((v4 && v6) || (l4 & (l4 - 1))) {
		unsigned a = v4 && v6 ? v4 : l4, b = v4 && v6 ? v6 : l4 & (l4 - 1);

		ips_perr(c, "%s and %s in one rule can never match together",
			 ips_hbuf_name((unsigned)__builtin_ctz(a)), ips_hbuf_name((unsigned)__builtin_ctz(b)));
		return -EINVAL;
	}
	for (uint8_t i = 0; i < r->nhl; i++) {
		const struct ips_hlist *h = &r->hl[i];
		bool ok;

		switch (h->buf) {
		case IHB_IPV4: ok = r->family != 6; break;
		case IHB_IPV6: ok = r->family != 4; break;
		case IHB_TCP: ok = r->proto != IPSP_UDP && r->proto != IPSP_ICMP; break;
		case IHB_UDP: ok = r->proto == IPSP_IP || r->proto == IPSP_UDP; break;
		case IHB_ICMPV4: ok = (r->proto == IPSP_IP || r->proto == IPSP_ICMP) && r->family != 6; break;
		default: ok = (r->proto == IPSP_IP || r->proto == IPSP_ICMP) && r->family != 4; break;
		}
		if (!ok) {
			ips_perr(c, "%s cannot match this rule's protocol", ips_hbuf_name(h->buf));
			return -EINVAL;
		}
		if (!h->nitems) {
			ips_perr(c, "%s is not followed by a content or other payload keyword",
				 ips_hbuf_name(h->buf));
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * What each content of a finished list means for its neighbours, as
 * Suricata's keyword setup flags it, so that the matcher need not work it
 * out per packet:
 * - IC_RETRY (DETECT_CONTENT_WITHIN_NEXT): the first relative keyword that
 *   names this content as its previous match (absolute non-content ones in
 *   between do not) is within-bounded, a negated content, or not a content.
 *   A positive content bounded by distance alone gains nothing from a later
 *   occurrence - its window's start only moves right, and it already
 *   searched all of it.
 * - IC_SINGLE (DETECT_CONTENT_IS_SINGLE): not relative, no relative keyword
 *   right after it, and no offset or depth, which byte_extract may set and
 *   a later occurrence of an earlier content may change.
 */
static void mark_chain(struct ips_item *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct ips_content *c = &v[i].u.c;

		if (v[i].kind != II_CONTENT)
			continue;
		for (uint32_t j = i + 1; j < n; j++) {
			if (v[j].relative) {
				if (v[j].kind != II_CONTENT || (v[j].u.c.flags & (IC_WITHIN | IC_NEG)))
					c->flags |= IC_RETRY;
				break;
			}
			if (v[j].kind == II_CONTENT || v[j].kind == II_PCRE)
				break;
		}
		if (!v[i].relative && !(i + 1 < n && v[i + 1].relative) &&
		    !(c->flags & (IC_OFFSET | IC_DEPTH | IC_STARTS | IC_ENDS)))
			c->flags |= IC_SINGLE;
	}
}

/*
 * fast_pattern as Suricata's detect-fast-pattern.c and detect-distance.c
 * accept it: on one content of the rule only; `only` on a content that is
 * neither negated nor placed (offset, depth, distance, within) and that no
 * relative content follows; a negated one not placed either. @n_fast
 * counts the contents with fast_pattern across the rule's lists.
 */
static int check_fast(struct ips_pctx *c, const struct ips_item *v, uint32_t n, uint32_t *n_fast)
{
	const uint16_t placed = IC_OFFSET | IC_DEPTH | IC_DISTANCE | IC_WITHIN;

	for (uint32_t i = 0; i < n; i++) {
		const struct ips_content *ct = &v[i].u.c;

		if (v[i].kind != II_CONTENT || !(ct->flags & IC_FAST))
			continue;
		if (++*n_fast > 1) {
			ips_perr(c, "fast_pattern can be used on only one content in a rule");
			return -EINVAL;
		}
		if ((ct->flags & IC_FAST_ONLY) &&
		    ((ct->flags & (IC_NEG | placed)) || (i + 1 < n && v[i + 1].relative &&
							 v[i + 1].kind == II_CONTENT))) {
			ips_perr(c, "fast_pattern:only cannot be used on a negated content, with offset, "
				    "depth, distance or within, or before a relative content");
			return -EINVAL;
		}
		if ((ct->flags & IC_NEG) && (ct->flags & placed)) {
			ips_perr(c, "fast_pattern cannot be used on a negated content with offset, "
				    "depth, distance or within");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Suricata's SignatureIsIPOnly(): no payload or buffer keyword, no flow, no
 * packet test, flowbits only `set`; the protocol (tcp-pkt and tcp-stream
 * too) and ports may be anything (its IP-only engine checks them,
 * IPOnlyMatchPacket()). Such a rule is checked on the first packet of each
 * flow direction only - unless its addresses negate something (a `!`, also
 * inside $EXTERNAL_NET): Suricata 7+ makes that a "like ip-only" rule, which
 * the packet engine checks on every packet (SignatureIsIPOnly() returns 2;
 * user guide: Rule Types and Categorization).
 */
static bool is_iponly(const struct ips_rule *r)
{
	if (r->nitems || r->nhl || r->hdr || r->flow)
		return false;
	for (uint32_t i = 0; i < r->nfb; i++)
		if (r->fb[i].cmd != IFB_SET)
			return false;
	return true;
}

/* Checks that need the whole rule. */
static int check_rule(struct ips_pctx *c, struct ips_rule *r, const char *action)
{
	if (r->action == 0xff) {
		ips_perr(c, "unknown action '%s'", action);
		return -EINVAL;
	}
	if (!r->sid) {
		ips_perr(c, "rule has no sid");
		return -EINVAL;
	}
	if (!r->gid)
		r->gid = 1;
	/* an ip rule takes them too and meets only ICMP packets (Suricata: DetectITypeMatch()) */
	if (r->proto != IPSP_ICMP && r->proto != IPSP_IP &&
	    (r->hdr & (IH_ITYPE | IH_ICODE | IH_ICMP_ID | IH_ICMP_SEQ))) {
		ips_perr(c, "itype, icode, icmp_id and icmp_seq need protocol icmp or ip");
		return -EINVAL;
	}
	if (check_hlists(c, r))
		return -EINVAL;
	if (ips_strict(c)) {
		uint32_t n_fast = 0;

		if (check_fast(c, r->items, r->nitems, &n_fast))
			return -EINVAL;
		for (uint8_t i = 0; i < r->nhl; i++)
			if (check_fast(c, r->hl[i].items, r->hl[i].nitems, &n_fast))
				return -EINVAL;
	}
	mark_chain(r->items, r->nitems);
	for (uint8_t i = 0; i < r->nhl; i++)
		mark_chain(r->hl[i].items, r->hl[i].nitems);
	r->iponly = is_iponly(r) && !c->addr_neg;
	return check_dsize(c, r);
}

int ips_parse_rule(struct ips_pctx *c, const char *text, struct ips_rule *r)
{
	char action[16] = "", *body;
	const char *close = strrchr(text, ')');
	long open;
	int rc;

	memset(r, 0, sizeof(*r));
	r->fp = r->pf = -1;
	r->loc = c->loc;
	c->unsup = NULL;
	sscanf(text, "%15s", action);
	open = parse_header(c, text, r);
	if (open < 0)
		return (int)open;
	if (!close || close < text + open) {
		ips_perr(c, "rule options are not closed by ')'");
		return -EINVAL;
	}
	body = strndup(text + open + 1, (size_t)(close - text - open - 1));
	if (!body)
		return -ENOMEM;
	c->cur = IPS_PAYLOAD;
	rc = parse_options(c, body, (size_t)open + 1, r);
	ips_select_list(c, r, IPS_PAYLOAD); /* back to the payload: cannot fail */
	if (!rc)
		rc = check_rule(c, r, action);
	free(body);
	return rc;
}

static void free_items(struct ips_item *items, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct ips_item *it = &items[i];
		if (it->kind == II_CONTENT)
			free(it->u.c.pat);
		else if (it->kind == II_PCRE)
			pcre2_code_free(it->u.pcre.code), free(it->u.pcre.src);
	}
	free(items);
}

void ips_rule_free(struct ips_rule *r)
{
	free_items(r->items, r->nitems);
	for (uint8_t i = 0; i < r->nhl; i++)
		free_items(r->hl[i].items, r->hl[i].nitems);
	free(r->hl);
	for (uint32_t i = 0; i < r->nvars; i++)
		free(r->vars[i]);
	free(r->fb);
	free(r->msg);
	free(r->classtype);
	free(r->refs);
	free(r->metadata);
	free(r->src.r);
	free(r->dst.r);
	free(r->sp.r);
	free(r->dp.r);
	memset(r, 0, sizeof(*r));
}
