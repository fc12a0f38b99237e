/* nfq.c - NFQUEUE on libmnl: acknowledged config, recvmmsg batches, run-length batch verdicts. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq.h"

#define NFQ_BATCH 32            /* datagrams per recvmmsg */
#define NFQ_RBUF (65536 + 4096) /* one GSO packet plus its attributes */
#define NFQ_VBUF 8192           /* verdict messages sent in one sendmsg */
#define NFQ_VMSG 64             /* room one verdict message needs */

struct nfqueue_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t qnum;
	uint32_t seq;
	uint8_t *rbuf;
	struct mmsghdr msgs[NFQ_BATCH];
	struct iovec iov[NFQ_BATCH];
	/* the run of equal verdicts not yet written to vbuf */
	bool run;
	uint32_t run_first, run_last;
	int run_verdict;
	int64_t run_mark;
	char vbuf[NFQ_VBUF];
	size_t vlen;
	/*
	 * Packet ids: the kernel numbers each packet it sends us (++id_sequence
	 * under the queue lock, just before nfnetlink_unicast()), so the socket
	 * holds them in order. A gap is a packet the send failed for (socket
	 * buffer full): with fail-open the kernel passed it unjudged and counts
	 * nothing (__nfqnl_enqueue_packet()); else it is queue_user_dropped.
	 */
	uint32_t last_id;
	_Atomic uint64_t gaps;
};

static void note_id(struct nfqueue_sock *q, uint32_t id)
{
	int32_t d = (int32_t)(id - q->last_id); /* ids wrap at 2^32 */

	if (d <= 0) /* not newer: nothing to learn */
		return;
	if (d > 1)
		atomic_fetch_add_explicit(&q->gaps, (uint64_t)(d - 1), memory_order_relaxed);
	q->last_id = id;
}

uint64_t nfqueue_undelivered(const struct nfqueue_sock *q)
{
	return atomic_load_explicit(&q->gaps, memory_order_relaxed);
}

int nfqueue_fd(const struct nfqueue_sock *q) { return mnl_socket_get_fd(q->nl); }
uint16_t nfqueue_num(const struct nfqueue_sock *q) { return q->qnum; }

static int nfqueue_sockopts(struct nfqueue_sock *q, int rcvbuf)
{
	int fd = mnl_socket_get_fd(q->nl), one = 1;

	/*
	 * Without NO_ENOBUFS a full socket buffer makes the next recv fail with
	 * ENOBUFS; the kernel counts those losses itself (queue_user_dropped),
	 * which is where nfqueue_kernel_stats() reads them.
	 */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
		return -errno;
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		return -errno;
	return 0;
}

/* The whole configuration in one message, so no packet sees a half-set queue. */
static struct nlmsghdr *nfqueue_config_msg(struct nfqueue_sock *q, char *buf, const struct nfqueue_opts *o)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->qnum);
	uint32_t flags = NFQA_CFG_F_GSO | (o->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++q->seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)o->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, o->maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return nlh;
}

/*
 * Packets may arrive between the bind and its acknowledgement; they are
 * not judged here but sent round again with NF_REPEAT (no mark), which
 * queues them anew after we are ready.
 */
static int nfqueue_wait_ack(struct nfqueue_sock *q, uint32_t seq)
{
	char buf[NFQ_RBUF];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == seq) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				return e->error;
			}
			if ((nlh->nlmsg_type & 0xff) == NFQNL_MSG_PACKET) {
				struct nlattr *a[NFQA_MAX + 1] = { 0 };
				struct nfqnl_msg_packet_hdr *ph;

				if (nfq_nlmsg_parse(nlh, a) < 0 || !a[NFQA_PACKET_HDR])
					continue;
				ph = mnl_attr_get_payload(a[NFQA_PACKET_HDR]);
				note_id(q, ntohl(ph->packet_id));
				nfqueue_verdict(q, ntohl(ph->packet_id), NFQUEUE_REPEAT, -1);
			}
		}
	}
}

int nfqueue_open(struct nfqueue_sock **out, uint16_t qnum, const struct nfqueue_opts *o)
{
	char buf[8192] = { 0 }; /* attribute padding goes to the kernel as zeroes */
	struct nfqueue_sock *q = calloc(1, sizeof(*q));
	struct nlmsghdr *nlh;
	int err;

	if (!q)
		return -ENOMEM;
	q->qnum = qnum;
	q->rbuf = malloc((size_t)NFQ_BATCH * NFQ_RBUF);
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->rbuf || !q->nl) {
		err = q->nl ? -ENOMEM : -errno;
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	err = nfqueue_sockopts(q, o->rcvbuf);
	if (err)
		goto fail;
	nlh = nfqueue_config_msg(q, buf, o);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto fail;
	}
	err = nfqueue_wait_ack(q, nlh->nlmsg_seq);
	if (!err)
		err = nfqueue_flush(q);
	if (err)
		goto fail;
	for (int i = 0; i < NFQ_BATCH; i++) {
		q->iov[i].iov_base = q->rbuf + (size_t)i * NFQ_RBUF;
		q->iov[i].iov_len = NFQ_RBUF;
	}
	*out = q;
	return 0;
fail:
	nfqueue_close(q);
	return err;
}

void nfqueue_close(struct nfqueue_sock *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->rbuf);
	free(q);
}

static void nfqueue_fill(struct nfqueue_pkt *p, struct nlattr **a)
{
	const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(a[NFQA_PACKET_HDR]);

	memset(p, 0, sizeof(*p));
	p->id = ntohl(ph->packet_id);
	p->hw_proto = ntohs(ph->hw_protocol);
	p->hook = ph->hook;
	if (a[NFQA_MARK]) {
		p->has_mark = true;
		p->mark = ntohl(mnl_attr_get_u32(a[NFQA_MARK]));
	}
	if (a[NFQA_IFINDEX_INDEV])
		p->indev = ntohl(mnl_attr_get_u32(a[NFQA_IFINDEX_INDEV]));
	if (a[NFQA_IFINDEX_OUTDEV])
		p->outdev = ntohl(mnl_attr_get_u32(a[NFQA_IFINDEX_OUTDEV]));
	if (a[NFQA_SKB_INFO])
		p->skbinfo = ntohl(mnl_attr_get_u32(a[NFQA_SKB_INFO]));
	if (a[NFQA_PAYLOAD]) {
		p->data = mnl_attr_get_payload(a[NFQA_PAYLOAD]);
		p->caplen = mnl_attr_get_payload_len(a[NFQA_PAYLOAD]);
	}
	/* NFQA_CAP_LEN is present only when the copy was cut short. */
	p->len = a[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(a[NFQA_CAP_LEN])) : p->caplen;
}

static int nfqueue_parse_dgram(struct nfqueue_sock *q, const uint8_t *buf, int len,
			   void (*cb)(void *arg, const struct nfqueue_pkt *p), void *arg)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int n = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct nlattr *a[NFQA_MAX + 1] = { 0 };
		struct nfqueue_pkt p;

		/* NLMSG_ERROR here answers a verdict for a packet already gone. */
		if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE ||
		    (nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET)
			continue;
		if (nfq_nlmsg_parse(nlh, a) < 0 || !a[NFQA_PACKET_HDR])
			continue;
		nfqueue_fill(&p, a);
		note_id(q, p.id);
		cb(arg, &p);
		n++;
	}
	return n;
}

int nfqueue_recv_batch(struct nfqueue_sock *q, bool nonblock,
		   void (*cb)(void *arg, const struct nfqueue_pkt *p), void *arg)
{
	int fd = mnl_socket_get_fd(q->nl), n, pkts = 0;

	for (int i = 0; i < NFQ_BATCH; i++) {
		memset(&q->msgs[i].msg_hdr, 0, sizeof(q->msgs[i].msg_hdr));
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, q->msgs, NFQ_BATCH, nonblock ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	for (int i = 0; i < n; i++)
		pkts += nfqueue_parse_dgram(q, q->iov[i].iov_base, (int)q->msgs[i].msg_len, cb, arg);
	return pkts;
}

static int nfqueue_send(struct nfqueue_sock *q)
{
	ssize_t n;

	if (!q->vlen)
		return 0;
	n = mnl_socket_sendto(q->nl, q->vbuf, q->vlen);
	q->vlen = 0;
	return n < 0 ? -errno : 0;
}

/* Write the pending run as one VERDICT (one packet) or VERDICT_BATCH message. */
static int nfqueue_emit_run(struct nfqueue_sock *q)
{
	struct nlmsghdr *nlh;
	int type;
	int err = 0;

	if (!q->run)
		return 0;
	if (q->vlen + NFQ_VMSG > sizeof(q->vbuf))
		err = nfqueue_send(q);
	type = q->run_first == q->run_last ? NFQNL_MSG_VERDICT : NFQNL_MSG_VERDICT_BATCH;
	nlh = nfq_nlmsg_put(q->vbuf + q->vlen, type, q->qnum);
	nfq_nlmsg_verdict_put(nlh, (int)q->run_last, q->run_verdict);
	if (q->run_mark >= 0)
		nfq_nlmsg_verdict_put_mark(nlh, (uint32_t)q->run_mark);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	q->run = false;
	return err;
}

int nfqueue_verdict(struct nfqueue_sock *q, uint32_t id, int verdict, int64_t mark)
{
	int err = 0;

	if (q->run && q->run_verdict == verdict && q->run_mark == mark) {
		q->run_last = id;
		return 0;
	}
	err = nfqueue_emit_run(q);
	q->run = true;
	q->run_first = q->run_last = id;
	q->run_verdict = verdict;
	q->run_mark = mark;
	return err;
}

int nfqueue_flush(struct nfqueue_sock *q)
{
	int err = nfqueue_emit_run(q);
	int err2 = nfqueue_send(q);

	return err ? err : err2;
}

int nfqueue_kernel_stats(uint16_t qnum, struct nfqueue_kstats *s)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned v[9];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%u %u %u %u %u %u %u %u %u", &v[0], &v[1], &v[2], &v[3], &v[4],
		      &v[5], &v[6], &v[7], &v[8]) == 9) {
		if (v[0] != qnum)
			continue;
		s->waiting = v[2];
		s->dropped = v[5];
		s->user_dropped = v[6];
		s->id_seq = v[7];
		err = 0;
		break;
	}
	fclose(f);
	return err;
}
