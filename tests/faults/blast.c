/* blast.c - bounded UDP load for the faults suite: N datagrams, at most S seconds, paced or flat out. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#define BATCH 32
#define MAXSOCK 64

/*
 * usage: blast DST PORT COUNT SECONDS PPS SOCKETS
 * PPS 0: as fast as the kernel takes them. Each socket is its own flow
 * (its own source port). Sockets are non-blocking with a large send
 * buffer, so a stopped engine holding our packets in its queue cannot
 * stall us: a datagram the kernel does not take is counted as refused,
 * never retried. Prints "sent N refused M seconds S" on stdout: N is
 * what the kernel took (the test's count of packets offered).
 */
static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int open_socks(int *fd, int n)
{
	int big = 64 << 20;

	for (int i = 0; i < n; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fd[i] < 0)
			return -1;
		/* SNDBUFFORCE: root only; plain SNDBUF is capped, which is fine for paced runs */
		if (setsockopt(fd[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
			setsockopt(fd[i], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr m[BATCH];
	struct iovec iov = { 0 };
	char payload[64];
	long count, sent = 0, refused = 0, pps;
	double secs, t0, end;
	int fd[MAXSOCK], nsock;

	if (argc != 7 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: blast DST PORT COUNT SECONDS PPS SOCKETS\n");
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	count = atol(argv[3]);
	secs = atof(argv[4]);
	pps = atol(argv[5]);
	nsock = atoi(argv[6]);
	if (nsock < 1 || nsock > MAXSOCK || open_socks(fd, nsock) < 0) {
		perror("blast: socket");
		return 1;
	}
	memset(payload, 'x', sizeof(payload));
	iov.iov_base = payload;
	iov.iov_len = sizeof(payload);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_name = &dst;
		m[i].msg_hdr.msg_namelen = sizeof(dst);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	end = t0 + secs;
	for (long b = 0; sent + refused < count && now() < end; b++) {
		int want = count - sent - refused < BATCH ? (int)(count - sent - refused) : BATCH;
		int n = sendmmsg(fd[b % nsock], m, (unsigned)want, 0);

		/* a refused datagram (EAGAIN, ENOBUFS, EPERM) is one attempt: bounded either way */
		if (n < 0)
			n = 0, refused++;
		sent += n;
		if (n < want && n > 0)
			refused++;
		if (pps > 0) {
			double due = t0 + (double)(sent + refused) / (double)pps;
			double d = due - now();

			if (d > 0)
				usleep((useconds_t)(d * 1e6));
		}
	}
	printf("sent %ld refused %ld seconds %.2f\n", sent, refused, now() - t0);
	return 0;
}
