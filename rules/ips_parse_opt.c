/* ips_parse_opt.c - payload keywords: content and its modifiers, pcre, byte_*, isdataat, dsize. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static char *trim(char *s);

static struct ips_item *add_item(struct ips_rule *r, uint8_t kind)
{
	struct ips_item *v = realloc(r->items, (r->nitems + 1) * sizeof(*v));

	if (!v)
		return NULL;
	r->items = v;
	memset(&v[r->nitems], 0, sizeof(*v));
	v[r->nitems].kind = kind;
	return &v[r->nitems++];
}

const char *ips_hbuf_name(unsigned b)
{
	static const char *const names[IHB__N] = { "ipv4.hdr", "ipv6.hdr", "tcp.hdr", "udp.hdr",
						   "icmpv4.hdr", "icmpv6.hdr" };

	return b < IHB__N ? names[b] : "pkt_data";
}

static struct ips_hlist *hlist_of(struct ips_rule *r, int buf)
{
	for (uint8_t i = 0; i < r->nhl; i++)
		if (r->hl[i].buf == buf)
			return &r->hl[i];
	return NULL;
}

/*
 * A sticky buffer keyword: the items parsed so far go back to their list
 * and @to's list (IPS_PAYLOAD or a header buffer) becomes r->items, where
 * content and every other item keyword append. Naming the current list
 * again changes nothing, so a relative content still follows the last one.
 * ips_parse_rule() selects the payload again at the end.
 */
int ips_select_list(struct ips_pctx *c, struct ips_rule *r, int to)
{
	struct ips_hlist *h;

	if (to == c->cur)
		return 0;
	if (to != IPS_PAYLOAD && !hlist_of(r, to)) {
		h = realloc(r->hl, (r->nhl + 1u) * sizeof(*h));
		if (!h)
			return -ENOMEM;
		r->hl = h;
		r->hl[r->nhl++] = (struct ips_hlist){ .buf = (uint8_t)to };
	}
	if (c->cur == IPS_PAYLOAD) {
		c->pay_items = r->items;
		c->pay_n = r->nitems;
	} else {
		h = hlist_of(r, c->cur);
		h->items = r->items;
		h->nitems = r->nitems;
	}
	if (to == IPS_PAYLOAD) {
		r->items = c->pay_items;
		r->nitems = c->pay_n;
		c->pay_items = NULL;
		c->pay_n = 0;
	} else {
		h = hlist_of(r, to);
		r->items = h->items;
		r->nitems = h->nitems;
		h->items = NULL;
		h->nitems = 0;
	}
	c->cur = to;
	return 0;
}

/* ipv4.hdr, ipv6.hdr, tcp.hdr, udp.hdr, icmpv4.hdr, icmpv6.hdr, pkt_data: -ENOENT for anything else. */
static int parse_sticky(struct ips_pctx *c, struct ips_rule *r, const char *name, const char *val)
{
	int to = 0;

	if (!strcmp(name, "pkt_data"))
		to = IPS_PAYLOAD;
	else
		while (to < IHB__N && strcmp(name, ips_hbuf_name((unsigned)to)))
			to++;
	if (to == IHB__N)
		return -ENOENT;
	if (val) {
		ips_perr(c, "%s takes no value", name);
		return -EINVAL;
	}
	return ips_select_list(c, r, to);
}

/* Decode a content string: |41 42| hex blocks and \-escapes. */
static int decode_content(struct ips_pctx *c, const char *s, uint8_t **out, uint32_t *len)
{
	size_t n = strlen(s), o = 0;
	uint8_t *b = malloc(n + 1);
	bool hex = false;
	int hi = -1;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '|') {
			if (hex && hi >= 0)
				goto bad;
			hex = !hex;
		} else if (hex) {
			if (ch == ' ')
				continue;
			if (!isxdigit((unsigned char)ch))
				goto bad;
			int v = isdigit((unsigned char)ch) ? ch - '0' : (tolower(ch) - 'a' + 10);
			if (hi < 0) {
				hi = v;
			} else {
				b[o++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		} else if (ch == '\\' && i + 1 < n) {
			/* Suricata escapes only these four; "\x41" is an error there, not "x41" */
			if (!strchr("\\\";:", s[i + 1]) || !s[i + 1]) {
				ips_perr(c, "content: '\\%c' is no escape (\\\\, \\\", \\; and \\: are; "
					 "bytes go in |hex|)", s[i + 1]);
				free(b);
				return -EINVAL;
			}
			b[o++] = (uint8_t)s[++i];
		} else if (ch == '"' || ch == ';') {
			goto bad; /* must be escaped */
		} else {
			b[o++] = (uint8_t)ch;
		}
	}
	if (hex || !o)
		goto bad;
	*out = b;
	*len = (uint32_t)o;
	return 0;
bad:
	free(b);
	ips_perr(c, "content: bad string \"%s\"", s);
	return -EINVAL;
}

static int parse_content(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	struct ips_item *it;
	bool neg = false;
	size_t n;

	if (!val) {
		ips_perr(c, "content needs a value");
		return -EINVAL;
	}
	if (*val == '!') {
		neg = true;
		val++;
		while (*val == ' ')
			val++;
	}
	n = strlen(val);
	if (n < 2 || val[0] != '"' || val[n - 1] != '"') {
		ips_perr(c, "content: value must be quoted");
		return -EINVAL;
	}
	val[n - 1] = 0;
	if (!(it = add_item(r, II_CONTENT)))
		return -ENOMEM;
	it->u.c.flags = neg ? IC_NEG : 0;
	if (decode_content(c, val + 1, &it->u.c.pat, &it->u.c.len)) {
		r->nitems--;
		return -EINVAL;
	}
	return 0;
}

/* The content a modifier applies to: the last one, which must be the last item. */
static struct ips_content *last_content(struct ips_pctx *c, struct ips_rule *r, const char *kw)
{
	if (r->nitems && r->items[r->nitems - 1].kind == II_CONTENT)
		return &r->items[r->nitems - 1].u.c;
	ips_perr(c, "%s needs a preceding content", kw);
	return NULL;
}

static int get_int(struct ips_pctx *c, const char *kw, const char *val, int64_t lo, int64_t hi,
		   int64_t *v)
{
	if (val && !ips_parse_num(val, lo, hi, v))
		return 0;
	if (val && (isalpha((unsigned char)*val) || *val == '_'))
		ips_perr(c, "%s: '%s' is neither a number nor a byte_extract variable", kw, val);
	else
		ips_perr(c, "%s: bad value '%s'", kw, val ? val : "");
	return -EINVAL;
}

/* The slot + 1 of byte_extract variable @name, 0 when there is none. */
static uint8_t find_var(const struct ips_rule *r, const char *name)
{
	for (uint8_t i = 0; name && i < r->nvars; i++)
		if (!strcmp(r->vars[i], name))
			return (uint8_t)(i + 1);
	return 0;
}

/* @val as an unsigned number above INT64_MAX (strtoull's bases), else 0. */
static uint64_t above_int64(const char *val)
{
	unsigned long long u;
	char *end;

	if (!val || !isdigit((unsigned char)*val))
		return 0;
	errno = 0;
	u = strtoull(val, &end, 0);
	while (*end == ' ')
		end++;
	return !*end && !errno && u > INT64_MAX ? u : 0;
}

/* A number, or the name of an earlier byte_extract (*@var = slot + 1). */
static int get_val(struct ips_pctx *c, const struct ips_rule *r, const char *kw, const char *val,
		   int64_t lo, int64_t hi, int64_t *v, uint8_t *var)
{
	if ((*var = find_var(r, val))) {
		*v = 0;
		if (c->var_list[*var - 1] == c->cur)
			return 0;
		ips_perr(c, "%s: variable '%s' was read from another buffer", kw, val);
		return -EINVAL;
	}
	return get_int(c, kw, val, lo, hi, v);
}

/* @kw may not join @ct when it has one of @bad: the error names the one it has. */
static int conflict(struct ips_pctx *c, const char *kw, const struct ips_content *ct, uint16_t bad)
{
	static const struct {
		uint16_t flag;
		const char *name;
	} names[] = { { IC_OFFSET, "offset" }, { IC_DEPTH, "depth" }, { IC_DISTANCE, "distance" },
		      { IC_WITHIN, "within" }, { IC_STARTS, "startswith" } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ct->flags & bad & names[i].flag) {
			ips_perr(c, "%s cannot be mixed with %s on the same content", kw, names[i].name);
			return -EINVAL;
		}
	return 0;
}

/* offset, depth, distance, within: numbers on the last content. */
static int parse_position(struct ips_pctx *c, struct ips_rule *r, const char *kw, char *val)
{
	static const uint16_t slot_flag[] = { IC_OFFSET, IC_DEPTH, IC_DISTANCE, IC_WITHIN };
	struct ips_content *ct = last_content(c, r, kw);
	bool rel = kw[0] == 'd' && kw[1] == 'i';
	int64_t v;

	if (!strcmp(kw, "within"))
		rel = true;
	int slot = !strcmp(kw, "offset") ? 0 : !strcmp(kw, "depth") ? 1 : !strcmp(kw, "distance") ? 2 : 3;
	uint8_t var;

	if (!ct || get_val(c, r, kw, val, rel ? -65535 : 0, 65535, &v, &var))
		return -EINVAL;
	ct->var[slot] = var;
	if (conflict(c, kw, ct, rel ? IC_OFFSET | IC_DEPTH | IC_STARTS : IC_DISTANCE | IC_WITHIN | IC_STARTS))
		return -EINVAL;
	/* as Suricata: a second one is an error, not a silent override */
	if (ct->flags & slot_flag[slot]) {
		ips_perr(c, "%s given twice for the same content", kw);
		return -EINVAL;
	}
	if (!strcmp(kw, "offset")) {
		ct->offset = (int32_t)v, ct->flags |= IC_OFFSET;
	} else if (!strcmp(kw, "depth")) {
		ct->depth = (int32_t)v, ct->flags |= IC_DEPTH;
	} else if (!strcmp(kw, "distance")) {
		ct->distance = (int32_t)v, ct->flags |= IC_DISTANCE;
	} else {
		ct->within = (int32_t)v, ct->flags |= IC_WITHIN;
	}
	if ((!strcmp(kw, "depth") || !strcmp(kw, "within")) && !var && v < (int64_t)ct->len) {
		ips_perr(c, "%s %lld is smaller than the content length %u", kw, (long long)v, ct->len);
		return -EINVAL;
	}
	r->items[r->nitems - 1].relative = (ct->flags & (IC_DISTANCE | IC_WITHIN)) != 0;
	return 0;
}

static int parse_fast_pattern(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	struct ips_content *ct = last_content(c, r, "fast_pattern");
	int64_t a, b;
	char *comma;

	if (!ct)
		return -EINVAL;
	if ((ct->flags & IC_FAST) && ips_strict(c)) { /* as Suricata's detect-fast-pattern.c */
		ips_perr(c, "fast_pattern given twice for the same content");
		return -EINVAL;
	}
	ct->flags |= IC_FAST;
	if (!val)
		return 0;
	if (!strcmp(val, "only")) {
		ct->flags |= IC_FAST_ONLY;
		return 0;
	}
	comma = strchr(val, ',');
	if (!comma)
		return get_int(c, "fast_pattern", val, -1, -1, &a);
	*comma = 0;
	if (get_int(c, "fast_pattern", val, 0, 65535, &a) ||
	    get_int(c, "fast_pattern", comma + 1, 1, 65535, &b))
		return -EINVAL;
	if (a + b > ct->len) {
		ips_perr(c, "fast_pattern: %lld,%lld is beyond the content", (long long)a, (long long)b);
		return -EINVAL;
	}
	ct->fp_off = (uint32_t)a;
	ct->fp_len = (uint32_t)b;
	return 0;
}

/* nocase, startswith, endswith, rawbytes (which Suricata ignores too). */
static int parse_flag(struct ips_pctx *c, struct ips_rule *r, const char *kw)
{
	struct ips_content *ct = last_content(c, r, kw);

	if (!ct)
		return -EINVAL;
	if (!strcmp(kw, "nocase")) {
		/* as Suricata's detect-nocase.c: a second one is a mistake, not a no-op */
		if ((ct->flags & IC_NOCASE) && ips_strict(c)) {
			ips_perr(c, "nocase given twice for the same content");
			return -EINVAL;
		}
		ct->flags |= IC_NOCASE;
	} else if (!strcmp(kw, "startswith")) {
		if (conflict(c, kw, ct, IC_OFFSET | IC_DEPTH | IC_DISTANCE | IC_WITHIN))
			return -EINVAL;
		ct->flags |= IC_STARTS;
	} else if (!strcmp(kw, "endswith")) {
		ct->flags |= IC_ENDS;
	}
	return 0;
}

static int parse_isdataat(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	struct ips_item *it;
	char *tok, *save = NULL;
	int64_t v;
	bool neg = false;

	if (val && *val == '!')
		neg = true, val++;
	uint8_t var;

	tok = val ? strtok_r(val, ",", &save) : NULL;
	if (get_val(c, r, "isdataat", tok ? trim(tok) : NULL, 0, 65535, &v, &var))
		return -EINVAL;
	if (!(it = add_item(r, II_ISDATAAT)))
		return -ENOMEM;
	it->u.d.n = (int32_t)v;
	it->u.d.var = var;
	it->u.d.neg = neg;
	while ((tok = strtok_r(NULL, ",", &save))) {
		while (*tok == ' ')
			tok++;
		if (!strcmp(tok, "relative")) {
			it->u.d.relative = it->relative = true;
		} else if (strcmp(tok, "rawbytes")) {
			ips_perr(c, "isdataat: unknown option '%s'", tok);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_pcre_flags(struct ips_pctx *c, const char *f, uint32_t *opts, bool *rel)
{
	for (; *f; f++) {
		switch (*f) {
		case 'i': *opts |= PCRE2_CASELESS; break;
		case 's': *opts |= PCRE2_DOTALL; break;
		case 'm': *opts |= PCRE2_MULTILINE; break;
		case 'x': *opts |= PCRE2_EXTENDED; break;
		case 'A': *opts |= PCRE2_ANCHORED; break;
		case 'E': *opts |= PCRE2_DOLLAR_ENDONLY; break;
		case 'G': *opts |= PCRE2_UNGREEDY; break;
		case 'R': *rel = true; break;
		case 'O': case 'B': break; /* match-limit override; rawbytes */
		default:
			snprintf(c->unsup_buf, sizeof(c->unsup_buf), "pcre/%c", *f);
			c->unsup = c->unsup_buf;
			return -ENOTSUP;
		}
	}
	return 0;
}

static int parse_pcre(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	uint32_t opts = 0;
	bool neg = false, rel = false;
	char *end, ebuf[128];
	int err, rc;
	PCRE2_SIZE eoff;
	pcre2_code *re;
	struct ips_item *it;
	size_t n;

	if (val && *val == '!')
		neg = true, val++;
	n = val ? strlen(val) : 0;
	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') /* Suricata also takes it unquoted */
		val[--n] = 0, val++, n--;
	if (n < 2 || val[0] != '/' || (end = strrchr(val + 1, '/')) == NULL) {
		ips_perr(c, "pcre: expected \"/regex/flags\"");
		return -EINVAL;
	}
	*end = 0;
	if ((rc = parse_pcre_flags(c, end + 1, &opts, &rel)))
		return rc;
	re = pcre2_compile((PCRE2_SPTR)(val + 1), (PCRE2_SIZE)(end - val - 1), opts, &err, &eoff, NULL);
	if (!re) {
		pcre2_get_error_message(err, (PCRE2_UCHAR *)ebuf, sizeof(ebuf));
		ips_perr(c, "pcre: %s at offset %zu", ebuf, (size_t)eoff);
		return -EINVAL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
	*end = '/';
	if (!(it = add_item(r, II_PCRE))) {
		pcre2_code_free(re);
		return -ENOMEM;
	}
	it->u.pcre = (struct ips_pcre){ re, strdup(val), neg, rel };
	it->relative = rel;
	return 0;
}

static int byte_op(const char *s, struct ips_byte *b)
{
	static const char *const ops[] = { "<", ">", "=", "&", "^", "<=", ">=" };

	if (*s == '!') {
		b->flags |= IB_NEG;
		s++;
	}
	if (!*s && (b->flags & IB_NEG)) { /* "!" alone means != */
		b->op = IBO_EQ;
		return 0;
	}
	for (size_t i = 0; i < LL_ARRAY_SIZE(ops); i++)
		if (!strcmp(s, ops[i])) {
			b->op = (uint8_t)(i == 0 ? IBO_LT : i == 1 ? IBO_GT : i == 2 ? IBO_EQ :
					  i == 3 ? IBO_AND : i == 4 ? IBO_XOR : i == 5 ? IBO_LE : IBO_GE);
			return 0;
		}
	return -EINVAL;
}

/* Options with a number: multiplier, post_offset, bitmask, align N (byte_extract). */
static int byte_num(struct ips_pctx *c, const char *kw, const char *tok, const char *arg,
		    struct ips_byte *b)
{
	int64_t v;

	if (!strcmp(tok, "multiplier")) {
		if (get_int(c, kw, arg, 1, 65535, &v))
			return -EINVAL;
		b->multiplier = (uint32_t)v;
	} else if (!strcmp(tok, "post_offset")) {
		if (get_int(c, kw, arg, -65535, 65535, &v))
			return -EINVAL;
		b->post_offset = (int32_t)v;
	} else if (!strcmp(tok, "bitmask")) {
		if (get_int(c, kw, arg, 1, UINT32_MAX, &v))
			return -EINVAL;
		b->bitmask = (uint64_t)v;
		b->flags |= IB_BITMASK;
	} else if (!strcmp(tok, "align")) {
		if (ips_parse_num(arg, 2, 4, &v) || v == 3) {
			ips_perr(c, "%s: align must be 2 or 4", kw);
			return -EINVAL;
		}
		b->align = (uint8_t)v;
	} else {
		ips_perr(c, "%s: unknown option '%s'", kw, tok);
		return -EINVAL;
	}
	return 0;
}

/*
 * Options only byte_jump takes (and byte_extract its multiplier and
 * align N), as Suricata's detect-bytetest.c and detect-byte-extract.c
 * refuse them: a byte_test with a multiplier would otherwise test what
 * Suricata never reads.
 */
static bool byte_opt_allowed(const char *kw, const char *tok)
{
	static const char *const jump_only[] = { "post_offset", "from_beginning", "from_end" };

	if (!strcmp(kw, "byte_jump"))
		return true;
	if (!strcmp(kw, "byte_test") && (!strcmp(tok, "multiplier") || !strcmp(tok, "align")))
		return false;
	for (size_t i = 0; i < LL_ARRAY_SIZE(jump_only); i++)
		if (!strcmp(tok, jump_only[i]))
			return false;
	return true;
}

/* The trailing options byte_test, byte_jump and byte_extract share. */
static int byte_flag(struct ips_pctx *c, const char *kw, char *tok, struct ips_byte *b)
{
	static const struct { const char *name; uint16_t set; uint8_t base; } words[] = {
		{ "relative", IB_RELATIVE, 0 }, { "little", IB_LITTLE, 0 }, { "big", 0, 0 },
		{ "string", IB_STRING, 0 },	{ "hex", 0, 16 },	     { "dec", 0, 10 },
		{ "oct", 0, 8 },		{ "align", IB_ALIGN, 0 },    { "from_beginning", IB_BEGIN, 0 },
		{ "from_end", IB_END, 0 },
	};
	char *arg = strchr(tok, ' ');

	if (arg)
		*arg++ = 0;
	if (!byte_opt_allowed(kw, tok)) {
		ips_perr(c, "%s: no '%s' option here (Suricata refuses it: byte_jump's)", kw, tok);
		return -EINVAL;
	}
	if (arg) {
		while (*arg == ' ')
			arg++;
		return byte_num(c, kw, tok, arg, b);
	}
	for (size_t i = 0; i < LL_ARRAY_SIZE(words); i++)
		if (!strcmp(tok, words[i].name)) {
			b->flags |= words[i].set;
			if (!strcmp(tok, "big"))
				b->flags &= (uint16_t)~IB_LITTLE;
			if (words[i].base)
				b->base = words[i].base;
			return 0;
		}
	if (!strcmp(tok, "dce")) {
		snprintf(c->unsup_buf, sizeof(c->unsup_buf), "%s/dce", kw);
		c->unsup = c->unsup_buf;
		return -ENOTSUP;
	}
	ips_perr(c, "%s: unknown option '%s'", kw, tok);
	return -EINVAL;
}

static char *trim(char *s)
{
	while (*s == ' ')
		s++;
	for (char *e = s + strlen(s); e > s && e[-1] == ' '; e--)
		e[-1] = 0;
	return s;
}

/* byte_extract's third field: a new variable name. */
static int new_var(struct ips_pctx *c, struct ips_rule *r, const char *name, struct ips_byte *b)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_') {
		ips_perr(c, "byte_extract: bad variable name '%s'", name);
		return -EINVAL;
	}
	/*
	 * A name defined again gets a slot of its own, but references keep
	 * naming the first definition: Suricata looks a variable up by name and
	 * takes the first byte_extract that has it (DetectByteExtractRetrieveSMVar),
	 * and Snort community rules define one name twice (sid 36611).
	 */
	if (r->nvars == IPS_MAX_VARS) {
		ips_perr(c, "byte_extract: more than %d variables", IPS_MAX_VARS);
		return -EINVAL;
	}
	if (!(r->vars[r->nvars] = strdup(name)))
		return -ENOMEM;
	c->var_list[r->nvars] = (int8_t)c->cur;
	b->slot = r->nvars++;
	return 0;
}

/*
 * byte_test: n, [!]op, value, offset [, opts]; byte_jump: n, offset [, opts];
 * byte_extract: n, offset, name [, opts].
 */
static int parse_byte(struct ips_pctx *c, struct ips_rule *r, const char *kw, char *val)
{
	bool test = !strcmp(kw, "byte_test"), ext = !strcmp(kw, "byte_extract");
	char *f[16], *save = NULL;
	int nf = 0, need = test || ext ? (test ? 4 : 3) : 2, rc = 0;
	struct ips_byte b = { .multiplier = 1 };
	int64_t v;

	for (char *t = val ? strtok_r(val, ",", &save) : NULL; t && nf < 16; t = strtok_r(NULL, ",", &save))
		f[nf++] = trim(t);
	if (nf < need) {
		ips_perr(c, "%s needs at least %d values", kw, need);
		return -EINVAL;
	}
	/* 23: the longest number text that fits 64 bits (octal, one leading zero), as Suricata */
	if (get_int(c, kw, f[0], 1, 23, &v))
		return -EINVAL;
	b.nbytes = (uint8_t)v;
	if (test && byte_op(f[1], &b)) {
		ips_perr(c, "byte_test: bad operator '%s'", f[1]);
		return -EINVAL;
	}
	if (test && (b.value = above_int64(f[2])))
		v = (int64_t)b.value; /* Suricata reads the value as a uint64 */
	else if (test && get_val(c, r, kw, f[2], INT64_MIN, INT64_MAX, &v, &b.var_value))
		return -EINVAL;
	b.value = (uint64_t)v;
	if (get_val(c, r, kw, f[ext ? 1 : need - 1], -65535, 65535, &v, &b.var_offset))
		return -EINVAL;
	b.offset = (int32_t)v;
	if (ext && (rc = new_var(c, r, f[2], &b)))
		return rc;
	for (int i = need; i < nf && !rc; i++)
		rc = byte_flag(c, kw, f[i], &b);
	if (rc)
		return rc;
	/* as Suricata's detect-bytetest.c: "Cannot use a base without \"string\"" */
	if (test && !(b.flags & IB_STRING) && b.base && ips_strict(c)) {
		ips_perr(c, "byte_test: hex, dec and oct need 'string'");
		return -EINVAL;
	}
	if (!(b.flags & IB_STRING) && b.nbytes > 8) {
		ips_perr(c, "%s: %u bytes need 'string'", kw, b.nbytes);
		return -EINVAL;
	}
	/*
	 * `string` without hex/dec/oct: byte_test and byte_jump read the base
	 * from the text (strtoull's base 0: 0x.. hex, 0.. octal), byte_extract
	 * reads decimal, as Suricata does.
	 */
	if (ext && (b.flags & IB_STRING) && !b.base)
		b.base = 10;
	struct ips_item *it = add_item(r, test ? II_BYTE_TEST : ext ? II_BYTE_EXTRACT : II_BYTE_JUMP);
	if (!it)
		return -ENOMEM;
	it->u.b = b;
	it->relative = (b.flags & IB_RELATIVE) != 0;
	return 0;
}

/* N, !N, <N, >N, <=N, >=N, A<>B and A-B (exclusive, as Suricata). */
int ips_parse_uint(const char *s, uint64_t max, struct ips_uint *u)
{
	static const struct { const char *p; uint8_t op; } pre[] = {
		{ "<=", IU_LE }, { ">=", IU_GE }, { "!=", IU_NE }, { "<", IU_LT },
		{ ">", IU_GT },  { "!", IU_NE },  { "=", IU_EQ },
	};
	char buf[64], *sep;
	int64_t a, b;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (size_t i = 0; i < LL_ARRAY_SIZE(pre); i++)
		if (!strncmp(buf, pre[i].p, strlen(pre[i].p))) {
			u->op = pre[i].op;
			if (ips_parse_num(buf + strlen(pre[i].p), 0, (int64_t)max, &a))
				return -EINVAL;
			u->a = (uint64_t)a;
			return 0;
		}
	sep = strstr(buf, "<>");
	if (!sep)
		sep = strchr(buf, '-');
	if (sep) {
		*sep = 0;
		sep += sep[1] == '>' ? 2 : 1;
		if (ips_parse_num(buf, 0, (int64_t)max, &a) || ips_parse_num(sep, 0, (int64_t)max, &b) || a >= b)
			return -EINVAL;
		*u = (struct ips_uint){ IU_RANGE, (uint64_t)a, (uint64_t)b };
		return 0;
	}
	if (ips_parse_num(buf, 0, (int64_t)max, &a))
		return -EINVAL;
	*u = (struct ips_uint){ IU_EQ, (uint64_t)a, 0 };
	return 0;
}

int ips_parse_option(struct ips_pctx *c, struct ips_rule *r, const char *name, char *val)
{
	int rc = parse_sticky(c, r, name, val);

	if (rc != -ENOENT)
		return rc;
	if (!strcmp(name, "content"))
		return parse_content(c, r, val);
	if (!strcmp(name, "offset") || !strcmp(name, "depth") || !strcmp(name, "distance") ||
	    !strcmp(name, "within"))
		return parse_position(c, r, name, val);
	if (!strcmp(name, "nocase") || !strcmp(name, "startswith") || !strcmp(name, "endswith") ||
	    !strcmp(name, "rawbytes"))
		return parse_flag(c, r, name);
	if (!strcmp(name, "fast_pattern"))
		return parse_fast_pattern(c, r, val);
	if (!strcmp(name, "isdataat"))
		return parse_isdataat(c, r, val);
	if (!strcmp(name, "pcre"))
		return parse_pcre(c, r, val);
	if (!strcmp(name, "byte_test") || !strcmp(name, "byte_jump") || !strcmp(name, "byte_extract"))
		return parse_byte(c, r, name, val);
	if (!strcmp(name, "dsize")) {
		r->hdr |= IH_DSIZE;
		if (!ips_parse_uint(val, 65535, &r->dsize))
			return 0;
		ips_perr(c, "dsize: bad value '%s'", val ? val : "");
		return -EINVAL;
	}
	return -ENOENT;
}
