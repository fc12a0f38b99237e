/* bench_ips.c - replay throughput of the packet path with 0, 1,000 and 10,000 IPS content rules, plus compile time and memory. */
#include <hs/hs.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ips_rules.h"
#include "fw.h"
#include "pipeline.h"
#include "pkt.h"
#include "policy.h"
#include "replay.h"
#include "bench_clock.h"

/* A capture held in memory, so that the timed loops read no file. */
struct capture {
	int dlt;
	size_t n, used, cap, bcap;
	uint8_t *buf;
	size_t *off;
	uint32_t *len;
	uint64_t *ts_us;
};

struct run_stats {
	double pps;
	uint64_t alerts, dropped, rss_kib;
};

/* Resident set size in KiB (/proc/self/statm), 0 when unreadable. */
static uint64_t rss_kib(void)
{
	unsigned long size, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

static int cap_grow(struct capture *c, uint32_t caplen)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1 << 16;
		if (!(c->off = realloc(c->off, c->cap * sizeof(*c->off))) ||
		    !(c->len = realloc(c->len, c->cap * sizeof(*c->len))) ||
		    !(c->ts_us = realloc(c->ts_us, c->cap * sizeof(*c->ts_us))))
			return -1;
	}
	while (c->used + caplen > c->bcap) {
		c->bcap = c->bcap ? c->bcap * 2 : 1 << 24;
		if (!(c->buf = realloc(c->buf, c->bcap)))
			return -1;
	}
	return 0;
}

static int cap_load(const char *path, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc = pcap_open_offline(path, err);
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (!pc) {
		fprintf(stderr, "bench_ips: %s\n", err);
		return -1;
	}
	c->dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		if (cap_grow(c, h->caplen) < 0) {
			fprintf(stderr, "bench_ips: %s: out of memory\n", path);
			rc = -1;
			break;
		}
		memcpy(c->buf + c->used, d, h->caplen);
		c->off[c->n] = c->used;
		c->len[c->n] = h->caplen;
		c->ts_us[c->n++] = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		c->used += h->caplen;
	}
	pcap_close(pc);
	return rc;
}

static void cap_free(struct capture *c)
{
	free(c->buf);
	free(c->off);
	free(c->len);
	free(c->ts_us);
}

/* One timed pass of pipeline_judge over @c with @pol (fresh flows). */
static int run(const struct capture *c, struct policy *pol, const struct config *cfg,
	       struct run_stats *st)
{
	struct pipeline pl;
	double t;

	memset(st, 0, sizeof(*st));
	if (pipeline_init(&pl, cfg, pol) < 0)
		return -1;
	t = cpu_now();
	for (size_t i = 0; i < c->n; i++) {
		const uint8_t *f = c->buf + c->off[i];
		bool group;
		int ifindex, off = replay_l3_offset(c->dlt, f, c->len[i], &ifindex, &group);
		enum ll_reason why;
		struct verdict v;
		struct pkt p;

		memset(&p, 0, sizeof(p));
		if (off < 0 || pkt_parse(&p, f + off, c->len[i] - (uint32_t)off, &why) < 0)
			continue;
		p.l2_group = group; /* as replay.c */
		pipeline_set_dir(&pl, &p);
		pipeline_judge(&pl, &p, c->ts_us[i], &v);
		st->alerts += v.nalerts;
		st->dropped += !v.accept;
	}
	t = cpu_now() - t;
	st->rss_kib = rss_kib();
	pipeline_fini(&pl);
	st->pps = t > 0 ? (double)c->n / t : 0;
	return 0;
}

/*
 * The matcher's share alone: the time of one vectorscan prefilter scan of
 * every payload with its group's database, and nothing else - no flow, no
 * stream, no confirmation (what the packet pass scans at the least: the
 * stream pass may scan a seam more). Direction as the capture was made
 * (bench/gen_ips_rules.py): clients are in 198.51.100.0/24. Returns
 * seconds per packet of the capture; 0 when it cannot scan.
 */
static double scan_alone(const struct capture *c, const struct ips_ruleset *rs)
{
	hs_scratch_t *scratch = NULL;
	const void *seen[256];
	unsigned nseen = 0;
	double best[2] = { 0, 0 }; /* [0] parse only, [1] parse and scan */

	if (!rs)
		return 0;
	for (int r = 0; r < 6; r++) {
		int scanning = r & 1;
		double t = cpu_now();

		for (size_t i = 0; i < c->n; i++) {
			const uint8_t *f = c->buf + c->off[i];
			bool group;
			int ifindex, off = replay_l3_offset(c->dlt, f, c->len[i], &ifindex, &group);
			enum ll_reason why;
			const struct ips_group *g;
			struct pkt p;
			int to_client;
			bool known = false;

			memset(&p, 0, sizeof(p));
			if (off < 0 || pkt_parse(&p, f + off, c->len[i] - (uint32_t)off, &why) < 0 ||
			    !p.paylen)
				continue;
			to_client = !ll_ip_is_v4(p.src) || (ll_ip_v4(p.src) >> 8) != 0xc63364; /* 198.51.100/24 */
			if (!(g = ips_group_of(rs, &p, to_client)) || !g->db || !scanning)
				continue;
			for (unsigned k = 0; k < nseen && !known; k++)
				known = seen[k] == g->db;
			if (!known) { /* first use of this database: make the scratch fit it */
				if (nseen == 256 || hs_alloc_scratch(g->db, &scratch) != HS_SUCCESS) {
					hs_free_scratch(scratch);
					return 0;
				}
				seen[nseen++] = g->db;
			}
			hs_scan(g->db, (const char *)p.payload, p.paylen, 0, scratch, NULL, NULL);
		}
		t = cpu_now() - t;
		if (!best[scanning] || t < best[scanning])
			best[scanning] = t;
	}
	hs_free_scratch(scratch);
	return c->n && best[1] > best[0] ? (best[1] - best[0]) / (double)c->n : 0;
}

/* The best of @reps passes: the box may be shared, the best is the least disturbed. */
static int best_of(const struct capture *c, struct policy *pol, const struct config *cfg, int reps,
		   struct run_stats *best)
{
	struct run_stats st;

	memset(best, 0, sizeof(*best));
	for (int i = 0; i < reps; i++) {
		if (run(c, pol, cfg, &st) < 0)
			return -1;
		if (st.pps > best->pps)
			*best = st;
	}
	return 0;
}

/* Load and compile @path: wall seconds, RSS growth in KiB. */
static struct policy *load(const char *path, const struct config *cfg, double *secs,
			   uint64_t *rss_delta)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts o;
	uint64_t rss0 = rss_kib();
	double t = wall_now();
	struct policy *p;

	config_policy_opts(cfg, &o, false);
	p = policy_load_file(path, &o, &errs);
	if (!p || fw_compile(p) < 0) {
		ll_err_print(&errs, stderr);
		fprintf(stderr, "bench_ips: %s: cannot load or compile\n", path);
		ll_err_free(&errs);
		policy_free(p);
		return NULL;
	}
	*secs = wall_now() - t;
	*rss_delta = rss_kib() - rss0;
	ll_err_free(&errs);
	return p;
}

int main(int argc, char **argv)
{
	struct capture c;
	struct config cfg;
	struct run_stats st;
	double base = 0;
	int reps = getenv("REPS") ? atoi(getenv("REPS")) : 3, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_ips CAPTURE POLICY...   (the first policy is the baseline)\n");
		return 2;
	}
	config_defaults(&cfg);
	if (cap_load(argv[1], &c) < 0)
		return 1;
	printf("%s: %zu packets, %.1f MiB; packets/s per CPU second of one thread, best of %d\n",
	       argv[1], c.n, c.used / 1048576.0, reps);
	printf("%-28s %7s %12s %8s %9s %10s %10s %9s %8s %6s\n", "policy", "rules", "packets/s", "x base",
	       "compile_s", "rules_MiB", "run_MiB", "alerts", "scan_ns", "bound");
	fflush(stdout);
	for (int i = 2; i < argc; i++) {
		double secs, scan;
		uint64_t drss, rss0 = rss_kib();
		struct policy *p = load(argv[i], &cfg, &secs, &drss);
		uint32_t n;

		if (!p || best_of(&c, p, &cfg, reps < 1 ? 1 : reps, &st) < 0) {
			policy_free(p);
			rc = 1;
			continue;
		}
		if (i == 2)
			base = st.pps;
		n = ips_ruleset_count(p->ips, NULL);
		scan = n ? scan_alone(&c, p->ips) : 0;
		printf("%-28s %7u %12.0f %8.2f %9.3f %10.1f %10.1f %9llu", argv[i], n, st.pps,
		       base > 0 ? st.pps / base : 0, secs, drss / 1024.0,
		       (st.rss_kib > rss0 ? st.rss_kib - rss0 : 0) / 1024.0,
		       (unsigned long long)st.alerts);
		/* no IPS work but the scans: the best x base any implementation on this matcher gets */
		if (scan > 0 && base > 0)
			printf(" %8.0f %6.2f", scan * 1e9, 1 / (1 + scan * base));
		printf("\n");
		fflush(stdout);
		policy_free(p);
	}
	cap_free(&c);
	config_free(&cfg);
	return rc;
}
