/* classify_build.c - cut rank-ordered boxes into multi-way range-cut decision trees (design: classify.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classify_int.h"

#define BINTH 8          /* a node this small is a leaf */
#define MAX_FANOUT 16    /* children per cut */
#define SPFAC 4          /* a cut may replicate entries at most this much */
#define MAX_DEPTH 32
#define SAMPLE 256       /* boxes sampled to place the cuts of a big node */
#define ENT_PER_BOX 16   /* leaf entries per box a tree may hold: its memory bound */
/*
 * Boxes examined while choosing cuts, over the whole compile: past it the
 * remaining nodes become leaves. Deterministic, so a policy compiles to the
 * same trees on any machine; 100,000 ClassBench-like rules need 1.7-6.4M.
 * Each tree gets a share in proportion to its boxes.
 */
#define WORK_MAX (12u * 1000 * 1000)

struct work {
	uint32_t node;
	uint32_t n, depth;
	bool v4;                   /* a tree for IPv4 keys: addresses within CLS_V4LO..CLS_V4HI */
	uint32_t *ents;
	u128 rlo[D__N], rhi[D__N];
};

struct split {
	int dim;
	uint32_t nt;               /* thresholds */
	u128 t[MAX_FANOUT - 1];
	uint64_t sum, max;
};

_Static_assert(CLS_TREES <= 16, "builder.trees holds one bit per tree");

struct builder {
	struct cls *c;
	const struct cls_expanded *ex;
	struct work *q;            /* FIFO: nodes are cut breadth-first so the budget is shared fairly */
	size_t qh, qn, qcap;
	u128 *ep;                  /* scratch: endpoints */
	size_t epcap;
	size_t ncap, tcap, kcap, ecap;
	uint64_t used, budget;     /* leaf + pending entries, and their bound */
	uint64_t work, work_cap;   /* boxes looked at to choose cuts: bounds compile time */
	uint64_t left;             /* boxes of the trees not built yet */
	uint16_t *trees;           /* per box: bit t set when it is in tree t (in_tree()) */
	uint8_t *simple;           /* per box: deciding, nothing tested at the leaf (box_covers()) */
};

static int grow(void **p, size_t *cap, size_t need, size_t el)
{
	size_t c = *cap ? *cap : 64;
	void *v;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	v = realloc(*p, c * el);
	if (!v)
		return -ENOMEM;
	*p = v;
	*cap = c;
	return 0;
}

static u128 max128(u128 a, u128 b) { return a > b ? a : b; }
static u128 min128(u128 a, u128 b) { return a < b ? a : b; }

/* Sort @n values ascending: quicksort, insertion sort below 16 (qsort()'s calls cost 10% of a compile). */
static void sort128(u128 *v, size_t n)
{
	while (n > 16) {
		u128 a = v[0], m = v[n / 2], z = v[n - 1];
		u128 pivot = a < m ? (m < z ? m : a < z ? z : a) : (a < z ? a : m < z ? z : m);
		size_t i = 0, j = n - 1;

		for (;;) { /* Hoare: v[0..i) <= pivot <= v(j..n) */
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			u128 x = v[i];

			v[i++] = v[j];
			v[j--] = x;
		}
		/* recurse into the smaller side, loop on the larger: bounded stack */
		if (j + 1 < n - j - 1) {
			sort128(v, j + 1);
			v += j + 1;
			n -= j + 1;
		} else {
			sort128(v + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		u128 x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Number of thresholds <= v: the child that v falls in. */
static uint32_t child_of(const u128 *t, uint32_t nt, u128 v)
{
	uint32_t lo = 0, hi = nt;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (t[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does box @b cover the whole region and decide there whatever the other fields? */
static bool box_covers(const struct builder *b, uint32_t e, const u128 *rlo, const u128 *rhi)
{
	const struct cls_bbox *bb = &b->ex->bb[e];

	if (!b->simple[e])
		return false;
	for (int d = 0; d < D__N; d++)
		if (bb->lo[d] > rlo[d] || bb->hi[d] < rhi[d])
			return false;
	return true;
}

/* Drop every entry after the first that decides the whole region: they can never win. */
static uint32_t prune(const struct builder *b, uint32_t *ents, uint32_t n, const u128 *rlo,
		      const u128 *rhi)
{
	for (uint32_t i = 0; i < n; i++)
		if (box_covers(b, ents[i], rlo, rhi))
			return i + 1;
	return n;
}

/* Sorted distinct box edges strictly inside the region along @d (sampled). */
static int endpoints(struct builder *b, const struct work *w, int d, size_t *m)
{
	uint32_t step = w->n > SAMPLE ? w->n / SAMPLE : 1;
	size_t k = 0;
	int err = grow((void **)&b->ep, &b->epcap, 2 * (w->n / step + 1), sizeof(u128));

	if (err)
		return err;
	for (uint32_t i = 0; i < w->n; i += step) {
		const struct cls_bbox *x = &b->ex->bb[w->ents[i]];

		if (x->lo[d] > w->rlo[d])
			b->ep[k++] = x->lo[d];
		if (x->hi[d] < w->rhi[d])
			b->ep[k++] = x->hi[d] + 1;
	}
	sort128(b->ep, k);
	*m = 0;
	for (size_t i = 0; i < k; i++)
		if (*m == 0 || b->ep[*m - 1] != b->ep[i])
			b->ep[(*m)++] = b->ep[i];
	return 0;
}

/* Child sizes for thresholds s->t, estimated on a sample of a big node: their sum and maximum. */
static void count(const struct builder *b, const struct work *w, struct split *s)
{
	uint64_t diff[MAX_FANOUT + 1] = { 0 }, run = 0, seen = 0;
	uint32_t step = w->n > SAMPLE ? w->n / SAMPLE : 1;

	s->sum = s->max = 0;
	for (uint32_t i = 0; i < w->n; i += step, seen++) {
		const struct cls_bbox *x = &b->ex->bb[w->ents[i]];
		uint32_t lo = child_of(s->t, s->nt, max128(x->lo[s->dim], w->rlo[s->dim]));
		uint32_t hi = child_of(s->t, s->nt, min128(x->hi[s->dim], w->rhi[s->dim]));

		diff[lo]++;
		diff[hi + 1]--;
		s->sum += hi - lo + 1;
	}
	for (uint32_t i = 0; i <= s->nt; i++) {
		run += diff[i];
		if (run > s->max)
			s->max = run;
	}
	s->sum = s->sum * w->n / seen;
	s->max = s->max * w->n / seen;
}

/* The best cut along @d: quantiles of the edges, fewer while they replicate too much. */
static int try_dim(struct builder *b, const struct work *w, int d, struct split *s)
{
	size_t m;
	uint32_t fan;
	int err = endpoints(b, w, d, &m);

	s->dim = d;
	s->nt = 0;
	if (err || !m)
		return err;
	fan = m + 1 < MAX_FANOUT ? (uint32_t)m + 1 : MAX_FANOUT;
	for (;; fan /= 2) {
		s->nt = fan - 1;
		for (uint32_t j = 1; j < fan; j++)
			s->t[j - 1] = b->ep[(size_t)j * m / fan];
		count(b, w, s);
		if (fan <= 2 || s->sum <= (uint64_t)SPFAC * w->n)
			return 0;
	}
}

/* Smaller mean child (a key's expected leaf, replication included), then smaller largest child. */
static bool better(const struct split *a, const struct split *b)
{
	uint64_t ma, mb;

	if (!b->nt)
		return a->nt > 0;
	if (!a->nt)
		return false;
	ma = a->sum * (b->nt + 1);
	mb = b->sum * (a->nt + 1);
	if (ma != mb)
		return ma < mb;
	return a->max < b->max;
}

static int choose(struct builder *b, const struct work *w, struct split *best)
{
	struct split s = { .nt = 0 };

	best->nt = 0;
	for (int d = 0; d < D__N; d++) {
		int err = try_dim(b, w, d, &s);

		if (err)
			return err;
		if (better(&s, best))
			*best = s;
	}
	return 0;
}

static int new_node(struct builder *b, uint32_t *idx)
{
	struct cls *c = b->c;
	int err = grow((void **)&c->nodes, &b->ncap, c->nnodes + 1, sizeof(*c->nodes));

	if (err)
		return err;
	memset(&c->nodes[c->nnodes], 0, sizeof(*c->nodes));
	*idx = c->nnodes++;
	return 0;
}

/*
 * The columns (enum cls_col) an IPv4 leaf must test: a field
 * every entry covers over the leaf's whole region needs none, the walk
 * having put the key in that region.
 */
static int make_leaf(struct builder *b, struct work *w)
{
	struct cls *c = b->c;
	struct cls_node *nd = &c->nodes[w->node];
	int err = grow((void **)&c->ents, &b->ecap, c->nents + w->n, sizeof(*c->ents));

	if (err)
		return err;
	if (w->n) /* c->ents may still be NULL: no offset from it */
		memcpy(&c->ents[c->nents], w->ents, w->n * sizeof(*w->ents));
	nd->n = 0;
	nd->dim = 0; /* a leaf has no cut dimension */
	nd->v4 = w->v4;
	nd->first = c->nents;
	nd->kid = w->n;
	c->nents += w->n;
	if (w->depth > c->depth)
		c->depth = w->depth;
	return 0;
}

/* The children's regions and the entries that overlap each, pruned; two passes over the parent. */
static int child_works(struct builder *b, const struct work *w, const struct split *s,
		       struct work *kid)
{
	int d = s->dim;
	uint32_t nk = s->nt + 1, cnt[MAX_FANOUT] = { 0 };

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < w->n; i++) {
			const struct cls_bbox *x = &b->ex->bb[w->ents[i]];
			uint32_t lo = child_of(s->t, s->nt, max128(x->lo[d], w->rlo[d]));
			uint32_t hi = child_of(s->t, s->nt, min128(x->hi[d], w->rhi[d]));

			for (uint32_t j = lo; j <= hi; j++) {
				if (pass)
					kid[j].ents[kid[j].n++] = w->ents[i];
				else
					cnt[j]++;
			}
		}
		for (uint32_t j = 0; !pass && j < nk; j++) {
			kid[j] = *w;
			kid[j].depth = w->depth + 1;
			kid[j].n = 0;
			if (j > 0)
				kid[j].rlo[d] = s->t[j - 1];
			if (j < s->nt)
				kid[j].rhi[d] = s->t[j] - 1;
			kid[j].ents = malloc((cnt[j] ? cnt[j] : 1) * sizeof(*kid[j].ents));
			if (!kid[j].ents) {
				while (j--)
					free(kid[j].ents);
				return -ENOMEM;
			}
		}
	}
	for (uint32_t j = 0; j < nk; j++)
		kid[j].n = prune(b, kid[j].ents, kid[j].n, kid[j].rlo, kid[j].rhi);
	return 0;
}

static bool same(const struct work *a, const struct work *b)
{
	return a->n == b->n && memcmp(a->ents, b->ents, a->n * sizeof(*a->ents)) == 0;
}

/* Children of @w along @s; neighbours with the same entries are merged by dropping the cut between them. */
static int make_children(struct builder *b, struct work *w, struct split *s)
{
	struct work kid[MAX_FANOUT];
	uint32_t nk = 0, first;
	int err = 0;

	err = child_works(b, w, s, kid);
	if (err)
		return err;
	for (uint32_t j = 0; j <= s->nt; j++) {
		if (nk > 0 && same(&kid[nk - 1], &kid[j])) {
			kid[nk - 1].rhi[s->dim] = kid[j].rhi[s->dim];
			free(kid[j].ents);
			continue;
		}
		kid[nk++] = kid[j];
	}
	if (!err && nk == 1)
		err = -EAGAIN; /* every child the same: the cut separated nothing */
	if (!err)
		err = grow((void **)&b->c->thr, &b->tcap, b->c->nthr + nk, sizeof(u128));
	if (!err)
		err = grow((void **)&b->c->kids, &b->kcap, b->c->nkids + nk, sizeof(uint32_t));
	for (uint32_t j = 0; j < nk && !err; j++)
		err = new_node(b, &kid[j].node);
	if (!err)
		err = grow((void **)&b->q, &b->qcap, b->qn + nk, sizeof(*b->q));
	if (err) {
		for (uint32_t j = 0; j < nk; j++)
			free(kid[j].ents);
		return err;
	}
	first = b->c->nthr;
	for (uint32_t j = 0; j < nk; j++) {
		if (j > 0)
			b->c->thr[b->c->nthr++] = kid[j].rlo[s->dim];
		b->c->kids[b->c->nkids++] = kid[j].node;
		b->used += kid[j].n;
		b->q[b->qn++] = kid[j];
	}
	b->c->nodes[w->node].dim = (uint8_t)s->dim;
	b->c->nodes[w->node].narrow = s->dim <= D_DST && w->rlo[s->dim] >> 32 == w->rhi[s->dim] >> 32;
	b->c->nodes[w->node].n = (uint8_t)(nk - 1);
	b->c->nodes[w->node].first = first;
	b->c->nodes[w->node].kid = b->c->nkids - nk;
	return 0;
}

static int process(struct builder *b, struct work *w)
{
	struct split s = { .nt = 0 };
	int err = 0;

	if (w->n > BINTH && w->depth < MAX_DEPTH && b->work < b->work_cap) {
		b->work += (uint64_t)(w->n < SAMPLE ? w->n : SAMPLE) * D__N + w->n;
		err = choose(b, w, &s);
	}
	if (!err && s.nt && s.sum < (uint64_t)w->n * (s.nt + 1) &&
	    b->used + s.sum <= b->budget + w->n) {
		err = make_children(b, w, &s);
		if (!err)
			b->used -= w->n;
	} else {
		err = err ? err : -EAGAIN;
	}
	if (err == -EAGAIN)
		err = make_leaf(b, w);
	free(w->ents);
	return err;
}

/* EffiCuts-style: a box is large along an address when it spans a /8 of its family or more. */
static bool addr_large(u128 lo, u128 hi)
{
	const u128 v4 = (u128)0xffff << 32;

	if ((lo >> 32) == (v4 >> 32) && (hi >> 32) == (v4 >> 32))
		return hi - lo >= ((u128)1 << 24) - 1;
	return hi - lo >= ((u128)1 << 120) - 1;
}

/*
 * Deciding boxes go to one of four classes by largeness; log-only boxes,
 * which never end a walk and so are never pruned, to a fifth searched last.
 */
static uint32_t class_of(const struct cls_expanded *ex, uint32_t i)
{
	const struct cls_bbox *x = &ex->bb[i];

	if (ex->box[i].action == FW_LOG_ONLY)
		return CLS_CLASSES - 1;
	return (uint32_t)addr_large(x->lo[D_SRC], x->hi[D_SRC]) |
	       (uint32_t)addr_large(x->lo[D_DST], x->hi[D_DST]) << 1;
}

static bool meets_v4(u128 lo, u128 hi) { return lo <= CLS_V4HI && hi >= CLS_V4LO; }
static bool inside_v4(u128 lo, u128 hi) { return lo >= CLS_V4LO && hi <= CLS_V4HI; }

/*
 * Trees 0..CLS_CLASSES-1 serve keys whose src and dst are both IPv4, and
 * hold the boxes that meet IPv4 in both; the others serve every other key,
 * and hold the boxes that reach outside IPv4 in src or dst. A box of `any`
 * address is in both sets.
 */
static bool in_tree(const struct cls_expanded *ex, uint32_t i, uint32_t t)
{
	const struct cls_bbox *x = &ex->bb[i];
	bool v4 = t < CLS_CLASSES;

	if (class_of(ex, i) != t % CLS_CLASSES)
		return false;
	if (v4)
		return meets_v4(x->lo[D_SRC], x->hi[D_SRC]) && meets_v4(x->lo[D_DST], x->hi[D_DST]);
	return !inside_v4(x->lo[D_SRC], x->hi[D_SRC]) || !inside_v4(x->lo[D_DST], x->hi[D_DST]);
}

static int build_tree(struct builder *b, uint32_t t)
{
	struct cls *c = b->c;
	struct work w = { .depth = 0, .v4 = t < CLS_CLASSES };
	int err;

	w.ents = malloc((b->ex->n + 1) * sizeof(*w.ents));
	if (!w.ents)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->ex->n; i++)
		if (b->trees[i] >> t & 1)
			w.ents[w.n++] = i;
	for (int d = 0; d < D__N; d++) {
		w.rlo[d] = d == D_DIR ? FW_DIR_IN : 0;
		w.rhi[d] = d <= D_DST ? ~(u128)0 : d == D_PROTO ? 255 : d == D_DIR ? FW_DIR_OUT : 65535;
		if (d <= D_DST && w.v4) {
			w.rlo[d] = CLS_V4LO;
			w.rhi[d] = CLS_V4HI;
		}
	}
	w.n = prune(b, w.ents, w.n, w.rlo, w.rhi);
	if (!w.n) {
		free(w.ents);
		return 0;
	}
	c->tree[c->ntrees].minbox = w.ents[0];
	c->tree[c->ntrees].log = t % CLS_CLASSES == CLS_CLASSES - 1;
	c->tree[c->ntrees].v4 = w.v4;
	err = new_node(b, &w.node);
	if (err) {
		free(w.ents);
		return err;
	}
	c->tree[c->ntrees++].root = w.node;
	b->work_cap = b->work + (WORK_MAX - b->work) * w.n / (b->left ? b->left : 1); /* a fair share */
	b->left -= w.n < b->left ? w.n : b->left;
	if (c->tree[c->ntrees - 1].log) /* every log-only hit is reported: its leaves cannot shrink below that */
		b->budget += (uint64_t)ENT_PER_BOX * 3 * w.n + (1u << 16);
	b->used += w.n;
	b->qh = b->qn = 0;
	b->q[b->qn++] = w;
	while (!err && b->qh < b->qn) {
		struct work cur = b->q[b->qh++];

		err = process(b, &cur);
	}
	while (b->qh < b->qn)
		free(b->q[b->qh++].ents);
	return err;
}

/*
 * Boxes no key can reach: a deciding box with nothing tested at the leaf
 * that spans every address and port (an `any` rule of some protocols and
 * directions) ranks before them and contains them, so it matches first
 * wherever they match, and a log-only box after it is never reported
 * either. They go into no tree, but still count in the trees' shares of
 * WORK_MAX and of the entry budget (classify.c has the figures). Only such address- and port-wide boxes are
 * looked for as the cover: then it depends on (direction, protocol) alone,
 * a 2 x 256 table of the first cover, and the test is linear.
 */
static uint32_t dead_boxes(const struct cls_expanded *ex, const uint8_t *simple, uint8_t *dead)
{
	uint32_t first[2][256], worst[2] = { 0, 0 }, ndead = 0;
	const u128 all = ~(u128)0;

	memset(first, 0xff, sizeof(first)); /* UINT32_MAX: no cover */
	for (uint32_t i = 0; i < ex->n; i++) {
		const struct cls_bbox *x = &ex->bb[i];

		if (!simple[i] || x->lo[D_SRC] || x->hi[D_SRC] != all || x->lo[D_DST] ||
		    x->hi[D_DST] != all || x->lo[D_P1] || x->hi[D_P1] < 65535 || x->lo[D_P2] ||
		    x->hi[D_P2] < 65535)
			continue;
		for (u128 d = x->lo[D_DIR]; d <= x->hi[D_DIR]; d++)
			for (u128 pr = x->lo[D_PROTO]; pr <= x->hi[D_PROTO] && pr < 256; pr++)
				if (first[d - 1][pr] == UINT32_MAX)
					first[d - 1][pr] = i;
	}
	for (uint32_t d = 0; d < 2; d++)
		for (uint32_t pr = 0; pr < 256; pr++)
			worst[d] = first[d][pr] > worst[d] ? first[d][pr] : worst[d];
	for (uint32_t i = 0; i < ex->n; i++) {
		const struct cls_bbox *x = &ex->bb[i];
		uint32_t cover = 0;

		dead[i] = 0;
		for (u128 d = x->lo[D_DIR]; d <= x->hi[D_DIR]; d++) {
			if (!x->lo[D_PROTO] && x->hi[D_PROTO] >= 255) {
				cover = worst[d - 1] > cover ? worst[d - 1] : cover;
				continue;
			}
			for (u128 pr = x->lo[D_PROTO]; pr <= x->hi[D_PROTO] && pr < 256; pr++)
				cover = first[d - 1][pr] > cover ? first[d - 1][pr] : cover;
		}
		dead[i] = cover < i;
		ndead += dead[i];
	}
	return ndead;
}

static int by_minbox(const void *a, const void *b)
{
	const struct cls_tree *x = a, *y = b;

	if (x->log != y->log)
		return x->log ? 1 : -1; /* last: it gains most from a tight bound */
	return x->minbox < y->minbox ? -1 : x->minbox > y->minbox;
}

/*
 * cls_build_trees() - cut @ex's boxes into c's trees (one per largeness
 * class), ordered by their best box. 0 or -ENOMEM.
 */
int cls_build_trees(struct cls *c, const struct cls_expanded *ex)
{
	struct builder b = { .c = c, .ex = ex };
	uint64_t members = 0;
	uint8_t *dead = malloc(ex->n + 1);
	int err = 0;

	b.trees = malloc((ex->n + 1) * sizeof(*b.trees));
	b.simple = calloc(ex->n + 1, 1); /* calloc: GCC cannot see the loop below fill it for dead_boxes() */
	if (!b.trees || !b.simple || !dead) {
		free(b.trees);
		free(b.simple);
		free(dead);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < ex->n; i++) {
		const struct cls_box *x = &ex->box[i];

		b.simple[i] = !(x->action == FW_LOG_ONLY || x->hull || x->flags || x->iface ||
				x->itype >= 0 || x->icode >= 0);
	}
	c->ndead = dead_boxes(ex, b.simple, dead);
	for (uint32_t i = 0; i < ex->n; i++) { /* once: each reads the box's 192-byte bbox */
		b.trees[i] = 0;
		for (uint32_t t = 0; t < CLS_TREES; t++)
			if (in_tree(ex, i, t)) {
				b.trees[i] |= (uint16_t)(!dead[i] << t);
				members++; /* dead or not: see dead_boxes() */
			}
	}
	free(dead);
	/* one budget for all trees: the easy ones leave the rest to the wildcard-heavy one built last */
	b.budget = (uint64_t)ENT_PER_BOX * members + (1u << 16);
	b.left = members;
	err = grow((void **)&b.q, &b.qcap, 1, sizeof(*b.q));
	for (uint32_t t = 0; t < CLS_TREES && !err; t++)
		err = build_tree(&b, t);
	qsort(c->tree, c->ntrees, sizeof(c->tree[0]), by_minbox);
	if (!err)
		err = cls_layout(c, ex->box);
	for (uint32_t t = 0; t < c->ntrees; t++) {
		uint32_t v4 = c->tree[t].v4;

		c->set[v4][c->nset[v4]++] = c->tree[t];
	}
	c->work = b.work;
	free(b.q);
	free(b.ep);
	free(b.trees);
	free(b.simple);
	return err;
}
