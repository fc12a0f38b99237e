/* test_flow.c - the flow table against a model: lookups, LRU eviction at max-flows, expiry, spills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"
#include "helper_rand.h"

#define TUPLES 3000

/* Tuple @i: a UDP packet from 192.0.2.1 to 198.51.100.<i/200>, ports from i. */
static void udp_pkt(struct pkt *p, uint32_t i)
{
	char dst[32];

	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->proto = 17;
	p->l4_ok = 1;
	p->len = 100;
	ll_ip_parse("192.0.2.1", &p->src);
	snprintf(dst, sizeof(dst), "198.51.100.%u", i / 200);
	ll_ip_parse(dst, &p->dst);
	p->sport = (uint16_t)(1024 + i % 200);
	p->dport = 53;
}

static void count_one(void *arg, struct flow *f)
{
	(void)f;
	++*(unsigned *)arg;
}

/*
 * 300,000 packets over 3,000 tuples into a table of 256: many evictions,
 * and buckets that fill and spill into the next line. The model says which
 * tuples are alive (evicted: least recently used first; expired after 30 s
 * of UDP silence); the table must agree on every packet.
 */
static void test_table_matches_model(void **state)
{
	static uint64_t last_use[TUPLES];
	static bool alive[TUPLES];
	const unsigned max = 256;
	struct flow_table *t = flow_table_new(max);
	unsigned nalive = 0, evictions = 0;
	uint64_t now = 1000000, tick = 0;

	(void)state;
	assert_non_null(t);
	rnd_state = 0x2545f4914f6cdd1dULL;
	memset(alive, 0, sizeof(alive));
	for (int n = 0; n < 300000; n++) {
		/* a hot set keeps some flows in use while the rest churn */
		uint32_t i = rnd(4) ? rnd(TUPLES) : rnd(200);
		struct pkt p;
		struct flow *f;
		int from_opener = -1;

		if (rnd(20000) == 0) { /* silence past the UDP timeout: everything expires */
			now += 31000000;
			memset(alive, 0, sizeof(alive));
			nalive = 0;
		}
		now += 10;
		udp_pkt(&p, i);
		f = flow_lookup(t, &p, now, &from_opener);
		if (alive[i]) {
			assert_non_null(f);
			assert_int_equal(f->key.pa == p.sport || f->key.pb == p.sport, 1);
			assert_int_equal(from_opener, 1);
			last_use[i] = ++tick;
			continue;
		}
		assert_null(f);
		if (nalive == max) { /* the model's least recently used goes */
			uint32_t lru = TUPLES;
			for (uint32_t j = 0; j < TUPLES; j++)
				if (alive[j] && (lru == TUPLES || last_use[j] < last_use[lru]))
					lru = j;
			alive[lru] = false;
			nalive--;
			evictions++;
		}
		f = flow_create(t, &p, now);
		assert_non_null(f);
		alive[i] = true;
		nalive++;
		last_use[i] = ++tick;
		if (n % 1000 == 0) {
			struct flow_stats st;
			unsigned listed = 0;

			flow_table_stats(t, &st);
			flow_foreach(t, count_one, &listed);
			assert_int_equal(st.active, nalive);
			assert_int_equal(listed, nalive);
		}
	}
	assert_true(evictions > 10000);
	flow_table_free(t);
}

/* A removed flow is gone, and its slot serves the next one. */
static void test_remove(void **state)
{
	struct flow_table *t = flow_table_new(8);
	struct pkt p;
	struct flow *f;
	int fo;

	(void)state;
	for (uint32_t i = 0; i < 8; i++) {
		udp_pkt(&p, i);
		assert_non_null(flow_create(t, &p, 1));
	}
	udp_pkt(&p, 3);
	f = flow_lookup(t, &p, 2, &fo);
	assert_non_null(f);
	flow_remove(t, f);
	assert_null(flow_lookup(t, &p, 3, &fo));
	for (uint32_t i = 0; i < 8; i++) {
		udp_pkt(&p, i);
		if (i == 3)
			assert_null(flow_lookup(t, &p, 4, &fo));
		else
			assert_non_null(flow_lookup(t, &p, 4, &fo));
	}
	flow_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_model),
		cmocka_unit_test(test_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
