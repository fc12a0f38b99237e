/*
 * bench_classify.c - the classifier alone: ns per fw_classify_batch() lookup
 * in batches of 16, the keys built first from a capture; with DISTINCT
 * keys cycled, so that the share of a lookup that is cache misses shows
 * (1 key: everything in L1, what is left is instructions).
 * usage: bench_classify RULES PCAP [DISTINCT]   (not run by make bench)
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "pipeline.h"
#include "pkt.h"
#include "policy.h"
#include "replay.h"
#include "bench_clock.h"

#define MAX_KEYS (1u << 21)
#define BATCH 16

/* The firewall keys of the packets of @path that parse; their number, or 0. */
static size_t load_keys(const char *path, struct fw_key *keys)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t n = 0;

	if (!pc) {
		fprintf(stderr, "bench_classify: %s\n", err);
		return 0;
	}
	while (n < MAX_KEYS && pcap_next_ex(pc, &h, &d) == 1) {
		struct pkt p;
		enum ll_reason why;
		bool group;
		int ifindex, off = replay_l3_offset(pcap_datalink(pc), d, h->caplen, &ifindex, &group);

		memset(&p, 0, sizeof(p));
		if (off < 0 || pkt_parse(&p, d + off, h->caplen - (uint32_t)off, &why) < 0)
			continue;
		p.dir = PKT_DIR_IN;
		pipeline_fw_key(&p, &keys[n++]); /* no ifname: nothing points into the capture */
	}
	pcap_close(pc);
	return n;
}

int main(int argc, char **argv)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts o = { 0 };
	struct fw_result res[BATCH];
	struct fw_key *keys = calloc(MAX_KEYS, sizeof(*keys));
	const struct fw_key **kp = calloc(MAX_KEYS, sizeof(*kp));
	struct policy *p;
	size_t n, distinct;
	double best = 0;
	uint64_t sum = 0;

	if (argc < 3 || !keys || !kp) {
		fprintf(stderr, "usage: bench_classify RULES PCAP [DISTINCT]\n");
		return 2;
	}
	p = policy_load_file(argv[1], &o, &errs);
	if (!p || fw_compile(p) < 0) {
		ll_err_print(&errs, stderr);
		return 1;
	}
	n = load_keys(argv[2], keys);
	distinct = argc > 3 ? strtoul(argv[3], NULL, 10) : n;
	if (!n || !distinct || distinct > n)
		return fprintf(stderr, "bench_classify: no keys, or DISTINCT not in 1..%zu\n", n), 1;
	for (size_t i = 0; i < n; i++)
		kp[i] = &keys[i % distinct];
	for (int r = 0; r < 5; r++) { /* best of 5: the machine may be shared */
		double t = cpu_now();

		for (size_t i = 0; i < n; i += BATCH) {
			unsigned m = n - i < BATCH ? (unsigned)(n - i) : BATCH;

			fw_classify_batch(p, kp + i, m, res);
			for (unsigned j = 0; j < m; j++)
				sum += res[j].reason;
		}
		t = cpu_now() - t;
		best = r == 0 || t < best ? t : best;
	}
	printf("%s: %zu lookups (%zu distinct keys), best of 5: %.1f ns per lookup (check %llu)\n",
	       argv[1], n, distinct, best * 1e9 / (double)n, (unsigned long long)sum);
	ll_err_free(&errs);
	policy_free(p);
	free(keys);
	free(kp);
	return 0;
}
