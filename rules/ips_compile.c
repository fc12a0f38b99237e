/* ips_compile.c - fast-pattern choice and one vectorscan literal database per protocol group and direction. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "ips_rules.h"

enum ips_pgroup ips_pgroup_of(uint8_t ipproto)
{
	switch (ipproto) {
	case IPPROTO_TCP_: return IPG_TCP;
	case IPPROTO_UDP_: return IPG_UDP;
	case IPPROTO_ICMP_: case IPPROTO_ICMPV6_: return IPG_ICMP;
	default: return IPG_OTHER;
	}
}

/* Suricata's choice: the content marked fast_pattern, else the longest positive one. */
static int8_t pick_fast_pattern(const struct ips_rule *r)
{
	int8_t best = -1;

	for (uint32_t i = 0; i < r->nitems && i < 127; i++) {
		const struct ips_item *it = &r->items[i];
		if (it->kind != II_CONTENT || (it->u.c.flags & IC_NEG))
			continue;
		if (it->u.c.flags & IC_FAST)
			return (int8_t)i;
		if (best < 0 || it->u.c.len > r->items[best].u.c.len)
			best = (int8_t)i;
	}
	return best;
}

static bool in_group(const struct ips_rule *r, int g, int dir)
{
	if ((r->flow & IF_TO_SERVER) && dir == 1)
		return false;
	if ((r->flow & IF_TO_CLIENT) && dir == 0)
		return false;
	switch (r->proto) {
	case IPSP_IP: return true;
	case IPSP_UDP: return g == IPG_UDP;
	case IPSP_ICMP: return g == IPG_ICMP;
	default: return g == IPG_TCP;
	}
}

struct pats {
	const char **expr;
	unsigned *flags, *ids;
	size_t *lens;
	unsigned n;
};

static void pats_free(struct pats *p)
{
	free(p->expr);
	free(p->flags);
	free(p->ids);
	free(p->lens);
}

static int pats_alloc(struct pats *p, uint32_t n)
{
	p->expr = calloc(n + 1, sizeof(*p->expr));
	p->flags = calloc(n + 1, sizeof(*p->flags));
	p->ids = calloc(n + 1, sizeof(*p->ids));
	p->lens = calloc(n + 1, sizeof(*p->lens));
	return p->expr && p->flags && p->ids && p->lens ? 0 : -ENOMEM;
}

/* Collect the group's literals and rules without one; compile the literals. */
static int build_group(struct ips_pctx *c, struct ips_group *g, int gi, int dir)
{
	struct ips_ruleset *rs = c->rs;
	struct pats p = { 0 };
	hs_compile_error_t *err = NULL;
	int rc = pats_alloc(&p, rs->nrules);

	g->pat_rule = calloc(rs->nrules + 1, sizeof(*g->pat_rule));
	g->always = calloc(rs->nrules + 1, sizeof(*g->always));
	if (rc || !g->pat_rule || !g->always) {
		pats_free(&p);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct ips_rule *r = &rs->rules[i];
		if (!in_group(r, gi, dir))
			continue;
		if (r->fp < 0) {
			g->always[g->nalways++] = i;
			continue;
		}
		const struct ips_content *ct = &r->items[r->fp].u.c;
		uint32_t off = ct->fp_len ? ct->fp_off : 0, len = ct->fp_len ? ct->fp_len : ct->len;
		/* vectorscan's literal API takes a leading NUL for an empty string:
		 * prefilter on the rest, which any match contains too */
		while (len && !ct->pat[off])
			off++, len--;
		if (!len) {
			g->always[g->nalways++] = i;
			continue;
		}
		p.expr[p.n] = (const char *)ct->pat + off;
		p.lens[p.n] = len;
		p.flags[p.n] = HS_FLAG_SINGLEMATCH | ((ct->flags & IC_NOCASE) ? HS_FLAG_CASELESS : 0);
		p.ids[p.n] = p.n;
		g->pat_rule[p.n++] = i;
	}
	g->npat = p.n;
	if (p.n && hs_compile_lit_multi(p.expr, p.flags, p.ids, p.lens, p.n, HS_MODE_BLOCK, NULL,
					(hs_database_t **)&g->db, &err) != HS_SUCCESS) {
		ll_err_add(c->errs, &c->loc, "IPS pattern database: %s",
			   err && err->message ? err->message : "compile failed");
		hs_free_compile_error(err);
		rc = -EINVAL;
	}
	pats_free(&p);
	return rc;
}

/* Suricata's default action-order (pass, drop, reject, alert), then flowbit setters before readers. */
static uint32_t order_key(const struct ips_rule *r)
{
	static const uint8_t act[] = { [IRA_PASS] = 0, [IRA_DROP] = 1, [IRA_REJECT] = 2, [IRA_ALERT] = 3 };
	bool sets = false, reads = false;

	for (uint32_t i = 0; i < r->nfb; i++) {
		if (r->fb[i].cmd == IFB_ISSET || r->fb[i].cmd == IFB_ISNOTSET)
			reads = true;
		else
			sets = true;
	}
	return (uint32_t)act[r->action] * 4 + (sets ? (reads ? 1 : 0) : (reads ? 2 : 3));
}

static int rank_cmp(const void *a, const void *b, void *arg)
{
	const struct ips_ruleset *rs = arg;
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	uint32_t ka = order_key(&rs->rules[ia]), kb = order_key(&rs->rules[ib]);

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Give every rule its place in evaluation order. */
static int rank_rules(struct ips_ruleset *rs)
{
	uint32_t *idx = calloc(rs->nrules + 1, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < rs->nrules; i++)
		idx[i] = i;
	qsort_r(idx, rs->nrules, sizeof(*idx), rank_cmp, rs);
	for (uint32_t i = 0; i < rs->nrules; i++)
		rs->rules[idx[i]].rank = i;
	free(idx);
	return 0;
}

static int sid_cmp(const void *a, const void *b, void *arg)
{
	const struct ips_ruleset *rs = arg;
	const struct ips_rule *ra = &rs->rules[*(const uint32_t *)a], *rb = &rs->rules[*(const uint32_t *)b];

	if (ra->sid != rb->sid)
		return ra->sid < rb->sid ? -1 : 1;
	return (ra->gid != 1) - (rb->gid != 1);
}

static int index_sids(struct ips_ruleset *rs)
{
	if (!(rs->by_sid = calloc(rs->nrules + 1, sizeof(*rs->by_sid))))
		return -ENOMEM;
	for (uint32_t i = 0; i < rs->nrules; i++)
		rs->by_sid[i] = i;
	qsort_r(rs->by_sid, rs->nrules, sizeof(*rs->by_sid), sid_cmp, rs);
	return 0;
}

const char *ips_rule_msg(const struct ips_ruleset *rs, uint32_t sid)
{
	uint32_t lo = 0, hi = rs && rs->by_sid ? rs->nrules : 0;

	while (lo < hi) {
		uint32_t m = (lo + hi) / 2;
		if (rs->rules[rs->by_sid[m]].sid < sid)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < (rs ? rs->nrules : 0) && rs->rules[rs->by_sid[lo]].sid == sid
		       ? rs->rules[rs->by_sid[lo]].msg : NULL;
}

bool ips_stream_rule(const struct ips_rule *r)
{
	return r->nitems && r->proto != IPSP_TCP_PKT && r->proto != IPSP_UDP &&
	       r->proto != IPSP_ICMP && !(r->flow & IF_NO_STREAM) && !(r->hdr & IH_DSIZE);
}

int ips_compile(struct ips_pctx *c)
{
	struct ips_ruleset *rs = c->rs;
	int rc = 0;

	for (uint32_t i = 0; i < rs->nrules; i++) {
		struct ips_rule *r = &rs->rules[i];
		r->fp = pick_fast_pattern(r);
		rs->stream_rules += ips_stream_rule(r);
		for (uint32_t k = 0; k < r->nitems; k++)
			if (r->items[k].kind == II_CONTENT && r->items[k].u.c.len > rs->max_pat)
				rs->max_pat = r->items[k].u.c.len;
	}
	rc = rank_rules(rs) ?: index_sids(rs);
	for (int g = 0; g < IPG__N && !rc; g++)
		for (int d = 0; d < 2 && !rc; d++)
			rc = build_group(c, &rs->g[g][d], g, d);
	return rc;
}

void ips_groups_free(struct ips_ruleset *rs)
{
	for (int g = 0; g < IPG__N; g++)
		for (int d = 0; d < 2; d++) {
			hs_free_database(rs->g[g][d].db);
			free(rs->g[g][d].pat_rule);
			free(rs->g[g][d].always);
			memset(&rs->g[g][d], 0, sizeof(rs->g[g][d]));
		}
}
