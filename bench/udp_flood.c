/*
 * udp_flood.c - the live benchmark's UDP sender: sendmmsg of small
 * datagrams to one address at full rate, spread over FLOWS source ports,
 * until SECONDS have passed or PACKETS were sent. Prints what it sent.
 *
 *   udp_flood -d ADDR [-p PORT] [-s SPORT] [-f FLOWS] [-l BYTES] -t SECONDS -n PACKETS
 *
 * Flows take turns a batch at a time, so every flow stays busy and none is
 * the one flow an offloading filter could wave through alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_BATCH 64
#define FLOOD_MAX_FLOWS 1024

struct flood {
	struct sockaddr_in dst;
	int sport, flows, len;
	double secs;
	unsigned long long max;
	int fd[FLOOD_MAX_FLOWS];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: udp_flood -d ADDR [-p PORT] [-s SPORT] [-f FLOWS] [-l BYTES] "
			"-t SECONDS -n PACKETS\n");
	return 2;
}

/* One connected socket per flow, bound to its own source port. */
static int open_flow(const struct flood *f, int i)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(f->sport + i)) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (const struct sockaddr *)&f->dst, sizeof(f->dst)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int parse_args(struct flood *f, int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:p:s:f:l:t:n:")) != -1) {
		switch (opt) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &f->dst.sin_addr) != 1)
				return -1;
			break;
		case 'p': f->dst.sin_port = htons((uint16_t)atoi(optarg)); break;
		case 's': f->sport = atoi(optarg); break;
		case 'f': f->flows = atoi(optarg); break;
		case 'l': f->len = atoi(optarg); break;
		case 't': f->secs = atof(optarg); break;
		case 'n': f->max = strtoull(optarg, NULL, 10); break;
		default: return -1;
		}
	}
	/* both bounds are required: a benchmark load never runs open-ended */
	if (!f->dst.sin_addr.s_addr || f->secs <= 0 || !f->max || f->flows < 1 ||
	    f->flows > FLOOD_MAX_FLOWS || f->sport < 1 || f->sport + f->flows > 65536 ||
	    f->len < 1 || f->len > 1472)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct flood f = { .dst = { .sin_family = AF_INET, .sin_port = htons(9) },
			   .sport = 20000, .flows = 32, .len = 64 };
	static char payload[1472];
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iov = { .iov_base = payload };
	unsigned long long sent = 0, errs = 0;
	double t0, t;

	if (parse_args(&f, argc, argv) < 0)
		return usage();
	for (int i = 0; i < f.flows; i++) {
		f.fd[i] = open_flow(&f, i);
		if (f.fd[i] < 0) {
			fprintf(stderr, "udp_flood: flow %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	memset(payload, 'x', sizeof(payload));
	iov.iov_len = (size_t)f.len;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < FLOOD_BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = t = now_s();
	for (int i = 0; sent < f.max && t - t0 < f.secs; i = (i + 1) % f.flows) {
		unsigned want = f.max - sent < FLOOD_BATCH ? (unsigned)(f.max - sent) : FLOOD_BATCH;
		int n = sendmmsg(f.fd[i], msgs, want, 0);

		/* a full device queue is back-pressure, not a failure: try the next flow */
		if (n < 0)
			errs++;
		else
			sent += (unsigned)n;
		t = now_s();
	}
	t -= t0;
	printf("sent %llu seconds %.3f rate %.0f pps flows %d bytes %d errors %llu\n", sent, t,
	       t > 0 ? (double)sent / t : 0, f.flows, f.len, errs);
	return 0;
}
