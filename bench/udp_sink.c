/*
 * udp_sink.c - the live benchmark's UDP receiver: holds a port so that the
 * flood is delivered to a socket (no ICMP port-unreachable storm), and
 * counts what reached it. Counting is the kernel's: every datagram that
 * passed the filter is either queued to the socket (counted in Udp
 * InDatagrams when read) or dropped at its full buffer (RcvbufErrors). The
 * sink reads only at the end, so the flood costs the agent no reading CPU,
 * and then drains the socket: the sum of the two deltas in this namespace's
 * /proc/net/snmp is then exactly what got through. With -r it reads all
 * along (recvmmsg), like a real receiver, which costs a CPU.
 *
 *   udp_sink [-p PORT] [-r] -t SECONDS
 *
 * Prints "delivered N read M seconds S" at the end (SIGTERM ends it early).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_BATCH 64

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* InDatagrams + RcvbufErrors of this namespace, or -1. */
static long long udp_delivered(void)
{
	FILE *f = fopen("/proc/net/snmp", "re");
	char head[1024], vals[1024];
	long long r = -1;

	if (!f)
		return -1;
	while (fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)) {
		char *hs, *vs, *h = strtok_r(head, " \n", &hs), *v = strtok_r(vals, " \n", &vs);
		long long in = -1, rcvbuf = -1;

		if (!h || strcmp(h, "Udp:"))
			continue;
		while ((h = strtok_r(NULL, " \n", &hs)) && (v = strtok_r(NULL, " \n", &vs))) {
			if (!strcmp(h, "InDatagrams"))
				in = atoll(v);
			else if (!strcmp(h, "RcvbufErrors"))
				rcvbuf = atoll(v);
		}
		if (in >= 0 && rcvbuf >= 0)
			r = in + rcvbuf;
		break;
	}
	fclose(f);
	return r;
}

static int open_sink(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	/* the default buffer: what waits in it unread is counted by the last drain */
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read whatever is queued; returns datagrams read. */
static unsigned long long drain(int fd)
{
	static char bufs[SINK_BATCH][2048];
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	unsigned long long n = 0;
	int r;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < SINK_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while ((r = recvmmsg(fd, msgs, SINK_BATCH, MSG_DONTWAIT, NULL)) > 0)
		n += (unsigned)r;
	return n;
}

int main(int argc, char **argv)
{
	unsigned long long nread = 0;
	long long d0, d1;
	double secs = 0, t0;
	int port = 9, rd = 0, opt, fd;

	while ((opt = getopt(argc, argv, "p:rt:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'r': rd = 1; break;
		case 't': secs = atof(optarg); break;
		default: goto usage;
		}
	}
	if (secs <= 0)
		goto usage;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = open_sink(port);
	if (fd < 0) {
		fprintf(stderr, "udp_sink: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	d0 = udp_delivered();
	fprintf(stderr, "udp_sink: ready on port %d\n", port);
	t0 = now_s();
	while (!stop && now_s() - t0 < secs) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (!rd) {
			poll(NULL, 0, 100);
			continue;
		}
		if (poll(&p, 1, 100) > 0)
			nread += drain(fd);
	}
	nread += drain(fd);
	d1 = udp_delivered();
	printf("delivered %lld read %llu seconds %.3f\n", d0 < 0 || d1 < 0 ? -1 : d1 - d0, nread,
	       now_s() - t0);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: udp_sink [-p PORT] [-r] -t SECONDS\n");
	return 2;
}
