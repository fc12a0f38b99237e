/* classify_expand.c - turn firewall rules into rank-ordered boxes for the classifier's trees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classify_int.h"
#include "pkt.h"

#define U128_MAX (~(u128)0)
/*
 * A rule whose field lists multiply to more boxes than this keeps the hull
 * of its longest lists instead, re-checked on the rule itself at the leaf.
 * All rules together get at most EXPAND_TOTAL boxes (or two a rule, when
 * that is more): past it the per-rule bound drops until they fit. Without
 * it 3,125 rules of 16 addresses x 16 ports (800,000 boxes) compiled in
 * 2.7 s to 329 MB, 25,000 such rules to 2.4 GB - a policy that passes
 * `check` would take the engine's memory. Rules of the ClassBench-like
 * bench sets are one box each.
 */
#define EXPAND_MAX 256
#define EXPAND_TOTAL (256u << 10)

struct rlist {
	struct rng *v;
	uint32_t n;
};

static int rank_of(const struct fw_rule *r)
{
	return (4 - r->priority) * 5 + r->action;
}

/* Complement of sorted, disjoint ranges @in, all inside [lo, hi], within [lo, hi]; @out holds n + 1. */
static uint32_t complement(struct rng *out, const struct rng *in, uint32_t n, u128 lo, u128 hi)
{
	u128 next = lo;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (in[i].lo > next)
			out[k++] = (struct rng){ next, in[i].lo - 1 };
		if (in[i].hi >= hi)
			return k;
		next = in[i].hi + 1;
	}
	out[k++] = (struct rng){ next, hi };
	return k;
}

/*
 * @in (sorted, disjoint), or with @neg its complement within the @nscope
 * sorted ranges of @scope (each range of @in lies inside one of them; no
 * scope without @neg).
 */
static int list_set(struct rlist *l, const struct rng *in, uint32_t n, bool neg,
		    const struct rng *scope, uint32_t nscope)
{
	l->v = malloc((n + nscope + 1) * sizeof(*l->v));
	l->n = 0;
	if (!l->v)
		return -ENOMEM;
	if (!neg) {
		memcpy(l->v, in, n * sizeof(*in));
		l->n = n;
		return 0;
	}
	for (uint32_t s = 0, i = 0; s < nscope; s++) {
		uint32_t k = 0;

		while (i + k < n && in[i + k].hi <= scope[s].hi)
			k++;
		l->n += complement(l->v + l->n, in + i, k, scope[s].lo, scope[s].hi);
		i += k;
	}
	return 0;
}

static int list_one(struct rlist *l, u128 lo, u128 hi)
{
	struct rng r = { lo, hi };

	return list_set(l, &r, 1, false, NULL, 0);
}

/*
 * A negation stays within the family of what it negates (fw_eval.c): the
 * complement is taken within the IPv4 block, or around it.
 */
static int addr_list(struct rlist *l, const struct addr_match *m)
{
	static const struct rng both[] = { { 0, U128_MAX } }, v4[] = { { CLS_V4LO, CLS_V4HI } },
				v6[] = { { 0, CLS_V4LO - 1 }, { CLS_V4HI + 1, U128_MAX } };
	struct rng *tmp;
	int err;

	if (m->any)
		return list_one(l, 0, U128_MAX);
	tmp = malloc((m->n + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n; i++)
		tmp[i] = (struct rng){ cls_u128(m->r[i].lo), cls_u128(m->r[i].hi) };
	err = m->family == 4 ? list_set(l, tmp, m->n, m->neg, v4, 1) :
	      m->family == 6 ? list_set(l, tmp, m->n, m->neg, v6, 2) :
			       list_set(l, tmp, m->n, m->neg, both, 1);
	free(tmp);
	return err;
}

static int port_list(struct rlist *l, const struct port_match *m)
{
	struct rng *tmp;
	int err;

	if (m->any)
		return list_one(l, 0, 65535);
	tmp = malloc((m->n + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n; i++)
		tmp[i] = (struct rng){ m->r[i].lo, m->r[i].hi };
	err = list_set(l, tmp, m->n, m->neg, &(const struct rng){ 0, 65535 }, 1);
	free(tmp);
	return err;
}

/* The protocol numbers a rule can match; a port test limits it to TCP and UDP (fw_eval.c). */
static int proto_list(struct rlist *l, const struct fw_rule *r)
{
	bool ports = !r->sport.any || !r->dport.any;
	struct rng v[2];
	uint32_t n = 0;

	switch (r->proto_kind) {
	case FWP_ANY: v[n++] = (struct rng){ 0, 255 }; break;
	case FWP_TCP: v[n++] = (struct rng){ IPPROTO_TCP_, IPPROTO_TCP_ }; break;
	case FWP_UDP: v[n++] = (struct rng){ IPPROTO_UDP_, IPPROTO_UDP_ }; break;
	case FWP_TCP_UDP:
		v[n++] = (struct rng){ IPPROTO_TCP_, IPPROTO_TCP_ };
		v[n++] = (struct rng){ IPPROTO_UDP_, IPPROTO_UDP_ };
		break;
	case FWP_ICMP: v[n++] = (struct rng){ IPPROTO_ICMP_, IPPROTO_ICMP_ }; break;
	case FWP_ICMP6: v[n++] = (struct rng){ IPPROTO_ICMPV6_, IPPROTO_ICMPV6_ }; break;
	case FWP_NUM: v[n++] = (struct rng){ r->proto_num, r->proto_num }; break;
	}
	if (ports) {
		bool tcp = false, udp = false;

		for (uint32_t i = 0; i < n; i++) {
			tcp |= v[i].lo <= IPPROTO_TCP_ && IPPROTO_TCP_ <= v[i].hi;
			udp |= v[i].lo <= IPPROTO_UDP_ && IPPROTO_UDP_ <= v[i].hi;
		}
		n = 0;
		if (tcp)
			v[n++] = (struct rng){ IPPROTO_TCP_, IPPROTO_TCP_ };
		if (udp)
			v[n++] = (struct rng){ IPPROTO_UDP_, IPPROTO_UDP_ };
	}
	return list_set(l, v, n, false, NULL, 0);
}

static bool has_tcp_udp(const struct rlist *proto)
{
	for (uint32_t i = 0; i < proto->n; i++)
		if ((proto->v[i].lo <= IPPROTO_TCP_ && IPPROTO_TCP_ <= proto->v[i].hi) ||
		    (proto->v[i].lo <= IPPROTO_UDP_ && IPPROTO_UDP_ <= proto->v[i].hi))
			return true;
	return false;
}

/*
 * P1/P2: ports when the rule tests ports (it then matches only TCP/UDP), the
 * ICMP type/code when it tests those and cannot match TCP/UDP, else anything.
 * The key side is in classify.c: key_project().
 */
static int p_lists(struct rlist *l, const struct fw_rule *r, const struct rlist *proto)
{
	bool icmp_only = !has_tcp_udp(proto);
	int err;

	if (!r->sport.any || !r->dport.any) {
		err = port_list(&l[D_P1], &r->sport);
		return err ? err : port_list(&l[D_P2], &r->dport);
	}
	if (icmp_only && r->icmp_type >= 0)
		err = list_one(&l[D_P1], (u128)r->icmp_type, (u128)r->icmp_type);
	else
		err = list_one(&l[D_P1], 0, 65535);
	if (err)
		return err;
	if (icmp_only && r->icmp_code >= 0)
		return list_one(&l[D_P2], (u128)r->icmp_code, (u128)r->icmp_code);
	return list_one(&l[D_P2], 0, 65535);
}

static int dir_list(struct rlist *l, uint8_t dir)
{
	u128 lo = (dir & FW_DIR_IN) ? FW_DIR_IN : FW_DIR_OUT;
	u128 hi = (dir & FW_DIR_OUT) ? FW_DIR_OUT : FW_DIR_IN;

	if (!(dir & FW_DIR_ANY)) {
		l->v = malloc(sizeof(*l->v)); /* no direction: the rule never matches */
		l->n = 0;
		return l->v ? 0 : -ENOMEM;
	}
	return list_one(l, lo, hi);
}

static int rule_lists(struct rlist *l, const struct fw_rule *r)
{
	int err;

	err = addr_list(&l[D_SRC], &r->src);
	if (!err)
		err = addr_list(&l[D_DST], &r->dst);
	if (!err)
		err = proto_list(&l[D_PROTO], r);
	if (!err)
		err = p_lists(l, r, &l[D_PROTO]);
	if (!err)
		err = dir_list(&l[D_DIR], r->dir);
	return err;
}

static const uint8_t hull_bit[D__N] = { H_SRC, H_DST, H_SPORT, H_DPORT, 0, 0 };

/*
 * The list that hull_lists() replaces next for lists of @n entries, or -1
 * when their product is at most @max (or nothing is left to replace);
 * *@prod: the product.
 */
static int hull_next(const uint32_t n[D__N], uint64_t max, uint64_t *prod)
{
	int big = D_SRC;

	*prod = 1;
	for (int d = 0; d < D__N; d++) {
		/* saturating: six lists of 100,000s of entries overflow 64 bits */
		*prod = n[d] && *prod > UINT64_MAX / n[d] ? UINT64_MAX : *prod * n[d];
		if (hull_bit[d] && n[d] > n[big])
			big = d;
	}
	return *prod <= max || n[big] <= 1 ? -1 : big;
}

/* Replace the longest lists by their hulls until the product is at most @max; returns H_* bits. */
static uint8_t hull_lists(struct rlist *l, uint64_t max)
{
	uint32_t n[D__N];
	uint64_t prod;
	uint8_t hull = 0;
	int big;

	for (int d = 0; d < D__N; d++)
		n[d] = l[d].n;
	while ((big = hull_next(n, max, &prod)) >= 0) {
		l[big].v[0].hi = l[big].v[l[big].n - 1].hi;
		l[big].n = n[big] = 1;
		hull |= hull_bit[big];
	}
	return hull;
}

/* The boxes a rule with lists of @n entries becomes under the per-rule bound @max. */
static uint64_t boxes_under(const uint32_t n[D__N], uint64_t max)
{
	uint32_t m[D__N];
	uint64_t prod;
	int big;

	memcpy(m, n, sizeof(m));
	while ((big = hull_next(m, max, &prod)) >= 0)
		m[big] = 1;
	return prod;
}

static int ex_grow(struct cls_expanded *ex, size_t more)
{
	size_t cap;

	if (ex->n + more <= ex->cap)
		return 0;
	cap = ex->cap ? ex->cap : 1024;
	while (cap < ex->n + more)
		cap *= 2;
	void *b = aligned_alloc(64, cap * sizeof(*ex->box));
	if (!b)
		return -ENOMEM;
	if (ex->n)
		memcpy(b, ex->box, ex->n * sizeof(*ex->box));
	free(ex->box);
	ex->box = b;
	b = realloc(ex->bb, cap * sizeof(*ex->bb));
	if (!b)
		return -ENOMEM;
	ex->bb = b;
	ex->cap = cap;
	return 0;
}

static void box_fill(struct cls_box *b, const struct cls_bbox *x, const struct fw_rule *r)
{
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < 2; i++) {
		b->lo[i] = x->lo[D_SRC + i];
		b->hi[i] = x->hi[D_SRC + i];
		b->plo[i] = (uint16_t)x->lo[D_P1 + i];
		b->phi[i] = (uint16_t)x->hi[D_P1 + i];
	}
	b->protolo = (uint8_t)x->lo[D_PROTO];
	b->protohi = (uint8_t)x->hi[D_PROTO];
	b->dir = r->dir & FW_DIR_ANY;
	b->flags = r->tcp_flags;
	b->itype = r->icmp_type;
	b->icode = r->icmp_code;
	b->action = r->action;
	b->id = r->id;
	b->nolog = r->nolog;
}

/* Emit the cross product of @l as boxes of rule @ri. */
static int emit(struct cls_expanded *ex, const struct rlist *l, const struct fw_rule *r,
		uint32_t ri, uint8_t hull, uint16_t iface)
{
	uint32_t idx[D__N] = { 0 };
	uint64_t prod = 1;
	int err;

	for (int d = 0; d < D__N; d++)
		prod *= l[d].n;
	err = ex_grow(ex, prod);
	if (err || !prod)
		return err;
	for (uint64_t k = 0; k < prod; k++) {
		struct cls_bbox *x = &ex->bb[ex->n];
		struct cls_box *b = &ex->box[ex->n++];

		for (int d = 0; d < D__N; d++) {
			x->lo[d] = l[d].v[idx[d]].lo;
			x->hi[d] = l[d].v[idx[d]].hi;
		}
		box_fill(b, x, r);
		b->hull = hull;
		b->iface = iface;
		b->rule = ri;
		for (int d = 0; d < D__N && ++idx[d] == l[d].n; d++)
			idx[d] = 0;
	}
	return 0;
}

/* The index + 1 of @name in the table, adding it; 0 for no interface. */
static int iface_index(struct cls_expanded *ex, const char *name)
{
	char(*t)[16];

	if (!name[0])
		return 0;
	for (uint32_t i = 0; i < ex->nifnames; i++)
		if (strncmp(ex->ifnames[i], name, 16) == 0)
			return (int)i + 1;
	if (ex->nifnames >= UINT16_MAX - 1)
		return -E2BIG;
	t = realloc(ex->ifnames, (ex->nifnames + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	ex->ifnames = t;
	strncpy(t[ex->nifnames], name, 16);
	return (int)++ex->nifnames;
}

static int expand_rule(struct cls_expanded *ex, const struct policy *p, uint32_t ri, uint64_t max)
{
	const struct fw_rule *r = &p->rules[ri];
	struct rlist l[D__N] = { { NULL, 0 } };
	int err, iface;

	iface = iface_index(ex, r->iface);
	err = iface < 0 ? iface : rule_lists(l, r);
	if (!err)
		err = emit(ex, l, r, ri, hull_lists(l, max), (uint16_t)iface);
	for (int d = 0; d < D__N; d++)
		free(l[d].v);
	return err;
}

/*
 * The per-rule bound that keeps the @n rules of @order within EXPAND_TOTAL
 * boxes (two a rule when that is more): EXPAND_MAX, or the largest lower
 * one that fits (1 at least). Reads each rule's list lengths once.
 */
static int expand_bound(const struct policy *p, const uint32_t *order, uint32_t n, uint64_t *max)
{
	uint64_t budget = (uint64_t)n * 2 > EXPAND_TOTAL ? (uint64_t)n * 2 : EXPAND_TOTAL;
	uint32_t (*len)[D__N] = malloc((n + 1) * sizeof(*len));
	uint64_t lo = 1, hi = EXPAND_MAX;
	int err = 0;

	if (!len)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !err; i++) {
		struct rlist l[D__N] = { { NULL, 0 } };

		err = rule_lists(l, &p->rules[order[i]]);
		for (int d = 0; d < D__N; d++) {
			len[i][d] = l[d].n;
			free(l[d].v);
		}
	}
	/* the largest bound whose boxes fit: binary search, a pass over the rules a step */
	while (!err && lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2, sum = 0;

		for (uint32_t i = 0; i < n && sum <= budget; i++)
			sum += boxes_under(len[i], mid);
		if (sum <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	free(len);
	*max = lo;
	return err;
}

static int by_rank(const void *a, const void *b, void *ctx)
{
	const struct policy *p = ctx;
	const struct fw_rule *x = &p->rules[*(const uint32_t *)a];
	const struct fw_rule *y = &p->rules[*(const uint32_t *)b];
	int rx = rank_of(x), ry = rank_of(y);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * cls_expand() - every valid rule of @p as boxes, in (rank, id) order.
 * Rules with an out-of-range priority or action are skipped, as fw_eval.c
 * does. 0 or -ENOMEM/-E2BIG; on error @ex is freed.
 */
int cls_expand(const struct policy *p, struct cls_expanded *ex)
{
	uint32_t *order, n = 0;
	uint64_t max = EXPAND_MAX;
	int err = 0;

	memset(ex, 0, sizeof(*ex));
	order = malloc((p->nrules + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nrules; i++)
		if (p->rules[i].priority <= 4 && p->rules[i].action < FW__ACTIONS)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), by_rank, (void *)p);
	err = expand_bound(p, order, n, &max);
	for (uint32_t i = 0; i < n && !err; i++)
		err = expand_rule(ex, p, order[i], max);
	free(order);
	if (err)
		cls_expanded_free(ex);
	return err;
}

void cls_expanded_free(struct cls_expanded *ex)
{
	free(ex->box);
	free(ex->bb);
	free(ex->ifnames);
	memset(ex, 0, sizeof(*ex));
}
