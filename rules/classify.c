/* classify.c - the compiled firewall classifier: SPEC section 4 without walking the rules. */
/*
 * Design. The decision is "the first matching rule in (priority desc,
 * action order, id) order, plus the matching log-only rules before it", so
 * every rule becomes boxes (classify_expand.c) sorted by that rank: a box's
 * index is its rank, and a leaf listing boxes in ascending order stops at
 * its first deciding hit (and reports the log-only hits before it).
 *
 * Boxes span six dimensions - src and dst as 128-bit integers (IPv4
 * v4-mapped), P1/P2 (ports, or ICMP type/code), protocol, direction - so
 * CIDRs of any length, ranges, negations (complements), lists, IPv4, IPv6
 * and `any` are all ranges. A rule whose lists multiply to more than 256
 * boxes keeps the hull of its longest list and is re-checked on the rule.
 * Interface, TCP flags and ICMP fields are tested at the leaf.
 *
 * Boxes are cut by multi-way decision trees (classify_build.c): HiCuts with
 * cuts at quantiles of the box edges, as HyperSplit places them, rather
 * than equal-size cuts, which would waste levels on the v4-mapped corner of
 * the 128-bit space. A node takes the dimension and up to 16 cuts with the
 * smallest mean child (replication counts against a cut; "smallest largest
 * child", tried first, took 4.9 s and 19 MiB on 100,000 fw-like rules
 * against 0.7 s and 13 MiB), equal neighbours merge, and a box that covers a
 * child's whole region and decides there drops every later box from it.
 * As in EffiCuts, boxes are separated into trees by largeness (a /8 of
 * their family or wider) in source x destination, and log-only boxes -
 * never pruned, since they never end a walk - get a fifth tree. Measured on
 * 100,000 ClassBench-like rules (bench/run.sh), one deciding tree instead
 * of four: fw 8.4-9.7, acl 1.8-2.4, ipc 5.7-6.7 us per lookup; with the
 * four: 1.7-2.1, 0.9-1.2, 1.2-1.3 us. With log-only boxes in the deciding
 * trees, a fw lookup read 207 boxes; in their own tree, 5 per tree.
 *
 * Bounds: leaf entries <= 16 per box + 64 Ki (the log-only tree: 64 per
 * box), and 12 M boxes examined to choose cuts, shared by the trees in
 * proportion; past either, nodes stay leaves: lookups slow down, compile
 * time and memory do not grow. 100,000 rules: fw/acl/ipc-like sets compile
 * in 0.6-0.8 s to 20-25 MiB; the unit test's adversarial random policy
 * (288,000 boxes, heavy overlap) in 1.5-2.0 s to 83 MiB (CPU time, on a
 * shared 2-core VM).
 *
 * Lookup (this file): the trees are laid out as one array, a node's cuts
 * and children beside it (classify_layout.c), walked in lock step so their
 * cache misses overlap, and the boxes of the leaves are prefetched before
 * they are read; a leaf entry carries ports, protocol and direction so
 * most boxes are rejected unread. That took fw lookups from 6.3 to ~2 us.
 * Measured through the pipeline on new-flow captures, 100,000 rules cost
 * 2.4-2.6 us per packet, so the sets replay at 0.31-0.36 of the empty
 * policy (which itself is ~1.1 us per packet, flow creation): short of 0.5.
 *
 * Bit-vector schemes were not chosen: 100,000 rules give ~200,000
 * elementary intervals per address, 2.5 GB of vectors before aggregation.
 * Tuple space grows with the number of distinct (prefix, range) shapes,
 * which arbitrary ranges make unbounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classify_int.h"
#include "pkt.h"

#define NO_HIT UINT32_MAX
#define LOG_SLOTS 5
#define PREFETCH 16 /* leaf entries whose boxes are fetched ahead */

/* A key projected onto the boxes' dimensions. */
struct ckey {
	u128 x[D__N]; /* the key along each dimension, for the tree nodes */
	u128 src, dst;
	uint16_t p1, p2;
	uint8_t proto, dir, flags;
	int16_t itype, icode;
	uint16_t iface;
	const struct fw_key *k;
};

/* The state of one walk: the best box so far and the log-only hits per priority. */
struct walk {
	uint32_t best;
	uint32_t nlog[LOG_SLOTS];
	uint32_t log[LOG_SLOTS][FW_MAX_LOGGED];
};

static uint16_t iface_of(const struct cls *c, const char *name)
{
	if (!name)
		return 0;
	for (uint32_t i = 0; i < c->nifnames; i++)
		if (strncmp(c->ifnames[i], name, 16) == 0)
			return (uint16_t)(i + 1);
	return UINT16_MAX; /* a name no rule uses */
}

/* P1/P2 hold ports for TCP/UDP and ICMP type/code otherwise (classify_expand.c: p_lists()). */
static void key_project(const struct cls *c, const struct fw_key *k, struct ckey *q)
{
	bool tu = k->proto == IPPROTO_TCP_ || k->proto == IPPROTO_UDP_;

	q->src = cls_u128(k->src);
	q->dst = cls_u128(k->dst);
	q->p1 = tu ? k->sport : k->icmp_type >= 0 ? (uint16_t)k->icmp_type : 0;
	q->p2 = tu ? k->dport : k->icmp_code >= 0 ? (uint16_t)k->icmp_code : 0;
	q->proto = k->proto;
	q->dir = k->dir;
	q->x[D_SRC] = q->src;
	q->x[D_DST] = q->dst;
	q->x[D_P1] = q->p1;
	q->x[D_P2] = q->p2;
	q->x[D_PROTO] = q->proto;
	q->x[D_DIR] = q->dir;
	q->flags = k->tcp_flags;
	q->itype = k->icmp_type;
	q->icode = k->icmp_code;
	q->iface = c->nifnames ? iface_of(c, k->ifname) : 0;
	q->k = k;
}

static bool addr_in(const struct addr_match *m, ll_ip a)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (ll_ip_cmp(m->r[mid].hi, a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < m->n && ll_ip_cmp(m->r[lo].lo, a) <= 0) != m->neg;
}

static bool port_in(const struct port_match *m, uint16_t port)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (m->r[mid].hi < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < m->n && m->r[lo].lo <= port) != m->neg;
}

/* A box whose long lists were replaced by their hull: test those fields on the rule. */
static bool hull_hit(const struct fw_rule *r, uint8_t hull, const struct fw_key *k)
{
	if ((hull & H_SRC) && !addr_in(&r->src, k->src))
		return false;
	if ((hull & H_DST) && !addr_in(&r->dst, k->dst))
		return false;
	if ((hull & H_SPORT) && !port_in(&r->sport, k->sport))
		return false;
	return !(hull & H_DPORT) || port_in(&r->dport, k->dport);
}

static bool box_hit(const struct policy *p, const struct cls_box *b, const struct ckey *q)
{
	if (q->src < b->lo[0] || q->src > b->hi[0] || q->dst < b->lo[1] || q->dst > b->hi[1])
		return false;
	if (q->p1 < b->plo[0] || q->p1 > b->phi[0] || q->p2 < b->plo[1] || q->p2 > b->phi[1])
		return false;
	if (q->proto < b->protolo || q->proto > b->protohi || !(b->dir & q->dir))
		return false;
	if ((q->flags & b->flags) != b->flags)
		return false;
	if ((b->itype >= 0 && q->itype != b->itype) || (b->icode >= 0 && q->icode != b->icode))
		return false;
	if (b->iface && b->iface != q->iface)
		return false;
	return !b->hull || hull_hit(&p->rules[b->rule], b->hull, q->k);
}

/* Keep the lowest FW_MAX_LOGGED ids, ascending. */
static void log_add(uint32_t *v, uint32_t *n, uint32_t id)
{
	uint32_t i = *n;

	if (i == FW_MAX_LOGGED) {
		if (id >= v[i - 1])
			return;
		i--;
	} else {
		(*n)++;
	}
	for (; i > 0 && v[i - 1] > id; i--)
		v[i] = v[i - 1];
	v[i] = id;
}


/* One level down: the child of internal node @h that the key falls in (no branch per cut). */
static const struct cls_hdr *step(const struct cls *c, const struct cls_hdr *h,
				  const struct ckey *q)
{
	const u128 *t = (const u128 *)h + 1;
	uint32_t i = 0, words;

	if (h->dim <= D_DST) {
		u128 v = q->x[h->dim];

		for (uint32_t j = 0; j < h->n; j++)
			i += v >= t[j];
		words = h->n;
	} else {
		const uint32_t *t32 = (const uint32_t *)t;
		uint32_t v = (uint32_t)q->x[h->dim];

		for (uint32_t j = 0; j < h->n; j++)
			i += v >= t32[j];
		words = (h->n + 3u) / 4;
	}
	return (const struct cls_hdr *)&c->code[((const uint32_t *)(t + words))[i]];
}

/* The fields a leaf entry carries: most boxes fail here, without being read. */
static bool ent_hit(const struct cls_ent *e, const struct ckey *q)
{
	return q->p1 >= e->plo[0] && q->p1 <= e->phi[0] && q->p2 >= e->plo[1] &&
	       q->p2 <= e->phi[1] && q->proto >= e->protolo && q->proto <= e->protohi &&
	       (e->dir & q->dir);
}

/*
 * The leaf of every tree. The trees are walked in lock step, one level each
 * turn, so that their cache misses overlap instead of adding up; the boxes
 * that pass their leaf entry's test are then prefetched before any is read.
 */
static void descend_all(const struct cls *c, const struct ckey *q, const struct cls_hdr **leaf)
{
	bool more = true;

	for (uint32_t t = 0; t < c->ntrees; t++)
		leaf[t] = (const struct cls_hdr *)&c->code[c->tree[t].root];
	while (more) {
		more = false;
		for (uint32_t t = 0; t < c->ntrees; t++) {
			if (!leaf[t]->n)
				continue;
			leaf[t] = step(c, leaf[t], q);
			__builtin_prefetch(leaf[t]);
			__builtin_prefetch((const char *)leaf[t] + 64);
			more = true;
		}
	}
	for (uint32_t t = 0; t < c->ntrees; t++) {
		const struct cls_ent *e = (const struct cls_ent *)(leaf[t] + 1);
		uint32_t n = leaf[t]->cnt < PREFETCH ? leaf[t]->cnt : PREFETCH;

		for (uint32_t i = 0; i < n; i++)
			if (ent_hit(&e[i], q)) {
				__builtin_prefetch(&c->box[e[i].box]);
				__builtin_prefetch((const char *)&c->box[e[i].box] + 64);
			}
	}
}

static void scan_leaf(const struct policy *p, const struct cls *c, const struct cls_hdr *h,
		      const struct ckey *q, struct walk *w)
{
	const struct cls_ent *e = (const struct cls_ent *)(h + 1), *end = e + h->cnt;

	for (; e < end && e->box < w->best; e++) {
		const struct cls_box *b = &c->box[e->box];

		if (!ent_hit(e, q) || !box_hit(p, b, q))
			continue;
		if (b->action != FW_LOG_ONLY) {
			w->best = e->box;
			return;
		}
		log_add(w->log[b->logslot], &w->nlog[b->logslot], p->rules[b->rule].id);
	}
}

static void decide(struct fw_result *res, const struct policy *p, const struct cls_box *b)
{
	fw_result_decide(res, &p->rules[b->rule]);
}

/* Log-only hits of the priorities the walk went through: those ranked above the decision. */
static void report_logs(struct fw_result *res, const struct walk *w, int rank)
{
	for (int s = 0; s < LOG_SLOTS; s++) {
		if (s * 5 + FW_LOG_ONLY > rank)
			break;
		for (uint32_t j = 0; j < w->nlog[s]; j++)
			log_add(res->logged, &res->nlogged, w->log[s][j]);
	}
}

/*
 * fw_classify() - SPEC section 4 steps 2-4 from p->classifier; exactly what
 * fw_eval_linear() gives (tests/unit/test_classify.c checks it). Read-only
 * on the policy: any number of threads may call it at once.
 */
void fw_classify(const struct policy *p, const struct fw_key *k, struct fw_result *res)
{
	const struct cls *c = p ? p->classifier : NULL;
	const struct cls_hdr *leaf[CLS_TREES];
	struct walk w;
	struct ckey q;

	if (!c || (p->nrules == 0 && p->nips_lines == 0)) {
		fw_eval_linear(p, k, res);
		return;
	}
	memset(res, 0, sizeof(*res));
	w.best = NO_HIT;
	memset(w.nlog, 0, sizeof(w.nlog));
	key_project(c, k, &q);
	descend_all(c, &q, leaf);
	for (uint32_t t = 0; t < c->ntrees; t++) {
		if (c->tree[t].minbox >= w.best)
			continue;
		scan_leaf(p, c, leaf[t], &q, &w);
	}
	if (w.best != NO_HIT) {
		report_logs(res, &w, c->box[w.best].rank);
		decide(res, p, &c->box[w.best]);
		return;
	}
	report_logs(res, &w, LOG_SLOTS * 5);
	if (p->allow_dirs & k->dir) {
		res->reason = R_NOT_ALLOWED;
		return;
	}
	res->reason = R_DEFAULT;
	res->accept = true;
	res->inspect = true;
}

/* fw_classifier_free() - see fw.h. */
void fw_classifier_free(void *classifier)
{
	struct cls *c = classifier;

	if (!c)
		return;
	free(c->box);
	free(c->nodes);
	free(c->thr);
	free(c->kids);
	free(c->ents);
	free(c->code);
	free(c->ifnames);
	free(c);
}

/* fw_classifier_bytes() - see fw.h. */
size_t fw_classifier_bytes(const struct policy *p)
{
	const struct cls *c = p ? p->classifier : NULL;

	return c ? c->bytes : 0;
}

/* Move the expansion's boxes and interface names into @c and size everything exactly. */
static void finish(struct cls *c, struct cls_expanded *ex)
{
	size_t bytes = sizeof(*c);

	c->box = ex->box; /* 64-byte aligned: realloc() would not keep that */
	bytes += ex->cap * sizeof(*c->box);
	c->nbox = (uint32_t)ex->n;
	c->ifnames = ex->ifnames;
	c->nifnames = ex->nifnames;
	bytes += ex->nifnames * sizeof(*c->ifnames);
	ex->box = NULL;
	ex->ifnames = NULL;
	bytes += (size_t)c->ncode * sizeof(*c->code);
	c->bytes = bytes;
}

/*
 * fw_compile() - build p->classifier from p->rules, replacing any earlier
 * one. 0, -ENOMEM, or -E2BIG (more than 65534 interface names); on error
 * p->classifier is left as it was. Not thread-safe on @p (call it before
 * publishing the policy).
 */
int fw_compile(struct policy *p)
{
	struct cls_expanded ex;
	struct cls *c;
	int err;

	if (p->nrules > UINT32_MAX / 2)
		return -E2BIG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = cls_expand(p, &ex);
	if (!err && ex.n >= UINT32_MAX / 2)
		err = -E2BIG;
	if (!err)
		err = cls_build_trees(c, &ex);
	if (!err)
		finish(c, &ex);
	if (err)
		cls_expanded_free(&ex);
	else
		free(ex.bb);
	if (err) {
		fw_classifier_free(c);
		return err;
	}
	fw_classifier_free(p->classifier);
	p->classifier = c;
	return 0;
}
