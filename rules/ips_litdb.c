/* ips_litdb.c - the second literal database of a group: every positive content of its multi-content rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "ips_rules.h"

/*
 * Every positive content must occur somewhere in a buffer the rule matches,
 * wherever its offset, depth, distance or within put it. One scan of this
 * database tells which contents occur in a packet, so a candidate missing
 * one is dropped with a few bit tests instead of searches through the
 * payload (a header rule whose name is in every request: the value decides).
 */

struct lref {
	const uint8_t *pat; /* without leading NULs (see ips_compile.c) */
	uint32_t len;
	bool nocase;
	uint32_t rule, slot; /* slot: where this rule's literal id goes in lit_ids */
};

static inline uint8_t fold(uint8_t c)
{
	return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c + 32) : c;
}

static int lref_cmp(const void *a, const void *b)
{
	const struct lref *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->nocase != y->nocase)
		return x->nocase - y->nocase;
	for (uint32_t k = 0; k < x->len; k++) {
		uint8_t u = x->nocase ? fold(x->pat[k]) : x->pat[k];
		uint8_t v = y->nocase ? fold(y->pat[k]) : y->pat[k];
		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

/* The positive, non-empty contents of @r as refs (NULL @out: only count them). */
static uint32_t rule_lits(const struct ips_rule *r, uint32_t ri, struct lref *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->nitems; i++) {
		const struct ips_content *c = &r->items[i].u.c;
		uint32_t off = 0;
		if (r->items[i].kind != II_CONTENT || (c->flags & IC_NEG))
			continue;
		while (off < c->len && !c->pat[off])
			off++;
		if (off == c->len)
			continue;
		if (out)
			out[n] = (struct lref){ c->pat + off, c->len - off, !!(c->flags & IC_NOCASE), ri, 0 };
		n++;
	}
	return n;
}

/* The distinct literals as pattern ids g->npat + k of the group's database. */
static int fold_lits(struct ips_group *g, const struct lref *refs, uint32_t n, struct ips_pats *p)
{
	int rc = 0;

	for (uint32_t a = 0; !rc && a < n; a++)
		if (!a || lref_cmp(&refs[a - 1], &refs[a]))
			rc = ips_pats_push(p, (const char *)refs[a].pat, refs[a].len,
					   HS_FLAG_SINGLEMATCH | (refs[a].nocase ? HS_FLAG_CASELESS : 0));
	g->lit_fold = !rc;
	return rc;
}

static int compile(struct ips_pctx *c, struct ips_group *g, const struct lref *refs, uint32_t n)
{
	const char **expr = calloc(g->nlit + 1, sizeof(*expr));
	unsigned *flags = calloc(g->nlit + 1, sizeof(*flags)), *ids = calloc(g->nlit + 1, sizeof(*ids));
	size_t *lens = calloc(g->nlit + 1, sizeof(*lens));
	hs_compile_error_t *err = NULL;
	uint32_t k = 0;
	int rc = 0;

	if (!expr || !flags || !ids || !lens)
		rc = -ENOMEM;
	for (uint32_t a = 0; !rc && a < n; a++) {
		if (a && !lref_cmp(&refs[a - 1], &refs[a]))
			continue;
		expr[k] = (const char *)refs[a].pat;
		lens[k] = refs[a].len;
		flags[k] = HS_FLAG_SINGLEMATCH | (refs[a].nocase ? HS_FLAG_CASELESS : 0);
		ids[k] = k;
		k++;
	}
	if (!rc && hs_compile_lit_multi(expr, flags, ids, lens, k, HS_MODE_BLOCK, NULL,
					(hs_database_t **)&g->lit_db, &err) != HS_SUCCESS) {
		ll_err_add(c->errs, &c->loc, "IPS literal database: %s",
			   err && err->message ? err->message : "compile failed");
		hs_free_compile_error(err);
		rc = -EINVAL;
	}
	free(expr), free(flags), free(ids), free(lens);
	return rc;
}

int ips_litdb_build(struct ips_pctx *c, struct ips_group *g, const uint32_t *rules, uint32_t nr,
		    struct ips_pats *p)
{
	const struct ips_ruleset *rs = c->rs;
	struct lref *refs = NULL;
	uint32_t n = 0, id = 0;
	int rc = 0;

	g->lit_off = calloc(rs->nrules + 1, sizeof(*g->lit_off));
	if (!g->lit_off)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t k = rule_lits(&rs->rules[rules[i]], rules[i], NULL);
		n += k > 1 ? k : 0;
	}
	if (!n)
		return 0;
	refs = calloc(n, sizeof(*refs));
	g->lit_ids = calloc(n, sizeof(*g->lit_ids));
	if (!refs || !g->lit_ids) {
		free(refs);
		return -ENOMEM;
	}
	/* slots in rule index order: lit_off[] is a prefix sum over all rules */
	n = 0;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t k = rule_lits(&rs->rules[rules[i]], rules[i], NULL);
		if (k < 2)
			continue;
		rule_lits(&rs->rules[rules[i]], rules[i], refs + n);
		for (uint32_t j = 0; j < k; j++)
			refs[n + j].slot = n + j;
		g->lit_off[rules[i]] = k; /* count for now */
		n += k;
	}
	for (uint32_t i = 0, sum = 0; i <= rs->nrules; i++) {
		uint32_t k = g->lit_off[i];
		g->lit_off[i] = sum;
		sum += k;
	}
	qsort(refs, n, sizeof(*refs), lref_cmp);
	for (uint32_t a = 0; a < n; a++) {
		if (a && lref_cmp(&refs[a - 1], &refs[a]))
			id++;
		g->lit_ids[refs[a].slot] = id;
	}
	g->nlit = id + 1;
	rc = p ? fold_lits(g, refs, n, p) : compile(c, g, refs, n);
	free(refs);
	return rc;
}

void ips_litdb_free(struct ips_group *g)
{
	hs_free_database(g->lit_db);
	free(g->lit_off);
	free(g->lit_ids);
}
