/* ips_compile.c - prefilter literal choice and vectorscan databases per protocol group, direction and server port. */
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

/* One positive content of one rule, for counting how many rules share a literal. */
struct lit_ref {
	const struct ips_content *c;
	uint32_t *share; /* where the count goes */
};

static inline uint8_t fold(uint8_t c)
{
	return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c + 32) : c;
}

static int lit_cmp(const void *a, const void *b)
{
	const struct ips_content *x = ((const struct lit_ref *)a)->c, *y = ((const struct lit_ref *)b)->c;
	int nx = !!(x->flags & IC_NOCASE), ny = !!(y->flags & IC_NOCASE);

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (nx != ny)
		return nx - ny;
	for (uint32_t k = 0; k < x->len; k++) {
		uint8_t u = nx ? fold(x->pat[k]) : x->pat[k], v = nx ? fold(y->pat[k]) : y->pat[k];
		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

/*
 * share[o[i] + k]: how many positive contents of the whole ruleset equal
 * item k of rule i (same bytes, same nocase). A literal many rules use
 * ("GET ", "|16 03|", "HTTP/1.1 200", a header name) is one the traffic
 * is full of: the prefilter is better off with a rarer one.
 */
static uint32_t *count_shares(const struct ips_ruleset *rs, uint32_t **offs)
{
	uint32_t n = 0, *o = calloc(rs->nrules + 1, sizeof(*o)), *share;
	struct lit_ref *refs;

	for (uint32_t i = 0; o && i < rs->nrules; i++) {
		o[i] = n;
		n += rs->rules[i].nitems;
	}
	share = calloc(n + 1, sizeof(*share));
	refs = calloc(n + 1, sizeof(*refs));
	if (!o || !share || !refs) {
		free(o), free(share), free(refs);
		return NULL;
	}
	n = 0;
	for (uint32_t i = 0; i < rs->nrules; i++)
		for (uint32_t k = 0; k < rs->rules[i].nitems; k++) {
			const struct ips_item *it = &rs->rules[i].items[k];
			if (it->kind == II_CONTENT && !(it->u.c.flags & IC_NEG))
				refs[n++] = (struct lit_ref){ &it->u.c, &share[o[i] + k] };
		}
	qsort(refs, n, sizeof(*refs), lit_cmp);
	for (uint32_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && !lit_cmp(&refs[a], &refs[b]); b++)
			;
		for (uint32_t k = a; k < b; k++)
			*refs[k].share = b - a;
	}
	free(refs);
	*offs = o;
	return share;
}

/* Literals shorter than this hit everywhere: used only when a rule has nothing longer. */
#define PF_MIN_LEN 4
/*
 * The prefilter takes at most this much of a literal: any match of the
 * content holds its first PF_MAX_LEN bytes, and the rule is confirmed on
 * the whole. Vectorscan refuses literals of ~16,000 bytes and more, and
 * that one refusal failed the whole policy with a message naming no rule.
 */
#define PF_MAX_LEN 256u

/*
 * The prefilter literal: the content marked fast_pattern, else the one the
 * fewest rules share among those of PF_MIN_LEN bytes or more, then the
 * longest. Any positive content must occur for the rule to match, so the
 * choice changes what is confirmed, never what matches.
 */
static int8_t pick_prefilter(const struct ips_rule *r, const uint32_t *share)
{
	int8_t best = -1;

	for (uint32_t i = 0; i < r->nitems && i < 127; i++) {
		const struct ips_content *c = &r->items[i].u.c;
		if (r->items[i].kind != II_CONTENT || (c->flags & IC_NEG))
			continue;
		if (c->flags & IC_FAST)
			return (int8_t)i;
		if (best < 0) {
			best = (int8_t)i;
			continue;
		}
		const struct ips_content *b = &r->items[best].u.c;
		bool cl = c->len >= PF_MIN_LEN, bl = b->len >= PF_MIN_LEN;
		if (cl != bl ? cl : share[i] != share[best] ? share[i] < share[best] : c->len > b->len)
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

static void pats_free(struct ips_pats *p)
{
	free(p->expr);
	free(p->flags);
	free(p->ids);
	free(p->lens);
}

static int pats_alloc(struct ips_pats *p, uint32_t n)
{
	p->expr = calloc(n + 1, sizeof(*p->expr));
	p->flags = calloc(n + 1, sizeof(*p->flags));
	p->ids = calloc(n + 1, sizeof(*p->ids));
	p->lens = calloc(n + 1, sizeof(*p->lens));
	p->cap = n + 1;
	return p->expr && p->flags && p->ids && p->lens ? 0 : -ENOMEM;
}

static int pats_grow(struct ips_pats *p, unsigned cap)
{
	const char **e = realloc(p->expr, cap * sizeof(*e));
	unsigned *f = e ? realloc(p->flags, cap * sizeof(*f)) : NULL;
	unsigned *i = f ? realloc(p->ids, cap * sizeof(*i)) : NULL;
	size_t *l = i ? realloc(p->lens, cap * sizeof(*l)) : NULL;

	p->expr = e ? e : p->expr; /* each array keeps what it had when a later one failed */
	p->flags = f ? f : p->flags;
	p->ids = i ? i : p->ids;
	p->lens = l ? l : p->lens;
	if (!l)
		return -ENOMEM;
	p->cap = cap;
	return 0;
}

int ips_pats_push(struct ips_pats *p, const char *expr, size_t len, unsigned flags)
{
	if (p->n == p->cap && pats_grow(p, p->cap ? 2 * p->cap : 64))
		return -ENOMEM;
	p->expr[p->n] = expr;
	p->lens[p->n] = len;
	p->flags[p->n] = flags;
	p->ids[p->n] = p->n;
	p->n++;
	return 0;
}

/* Same bytes (folded when caseless) and same case flag. */
static int pat_key_cmp(const struct ips_pats *p, uint32_t i, uint32_t j)
{
	bool ni = p->flags[i] & HS_FLAG_CASELESS, nj = p->flags[j] & HS_FLAG_CASELESS;

	if (p->lens[i] != p->lens[j])
		return p->lens[i] < p->lens[j] ? -1 : 1;
	if (ni != nj)
		return ni - nj;
	for (size_t k = 0; k < p->lens[i]; k++) {
		uint8_t u = (uint8_t)p->expr[i][k], v = (uint8_t)p->expr[j][k];
		u = ni ? fold(u) : u, v = nj ? fold(v) : v;
		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

static int pat_cmp(const void *a, const void *b, void *arg)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int d = pat_key_cmp(arg, i, j);

	return d ? d : i < j ? -1 : i > j;
}

/*
 * One pattern per distinct literal, with the rules that prefilter on it in
 * g->pat_rule[g->pat_off[id] ..]: a header name many rules share is one
 * pattern and one callback, not one per rule. Ids follow first use, and an
 * id's rules stay in rule order.
 */
static int pats_dedup(struct ips_pats *p, struct ips_group *g)
{
	uint32_t *idx = calloc(p->n + 1, sizeof(*idx)), *id = calloc(p->n + 1, sizeof(*id));
	uint32_t *rules = calloc(p->n + 1, sizeof(*rules)), nd = 0;

	g->pat_off = calloc(p->n + 2, sizeof(*g->pat_off));
	if (!idx || !id || !rules || !g->pat_off) {
		free(idx), free(id), free(rules);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < p->n; i++)
		idx[i] = i;
	qsort_r(idx, p->n, sizeof(*idx), pat_cmp, p);
	for (uint32_t a = 0, lead = 0; a < p->n; a++) { /* id[i]: the first entry equal to i */
		if (!a || pat_key_cmp(p, idx[a - 1], idx[a]))
			lead = idx[a];
		id[idx[a]] = lead;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		bool lead = id[i] == i;
		id[i] = lead ? nd++ : id[id[i]]; /* id[i] < i: already renumbered */
		if (lead) { /* move its literal down to its id (<= i, already read) */
			p->expr[id[i]] = p->expr[i];
			p->lens[id[i]] = p->lens[i];
			p->flags[id[i]] = p->flags[i];
		}
		g->pat_off[id[i] + 1]++;
	}
	for (uint32_t k = 0; k < nd; k++) {
		g->pat_off[k + 1] += g->pat_off[k];
		idx[k] = g->pat_off[k]; /* fill cursor */
		p->ids[k] = k;
	}
	for (uint32_t i = 0; i < p->n; i++)
		rules[idx[id[i]]++] = g->pat_rule[i];
	free(g->pat_rule);
	g->pat_rule = rules;
	g->npat = p->n = nd;
	free(idx), free(id);
	return 0;
}

/*
 * Fold the literal database into the pattern database (one scan per packet
 * instead of two)? The literal scan is lazy: it runs only when a candidate
 * has two or more contents. To the server that is nearly every packet (a
 * request's header names), and the packets are short, so a scan's fixed
 * cost dominates: fold. To the client the packets are long and the scan
 * rarely needed: apart.
 */
static bool lit_fold(int dir)
{
	return dir == 0;
}

/* Collect the group's literals and rules without one; compile the literals. */
static int build_group(struct ips_pctx *c, struct ips_group *g, int gi, int dir, const int8_t *cls,
		       uint64_t mask)
{
	struct ips_ruleset *rs = c->rs;
	struct ips_pats p = { 0 };
	hs_compile_error_t *err = NULL;
	uint32_t *members = calloc(rs->nrules + 1, sizeof(*members)), nm = 0;
	int rc = pats_alloc(&p, rs->nrules);

	g->pat_rule = calloc(rs->nrules + 1, sizeof(*g->pat_rule));
	g->always = calloc(rs->nrules + 1, sizeof(*g->always));
	if (rc || !g->pat_rule || !g->always || !members) {
		pats_free(&p);
		free(members);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct ips_rule *r = &rs->rules[i];
		if (!in_group(r, gi, dir) || (cls && cls[i] >= 0 && !(mask >> cls[i] & 1)))
			continue;
		members[nm++] = i;
		if (r->pf < 0) {
			g->always[g->nalways++] = i;
			continue;
		}
		const struct ips_content *ct = &r->items[r->pf].u.c;
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
		p.lens[p.n] = len < PF_MAX_LEN ? len : PF_MAX_LEN;
		p.flags[p.n] = HS_FLAG_SINGLEMATCH | ((ct->flags & IC_NOCASE) ? HS_FLAG_CASELESS : 0);
		p.ids[p.n] = p.n;
		g->pat_rule[p.n++] = i;
	}
	if (!rc)
		rc = pats_dedup(&p, g);
	if (!rc)
		rc = ips_litdb_build(c, g, members, nm, lit_fold(dir) ? &p : NULL);
	if (!rc && p.n && hs_compile_lit_multi(p.expr, p.flags, p.ids, p.lens, p.n, HS_MODE_BLOCK, NULL,
					(hs_database_t **)&g->db, &err) != HS_SUCCESS) {
		ll_err_add(c->errs, &c->loc, "IPS pattern database: %s",
			   err && err->message ? err->message : "compile failed");
		hs_free_compile_error(err);
		rc = -EINVAL;
	}
	pats_free(&p);
	free(members);
	return rc;
}

/* Port sets that split a group; more distinct ones than this: no split. */
#define PORT_CLASSES_MAX 64

/* The ports a rule wants on the server side of @dir; NULL: any. */
static const struct ips_ports *server_ports(const struct ips_rule *r, int dir)
{
	const struct ips_ports *p = dir ? &r->sp : &r->dp;

	return r->bidir || p->any ? NULL : p;
}

static bool ports_eq(const struct ips_ports *a, const struct ips_ports *b)
{
	return a->n == b->n && !memcmp(a->r, b->r, a->n * sizeof(*a->r));
}

/*
 * cls[i]: the index of rule i's server port set among the distinct ones
 * (*@ncls of them, in @sets), -1 for any port. -E2BIG when there are too many.
 */
static int port_classes(const struct ips_ruleset *rs, int gi, int dir, int8_t *cls,
			const struct ips_ports **sets, uint32_t *ncls)
{
	*ncls = 0;
	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct ips_ports *p = server_ports(&rs->rules[i], dir);
		uint32_t k = 0;
		cls[i] = -1;
		if (!p || !in_group(&rs->rules[i], gi, dir))
			continue;
		while (k < *ncls && !ports_eq(sets[k], p))
			k++;
		if (k == PORT_CLASSES_MAX)
			return -E2BIG;
		if (k == *ncls)
			sets[(*ncls)++] = p;
		cls[i] = (int8_t)k;
	}
	return 0;
}

/* port -> which classes hold it, one mask per port (0..65535). */
static void port_masks(const struct ips_ports **sets, uint32_t ncls, uint64_t *m)
{
	memset(m, 0, 65536 * sizeof(*m));
	for (uint32_t k = 0; k < ncls; k++)
		for (uint32_t j = 0; j < sets[k]->n; j++)
			for (uint32_t port = sets[k]->r[j].lo; port <= sets[k]->r[j].hi; port++)
				m[port] |= 1ull << k;
}

/* Group @gi for @dir: one sub-group per distinct set of port classes. */
static int build_gset(struct ips_pctx *c, struct ips_gset *gs, int gi, int dir)
{
	const struct ips_ruleset *rs = c->rs;
	const struct ips_ports *sets[PORT_CLASSES_MAX];
	uint64_t *m = NULL, masks[256];
	int8_t *cls = calloc(rs->nrules + 1, 1);
	uint32_t ncls = 0, nm = 0;
	int rc = cls ? 0 : -ENOMEM;

	if (!rc && (gi == IPG_TCP || gi == IPG_UDP) && !port_classes(rs, gi, dir, cls, sets, &ncls) &&
	    ncls && (m = malloc(65536 * sizeof(*m))) && (gs->port_map = malloc(65536))) {
		port_masks(sets, ncls, m);
		for (uint32_t port = 0; port < 65536 && gs->port_map; port++) {
			uint32_t k = 0;
			while (k < nm && masks[k] != m[port])
				k++;
			if (k == nm && nm == 255) {
				free(gs->port_map); /* too many: no split */
				gs->port_map = NULL;
				break;
			}
			if (k == nm)
				masks[nm++] = m[port];
			gs->port_map[port] = (uint8_t)k;
		}
	}
	if (!gs->port_map)
		nm = 1, masks[0] = ~0ull;
	gs->nsub = nm;
	if (!rc && !(gs->sub = calloc(nm, sizeof(*gs->sub))))
		rc = -ENOMEM;
	for (uint32_t k = 0; k < nm && !rc; k++)
		rc = build_group(c, &gs->sub[k], gi, dir, gs->port_map ? cls : NULL, masks[k]);
	free(m);
	free(cls);
	return rc;
}

const struct ips_group *ips_group_of(const struct ips_ruleset *rs, const struct pkt *p, int dir)
{
	const struct ips_gset *gs = &rs->g[ips_pgroup_of(p->proto)][dir];

	return &gs->sub[gs->port_map ? gs->port_map[dir ? p->sport : p->dport] : 0];
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

static const struct ips_rule *by_sid(const struct ips_ruleset *rs, uint32_t sid)
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
		       ? &rs->rules[rs->by_sid[lo]] : NULL;
}

bool ips_rule_info(const struct ips_ruleset *rs, uint32_t sid, struct ips_rule_info *out)
{
	const struct ips_rule *r = by_sid(rs, sid);
	int prio = 3; /* Suricata's default: no priority and no known classtype */

	if (!r)
		return false;
	*out = (struct ips_rule_info){ .msg = r->msg, .gid = r->gid, .rev = r->rev,
				       .category = ips_class_find(r->classtype, &prio),
				       .blocks = r->action == IRA_DROP || r->action == IRA_REJECT };
	/* an explicit priority wins over the classtype's, wherever it stands in the rule */
	out->severity = r->priority > 0 ? (uint32_t)r->priority : (uint32_t)prio;
	return true;
}

/*
 * Is @r matched against the reassembled stream too? Not with a packet
 * keyword: Suricata's dsize, flags, ttl, ipopts and tcp.mss set
 * SIG_FLAG_REQUIRE_PACKET, and such a rule's payload is the packet's alone
 * (unless tcp-stream or flow:only_stream asks for the stream).
 */
bool ips_stream_rule(const struct ips_rule *r)
{
	const uint32_t pkt_only = IH_DSIZE | IH_FLAGS | IH_TTL | IH_IPOPTS | IH_TCPMSS;
	bool want_stream = r->proto == IPSP_TCP_STREAM || (r->flow & IF_ONLY_STREAM);

	return r->nitems && !r->nhl && r->proto != IPSP_TCP_PKT && r->proto != IPSP_UDP &&
	       r->proto != IPSP_ICMP && !(r->flow & IF_NO_STREAM) &&
	       !(r->hdr & IH_DSIZE) && (want_stream || !(r->hdr & pkt_only));
}

/*
 * Is pcre @src ("/.../flags") tied to the subject's start: a ^, \A or \G
 * outside a character class, or a lookbehind? rule_floats() looks for a ^
 * anywhere, which a negated class ("[^\r\n]", in most pcre rules) has too.
 * What it cannot tell (\Q..\E, POSIX classes, a '#' that may start an
 * /x comment holding a '[') counts as anchored.
 */
static bool pcre_anchored(const char *src)
{
	bool cls = false;

	if (strchr(src, '#'))
		return true;
	for (const char *q = src; *q; q++) {
		if (*q == '\\') {
			if (!cls && (q[1] == 'A' || q[1] == 'G' || q[1] == 'Q'))
				return true;
			if (!*++q)
				break;
		} else if (cls) {
			cls = *q != ']';
		} else if (*q == '[') {
			cls = true;
			q += q[1] == '^';
			q += q[1] == ']'; /* a ']' first is one of the class */
		} else if (*q == '^' || (q[0] == '(' && q[1] == '?' && q[2] == '<' &&
					 (q[3] == '=' || q[3] == '!'))) {
			return true;
		}
	}
	return false;
}

/*
 * Does @r match the same in a window of a buffer as in the whole buffer,
 * for matches inside the window? Not when a first (non-relative) item is
 * placed from the buffer's start (offset, depth, startswith, byte_*,
 * isdataat, an anchored or looking-behind pcre), nor when it is a negated
 * content, which would have to be absent before the window too. Relative
 * items follow the item before them, wherever that is. @exact: a pcre is
 * anchored as pcre_anchored() reads it (IRF_MIDSTREAM), not wherever it
 * has a ^ (IRF_FLOAT, which the stream stage's windows keep to).
 */
static bool rule_floats(const struct ips_rule *r, bool exact)
{
	for (uint32_t i = 0; i < r->nitems; i++) {
		const struct ips_item *it = &r->items[i];

		if (it->kind == II_BYTE_JUMP && (it->u.b.flags & IB_BEGIN))
			return false;
		if (it->relative)
			continue;
		if (it->kind == II_CONTENT &&
		    !(it->u.c.flags & (IC_OFFSET | IC_DEPTH | IC_STARTS | IC_NEG)) && !it->u.c.var[0] &&
		    !it->u.c.var[1])
			continue;
		if (it->kind == II_PCRE && exact && !pcre_anchored(it->u.pcre.src))
			continue;
		if (it->kind == II_PCRE && !strchr(it->u.pcre.src, '^') && !strstr(it->u.pcre.src, "\\A") &&
		    !strstr(it->u.pcre.src, "\\G") && !strstr(it->u.pcre.src, "(?<"))
			continue;
		return false;
	}
	return true;
}

int ips_compile(struct ips_pctx *c)
{
	struct ips_ruleset *rs = c->rs;
	uint32_t *offs = NULL, *share = count_shares(rs, &offs);
	int rc = 0;

	if (!share || !(rs->rflags = calloc(rs->nrules + 1, 1))) {
		free(share), free(offs);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rs->nrules; i++) {
		struct ips_rule *r = &rs->rules[i];
		r->fp = pick_fast_pattern(r);
		r->pf = pick_prefilter(r, share + offs[i]);
		rs->rflags[i] = (ips_stream_rule(r) ? IRF_STREAM : 0) |
				(r->nitems == 1 && r->items[0].kind == II_CONTENT &&
				 !(r->items[0].u.c.flags & IC_NEG) ? IRF_ONE : 0) |
				(rule_floats(r, false) ? IRF_FLOAT : 0) |
				(rule_floats(r, true) ? IRF_MIDSTREAM : 0);
		rs->stream_rules += ips_stream_rule(r);
		for (uint32_t k = 0; k < r->nitems; k++)
			if (r->items[k].kind == II_CONTENT && r->items[k].u.c.len > rs->max_pat)
				rs->max_pat = r->items[k].u.c.len;
	}
	free(share);
	free(offs);
	rc = rank_rules(rs) ?: index_sids(rs);
	for (int g = 0; g < IPG__N && !rc; g++)
		for (int d = 0; d < 2 && !rc; d++)
			rc = build_gset(c, &rs->g[g][d], g, d);
	return rc;
}

void ips_groups_free(struct ips_ruleset *rs)
{
	for (uint32_t i = 0; rs->borrowed && i < rs->nrules; i++) {
		if (rs->borrowed[i] & 1)
			rs->rules[i].src.r = NULL;
		if (rs->borrowed[i] & 2)
			rs->rules[i].dst.r = NULL;
		if (rs->borrowed[i] & 4)
			rs->rules[i].sp.r = NULL;
		if (rs->borrowed[i] & 8)
			rs->rules[i].dp.r = NULL;
	}
	free(rs->borrowed);
	rs->borrowed = NULL;
	for (int g = 0; g < IPG__N; g++)
		for (int d = 0; d < 2; d++) {
			struct ips_gset *gs = &rs->g[g][d];
			for (uint32_t k = 0; gs->sub && k < gs->nsub; k++) {
				hs_free_database(gs->sub[k].db);
				free(gs->sub[k].pat_rule);
				free(gs->sub[k].pat_off);
				free(gs->sub[k].always);
				ips_litdb_free(&gs->sub[k]);
			}
			free(gs->sub);
			free(gs->port_map);
			memset(gs, 0, sizeof(*gs));
		}
}
