/* test_classify.c - the compiled classifier against the reference evaluator, on random policies and packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fw.h"
#include "pkt.h"

typedef unsigned __int128 u128;

/* xorshift64*: fixed seeds, the same cases on every run and machine */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }
static bool chance(int pct) { return below(100) < (uint32_t)pct; }

static ll_ip to_ip(u128 v) { return (ll_ip){ (uint64_t)(v >> 64), (uint64_t)v }; }
static u128 from_ip(ll_ip a) { return (u128)a.hi << 64 | a.lo; }

/* A random point in [lo, hi], often an edge or just outside it. */
static u128 point(u128 lo, u128 hi)
{
	u128 span = hi - lo, r = (u128)rnd() << 64 | rnd();

	switch (below(8)) {
	case 0: return lo;
	case 1: return hi;
	case 2: return lo - 1;
	case 3: return hi + 1;
	default: return span == ~(u128)0 ? r : lo + r % (span + 1);
	}
}

/* Address bases the rules and packets share, so that they meet. */
static const char *const bases[] = {
	"10.0.0.0", "10.1.2.0", "192.0.2.0", "198.51.100.0", "203.0.113.0",
	"2001:db8::", "2001:db8:1::", "fe80::", "::", "0.0.0.0",
};

static u128 base_addr(void)
{
	ll_ip a;
	u128 v;

	assert_int_equal(ll_ip_parse(bases[below(LL_ARRAY_SIZE(bases))], &a), 0);
	v = from_ip(a);
	return v + (chance(50) ? below(512) : 0);
}

/* A CIDR of any length of the base's family, or a range A-B. */
static struct ip_range addr_item(void)
{
	u128 a = base_addr();
	bool v4 = ll_ip_is_v4(to_ip(a));
	int bits = v4 ? 32 : 128, len;
	u128 host;

	if (chance(20)) {
		u128 b = a + (chance(50) ? below(1000) : (u128)rnd() << (v4 ? 0 : 40));
		return (struct ip_range){ to_ip(a), to_ip(b < a ? a : b) };
	}
	len = chance(50) ? (int)below((uint32_t)bits + 1) : bits - (int)below(9);
	host = len == bits ? 0 : bits - len == 128 ? ~(u128)0 : (((u128)1 << (bits - len)) - 1);
	return (struct ip_range){ to_ip(a & ~host), to_ip(a | host) };
}

static int cmp_range(const void *x, const void *y)
{
	u128 a = from_ip(((const struct ip_range *)x)->lo), b = from_ip(((const struct ip_range *)y)->lo);

	return a < b ? -1 : a > b;
}

/* Sort and merge into the form struct addr_match promises. */
static uint32_t merge_ranges(struct ip_range *v, uint32_t n)
{
	uint32_t k = 0;

	qsort(v, n, sizeof(*v), cmp_range);
	for (uint32_t i = 0; i < n; i++) {
		if (k && from_ip(v[i].lo) <= from_ip(v[k - 1].hi) + 1 && from_ip(v[k - 1].hi) != ~(u128)0) {
			if (from_ip(v[i].hi) > from_ip(v[k - 1].hi))
				v[k - 1].hi = v[i].hi;
			continue;
		}
		if (k && from_ip(v[k - 1].hi) == ~(u128)0)
			continue;
		v[k++] = v[i];
	}
	return k;
}

static void gen_addr(struct addr_match *m)
{
	uint32_t n = chance(75) ? 1 : 2 + below(5);

	memset(m, 0, sizeof(*m));
	if (chance(30)) {
		m->any = true;
		return;
	}
	m->r = calloc(n, sizeof(*m->r));
	assert_non_null(m->r);
	for (uint32_t i = 0; i < n; i++)
		m->r[i] = addr_item();
	m->n = merge_ranges(m->r, n);
	m->neg = chance(15);
	m->family = (uint8_t)ll_ranges_family(m->r, m->n); /* as the parser sets it */
}

static const uint16_t port_pool[] = { 0, 22, 53, 80, 443, 1023, 1024, 8080, 65535 };

static uint16_t pool_port(void)
{
	return chance(70) ? port_pool[below(LL_ARRAY_SIZE(port_pool))] : (uint16_t)rnd();
}

static int cmp_port(const void *x, const void *y)
{
	return (int)((const struct port_range *)x)->lo - (int)((const struct port_range *)y)->lo;
}

static void gen_ports(struct port_match *m, bool allowed)
{
	uint32_t n = chance(70) ? 1 : 2 + below(4), k = 0;

	memset(m, 0, sizeof(*m));
	if (!allowed || chance(45)) {
		m->any = true;
		return;
	}
	m->r = calloc(n, sizeof(*m->r));
	assert_non_null(m->r);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t a = pool_port(), b = chance(50) ? a : pool_port();
		m->r[i] = (struct port_range){ a < b ? a : b, a < b ? b : a };
	}
	qsort(m->r, n, sizeof(*m->r), cmp_port);
	for (uint32_t i = 0; i < n; i++) {
		if (k && m->r[i].lo <= (uint32_t)m->r[k - 1].hi + 1) {
			if (m->r[i].hi > m->r[k - 1].hi)
				m->r[k - 1].hi = m->r[i].hi;
			continue;
		}
		m->r[k++] = m->r[i];
	}
	m->n = k;
	m->neg = chance(15);
}

/* Every (priority, action) SPEC section 4 allows; @odd adds those only hand-built policies have. */
static void gen_action(struct fw_rule *r, bool odd)
{
	static const uint8_t acts[] = { FW_BYPASS, FW_FORCE_ALLOW, FW_DENY };
	uint32_t c = below(17);

	if (odd) {
		r->action = (uint8_t)below(FW__ACTIONS);
		r->priority = (uint8_t)below(5);
	} else if (c < 15) {
		r->action = acts[c / 5];
		r->priority = (uint8_t)(c % 5);
	} else {
		r->action = c == 15 ? FW_LOG_ONLY : FW_ALLOW;
		r->priority = c == 15 ? 4 : 0;
	}
}

static void gen_proto(struct fw_rule *r)
{
	static const uint8_t nums[] = { 1, 6, 17, 47, 58, 132 };

	r->proto_kind = (uint8_t)below(FWP_NUM + 1);
	r->proto_num = nums[below(LL_ARRAY_SIZE(nums))];
	r->icmp_type = r->icmp_code = -1;
	if ((r->proto_kind == FWP_ICMP || r->proto_kind == FWP_ICMP6) && chance(60)) {
		r->icmp_type = (int16_t)(chance(70) ? below(4) : below(256));
		if (chance(50))
			r->icmp_code = (int16_t)below(3);
	}
	if (r->proto_kind == FWP_TCP && chance(25))
		r->tcp_flags = (uint8_t)(1 + below(0x3f));
}

static void gen_rule(struct fw_rule *r, uint32_t id, bool odd)
{
	bool ports;

	memset(r, 0, sizeof(*r));
	r->id = id;
	gen_action(r, odd);
	r->nolog = r->action == FW_DENY && id % 3 == 0; /* no draw: the seeds' cases stay the same */
	r->dir = (uint8_t)(1 + below(3));
	gen_proto(r);
	ports = r->proto_kind == FWP_TCP || r->proto_kind == FWP_UDP || r->proto_kind == FWP_TCP_UDP ||
		(odd && chance(10));
	gen_addr(&r->src);
	gen_addr(&r->dst);
	gen_ports(&r->sport, ports);
	gen_ports(&r->dport, ports);
	if (chance(8))
		strcpy(r->iface, chance(50) ? "eth0" : "eth1");
}

/* A policy of @n random rules with shuffled ids. */
static struct policy *gen_policy(uint32_t n, bool odd)
{
	struct policy *p = calloc(1, sizeof(*p));
	uint32_t *ids = calloc(n + 1, sizeof(*ids));

	assert_non_null(p);
	assert_non_null(ids);
	p->rules = calloc(n + 1, sizeof(*p->rules));
	assert_non_null(p->rules);
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i + 1;
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = below(i), t = ids[i - 1];
		ids[i - 1] = ids[j];
		ids[j] = t;
	}
	for (uint32_t i = 0; i < n; i++) {
		gen_rule(&p->rules[i], ids[i] * (odd ? 3 : 1), odd);
		if (p->rules[i].action == FW_ALLOW)
			p->allow_dirs |= p->rules[i].dir;
	}
	p->nrules = n;
	free(ids);
	return p;
}

static void free_policy(struct policy *p)
{
	for (uint32_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].src.r);
		free(p->rules[i].dst.r);
		free(p->rules[i].sport.r);
		free(p->rules[i].dport.r);
	}
	fw_classifier_free(p->classifier);
	free(p->rules);
	free(p);
}

static u128 addr_near(const struct addr_match *m)
{
	const struct ip_range *r;

	if (m->any || !m->n || chance(10))
		return base_addr();
	r = &m->r[below(m->n)];
	return point(from_ip(r->lo), from_ip(r->hi));
}

static uint16_t port_near(const struct port_match *m)
{
	const struct port_range *r;

	if (m->any || !m->n || chance(10))
		return pool_port();
	r = &m->r[below(m->n)];
	return (uint16_t)point(r->lo, r->hi);
}

static uint8_t proto_of(const struct fw_rule *r)
{
	switch (r->proto_kind) {
	case FWP_TCP: return IPPROTO_TCP_;
	case FWP_UDP: return IPPROTO_UDP_;
	case FWP_TCP_UDP: return chance(50) ? IPPROTO_TCP_ : IPPROTO_UDP_;
	case FWP_ICMP: return IPPROTO_ICMP_;
	case FWP_ICMP6: return IPPROTO_ICMPV6_;
	case FWP_NUM: return r->proto_num;
	default: return (uint8_t)(chance(80) ? (chance(50) ? 6 : 17) : below(256));
	}
}

static void key_l4(struct fw_key *k, const struct fw_rule *r)
{
	bool tu = k->proto == IPPROTO_TCP_ || k->proto == IPPROTO_UDP_;
	bool icmp = k->proto == IPPROTO_ICMP_ || k->proto == IPPROTO_ICMPV6_;

	k->sport = tu ? port_near(&r->sport) : 0;
	k->dport = tu ? port_near(&r->dport) : 0;
	k->icmp_type = k->icmp_code = -1;
	if (icmp) {
		k->icmp_type = (int16_t)(r->icmp_type >= 0 && chance(80) ? r->icmp_type : (int)below(5));
		k->icmp_code = (int16_t)(r->icmp_code >= 0 && chance(80) ? r->icmp_code : (int)below(4));
	}
	k->tcp_flags = k->proto == IPPROTO_TCP_ ? (uint8_t)(chance(50) ? r->tcp_flags | below(64) : below(64)) : 0;
}

/* A key aimed at a random rule of @p (or at nothing in particular). */
static struct fw_key gen_key(const struct policy *p)
{
	static const char *const ifs[] = { "eth0", "eth1", "lo", NULL };
	struct fw_rule none;
	const struct fw_rule *r = &none;
	struct fw_key k = { 0 };

	memset(&none, 0, sizeof(none));
	none.src.any = none.dst.any = none.sport.any = none.dport.any = true;
	none.icmp_type = none.icmp_code = -1;
	if (p->nrules && chance(85))
		r = &p->rules[below(p->nrules)];
	k.dir = (uint8_t)((r->dir & FW_DIR_ANY) == FW_DIR_OUT || ((r->dir & FW_DIR_ANY) == FW_DIR_ANY && chance(50)) ?
			  FW_DIR_OUT : FW_DIR_IN);
	if (chance(10))
		k.dir = (uint8_t)(1 + below(2));
	k.src = to_ip(addr_near(&r->src));
	k.dst = to_ip(addr_near(&r->dst));
	k.family = ll_ip_is_v4(k.src) ? 4 : 6;
	k.proto = chance(90) ? proto_of(r) : (uint8_t)below(256);
	key_l4(&k, r);
	k.ifname = r->iface[0] && chance(70) ? r->iface : ifs[below(LL_ARRAY_SIZE(ifs))];
	return k;
}

static void print_key(const struct fw_key *k)
{
	char s[64], d[64];

	print_error("key dir %u proto %u %s:%u -> %s:%u icmp %d/%d flags %#x if %s\n", k->dir, k->proto,
		    ll_ip_str(k->src, s, sizeof(s)), k->sport, ll_ip_str(k->dst, d, sizeof(d)), k->dport,
		    k->icmp_type, k->icmp_code, k->tcp_flags, k->ifname ? k->ifname : "-");
}

static void same_result(const struct fw_result *a, const struct fw_result *b, const struct fw_key *k)
{
	bool eq = a->reason == b->reason && a->accept == b->accept && a->inspect == b->inspect &&
		  a->rule == b->rule && a->rule_id == b->rule_id && a->nolog == b->nolog &&
		  (!a->rule || (a->rule_id == a->rule->id && a->nolog == a->rule->nolog)) &&
		  a->nlogged == b->nlogged &&
		  memcmp(a->logged, b->logged, a->nlogged * sizeof(a->logged[0])) == 0;

	if (!eq) {
		print_key(k);
		print_error("linear: reason %d rule %u nlogged %u; classifier: reason %d rule %u nlogged %u\n",
			    a->reason, a->rule ? a->rule->id : 0, a->nlogged, b->reason,
			    b->rule ? b->rule->id : 0, b->nlogged);
	}
	assert_true(eq);
}

/*
 * fw_classify_batch() on @n keys (batches of every size, cut at random)
 * against the single lookup and the reference, which @ref already holds.
 */
static void batch_same(const struct policy *p, const struct fw_key *keys, uint32_t n,
		       const struct fw_result *ref)
{
	const struct fw_key **kp = calloc(n + 1, sizeof(*kp));
	struct fw_result *res = calloc(n + 1, sizeof(*res));
	uint32_t i = 0;

	assert_non_null(kp);
	assert_non_null(res);
	for (uint32_t j = 0; j < n; j++)
		kp[j] = &keys[n - 1 - j]; /* any order: the pointers need not follow the keys */
	while (i < n) {
		uint32_t m = 1 + below(3 * FW_BATCH);

		m = m > n - i ? n - i : m;
		fw_classify_batch(p, kp + i, m, res + i);
		i += m;
	}
	for (uint32_t j = 0; j < n; j++) {
		struct fw_result b;

		fw_classify(p, kp[j], &b);
		same_result(&ref[n - 1 - j], &b, kp[j]);
		same_result(&ref[n - 1 - j], &res[j], kp[j]);
	}
	fw_classify_batch(p, kp, 0, res); /* nothing to do */
	free(kp);
	free(res);
}

/* @nkeys keys near @p's rules: the classifier, alone and in batches, against the reference. */
static void against_reference(const struct policy *p, uint32_t nkeys)
{
	struct fw_key *keys = calloc(nkeys, sizeof(*keys));
	struct fw_result *ref = calloc(nkeys, sizeof(*ref));

	assert_non_null(keys);
	assert_non_null(ref);
	for (uint32_t j = 0; j < nkeys; j++) {
		struct fw_result b;

		keys[j] = gen_key(p);
		fw_eval_linear(p, &keys[j], &ref[j]);
		fw_classify(p, &keys[j], &b);
		same_result(&ref[j], &b, &keys[j]);
	}
	batch_same(p, keys, nkeys, ref);
	free(keys);
	free(ref);
}

/* @npol policies of @nrules rules, @nkeys keys each: classifier (single and batch) == reference. */
static void differential(uint64_t seed, uint32_t npol, uint32_t nrules, uint32_t nkeys, bool odd)
{
	uint32_t seen[R__COUNT] = { 0 }, logged = 0;

	rng_state = seed;
	for (uint32_t i = 0; i < npol; i++) {
		struct policy *p = gen_policy(1 + below(nrules), odd);
		struct fw_key *keys = calloc(nkeys, sizeof(*keys));
		struct fw_result *ref = calloc(nkeys, sizeof(*ref));

		assert_non_null(keys);
		assert_non_null(ref);
		assert_int_equal(fw_compile(p), 0);
		assert_non_null(p->classifier);
		for (uint32_t j = 0; j < nkeys; j++) {
			struct fw_key k = gen_key(p);
			struct fw_result a, b;

			fw_eval_linear(p, &k, &a);
			fw_classify(p, &k, &b);
			same_result(&a, &b, &k);
			seen[a.reason]++;
			logged += a.nlogged > 0;
			keys[j] = k;
			ref[j] = a;
		}
		batch_same(p, keys, nkeys, ref);
		free(keys);
		free(ref);
		free_policy(p);
	}
	/* the cases must reach every outcome, or the comparison proves little
	 * (5,000 overlapping rules leave nothing to default: not asked there) */
	if (nrules >= 1000)
		return;
	assert_true(seen[R_BYPASS] && seen[R_FORCE_ALLOW] && seen[R_DENY] && seen[R_ALLOW]);
	assert_true(seen[R_NOT_ALLOWED] && seen[R_DEFAULT] && logged);
}

static void test_small_policies(void **state)
{
	(void)state;
	differential(0x1111, 400, 12, 200, false);
}

static void test_medium_policies(void **state)
{
	(void)state;
	differential(0x2222, 60, 400, 1000, false);
}

static void test_large_policies(void **state)
{
	(void)state;
	differential(0x3333, 4, 5000, 5000, false);
}

/* log-only and allow at every priority, every action anywhere: the walk must still agree. */
static void test_hand_built_policies(void **state)
{
	(void)state;
	differential(0x4444, 200, 60, 300, true);
}

/* One catch-all rule per allowed (priority, action), peeled off from the top: each decides in turn. */
static void test_every_action_every_priority(void **state)
{
	struct policy *p;

	(void)state;
	rng_state = 0x5555;
	p = gen_policy(17, false);
	for (uint32_t i = 0; i < 17; i++) {
		struct fw_rule *r = &p->rules[i];

		free(r->src.r);
		free(r->dst.r);
		free(r->sport.r);
		free(r->dport.r);
		memset(&r->src, 0, sizeof(r->src));
		memset(&r->dst, 0, sizeof(r->dst));
		memset(&r->sport, 0, sizeof(r->sport));
		memset(&r->dport, 0, sizeof(r->dport));
		r->src.any = r->dst.any = true;
		r->sport.any = r->dport.any = true;
		r->dir = FW_DIR_ANY;
		r->proto_kind = FWP_ANY;
		r->icmp_type = r->icmp_code = -1;
		r->tcp_flags = 0;
		r->iface[0] = 0;
		r->action = i < 15 ? (uint8_t)(i % 3 == 0 ? FW_BYPASS : i % 3 == 1 ? FW_FORCE_ALLOW : FW_DENY)
				   : (uint8_t)(i == 15 ? FW_LOG_ONLY : FW_ALLOW);
		r->priority = (uint8_t)(i < 15 ? i / 3 : i == 15 ? 4 : 0);
	}
	p->allow_dirs = FW_DIR_ANY;
	for (uint32_t n = 17; n > 0; n--) {
		struct fw_key k = gen_key(p);
		const struct fw_key *kp = &k;
		struct fw_result a, b, c;

		p->nrules = n;
		assert_int_equal(fw_compile(p), 0);
		fw_eval_linear(p, &k, &a);
		fw_classify(p, &k, &b);
		same_result(&a, &b, &k);
		fw_classify_batch(p, &kp, 1, &c);
		same_result(&a, &c, &k);
	}
	p->nrules = 17;
	free_policy(p);
}

/*
 * Rules that share their edges (one of three destination port ranges, many
 * log-only among them), keys that hit them: the builder sorts runs of equal
 * endpoints, and batches of more than FW_BATCH keys stop on log-only hits
 * that rank before and after the deciding rule.
 */
static void test_shared_edges(void **state)
{
	static const struct port_range ranges[3] = { { 80, 80 }, { 0, 1023 }, { 80, 65535 } };
	const uint32_t nkeys = 2000;
	struct policy *p;
	struct fw_key *keys = calloc(nkeys, sizeof(*keys));
	struct fw_result *ref = calloc(nkeys, sizeof(*ref));

	(void)state;
	assert_non_null(keys);
	assert_non_null(ref);
	rng_state = 0x6666;
	p = gen_policy(3000, true);
	for (uint32_t i = 0; i < p->nrules; i++) {
		struct fw_rule *r = &p->rules[i];

		if (r->dport.any || r->dport.n != 1)
			continue;
		r->dport.r[0] = ranges[i % 3];
		r->dport.neg = false;
		if (i % 4 == 0)
			r->action = FW_LOG_ONLY;
	}
	assert_int_equal(fw_compile(p), 0);
	for (uint32_t j = 0; j < nkeys; j++) {
		keys[j] = gen_key(p);
		if (j % 2)
			keys[j].dport = 80;
		fw_eval_linear(p, &keys[j], &ref[j]);
	}
	batch_same(p, keys, nkeys, ref);
	free_policy(p);
	free(keys);
	free(ref);
}

static void test_empty_policy(void **state)
{
	struct policy p = { 0 };
	struct fw_key k = { .dir = FW_DIR_IN, .proto = 6, .icmp_type = -1, .icmp_code = -1 };
	struct fw_result res;

	(void)state;
	const struct fw_key *kp[2] = { &k, &k };
	struct fw_result two[2];

	assert_int_equal(fw_compile(&p), 0);
	fw_classify(&p, &k, &res);
	assert_int_equal(res.reason, R_EMPTY_POLICY);
	assert_true(res.accept);
	fw_classify_batch(&p, kp, 2, two);
	assert_int_equal(two[0].reason, R_EMPTY_POLICY);
	assert_int_equal(two[1].reason, R_EMPTY_POLICY);
	fw_classify_batch(NULL, kp, 2, two); /* no policy at all: as fw_classify(NULL, ...) */
	fw_classify(NULL, &k, &res);
	assert_int_equal(two[1].reason, res.reason);
	p.nips_lines = 1; /* IPS only: the firewall part decides nothing, default */
	fw_classify(&p, &k, &res);
	assert_int_equal(res.reason, R_DEFAULT);
	fw_classify_batch(&p, kp, 2, two);
	assert_int_equal(two[0].reason, R_DEFAULT);
	assert_int_equal(two[1].reason, R_DEFAULT);
	fw_classifier_free(p.classifier);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 100,000 adversarial random rules compile within 256 MiB, twice over (a
 * recompile frees the first). The time it takes is printed, not asserted:
 * `make bench` checks the 2 s bound on the ClassBench-like sets.
 */
static void test_compile_bounds(void **state)
{
	struct policy *p;

	(void)state;
	rng_state = 0x6666;
	p = gen_policy(100000, false);
	p->nrules = 100000;
	for (int i = 0; i < 2; i++) {
		double t = now_s();

		assert_int_equal(fw_compile(p), 0);
		print_message("100000 random rules: compile %.3f s CPU, %zu bytes\n", now_s() - t,
			      fw_classifier_bytes(p));
		assert_true(fw_classifier_bytes(p) <= 256u << 20);
	}
	against_reference(p, 2000);
	free_policy(p);
}

/*
 * Rules whose lists multiply to 256 boxes each, 4,000 of them: the
 * classifier keeps to its total box budget (hulls re-checked on the rule),
 * so the compiled form stays small - without the budget it was 1 M boxes
 * and ~400 MB - and it still answers as the reference evaluator does.
 */
static void test_expansion_budget(void **state)
{
	enum { N = 4000, KEYS = 3000 };
	struct policy *p;

	(void)state;
	rng_state = 0x7777;
	p = gen_policy(N, false);
	for (uint32_t i = 0; i < N; i++) {
		struct fw_rule *r = &p->rules[i];
		struct ip_range v[16];

		r->proto_kind = i % 2 ? FWP_TCP : FWP_UDP;
		r->icmp_type = r->icmp_code = -1;
		for (int j = 0; j < 16; j++) /* 16 addresses of one /24, 16 ports */
			v[j] = (struct ip_range){ ll_ip_from_v4(0xc0000200u | (uint32_t)j * 16),
						  ll_ip_from_v4(0xc0000200u | (uint32_t)j * 16) };
		free(r->src.r);
		r->src = (struct addr_match){ .r = malloc(sizeof(v)), .n = 16 };
		assert_non_null(r->src.r);
		memcpy(r->src.r, v, sizeof(v));
		free(r->dport.r);
		r->dport = (struct port_match){ .r = calloc(16, sizeof(*r->dport.r)), .n = 16 };
		assert_non_null(r->dport.r);
		for (int j = 0; j < 16; j++)
			r->dport.r[j] = (struct port_range){ (uint16_t)(1000 + 10 * j + i % 7),
							     (uint16_t)(1000 + 10 * j + i % 7) };
	}
	assert_int_equal(fw_compile(p), 0);
	print_message("%d rules of 16 x 16: %zu bytes\n", N, fw_classifier_bytes(p));
	assert_true(fw_classifier_bytes(p) <= 128u << 20);
	against_reference(p, KEYS);
	free_policy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_every_action_every_priority),
		cmocka_unit_test(test_small_policies),
		cmocka_unit_test(test_hand_built_policies),
		cmocka_unit_test(test_shared_edges),
		cmocka_unit_test(test_medium_policies),
		cmocka_unit_test(test_large_policies),
		cmocka_unit_test(test_compile_bounds),
		cmocka_unit_test(test_expansion_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
