/* nfq.h - one NFQUEUE queue over libmnl: bind, batched receive, (batch) verdicts. */
#ifndef LL_NFQ_H
#define LL_NFQ_H

#include <stdbool.h>
#include <stdint.h>

/* Verdicts as the kernel numbers them (linux/netfilter.h). */
enum {
	NFQUEUE_DROP = 0,
	NFQUEUE_ACCEPT = 1,
	NFQUEUE_REPEAT = 4,
};

struct nfqueue_opts {
	bool fail_open;      /* NFQA_CFG_F_FAIL_OPEN: queue full -> accept */
	uint32_t maxlen;     /* kernel queue length (NFQA_CFG_QUEUE_MAXLEN) */
	uint32_t copy_range; /* bytes copied per packet */
	int rcvbuf;          /* socket receive buffer, bytes */
};

/* One packet as NFQUEUE handed it over; pointers into the receive buffer. */
struct nfqueue_pkt {
	uint32_t id;
	uint16_t hw_proto;   /* ETH_P_IP / ETH_P_IPV6, host order */
	uint8_t hook;        /* NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, ... */
	bool has_mark;
	uint32_t mark;
	uint32_t indev, outdev;
	uint32_t skbinfo;    /* NFQA_SKB_* */
	const uint8_t *data;
	uint32_t caplen;     /* bytes in data */
	uint32_t len;        /* packet length (NFQA_CAP_LEN when cut short) */
};

struct nfqueue_sock;

/*
 * nfqueue_open() - bind queue @qnum in this network namespace: copy-packet mode,
 * GSO and FAIL_OPEN (per @o) in one FLAGS attribute with its MASK, queue
 * length, NETLINK_NO_ENOBUFS and an explicit receive buffer. Every config
 * message is acknowledged, so a queue held by another process fails here
 * with -EBUSY instead of silently later. Returns 0 and *@out, or -errno.
 */
int nfqueue_open(struct nfqueue_sock **out, uint16_t qnum, const struct nfqueue_opts *o);
void nfqueue_close(struct nfqueue_sock *q);
/* nfqueue_fd() - the socket, for poll(). */
int nfqueue_fd(const struct nfqueue_sock *q);
uint16_t nfqueue_num(const struct nfqueue_sock *q);

/*
 * nfqueue_recv_batch() - receive what is waiting (up to the batch size; blocks
 * for the first datagram unless @nonblock) and call @cb for every packet in
 * kernel order. The packet's memory is valid only during the call.
 * Returns the number of packets, 0 when nothing was waiting (nonblock),
 * or -errno (-EINTR when a signal came).
 */
int nfqueue_recv_batch(struct nfqueue_sock *q, bool nonblock,
		   void (*cb)(void *arg, const struct nfqueue_pkt *p), void *arg);

/*
 * nfqueue_verdict() - queue a verdict for packet @id; consecutive calls with the
 * same verdict and mark are merged into one NFQNL_MSG_VERDICT_BATCH (which
 * covers every packet with an id up to the last, so verdicts must come in
 * receive order). @mark < 0: leave the packet's mark alone. Sends when the
 * buffer fills; call nfqueue_flush() at the end of a batch. 0 or -errno.
 */
int nfqueue_verdict(struct nfqueue_sock *q, uint32_t id, int verdict, int64_t mark);
int nfqueue_flush(struct nfqueue_sock *q);
/*
 * nfqueue_undelivered() - packets the kernel numbered for this queue but
 * could not send to the socket (its buffer full), seen as gaps in the ids:
 * with fail-open passed unjudged (the kernel counts those nowhere), else
 * dropped (queue_user_dropped). Any thread may ask.
 */
uint64_t nfqueue_undelivered(const struct nfqueue_sock *q);

/* Kernel counters of /proc/net/netfilter/nfnetlink_queue for one queue. */
struct nfqueue_kstats {
	uint32_t waiting;      /* queue_total */
	uint32_t dropped;      /* queue full (accepted instead with fail-open) */
	uint32_t user_dropped; /* could not be sent to us (socket buffer full) */
	uint32_t id_seq;
};
/* nfqueue_kernel_stats() - 0, -ENOENT when @qnum is not bound, or -errno. */
int nfqueue_kernel_stats(uint16_t qnum, struct nfqueue_kstats *s);

#endif
