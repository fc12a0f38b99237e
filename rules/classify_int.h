/* classify_int.h - the compiled firewall classifier's layout, shared by the classify*.c files. */
#ifndef LL_CLASSIFY_INT_H
#define LL_CLASSIFY_INT_H

#include "fw.h"

typedef unsigned __int128 u128;

/*
 * The dimensions a box spans. P1/P2 are the source/destination ports for
 * TCP and UDP keys and the ICMP type/code for the others (a rule can only
 * restrict one or the other), so one tree dimension serves both.
 */
enum { D_SRC, D_DST, D_P1, D_P2, D_PROTO, D_DIR, D__N };

/* Bits of cls_box.hull: dimensions whose range list was replaced by its hull. */
enum { H_SRC = 1, H_DST = 2, H_SPORT = 4, H_DPORT = 8 };

/*
 * One box of one rule: a rule is the union of the cross product of its
 * per-field range lists; each element of that product is a box. Boxes of one
 * rule are disjoint, so a key matches at most one box per rule. Boxes are
 * stored in rank order, (rank, id) ascending, so a box's index is its rank.
 */
struct cls_box {
	u128 lo[2], hi[2];      /* src, dst */
	uint16_t plo[2], phi[2]; /* P1, P2 */
	uint8_t protolo, protohi;
	uint8_t dir;            /* FW_DIR_* mask */
	uint8_t flags;          /* TCP flags that must all be set */
	int16_t itype, icode;   /* -1 = any */
	uint16_t iface;         /* 0 = any, else index + 1 in cls.ifnames */
	uint8_t action;         /* enum fw_action */
	uint8_t hull;           /* H_*: re-check those fields on the rule itself */
	uint8_t nolog;          /* policy->rules[rule].nolog, as id below */
	uint32_t rule;          /* index in policy->rules */
	uint32_t id;            /* policy->rules[rule].id: the lookup need not read the rule */
} __attribute__((aligned(64))); /* src/dst in one cache line, the rest in the next */

/* The columns of a column-wise IPv4 leaf (classify_layout.c), in the order they are stored. */
enum cls_col { COL_SLO, COL_SHI, COL_DLO, COL_DHI, COL_P1, COL_P2, COL_PD, COL__N };

/* A tree node: internal when n > 0 (n thresholds, n + 1 children), else a leaf. */
struct cls_node {
	uint8_t dim;    /* internal: the cut dimension */
	uint8_t n;
	uint8_t narrow; /* internal, address cut: the region lies in one aligned 2^32 block */
	uint8_t v4;     /* leaf of a tree for IPv4 keys: entries carry the addresses */
	uint32_t first; /* internal: first threshold in cls.thr; leaf: first entry in cls.ents */
	uint32_t kid;   /* internal: first child in cls.kids; leaf: number of entries */
};

/* The laid-out form (classify_layout.c): a node's first 16-byte word. */
struct cls_hdr {
	uint8_t dim;    /* as in struct cls_node */
	uint8_t n;      /* thresholds; 0 = leaf */
	uint8_t narrow; /* address thresholds stored as their low 32 bits, like ports */
	uint8_t v4;     /* leaf: 1 rows (two words each), 2 column-wise groups (classify_layout.c) */
	uint32_t cnt;   /* leaf: entries (struct cls_ent, box ascending) in the words that follow */
	uint64_t pad2;
};

/*
 * A node's place in cls.code as its parent and its tree hold it: its byte
 * offset (a multiple of 16) with the node's kind in the low 4 bits - 0 a
 * leaf, CLS_NARROW(dim) a cut of 16 32-bit thresholds, CLS_WIDE(dim) one
 * of 128-bit thresholds - so that a lookup steps through a node and knows
 * whether its child is a leaf without waiting for their headers
 * (classify.c: step(), descend()).
 */
#define CLS_KIND 15u
#define CLS_NARROW(dim) (1u + (dim))
#define CLS_WIDE(dim) (1u + D__N + (dim))
#define CLS_AT_WORDS (UINT32_MAX / 16) /* code words a place can reach */

/* A leaf entry: the box, with the fields that reject most boxes copied beside it. */
struct cls_ent {
	uint32_t box;
	uint16_t plo[2], phi[2];
	uint8_t protolo, protohi, dir;
	uint8_t pad;    /* 0: one 16-byte word (IPv4 leaves keep "simple" in bit 31 of the box word) */
};

/* The IPv4 block of the 128-bit address space (::ffff:0:0/96). */
#define CLS_V4LO ((u128)0xffff << 32)
#define CLS_V4HI (((u128)0xffff << 32) | 0xffffffffu)

#define CLS_CLASSES 5 /* boxes small/large in src x small/large in dst (EffiCuts), log-only */
#define CLS_TREES (2 * CLS_CLASSES) /* one set for IPv4 keys, one for the others */

struct cls_tree {
	uint32_t root;  /* node index; after cls_layout(), its place in code (CLS_KIND) */
	uint32_t minbox; /* lowest box index in the tree: skip it when the best is already better */
	bool log;        /* the log-only tree */
	bool v4;         /* for keys whose src and dst are both IPv4 */
};

struct cls {
	struct cls_box *box;
	uint32_t nbox;
	struct cls_node *nodes;
	uint32_t nnodes;
	u128 *thr;
	uint32_t nthr;
	uint32_t *kids;
	uint32_t nkids;
	uint32_t *ents;  /* leaf entries: box indices, ascending */
	uint32_t nents;
	u128 *code;      /* the trees as laid out for lookups; the arrays above are freed */
	uint32_t ncode;
	struct cls_tree tree[CLS_TREES];
	uint32_t ntrees;
	struct cls_tree set[2][CLS_CLASSES]; /* the trees for [v4 key], sorted by minbox, log last */
	uint32_t nset[2];
	char (*ifnames)[16];
	uint32_t nifnames;
	uint32_t depth;  /* deepest leaf, for the bench */
	uint32_t ndead;  /* boxes in no tree: covered by an earlier `any` box (classify_build.c) */
	uint64_t work;   /* compile effort (classify_build.c: WORK_MAX) */
	size_t bytes;
};

/* Build time only: an inclusive range, a box in every dimension, the expanded policy. */
struct rng {
	u128 lo, hi;
};
struct cls_bbox {
	u128 lo[D__N], hi[D__N];
};
struct cls_expanded {
	struct cls_box *box;  /* rank order */
	struct cls_bbox *bb;  /* the same boxes, every dimension as u128 */
	size_t n, cap;
	char (*ifnames)[16];
	uint32_t nifnames;
};
int cls_expand(const struct policy *p, struct cls_expanded *ex);
void cls_expanded_free(struct cls_expanded *ex);
int cls_build_trees(struct cls *c, const struct cls_expanded *ex);
int cls_layout(struct cls *c, const struct cls_box *box);

static inline u128 cls_u128(ll_ip a)
{
	return (u128)a.hi << 64 | a.lo;
}

#endif
