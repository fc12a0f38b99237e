/* classify_layout.c - lay the built trees out as one array, each node's cuts, children or entries beside it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classify_int.h"

/*
 * Why: the builder keeps nodes, thresholds, children and leaf entries in four
 * arrays, so every level of a lookup touched three cache lines and every leaf
 * two. Here a node is one run of 16-byte words - header, thresholds, child
 * offsets; a leaf is its header and its entries - in breadth-first order.
 */

/* Cuts along ports, protocol, direction and narrow addresses fit 32 bits: four to a word. */
static bool wide(const struct cls_node *n)
{
	return n->dim <= D_DST && !n->narrow;
}

/* A 32-bit cut node always has 16 thresholds (padded with UINT32_MAX) and 17 children: fixed-width step(). */
#define NARROW_THR 16

static uint32_t thr_words(const struct cls_node *n)
{
	return wide(n) ? n->n : NARROW_THR / 4;
}

static uint32_t kid_words(const struct cls_node *n)
{
	return wide(n) ? (n->n + 1 + 3) / 4 : (NARROW_THR + 1 + 3) / 4;
}

/* @n's kind, beside its offset (classify_int.h: CLS_KIND). */
static uint32_t kind(const struct cls_node *n)
{
	if (!n->n)
		return 0;
	return wide(n) ? CLS_WIDE(n->dim) : CLS_NARROW(n->dim);
}

/*
 * An IPv4 leaf of fewer than COLS_MIN entries (header v4 = 1) is its
 * header and rows of 8 words: the box word and the 7 column lanes below,
 * tested in two SSE2 loads (classify.c: row_pass()). A larger one (v4 = 2) is its header
 * and groups of 4 entries stored column-wise: a word of box indices (bit
 * 31: simple, nothing to test but the lanes; 0x7fffffff pads the last group), then
 * one word per column (enum cls_col), 128 bytes a group. Each lane
 * holds a bound biased so that one signed SSE2 compare, bound > key,
 * rejects: a low bound as is, a high one complemented (~hi > ~key), each
 * xor'd with its lane's sign bit (addresses 32-bit lanes, ports 16-bit,
 * protocol and direction 8-bit). classify.c: scan4() tests 4 entries in
 * one compare per column.
 */
#define COLS_MIN 8

static bool by_cols(const struct cls_node *n)
{
	return n->v4 && n->kid >= COLS_MIN;
}

#define V4_GROUP_WORDS (1 + COL__N)

static uint32_t words_of(const struct cls_node *n)
{
	if (n->n)
		return 1 + thr_words(n) + kid_words(n);
	if (by_cols(n))
		return 1 + (n->kid + 3) / 4 * V4_GROUP_WORDS;
	return 1 + n->kid * (n->v4 ? 2 : 1); /* a struct cls_ent is one word, a row two */
}

/* Breadth-first order of the nodes reachable from the roots. */
static int order(const struct cls *c, uint32_t *bfs, uint32_t *nbfs, uint32_t *pos)
{
	uint32_t h = 0, n = 0;

	for (uint32_t i = 0; i < c->nnodes; i++)
		pos[i] = UINT32_MAX;
	for (uint32_t t = 0; t < c->ntrees; t++) {
		pos[c->tree[t].root] = 0;
		bfs[n++] = c->tree[t].root;
	}
	while (h < n) {
		const struct cls_node *nd = &c->nodes[bfs[h++]];

		for (uint32_t j = 0; nd->n && j <= nd->n; j++) {
			uint32_t k = c->kids[nd->kid + j];

			if (pos[k] == UINT32_MAX) {
				pos[k] = 0;
				bfs[n++] = k;
			}
		}
	}
	*nbfs = n;
	return 0;
}

/* The fields of box @b (index @idx) that a leaf entry carries. */
static void fill_ent(struct cls_ent *e, const struct cls_box *b, uint32_t idx)
{
	e->box = idx;
	memcpy(e->plo, b->plo, sizeof(e->plo));
	memcpy(e->phi, b->phi, sizeof(e->phi));
	e->protolo = b->protolo;
	e->protohi = b->protohi;
	e->dir = b->dir;
	e->pad = 0;
}

/* The lanes of column @col for box @b (see above). */
static uint32_t v4_lane(const struct cls_box *b, int col)
{
	const uint32_t B32 = 0x80000000u;
	/* the tree holds only boxes that meet IPv4 in both addresses */
	uint32_t slo = b->lo[0] < CLS_V4LO ? 0 : (uint32_t)b->lo[0];
	uint32_t shi = b->hi[0] > CLS_V4HI ? UINT32_MAX : (uint32_t)b->hi[0];
	uint32_t dlo = b->lo[1] < CLS_V4LO ? 0 : (uint32_t)b->lo[1];
	uint32_t dhi = b->hi[1] > CLS_V4HI ? UINT32_MAX : (uint32_t)b->hi[1];
	uint8_t dirlo = b->dir & FW_DIR_IN ? FW_DIR_IN : FW_DIR_OUT;
	uint8_t dirhi = b->dir & FW_DIR_OUT ? FW_DIR_OUT : FW_DIR_IN;

	if (!(b->dir & FW_DIR_ANY)) /* no direction: matches no key */
		dirlo = FW_DIR_OUT, dirhi = FW_DIR_IN;
	switch (col) {
	case COL_SLO: return slo ^ B32;
	case COL_SHI: return ~shi ^ B32;
	case COL_DLO: return dlo ^ B32;
	case COL_DHI: return ~dhi ^ B32;
	case COL_P1:
	case COL_P2: {
		int i = col - COL_P1;

		return (uint32_t)(b->plo[i] ^ 0x8000u) | (uint32_t)((uint16_t)~b->phi[i] ^ 0x8000u) << 16;
	}
	default:
		return (uint32_t)(b->protolo ^ 0x80u) | (uint32_t)((uint8_t)~b->protohi ^ 0x80u) << 8 |
		       (uint32_t)(dirlo ^ 0x80u) << 16 | (uint32_t)((uint8_t)~dirhi ^ 0x80u) << 24;
	}
}

static void emit_v4_leaf(const struct cls *c, const struct cls_node *nd, uint32_t *g,
			 const struct cls_box *box)
{
	const uint32_t gw = V4_GROUP_WORDS;

	for (uint32_t j = 0; j < (nd->kid + 3) / 4 * 4; j++) {
		uint32_t *lane = g + j / 4 * gw * 4 + j % 4, idx;
		const struct cls_box *b;

		if (j >= nd->kid) {
			lane[0] = 0x7fffffff; /* never below the best: the scan stops */
			continue;
		}
		idx = c->ents[nd->first + j];
		b = &box[idx];
		lane[0] = idx | (uint32_t)(!b->flags && b->itype < 0 && b->icode < 0 && !b->iface &&
					   !b->hull) << 31;
		for (int col = 0; col < COL__N; col++)
			lane[4 * (1 + col)] = v4_lane(b, col);
	}
}

static void emit(struct cls *c, const struct cls_node *nd, u128 *w, const uint32_t *pos,
		 const struct cls_box *box)
{
	struct cls_hdr *h = (struct cls_hdr *)w;

	memset(w, 0, words_of(nd) * sizeof(*w));
	h->dim = nd->dim;
	h->n = nd->n;
	if (nd->n) {
		uint32_t *kid = (uint32_t *)(w + 1 + thr_words(nd));

		h->narrow = nd->narrow;
		if (wide(nd))
			memcpy(w + 1, &c->thr[nd->first], nd->n * sizeof(u128));
		/* biased, as step() compares them: signed, UINT32_MAX pads become INT32_MAX */
		for (uint32_t j = 0; !wide(nd) && j < NARROW_THR; j++)
			((uint32_t *)(w + 1))[j] = (j < nd->n ? (uint32_t)c->thr[nd->first + j] : UINT32_MAX) ^
						   0x80000000u;
		for (uint32_t j = 0; j <= nd->n; j++)
			kid[j] = pos[c->kids[nd->kid + j]] * 16 | kind(&c->nodes[c->kids[nd->kid + j]]);
		/* a key at UINT32_MAX passes the pads too: it belongs to the last child */
		for (uint32_t j = nd->n + 1; !wide(nd) && j <= NARROW_THR; j++)
			kid[j] = kid[nd->n];
		return;
	}
	h->cnt = nd->kid;
	h->v4 = nd->v4;
	if (by_cols(nd)) {
		h->v4 = 2;
		emit_v4_leaf(c, nd, (uint32_t *)(w + 1), box);
		return;
	}
	h->dim = 0;
	/* a row: the box word, then the column lanes, as one lane of a column group */
	for (uint32_t j = 0; nd->v4 && j < nd->kid; j++) {
		uint32_t *r = (uint32_t *)(w + 1 + 2 * j), idx = c->ents[nd->first + j];
		const struct cls_box *b = &box[idx];

		r[0] = idx | (uint32_t)(!b->flags && b->itype < 0 && b->icode < 0 && !b->iface &&
					!b->hull) << 31;
		for (int col = 0; col < COL__N; col++)
			r[1 + col] = v4_lane(b, col);
	}
	for (uint32_t j = 0; !nd->v4 && j < nd->kid; j++)
		fill_ent((struct cls_ent *)(w + 1 + j), &box[c->ents[nd->first + j]], c->ents[nd->first + j]);
}

/*
 * cls_layout() - move c's node arrays into c->code and point the trees'
 * roots there. 0 or -ENOMEM/-E2BIG (c unchanged).
 */
int cls_layout(struct cls *c, const struct cls_box *box)
{
	uint32_t *bfs = malloc((c->nnodes + 1) * sizeof(*bfs));
	uint32_t *pos = malloc((c->nnodes + 1) * sizeof(*pos));
	uint32_t nbfs = 0;
	uint64_t words = 0;
	int err = -ENOMEM;

	if (!bfs || !pos)
		goto out;
	order(c, bfs, &nbfs, pos);
	for (uint32_t i = 0; i < nbfs; i++) {
		pos[bfs[i]] = (uint32_t)words;
		words += words_of(&c->nodes[bfs[i]]);
	}
	err = -E2BIG;
	if (words > CLS_AT_WORDS)
		goto out;
	err = -ENOMEM;
	c->code = aligned_alloc(64, ((words * sizeof(u128) + 63) / 64) * 64);
	if (!c->code)
		goto out;
	c->ncode = (uint32_t)words;
	for (uint32_t i = 0; i < nbfs; i++)
		emit(c, &c->nodes[bfs[i]], &c->code[pos[bfs[i]]], pos, box);
	for (uint32_t t = 0; t < c->ntrees; t++)
		c->tree[t].root = pos[c->tree[t].root] * 16 | kind(&c->nodes[c->tree[t].root]);
	free(c->nodes);
	free(c->thr);
	free(c->kids);
	free(c->ents);
	c->nodes = NULL;
	c->thr = NULL;
	c->kids = NULL;
	c->ents = NULL;
	err = 0;
out:
	free(bfs);
	free(pos);
	return err;
}
