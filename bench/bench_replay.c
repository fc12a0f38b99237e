/* bench_replay.c - replay throughput of the packet path per rule set and capture, plus compile time and memory. */
#include <errno.h>
#include <malloc.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fw.h"
#include "pipeline.h"
#include "pkt.h"
#include "policy.h"
#include "replay.h"
#include "bench_clock.h"

/* A capture held in memory, so that the timed loops read no file. */
struct capture {
	int dlt;
	size_t n;
	uint8_t *buf;
	size_t *off;
	uint32_t *len;
	uint64_t *ts_us;
};

enum mode { M_PARSE, M_CLASSIFY, M_PIPELINE };

static int cap_load(const char *path, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t cap = 1 << 16, bcap = 1 << 24, used = 0;
	pcap_t *pc = pcap_open_offline(path, err);

	memset(c, 0, sizeof(*c));
	if (!pc) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return -1;
	}
	c->dlt = pcap_datalink(pc);
	c->buf = malloc(bcap);
	c->off = malloc(cap * sizeof(*c->off));
	c->len = malloc(cap * sizeof(*c->len));
	c->ts_us = malloc(cap * sizeof(*c->ts_us));
	while (c->buf && c->off && c->len && c->ts_us && pcap_next_ex(pc, &h, &d) == 1) {
		if (c->n == cap) {
			cap *= 2;
			c->off = realloc(c->off, cap * sizeof(*c->off));
			c->len = realloc(c->len, cap * sizeof(*c->len));
			c->ts_us = realloc(c->ts_us, cap * sizeof(*c->ts_us));
		}
		if (used + h->caplen > bcap) {
			bcap *= 2;
			c->buf = realloc(c->buf, bcap);
		}
		if (!c->buf || !c->off || !c->len || !c->ts_us)
			break;
		memcpy(c->buf + used, d, h->caplen);
		c->off[c->n] = used;
		c->len[c->n] = h->caplen;
		c->ts_us[c->n++] = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		used += h->caplen;
	}
	pcap_close(pc);
	return c->buf && c->off && c->len && c->ts_us ? 0 : -1;
}

static void cap_free(struct capture *c)
{
	free(c->buf);
	free(c->off);
	free(c->len);
	free(c->ts_us);
}

/* One timed pass over @c; returns packets per CPU second. */
static double run(const struct capture *c, enum mode m, struct policy *pol, const struct config *cfg,
		  uint64_t *check)
{
	struct pipeline pl;
	double t;
	uint64_t sum = 0;
	struct pkt batch[PIPELINE_BATCH], *bp[PIPELINE_BATCH];
	uint64_t when[PIPELINE_BATCH];
	struct verdict v[PIPELINE_BATCH];
	unsigned nb = 0;

	if (m == M_PIPELINE && pipeline_init(&pl, cfg, pol) < 0)
		return 0;
	for (unsigned j = 0; j < PIPELINE_BATCH; j++)
		bp[j] = &batch[j];
	t = cpu_now();
	for (size_t i = 0; i < c->n; i++) {
		const uint8_t *f = c->buf + c->off[i];
		bool group;
		int ifindex, off = replay_l3_offset(c->dlt, f, c->len[i], &ifindex, &group);
		enum ll_reason why;
		struct pkt *p = &batch[nb];

		memset(p, 0, sizeof(*p));
		if (off < 0 || pkt_parse(p, f + off, c->len[i] - (uint32_t)off, &why) < 0) {
			sum++;
			continue;
		}
		p->dir = PKT_DIR_IN; /* no host addresses configured: every packet comes in */
		p->l2_group = group; /* as replay.c */
		if (m == M_PIPELINE) {
			/* in batches, as the live workers judge */
			when[nb++] = c->ts_us[i];
			if (nb == PIPELINE_BATCH || i + 1 == c->n) {
				pipeline_judge_batch(&pl, bp, nb, when, v);
				for (unsigned j = 0; j < nb; j++)
					sum += v[j].reason;
				nb = 0;
			}
		} else if (m == M_CLASSIFY) {
			struct fw_key k;
			struct fw_result r;

			pipeline_fw_key(p, &k);
			fw_classify(pol, &k, &r);
			sum += r.reason;
		} else {
			sum += p->proto;
		}
	}
	if (nb) /* the capture ended on a packet that did not parse */
		pipeline_judge_batch(&pl, bp, nb, when, v);
	t = cpu_now() - t;
	if (m == M_PIPELINE)
		pipeline_fini(&pl);
	*check = sum;
	return t > 0 ? (double)c->n / t : 0;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

/* Load and compile @path: CPU and wall seconds, and the heap bytes they took. */
static struct policy *load(const char *path, double *cpu, double *secs, size_t *heap)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts o = { 0 };
	struct mallinfo2 before = mallinfo2(), after;
	double t = wall_now(), c = cpu_now();
	struct policy *p = policy_load_file(path, &o, &errs);

	if (!p || fw_compile(p) < 0) {
		ll_err_print(&errs, stderr);
		fprintf(stderr, "bench_replay: %s: cannot load or compile\n", path);
		ll_err_free(&errs);
		policy_free(p);
		return NULL;
	}
	*secs = wall_now() - t;
	*cpu = cpu_now() - c;
	after = mallinfo2();
	*heap = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
	ll_err_free(&errs);
	return p;
}

static void row(const char *set, const char *capname, const char *what, double pps, double empty,
		double parse)
{
	printf("%-12s %-4s %-10s %12.0f %8.2f %8.2f\n", set, capname, what, pps,
	       empty > 0 ? pps / empty : 0, parse > 0 ? pps / parse : 0);
}

/* Every capture of @set: parse only, classifier only, empty policy, the set. */
static int bench_set(const char *dir, const char *set, const struct config *cfg, struct policy *empty)
{
	static const char *const caps[] = { "new", "mix" };
	char path[4096];
	double secs, cpu;
	size_t heap;
	struct policy *p;

	snprintf(path, sizeof(path), "%s/%s.rules", dir, set);
	p = load(path, &cpu, &secs, &heap);
	if (!p)
		return -1;
	printf("%-12s compile %.3f s CPU, %.3f s wall (load + fw_compile), heap %.1f MiB, classifier %.1f MiB, %u rules\n",
	       set, cpu, secs, heap / 1048576.0, fw_classifier_bytes(p) / 1048576.0, p->nrules);
	for (size_t i = 0; i < 2; i++) {
		struct capture c;
		uint64_t ck;
		double parse, empty_pps, cls, full;

		if (getenv("BENCH_CAP") && strcmp(getenv("BENCH_CAP"), caps[i]) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s.%s.pcap", dir, set, caps[i]);
		if (cap_load(path, &c) < 0) {
			policy_free(p);
			return -1;
		}
		/*
		 * Three rounds of parse, empty, policy side by side; the best run
		 * of each counts, so that the ratios measure lifeline, not a
		 * neighbour's load on a shared machine (each side gets the same
		 * chances). BENCH_EMPTY_ONLY=1 skips the rule set (profiling).
		 */
		parse = empty_pps = full = 0;
		for (int r = 0; r < 3; r++) {
			parse = max2(parse, run(&c, M_PARSE, NULL, cfg, &ck));
			empty_pps = max2(empty_pps, run(&c, M_PIPELINE, empty, cfg, &ck));
			if (!getenv("BENCH_EMPTY_ONLY"))
				full = max2(full, run(&c, M_PIPELINE, p, cfg, &ck));
		}
		if (getenv("BENCH_EMPTY_ONLY")) {
			row(set, caps[i], "parse", parse, empty_pps, parse);
			row(set, caps[i], "empty", empty_pps, empty_pps, parse);
			cap_free(&c);
			continue;
		}
		cls = run(&c, M_CLASSIFY, p, cfg, &ck);
		row(set, caps[i], "parse", parse, empty_pps, parse);
		row(set, caps[i], "empty", empty_pps, empty_pps, parse);
		row(set, caps[i], "classify", cls, empty_pps, parse);
		row(set, caps[i], "policy", full, empty_pps, parse);
		fflush(stdout);
		cap_free(&c);
	}
	policy_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct policy *empty;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_replay DIR SET...   (DIR/SET.rules, DIR/SET.{new,mix}.pcap)\n");
		return 2;
	}
	config_defaults(&cfg);
	/* max-flows stays at its default (1M): the new-flow capture keeps every flow */
	empty = policy_empty();
	printf("packets/s are per CPU second of one thread; ratios: to the empty policy, to parse only\n");
	printf("%-12s %-4s %-10s %12s %8s %8s\n", "set", "cap", "what", "packets/s", "x empty", "x parse");
	for (int i = 2; i < argc; i++)
		if (bench_set(argv[1], argv[i], &cfg, empty) < 0)
			rc = 1;
	policy_free(empty);
	config_free(&cfg);
	return rc;
}
