/* frag.h - IPv4/IPv6 reassembly the way the kernel's defrag does before NFQUEUE. */
#ifndef LL_FRAG_H
#define LL_FRAG_H

#include "pkt.h"

struct frag_table;

struct frag_limits {
	uint64_t max_bytes;   /* memory bound for held fragments (kernel: 4 MiB high thresh) */
	uint32_t timeout_us;  /* kernel: 30 s */
};

enum frag_status {
	FRAG_HELD,     /* kept; wait for more */
	FRAG_DONE,     /* a whole datagram is ready in out->buf */
	FRAG_DROPPED,  /* the queue was dropped: *why says why; frames listed */
};

struct frag_result {
	enum frag_status status;
	enum ll_reason why;
	uint8_t *buf;            /* reassembled datagram (owned by the table until next call) */
	uint32_t len;
	uint32_t caplen;         /* bytes of buf really captured (a snaplen-cut fragment leaves
				  * zeros after them): pkt_parse_wire(buf, caplen, len) */
	const uint64_t *cookies; /* the frames that made (or were in) the datagram, in arrival order */
	uint32_t ncookies;
};

/*
 * frag_new() - an empty table; zero limits take the kernel's defaults (4 MiB,
 * 30 s). NULL with errno ENOMEM. frag_free() drops everything unreported.
 */
struct frag_table *frag_new(const struct frag_limits *lim);
void frag_free(struct frag_table *t);
/*
 * frag_add() - add the fragment @p (pkt_parse()d, p->is_frag set) seen at
 * @now_us with @cookie. Returns status in @res:
 *  FRAG_HELD: kept (a duplicate the kernel would free is kept too: its cookie
 *    joins the datagram's list, as it shares the datagram's fate);
 *  FRAG_DONE: res->buf holds the whole datagram (IPv4 header: total length,
 *    MF/offset cleared, checksum; IPv6: fragment header removed, payload
 *    length and next header fixed); cookies of every frame, arrival order;
 *  FRAG_DROPPED: why = R_FRAG_OVERLAP, R_FRAG_TOO_BIG, R_FRAG_LIMIT or
 *    R_BAD_FRAG with the queue's cookies, or with only @cookie when the kernel
 *    drops that fragment alone (zero length, past the last fragment, IPv6 end
 *    past 65535) and the queue waits on.
 * A packet with is_frag == 0 (an IPv6 atomic fragment included) comes back
 * FRAG_DONE at once, an atomic fragment without its fragment header.
 * Not thread-safe: one table per worker.
 */
void frag_add(struct frag_table *t, const struct pkt *p, uint64_t now_us, uint64_t cookie,
	      struct frag_result *res);
/*
 * frag_v6_thdr_truncated() - is @p an IPv6 first fragment without all its
 * headers through the upper-layer one (RFC 8200 section 4.5)? Linux's
 * conntrack defrag (nf_ct_frag6_gather(), ipv6frag_thdr_truncated())
 * does not queue such a fragment: it goes on alone, unassembled, and the
 * later fragments wait for a first one until they time out.
 */
bool frag_v6_thdr_truncated(const struct pkt *p);
/*
 * frag_set_drop_cb() - queues that frag_add() drops besides the one it reports
 * (the oldest ones evicted for the memory bound, R_FRAG_LIMIT; a timed-out
 * queue met again, R_FRAG_TIMEOUT) are passed to @cb from inside frag_add().
 * Without a callback they are reported by the next frag_expire().
 */
void frag_set_drop_cb(struct frag_table *t, void (*cb)(void *arg, const struct frag_result *res),
		      void *arg);
/*
 * frag_expire() - drop queues older than the timeout at @now_us (or all of
 * them when @all). Calls @cb once per dropped queue with its cookies.
 */
void frag_expire(struct frag_table *t, uint64_t now_us, int all,
		 void (*cb)(void *arg, const struct frag_result *res), void *arg);

#endif
