/*
 * nfq_min.c - the floor for the NFQUEUE benchmark: accept every packet of
 * one queue with the engine's own I/O (batched receive, batch verdicts),
 * no parsing, no judging. Prints packets and rate when done.
 *
 *   nfq_min [-q QUEUE] [-n PACKETS] [-t SECONDS]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfq.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

struct ctx {
	struct nfqueue_sock *q;
	unsigned long long n;
};

static void accept_all(void *arg, const struct nfqueue_pkt *p)
{
	struct ctx *c = arg;

	nfqueue_verdict(c->q, p->id, NFQUEUE_ACCEPT, -1);
	c->n++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct nfqueue_opts o = { .fail_open = true, .maxlen = 8192, .copy_range = 0xffff,
				  .rcvbuf = 16 << 20 };
	unsigned long long max = 0;
	struct ctx c = { 0 };
	double secs = 0, t0;
	int qnum = 0, opt, err;

	while ((opt = getopt(argc, argv, "q:n:t:")) != -1) {
		switch (opt) {
		case 'q': qnum = atoi(optarg); break;
		case 'n': max = strtoull(optarg, NULL, 10); break;
		case 't': secs = atof(optarg); break;
		default:
			fprintf(stderr, "usage: nfq_min [-q QUEUE] [-n PACKETS] [-t SECONDS]\n");
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = nfqueue_open(&c.q, (uint16_t)qnum, &o);
	if (err) {
		fprintf(stderr, "nfq_min: queue %d: %s\n", qnum, strerror(-err));
		return 1;
	}
	fprintf(stderr, "nfq_min: ready on queue %d\n", qnum);
	t0 = now_s();
	while (!stop && (!max || c.n < max) && (!secs || now_s() - t0 < secs)) {
		struct pollfd pfd = { .fd = nfqueue_fd(c.q), .events = POLLIN };

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while (nfqueue_recv_batch(c.q, true, accept_all, &c) > 0)
			nfqueue_flush(c.q);
	}
	t0 = now_s() - t0;
	printf("packets %llu seconds %.3f rate %.0f pps\n", c.n, t0, t0 > 0 ? (double)c.n / t0 : 0);
	nfqueue_close(c.q);
	return 0;
}
