/* ips_content.c - exact payload inspection of one rule, with Suricata's positional semantics. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Suricata's inspection-recursion-limit: bounds backtracking on hostile payloads. */
#define INSPECT_BUDGET 3000

struct ictx {
	const struct ips_item *items;
	uint32_t nitems;
	const uint8_t *buf;
	uint32_t len;
	pcre2_match_data *md;
	int budget;
	bool stop; /* Suricata's discontinue_matching: no later occurrence can help */
	bool need;   /* ips_inspect_fresh(): a match must read a byte at or past @fresh */
	bool stale;  /* a path matched all items but read only bytes before @fresh */
	uint32_t fresh;
	int64_t first; /* ips_inspect_fresh(): the first item's occurrences start here or later */
	int64_t hi; /* the end of the furthest byte the current path read */
	uint64_t vars[IPS_MAX_VARS]; /* byte_extract values on the current path */
};

/*
 * A position or length: the literal, or the byte_extract variable in @var
 * (slot + 1) when set. A variable holds what the packet said, up to 2^64 - 1:
 * it is held to [0, INT32_MAX], past every buffer (< 4 GiB) already, so an
 * offset from the packet can neither go below the buffer nor overflow a sum.
 */
static int32_t val(const struct ictx *x, uint8_t var, int32_t lit)
{
	if (!var)
		return lit;
	return x->vars[var - 1] > INT32_MAX ? INT32_MAX : (int32_t)x->vars[var - 1];
}

static bool match_from(struct ictx *x, uint32_t i, uint32_t prev);

/* match_from() with the path's furthest byte read moved to @reach (restored on the way back). */
static bool next_from(struct ictx *x, uint32_t i, uint32_t prev, int64_t reach)
{
	int64_t old = x->hi;
	bool ok;

	if (reach > x->hi)
		x->hi = reach;
	ok = match_from(x, i, prev);
	x->hi = old;
	return ok;
}

bool ips_uint_match(const struct ips_uint *u, uint64_t v)
{
	switch (u->op) {
	case IU_EQ: return v == u->a;
	case IU_NE: return v != u->a;
	case IU_LT: return v < u->a;
	case IU_GT: return v > u->a;
	case IU_LE: return v <= u->a;
	case IU_GE: return v >= u->a;
	default: return v > u->a && v < u->b;
	}
}

/* ASCII case folding, as Suricata's nocase (no locale: bytes >= 0x80 are left alone). */
static inline uint8_t lc(uint8_t c)
{
	return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c + 32) : c;
}

static bool eq_nocase(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		if (lc(a[k]) != lc(b[k]))
			return false;
	return true;
}

/*
 * First case-insensitive occurrence of @p (@n > 0 bytes) starting in
 * [s, e): memchr for the first byte in either case, then compare the rest.
 * This runs over whole reassembled streams, so it must not call tolower()
 * per byte (a locale lookup each: 10x slower on the 10,000-rule bench).
 * A pattern with a byte that has no case (": " of a header name, "/", a
 * digit) looks for that one byte instead: one memchr, and a rarer byte.
 */
static const uint8_t *find_nocase(const uint8_t *s, const uint8_t *e, const uint8_t *p, uint32_t n)
{
	uint32_t k = 0;

	while (k < n && (uint8_t)(lc(p[k]) - 'a') < 26)
		k++;
	if (k && k < n) { /* p[k] is caseless; k == 0 is the loop below */
		for (const uint8_t *c = s + k; c < e + k; c++) {
			if (!(c = memchr(c, p[k], (size_t)(e + k - c))))
				return NULL;
			if (eq_nocase(c - k, p, n))
				return c - k;
		}
		return NULL;
	}
	uint8_t lo = lc(p[0]), up = (uint8_t)(lo - 'a') < 26 ? (uint8_t)(lo - 32) : lo;
	const uint8_t *x = memchr(s, lo, (size_t)(e - s));
	const uint8_t *y = up != lo ? memchr(s, up, (size_t)(e - s)) : NULL;

	while (x || y) {
		const uint8_t *c = !y || (x && x < y) ? x : y;
		if (eq_nocase(c + 1, p + 1, n - 1))
			return c;
		if (c == x)
			x = memchr(c + 1, lo, (size_t)(e - c - 1));
		else
			y = memchr(c + 1, up, (size_t)(e - c - 1));
	}
	return NULL;
}

/* First occurrence of @pat in buf[from, end), or -1. */
static int64_t find(const uint8_t *buf, int64_t from, int64_t end, const struct ips_content *c)
{
	const uint8_t *hit;

	if (end - from < c->len)
		return -1;
	if (!(c->flags & IC_NOCASE))
		hit = memmem(buf + from, (size_t)(end - from), c->pat, c->len);
	else if (!c->len)
		hit = buf + from;
	else
		hit = find_nocase(buf + from, buf + end - c->len + 1, c->pat, c->len);
	return hit ? hit - buf : -1;
}

/* The window [start, end) a content must lie in, given the previous match end. */
static void window(const struct ips_content *c, uint32_t prev, uint32_t len, int64_t *start,
		   int64_t *end)
{
	int64_t dist = (c->flags & IC_DISTANCE) ? c->distance : 0;

	*start = 0;
	*end = len;
	if (c->flags & (IC_DISTANCE | IC_WITHIN)) {
		*start = (int64_t)prev + dist < 0 ? 0 : (int64_t)prev + dist;
		/* Suricata computes this bound unsigned: a negative one means no bound */
		int64_t lim = (int64_t)prev + dist + c->within;
		if ((c->flags & IC_WITHIN) && lim >= 0 && lim < *end)
			*end = lim;
	} else {
		if (c->flags & IC_OFFSET)
			*start = c->offset < 0 ? 0 : c->offset;
		if ((c->flags & IC_DEPTH) && *start + c->depth < *end)
			*end = *start + c->depth;
		if ((c->flags & IC_STARTS) && c->len < *end)
			*end = c->len;
	}
	if (c->flags & IC_ENDS) {
		if (*end < len)
			*end = -1; /* the pattern cannot end at the buffer end */
		else if ((int64_t)len - c->len > *start)
			*start = (int64_t)len - c->len;
	}
}

static bool match_content(struct ictx *x, uint32_t i, uint32_t prev)
{
	const struct ips_content *orig = &x->items[i].u.c, *c = orig;
	struct ips_content tmp;

	if (orig->var[0] | orig->var[1] | orig->var[2] | orig->var[3]) {
		tmp = *orig;
		tmp.offset = val(x, orig->var[0], orig->offset);
		tmp.depth = val(x, orig->var[1], orig->depth);
		/*
		 * As Suricata's `int distance = byte_values[...]`: the low 32
		 * bits, signed, so 0xffffffff is a distance (or within) of -1;
		 * window() starts no lower than 0, and sums them in 64 bits.
		 */
		tmp.distance = orig->var[2] ? (int32_t)(uint32_t)x->vars[orig->var[2] - 1]
					    : orig->distance;
		tmp.within = orig->var[3] ? (int32_t)(uint32_t)x->vars[orig->var[3] - 1] : orig->within;
		c = &tmp;
	}
	int64_t start, end, pos;

	window(c, prev, x->len, &start, &end);
	if (i == 0 && x->first > start)
		start = x->first; /* earlier ones cannot reach the new bytes */
	if (c->flags & IC_NEG) {
		pos = start + c->len <= end ? find(x->buf, start, end, c) : -1;
		x->stop |= pos >= 0 && (c->flags & IC_SINGLE); /* nothing can move or need it */
		return pos < 0 && match_from(x, i + 1, prev);
	}
	while (start + c->len <= end && (pos = find(x->buf, start, end, c)) >= 0) {
		if (--x->budget < 0)
			return false;
		if (next_from(x, i + 1, (uint32_t)(pos + c->len), pos + c->len))
			return true;
		if (x->stop)
			return false;
		/* a later occurrence may reach the new bytes (ips_inspect_fresh()) */
		if (!(c->flags & IC_RETRY) && !x->stale) {
			x->stop = true; /* no other occurrence of the items before can do better */
			return false;
		}
		start = pos + 1;
	}
	/*
	 * an independent content that is nowhere: nothing before it can change
	 * that; but one that went stale (ips_inspect_fresh()) may yet be reached
	 * past @fresh by a later occurrence of the items before it
	 */
	x->stop |= !x->items[i].relative && !x->stale;
	return false;
}

/*
 * Suricata's PCRE limits (detect-pcre.h: match-limit 3500, recursion 1500),
 * for every pcre ('O' asks for the configured ones; these are the only
 * ones here): a backtracking pattern gets that many steps per attempt, not
 * PCRE2's default ten million - /(a+)+[^a]/ over streams of 1,400-byte
 * segments of 'a' took 26 ms a packet. A limit reached is no match, for a
 * negated pcre too, as in Suricata.
 */
#define PCRE_MATCH_LIMIT 3500
#define PCRE_DEPTH_LIMIT 1500

static pcre2_match_context *pcre_limits;
static pthread_once_t pcre_limits_once = PTHREAD_ONCE_INIT;

static void pcre_limits_make(void)
{
	pcre_limits = pcre2_match_context_create(NULL); /* NULL: PCRE2's defaults, still correct */
	if (pcre_limits) {
		pcre2_set_match_limit(pcre_limits, PCRE_MATCH_LIMIT);
		pcre2_set_depth_limit(pcre_limits, PCRE_DEPTH_LIMIT);
	}
}

static int pcre_run(const struct ips_pcre *pc, const uint8_t *buf, uint32_t len, uint32_t from,
		    pcre2_match_data *md)
{
	pthread_once(&pcre_limits_once, pcre_limits_make);
	return pcre2_match(pc->code, buf, len, from, 0, md, pcre_limits);
}

/* A pcre is retried from after its last match start when a relative item after it fails. */
static bool match_pcre(struct ictx *x, uint32_t i, uint32_t prev)
{
	const struct ips_pcre *pc = &x->items[i].u.pcre;
	bool retry = i + 1 < x->nitems && x->items[i + 1].relative;
	uint32_t base = pc->relative ? prev : 0, from = 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->md);
	int rc;

	if (base > x->len)
		return false;
	if (pc->neg) {
		rc = pcre_run(pc, x->buf + base, x->len - base, 0, x->md);
		return rc == PCRE2_ERROR_NOMATCH && match_from(x, i + 1, prev);
	}
	while (from <= x->len - base && --x->budget >= 0) {
		rc = pcre_run(pc, x->buf + base, x->len - base, from, x->md);
		if (rc < 0)
			return false;
		from = (uint32_t)ov[0] + 1;
		if (next_from(x, i + 1, base + (uint32_t)ov[1], (int64_t)base + (int64_t)ov[1]))
			return true;
		if (!retry && !x->stale)
			return false;
	}
	return false;
}

/*
 * Read @b->nbytes at @pos as binary or text; false when out of bounds or not
 * a number. Text is read as Suricata reads it, with strtoull() on those
 * bytes (leading blanks and a sign, 0x in base 16 and base 0, out of range:
 * no number); *@used: bytes consumed (text may stop early at a non-digit,
 * and byte_jump then moves by what was consumed, as Suricata does).
 */
static bool byte_read(const struct ips_byte *b, const uint8_t *buf, uint32_t len, int64_t pos,
		      uint64_t *val, uint32_t *used)
{
	uint64_t v = 0;

	*used = b->nbytes;
	if (pos < 0 || pos + b->nbytes > len)
		return false;
	if (b->flags & IB_STRING) {
		char text[24], *end; /* nbytes <= 23 (ips_parse_opt.c) */

		memcpy(text, buf + pos, b->nbytes);
		text[b->nbytes] = 0;
		errno = 0;
		v = strtoull(text, &end, b->base);
		if (end == text || errno == ERANGE)
			return false;
		*used = (uint32_t)(end - text);
	} else {
		for (uint32_t k = 0; k < b->nbytes; k++) {
			uint32_t idx = (b->flags & IB_LITTLE) ? b->nbytes - 1 - k : k;
			v = v << 8 | buf[pos + idx];
		}
	}
	if (b->flags & IB_BITMASK) {
		v &= b->bitmask;
		if (b->bitmask)
			v >>= __builtin_ctzll(b->bitmask);
	}
	*val = v;
	return true;
}

/* Where byte_test and byte_jump read: their offset, from the cursor when relative. */
static int64_t byte_pos(const struct ictx *x, const struct ips_byte *b, uint32_t prev)
{
	return ((b->flags & IB_RELATIVE) ? prev : 0) + (int64_t)val(x, b->var_offset, b->offset);
}

static bool match_byte_test(struct ictx *x, uint32_t i, uint32_t prev)
{
	const struct ips_byte *b = &x->items[i].u.b;
	int64_t pos = byte_pos(x, b, prev);
	/* a value compared, not a position: all 64 bits of it */
	uint64_t v, want = b->var_value ? x->vars[b->var_value - 1] : b->value;
	uint32_t used;
	bool ok;

	if (!byte_read(b, x->buf, x->len, pos, &v, &used))
		return false;
	switch (b->op) {
	case IBO_LT: ok = v < want; break;
	case IBO_GT: ok = v > want; break;
	case IBO_EQ: ok = v == want; break;
	case IBO_AND: ok = (v & want) != 0; break;
	case IBO_XOR: ok = (v ^ want) != 0; break;
	case IBO_LE: ok = v <= want; break;
	default: ok = v >= want; break;
	}
	if (b->flags & IB_NEG)
		ok = !ok;
	return ok && next_from(x, i + 1, prev, pos + b->nbytes);
}

static bool match_byte_jump(struct ictx *x, uint32_t i, uint32_t prev)
{
	const struct ips_byte *b = &x->items[i].u.b;
	int64_t pos = byte_pos(x, b, prev), to;
	uint64_t v;
	uint32_t used;

	if (!byte_read(b, x->buf, x->len, pos, &v, &used))
		return false;
	/*
	 * As Suricata's DetectBytejumpDoMatch(): multiplier, align and
	 * post_offset in uint64, wrapping, then a signed jump (an 8-byte
	 * 0xfffffffffffffff6 goes back 10); below the buffer clamps to its start.
	 */
	v *= b->multiplier;
	if ((b->flags & IB_ALIGN) && v % 4)
		v += 4 - v % 4;
	v += (uint64_t)(int64_t)b->post_offset;
	to = (b->flags & IB_BEGIN) ? 0 : (b->flags & IB_END) ? (int64_t)x->len : pos + used;
	if (__builtin_add_overflow(to, (int64_t)v, &to))
		return false; /* far past the end (to >= 0 cannot go below INT64_MIN) */
	if (to < 0)
		to = 0;
	if (to >= x->len)
		return false;
	return next_from(x, i + 1, (uint32_t)to, pos + used);
}

/* Store the value for later items; the cursor moves past the bytes read. */
static bool match_byte_extract(struct ictx *x, uint32_t i, uint32_t prev)
{
	const struct ips_byte *b = &x->items[i].u.b;
	int64_t pos = ((b->flags & IB_RELATIVE) ? prev : 0) + b->offset;
	uint64_t v;
	uint32_t used;

	if (!byte_read(b, x->buf, x->len, pos, &v, &used))
		return false;
	v *= b->multiplier;
	if (b->align && v % b->align)
		v += b->align - v % b->align;
	x->vars[b->slot] = v;
	return next_from(x, i + 1, (uint32_t)(pos + used), pos + used);
}

static bool match_from(struct ictx *x, uint32_t i, uint32_t prev)
{
	const struct ips_item *it;

	if (i == x->nitems) {
		if (!x->need || x->hi > x->fresh)
			return true;
		x->stale = true;
		return false;
	}
	if (x->stop)
		return false;
	it = &x->items[i];
	switch (it->kind) {
	case II_CONTENT:
		return match_content(x, i, prev);
	case II_PCRE:
		return match_pcre(x, i, prev);
	case II_BYTE_TEST:
		return match_byte_test(x, i, prev);
	case II_BYTE_JUMP:
		return match_byte_jump(x, i, prev);
	case II_BYTE_EXTRACT:
		return match_byte_extract(x, i, prev);
	default: {
		/* absolute: a byte at offset n; relative: n more bytes after the cursor */
		int64_t n = val(x, it->u.d.var, it->u.d.n);
		bool data = it->u.d.relative ? (int64_t)prev + n <= x->len : n < x->len;
		/* a byte that must be there is read; one that must not be, is not */
		int64_t reach = it->u.d.neg ? 0 : it->u.d.relative ? (int64_t)prev + n : n + 1;

		if (data == it->u.d.neg) {
			/*
			 * Suricata's isdataat gives up on the whole buffer
			 * (no_match_discontinue) unless its value came from
			 * byte_extract or it is a relative negation that found data:
			 * an earlier content is not retried at a later occurrence.
			 */
			x->stop |= !it->u.d.var && (!it->u.d.neg || !it->u.d.relative);
			return false;
		}
		return next_from(x, i + 1, prev, reach);
	}
	}
}

bool ips_may_match_new(const struct ips_rule *r, const uint8_t *buf, uint32_t len, uint32_t new_off)
{
	bool any = false;

	for (uint32_t i = 0; i < r->nitems; i++) {
		const struct ips_content *c = &r->items[i].u.c;
		if (r->items[i].kind != II_CONTENT || (c->flags & (IC_NEG | IC_ENDS)))
			return true; /* not monotonic in the buffer's length: cannot tell */
		int64_t from = new_off >= c->len ? (int64_t)new_off - c->len + 1 : 0;
		any = any || find(buf, from, len, c) >= 0;
	}
	return any || !r->nitems;
}

bool ips_inspect_items(const struct ips_item *items, uint32_t n, const uint8_t *buf, uint32_t len,
		       void *md)
{
	struct ictx x = { .items = items, .nitems = n, .buf = buf ? buf : (const uint8_t *)"",
			  .len = len, .md = md, .budget = INSPECT_BUDGET };

	return match_from(&x, 0, 0);
}

/*
 * How far past the start of the first item's match a path can read: the
 * first item a content, every later one relative with a literal bound (a
 * content with within, isdataat, byte_test); -1 when nothing bounds it (an
 * absolute item, pcre, byte_jump, a byte_extract variable).
 */
static int64_t chain_span(const struct ips_item *it, uint32_t n)
{
	int64_t cur, span;

	if (!n || it[0].kind != II_CONTENT || (it[0].u.c.flags & IC_NEG))
		return -1;
	cur = span = it[0].u.c.len; /* the cursor and the furthest byte, from the match's start */
	for (uint32_t i = 1; i < n; i++) {
		const struct ips_content *c = &it[i].u.c;

		if (!it[i].relative)
			return -1;
		if (it[i].kind == II_CONTENT) {
			if (c->var[0] | c->var[1] | c->var[2] | c->var[3])
				return -1;
			if (c->flags & IC_NEG)
				continue; /* reads nothing a match keeps; the cursor stays */
			int64_t dist = (c->flags & IC_DISTANCE) ? c->distance : 0;
			if (!(c->flags & IC_WITHIN) || dist + c->within < 0) /* window(): no bound */
				return -1;
			cur += dist + c->within;
		} else if (it[i].kind == II_ISDATAAT) {
			if (it[i].u.d.var)
				return -1;
			if (!it[i].u.d.neg && it[i].u.d.n > 0)
				span = span > cur + it[i].u.d.n ? span : cur + it[i].u.d.n;
			continue;
		} else if (it[i].kind == II_BYTE_TEST && !it[i].u.b.var_offset) {
			int64_t r = cur + it[i].u.b.offset + it[i].u.b.nbytes;
			span = span > r ? span : r;
			continue;
		} else {
			return -1;
		}
		span = span > cur ? span : cur;
	}
	return span;
}

bool ips_inspect_fresh(const struct ips_rule *r, const uint8_t *buf, uint32_t len, uint32_t fresh,
		       void *md)
{
	int64_t span = chain_span(r->items, r->nitems);
	/*
	 * A match reads past @fresh only if it starts after fresh - span: the
	 * occurrences before cannot, and would each spend the budget (3,000
	 * old ones of a short content hid a new one).
	 */
	struct ictx x = { .items = r->items, .nitems = r->nitems,
			  .buf = buf ? buf : (const uint8_t *)"", .len = len, .md = md,
			  .budget = INSPECT_BUDGET, .need = true, .fresh = fresh,
			  .first = span < 0 ? 0 : (int64_t)fresh + 1 - span };

	return match_from(&x, 0, 0);
}

bool ips_inspect(const struct ips_rule *r, const uint8_t *buf, uint32_t len, void *md)
{
	return ips_inspect_items(r->items, r->nitems, buf, len, md);
}
