/* ips_rules.c - build an IPS ruleset from a policy's rule lines; threshold counters. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ips_rules.h"

#define TH_BUCKETS 4096
#define TH_MAX_ENTRIES 65536

/* One threshold/detection_filter counter: per rule and tracked address(es). */
struct th_entry {
	uint32_t rule;
	ll_ip a, b;
	uint64_t start_us;
	uint32_t count;
	bool init;
	struct th_entry *next;
};

struct ips_thtab {
	pthread_mutex_t mu;
	uint32_t n;
	struct th_entry *b[TH_BUCKETS];
};

static void count_skip(struct ips_ruleset *rs, const char *kw)
{
	struct ips_skip *v;

	rs->nskipped++;
	for (uint32_t i = 0; i < rs->nskips; i++)
		if (!strcmp(rs->skips[i].kw, kw)) {
			rs->skips[i].n++;
			return;
		}
	if (!(v = realloc(rs->skips, (rs->nskips + 1) * sizeof(*v))))
		return;
	rs->skips = v;
	v[rs->nskips].kw = strdup(kw);
	v[rs->nskips].n = v[rs->nskips].kw ? 1 : 0;
	if (v[rs->nskips].kw)
		rs->nskips++;
}

static uint32_t sid_hash(uint32_t gid, uint32_t sid)
{
	uint64_t h = ((uint64_t)gid << 32 | sid) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(h >> 32);
}

/*
 * The slot of (@gid, @sid) in c->sids, an open-addressed index of the rules
 * kept so far (rule index + 1; 0 is empty): the slot holding it, or the
 * empty one where it would go. Linear in the rules, not quadratic: 60,000
 * rules took 5.6 s to check for duplicates one against all.
 */
static uint32_t *sid_slot(const struct ips_pctx *c, uint32_t gid, uint32_t sid)
{
	uint32_t mask = c->sids_cap - 1;

	for (uint32_t i = sid_hash(gid, sid) & mask;; i = (i + 1) & mask) {
		const struct ips_rule *r = c->sids[i] ? &c->rs->rules[c->sids[i] - 1] : NULL;

		if (!r || (r->sid == sid && r->gid == gid))
			return &c->sids[i];
	}
}

/* ips_index_grow() - see ips_rules.h. */
int ips_index_grow(struct ips_pctx *c, uint32_t **v, uint32_t *cap, uint32_t first,
		   uint32_t *(*slot_of)(struct ips_pctx *c, uint32_t e))
{
	uint32_t old = *cap, *was = *v;

	*cap = old ? 2 * old : first;
	if (!(*v = calloc(*cap, sizeof(**v)))) {
		*v = was;
		*cap = old;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < old; i++)
		if (was[i])
			*slot_of(c, was[i]) = was[i];
	free(was);
	return 0;
}

static uint32_t *sid_slot_of(struct ips_pctx *c, uint32_t e)
{
	const struct ips_rule *r = &c->rs->rules[e - 1];

	return sid_slot(c, r->gid, r->sid);
}

/* Room in c->sids for one more rule (at most half full). */
static int sid_room(struct ips_pctx *c)
{
	if (2 * (c->rs->nrules + 1) <= c->sids_cap)
		return 0;
	return ips_index_grow(c, &c->sids, &c->sids_cap, 1024, sid_slot_of);
}

static int check_dup_sid(struct ips_pctx *c, const struct ips_rule *r)
{
	uint32_t *slot;

	if (sid_room(c) < 0)
		return -ENOMEM;
	slot = sid_slot(c, r->gid, r->sid);
	if (*slot) {
		ips_perr(c, "duplicate sid %u (first at line %u)", r->sid,
			 c->rs->rules[*slot - 1].loc.line);
		return -EINVAL;
	}
	return 0;
}

/*
 * Header ranges are shared: a rule whose src, dst or ports equal an earlier
 * rule's ($HOME_NET, $EXTERNAL_NET, $HTTP_PORTS, ...) borrows that rule's
 * array and frees its own as soon as it is kept. Done when each rule is
 * added, not after all are parsed, so that a large variable costs its size
 * once rather than once per rule at the peak (1,000 /128s in $HOME_NET over
 * 30,000 rules took 1.98 GB that way), and confirming a candidate reads a
 * few arrays that stay in cache instead of one cold array per rule and side.
 * ips_groups_free() hands the borrowed ones back before the rules are freed.
 */
/* Side 0 src, 1 dst, 2 sport, 3 dport of @r: its array, with its length (0: any) and entry size. */
static const void *side_ranges(const struct ips_rule *r, int side, uint32_t *n, size_t *size)
{
	switch (side) {
	case 0: *n = r->src.any ? 0 : r->src.n, *size = sizeof(*r->src.r); return r->src.r;
	case 1: *n = r->dst.any ? 0 : r->dst.n, *size = sizeof(*r->dst.r); return r->dst.r;
	case 2: *n = r->sp.any ? 0 : r->sp.n, *size = sizeof(*r->sp.r); return r->sp.r;
	default: *n = r->dp.any ? 0 : r->dp.n, *size = sizeof(*r->dp.r); return r->dp.r;
	}
}

/* @r's @side takes @owner's array (same side kind, equal contents) in place of its own. */
static void side_borrow(struct ips_rule *r, int side, const struct ips_rule *owner, int oside)
{
	if (side < 2) {
		struct ips_addr *a = side ? &r->dst : &r->src;

		free(a->r);
		a->r = oside ? owner->dst.r : owner->src.r;
	} else {
		struct ips_ports *pt = side == 2 ? &r->sp : &r->dp;

		free(pt->r);
		pt->r = oside == 2 ? owner->sp.r : owner->dp.r;
	}
}

/*
 * Every byte, eight at a time (ll_mix64() a word, not FNV's byte steps:
 * 30,000 rules over a 1,000-address $HOME_NET hash 2 GB). A hash of a
 * sample let sets that differ in one unsampled entry collide and cost a
 * memcmp() each (257 sets of 5,000 addresses, 4,000 rules: 37 s).
 */
static uint32_t ranges_hash(int kind, const void *r, uint32_t n, size_t size)
{
	return (uint32_t)ll_hash_bytes((uint64_t)kind << 32 | n, r, n * size);
}

/* The slot of rule @ri's @side ranges among the distinct ones (addresses and ports apart). */
static uint32_t *shared_slot(struct ips_pctx *c, uint32_t ri, int side)
{
	uint32_t n, m = c->shared_cap - 1, i;
	size_t size;
	const void *mine = side_ranges(&c->rs->rules[ri], side, &n, &size);

	i = ranges_hash(side >> 1, mine, n, size) & m;
	for (; c->shared[i]; i = (i + 1) & m) {
		uint32_t o = c->shared[i] - 1, on;
		size_t osize;
		const void *theirs = side_ranges(&c->rs->rules[o >> 2], (int)(o & 3), &on, &osize);

		if ((o & 3) >> 1 == (uint32_t)side >> 1 && on == n && !memcmp(theirs, mine, n * size))
			break;
	}
	return &c->shared[i];
}

static uint32_t *shared_slot_of(struct ips_pctx *c, uint32_t e)
{
	return shared_slot(c, (e - 1) >> 2, (int)((e - 1) & 3));
}

static int share_ranges(struct ips_pctx *c, uint32_t ri)
{
	for (int side = 0; side < 4; side++) {
		uint32_t n, *slot;
		size_t size;

		if (!side_ranges(&c->rs->rules[ri], side, &n, &size) || !n)
			continue;
		if (2 * (c->nshared + 1) > c->shared_cap &&
		    ips_index_grow(c, &c->shared, &c->shared_cap, 256, shared_slot_of) < 0)
			return -ENOMEM;
		slot = shared_slot(c, ri, side);
		if (*slot) {
			uint32_t o = *slot - 1;

			side_borrow(&c->rs->rules[ri], side, &c->rs->rules[o >> 2], (int)(o & 3));
			c->rs->borrowed[ri] |= (uint8_t)(1u << side);
		} else {
			*slot = 1 + (ri << 2 | (uint32_t)side);
			c->nshared++;
		}
	}
	return 0;
}

/* Parse one line; keeps the rule, counts a skip or records the error. */
static int add_line(struct ips_pctx *c, const struct policy_ips_line *l)
{
	const struct srcloc *loc = &l->loc;
	struct ips_ruleset *rs = c->rs;
	struct ips_rule r;
	int rc;

	c->loc = *loc;
	c->conts = l->conts;
	c->nconts = l->nconts;
	rc = ips_parse_rule(c, l->text, &r);
	c->loc = *loc;
	if (!rc)
		rc = check_dup_sid(c, &r);
	if (rc == -ENOTSUP && c->o && c->o->skip_unsupported) {
		count_skip(rs, c->unsup);
		rc = 0;
	} else if (rc == -ENOTSUP) {
		/* "protocol X", "action X", else a keyword's name */
		bool proto = !strncmp(c->unsup, "protocol ", 9), act = !strncmp(c->unsup, "action ", 7);

		c->loc = c->unsup_loc;
		ips_perr(c, "unsupported %s '%s'%s", proto ? "protocol" : act ? "action" : "keyword",
			 c->unsup + (proto ? 9 : act ? 7 : 0),
			 c->told_skip ? "" : " (--skip-unsupported loads the policy without such rules)");
		c->told_skip = true;
	} else if (!rc) {
		if (rs->nrules == c->rules_cap) {
			uint32_t cap = c->rules_cap ? 2 * c->rules_cap : 64;
			struct ips_rule *v = realloc(rs->rules, cap * sizeof(*v));
			uint8_t *b = v ? realloc(rs->borrowed, cap) : NULL;

			if (v)
				rs->rules = v;
			if (!b) {
				ips_rule_free(&r);
				return -ENOMEM;
			}
			rs->borrowed = b;
			c->rules_cap = cap;
		}
		rs->borrowed[rs->nrules] = 0;
		rs->rules[rs->nrules++] = r;
		*sid_slot(c, r.gid, r.sid) = rs->nrules; /* check_dup_sid() made room */
		return share_ranges(c, rs->nrules - 1);
	}
	ips_rule_free(&r);
	return rc;
}

static struct ips_ruleset *ruleset_new(const struct policy_opts *o)
{
	static _Atomic uint64_t next_id = 1;
	struct ips_ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->id = atomic_fetch_add(&next_id, 1);
	rs->th = calloc(1, sizeof(*rs->th));
	if (!rs->th) {
		free(rs);
		return NULL;
	}
	pthread_mutex_init(&rs->th->mu, NULL);
	rs->stream_depth = o && o->stream_depth ? o->stream_depth : IPS_STREAM_DEPTH_DEFAULT;
	rs->stream_memcap = o && o->stream_memcap ? o->stream_memcap : IPS_STREAM_MEMCAP_DEFAULT;
	return rs;
}

/* Parse every line (all errors reported), then compile when there were none. */
static struct ips_ruleset *build(const struct policy *p, const struct policy_ips_line *lines,
				 uint32_t n, const struct policy_opts *o, struct ll_errlist *errs)
{
	struct ips_pctx c = { .p = p, .o = o, .errs = errs };
	int bad = 0;

	if (!(c.rs = ruleset_new(o)))
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		if (ll_err_full(errs)) { /* too many errors: the rest goes unread */
			bad = 1;
			break;
		} else {
			bad |= add_line(&c, &lines[i]) != 0;
		}
	free(c.sids);
	free(c.fb_index);
	free(c.shared);
	if (!bad && n)
		c.loc = lines[0].loc;
	if (!bad && ips_compile(&c))
		bad = 1;
	if (bad) {
		ips_ruleset_free(c.rs);
		return NULL;
	}
	return c.rs;
}

int ips_ruleset_build(struct policy *p, const struct policy_opts *o, struct ll_errlist *errs)
{
	struct ips_ruleset *rs;

	p->ips = NULL;
	if (!p->nips_lines)
		return 0;
	rs = build(p, p->ips_lines, p->nips_lines, o, errs);
	if (!rs)
		return -EINVAL;
	p->ips = rs;
	return 0;
}

struct ips_ruleset *ips_ruleset_from_text(const char *name, const char *text,
					  const struct policy_opts *o, struct ll_errlist *errs)
{
	struct policy_ips_line *lines = NULL;
	char *copy = strdup(text);
	uint32_t n = 0, lineno = 0;
	struct ips_ruleset *rs = NULL;

	for (char *l = copy, *nl; l; l = nl) {
		char *t = l;

		if ((nl = strchr(l, '\n')))
			*nl++ = 0;
		lineno++;
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t || *t == '#')
			continue;
		struct policy_ips_line *v = realloc(lines, (n + 1) * sizeof(*v));
		if (!v)
			goto out;
		lines = v;
		lines[n++] = (struct policy_ips_line){ t, { name, lineno, (uint32_t)(t - l) + 1 }, NULL, 0 };
	}
	if (copy)
		rs = build(NULL, lines, n, o, errs);
out:
	free(lines);
	free(copy);
	return rs;
}

static void thtab_free(struct ips_thtab *t)
{
	if (!t)
		return;
	for (int i = 0; i < TH_BUCKETS; i++)
		for (struct th_entry *e = t->b[i], *nx; e; e = nx) {
			nx = e->next;
			free(e);
		}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

void ips_ruleset_free(struct ips_ruleset *rs)
{
	if (!rs)
		return;
	ips_groups_free(rs);
	for (uint32_t i = 0; i < rs->nrules; i++)
		ips_rule_free(&rs->rules[i]);
	for (uint32_t i = 0; i < rs->nfb; i++)
		free(rs->fb_names[i]);
	for (uint32_t i = 0; i < rs->nskips; i++)
		free(rs->skips[i].kw);
	free(rs->skips);
	free(rs->fb_names);
	free(rs->rules);
	free(rs->by_sid);
	free(rs->rflags);
	thtab_free(rs->th);
	free(rs);
}

uint32_t ips_ruleset_count(const struct ips_ruleset *rs, uint32_t *skipped)
{
	if (skipped)
		*skipped = rs ? rs->nskipped : 0;
	return rs ? rs->nrules : 0;
}

bool ips_reads_home_net(const struct ips_ruleset *rs)
{
	return rs && rs->reads_home_net;
}

void ips_ruleset_skips(const struct ips_ruleset *rs,
		       void (*cb)(void *arg, const char *kw, uint32_t n), void *arg)
{
	for (uint32_t i = 0; rs && i < rs->nskips; i++)
		cb(arg, rs->skips[i].kw, rs->skips[i].n);
}

struct skip_print {
	FILE *out;
	const char *lead;
};

static void print_skip(void *arg, const char *kw, uint32_t n)
{
	const struct skip_print *sp = arg;

	bool proto = !strncmp(kw, "protocol ", 9), act = !strncmp(kw, "action ", 7);

	fprintf(sp->out, "%sskipped %u IPS rule%s with unsupported %s '%s'\n", sp->lead, n,
		n == 1 ? "" : "s", proto ? "protocol" : act ? "action" : "keyword",
		kw + (proto ? 9 : act ? 7 : 0));
}

void ips_print_skips(const struct ips_ruleset *rs, FILE *out, const char *lead)
{
	struct skip_print sp = { out, lead };

	ips_ruleset_skips(rs, print_skip, &sp);
}

static uint32_t th_hash(uint32_t rule, ll_ip a, ll_ip b)
{
	uint64_t h = rule * 0x9e3779b97f4a7c15ULL ^ a.lo ^ (a.hi * 31) ^ (b.lo * 17) ^ (b.hi * 13);

	h ^= h >> 29;
	return (uint32_t)(h * 0xbf58476d1ce4e5b9ULL >> 40) % TH_BUCKETS;
}

static struct th_entry *th_get(struct ips_thtab *t, uint32_t rule, ll_ip a, ll_ip b)
{
	uint32_t h = th_hash(rule, a, b);
	struct th_entry *e;

	for (e = t->b[h]; e; e = e->next)
		if (e->rule == rule && ll_ip_eq(e->a, a) && ll_ip_eq(e->b, b))
			return e;
	if (t->n >= TH_MAX_ENTRIES || !(e = calloc(1, sizeof(*e))))
		return NULL;
	*e = (struct th_entry){ .rule = rule, .a = a, .b = b, .next = t->b[h] };
	t->b[h] = e;
	t->n++;
	return e;
}

/*
 * Suricata's threshold types. A window opens at a rule's first hit and lasts
 * th->seconds, its end excluded: a hit exactly th->seconds after the start
 * opens a new one, as does any later hit. Returns
 * IPS_TH_ALERT, IPS_TH_SILENT (act, do not alert) or IPS_TH_NONE.
 */
static int th_step(const struct ips_thresh *th, struct th_entry *e, uint64_t now_us)
{
	/* a hit `seconds` after the start opens a new window (Suricata: TimevalEarlier()) */
	if (!e->init || now_us - e->start_us >= (uint64_t)th->seconds * 1000000) {
		e->init = true;
		e->start_us = now_us;
		e->count = 1;
		if (th->kind == ITH_LIMIT)
			return IPS_TH_ALERT;
		if (th->kind == ITH_DETECTION) /* a first hit never passes the filter */
			return IPS_TH_NONE;
		return th->count == 1 ? IPS_TH_ALERT : IPS_TH_NONE;
	}
	e->count++;
	switch (th->kind) {
	case ITH_LIMIT:
		return e->count <= th->count ? IPS_TH_ALERT : IPS_TH_SILENT;
	case ITH_THRESHOLD:
		if (e->count < th->count)
			return IPS_TH_NONE;
		e->count = 0; /* the window keeps its start */
		return IPS_TH_ALERT;
	case ITH_BOTH:
		return e->count == th->count ? IPS_TH_ALERT :
		       e->count > th->count ? IPS_TH_SILENT : IPS_TH_NONE;
	default:
		return e->count > th->count ? IPS_TH_ALERT : IPS_TH_NONE;
	}
}

int ips_thresh_hit(const struct ips_ruleset *rs, uint32_t rule, ll_ip src, ll_ip dst,
		   uint64_t now_us)
{
	const struct ips_thresh *th = &rs->rules[rule].th;
	ll_ip zero = { 0, 0 }, a = zero, b = zero;
	struct th_entry *e;
	int hit = IPS_TH_ALERT; /* no room for a counter: alert rather than go blind */

	if (th->kind == ITH_NONE)
		return IPS_TH_ALERT;
	if (th->track == ITR_SRC)
		a = src;
	else if (th->track == ITR_DST)
		a = dst;
	else if (th->track == ITR_BOTH) /* the pair, whichever way the packet goes */
		a = ll_ip_cmp(src, dst) < 0 ? src : dst, b = ll_ip_cmp(src, dst) < 0 ? dst : src;
	pthread_mutex_lock(&rs->th->mu);
	if ((e = th_get(rs->th, rule, a, b)))
		hit = th_step(th, e, now_us);
	pthread_mutex_unlock(&rs->th->mu);
	return hit;
}
