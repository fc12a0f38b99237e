/* flow.h - bidirectional flows: the opening packet's decision holds for both ways. */
#ifndef LL_FLOW_H
#define LL_FLOW_H

#include "fw.h"
#include "pkt.h"

enum flow_tcp_state {
	FT_NONE,        /* not TCP */
	FT_SYN_SENT,
	FT_SYN_RECV,
	/*
	 * Simultaneous open (conntrack's SYN_SENT2): the responder answered
	 * the opener's SYN with a bare SYN of its own, which a Linux opener
	 * answers with a SYN-ACK (the "split handshake"). SYN_RECV2: the
	 * opener has acknowledged the responder's SYN, the responder's ACK of
	 * the opener's completes the handshake; the responder's first (the
	 * opener's SYN acknowledged) leads to SYN_RECV as in a three-way one.
	 */
	FT_SYN_SENT2,
	FT_SYN_RECV2,
	FT_ESTABLISHED,
	FT_FIN_WAIT,    /* one side sent FIN */
	FT_CLOSE_WAIT,  /* both sides sent FIN */
	FT_TIME_WAIT,   /* last ACK after both FINs */
	FT_CLOSE,       /* RST seen */
};

/* The flow key, normalised so that both directions find the same flow. */
struct flow_key {
	ll_ip a, b;        /* a <= b */
	uint16_t pa, pb;   /* ports (ICMP echo: id in both) */
	uint8_t proto;
	uint8_t family;
};

/*
 * A flow is two cache lines: the first holds all a later packet of the
 * flow reads, the second what it writes and the rest of its opening packet
 * (the addresses and ports are the key's: flow_orig()). It expires
 * conntrack's timeout for its state after last_us (flow.c).
 */
struct flow {
	/* line 1: read by every packet of the flow */
	struct flow_key key;
	uint64_t last_us;
	uint32_t generation;       /* policy generation the decision was made under */
	uint32_t rule_id;          /* 0: none */
	uint8_t orig_is_a;         /* the opener was side a */
	uint8_t tcp_state;
	uint8_t tcp_bits;          /* FLOW_FIN_SEEN(side), FLOW_END_KNOWN(side), FLOW_HANDSHAKE,
				    * FLOW_FIN_AHEAD(side), FLOW_OPENER_UNREAD; side 0 opener */
	uint8_t accept;
	uint8_t inspect;
	uint8_t reason;            /* enum ll_reason of the decision */
	uint8_t has_rule;
	uint8_t nolog;             /* the deciding deny rule said nolog */
	/* line 2: written by every packet of the flow */
	uint32_t pkts[2];           /* [0] opener->responder, [1] back; stops at UINT32_MAX */
	uint32_t tcp_end[2];        /* TCP: each side's highest sequence number sent, plus one */
	uint64_t bytes[2];
	void *ips;                  /* IPS per-flow state (ips_scan.c owns it: ips_flow_free()) */
	uint32_t rule_idx;          /* the rule's index in the policy (has_rule) */
	/* table links, private to flow.c: indices, not pointers */
	uint32_t lru_prev, lru_next, slot;
	uint8_t ref;                /* used since eviction last passed it (CLOCK) */
	uint8_t offloaded : 1;      /* handed to the kernel: no packets (state, counters) since */
	uint8_t opener_tfo : 1;     /* the opener's SYN tried Fast Open: it takes a SYN-ACK's bytes */
	uint8_t sack_syn : 2;       /* bit per side: its SYN offered SACK (both: negotiated) */
	uint8_t hole : 2;           /* bit per side: it sent past a hole the other has not acked */
	uint8_t unplaced : 1;       /* back from offload, the host's ACK has not named the remote side's end yet */
	/* the opening packet beyond the key, as the firewall saw it (flow_set_orig) */
	uint8_t orig_dir, orig_tcp_flags, orig_icmp_type, orig_icmp_code;
	uint16_t orig_if;           /* its interface, interned by the table; 0: none */
} __attribute__((aligned(64)));

#define FLOW_FIN_SEEN(side) (1u << (side))
#define FLOW_END_KNOWN(side) (4u << (side)) /* tcp_end[side] holds what the side sent */
#define FLOW_HANDSHAKE 16u /* SYN, SYN-ACK, ACK seen: established as Suricata means it */
#define FLOW_FIN_AHEAD(side) (32u << (side)) /* a FIN past a hole: seen once the other side acks it */
#define FLOW_OPENER_UNREAD 128u /* the stack never read the first packet (pkt_tcp_unread()) */

/* The handshake is under way: no side has taken the other's ACK of its SYN yet, or only one. */
static inline bool flow_tcp_opening(const struct flow *f)
{
	return f->tcp_state == FT_SYN_SENT || f->tcp_state == FT_SYN_RECV ||
	       f->tcp_state == FT_SYN_SENT2 || f->tcp_state == FT_SYN_RECV2;
}

/*
 * flow_tcp_unplaced() - is @p from the remote side of a flow back from
 * offload whose end the host's ACK has not named since? Its RST and FIN
 * may be at any number: they end nothing (flow.c, rst_plausible()).
 */
static inline bool flow_tcp_unplaced(const struct flow *f, const struct pkt *p)
{
	return f->unplaced && p->dir != PKT_DIR_OUT;
}

struct flow_table;

/* flow_set_orig() - remember @k, the opening packet of @t's new flow @f as the firewall saw it. */
void flow_set_orig(struct flow_table *t, struct flow *f, const struct fw_key *k);
/*
 * flow_orig() - the opening packet again; k->ifname points into @t, valid
 * while @f lives (@t NULL: k->ifname NULL, for what prints no interface).
 */
void flow_orig(const struct flow_table *t, const struct flow *f, struct fw_key *k);

struct flow_table *flow_table_new(uint64_t max_flows);
void flow_table_free(struct flow_table *t);

/* flow_key_of() - the normalised key of @p; *@src_is_a set to 1 when p's src is side a. */
void flow_key_of(const struct pkt *p, struct flow_key *k, int *src_is_a);

/*
 * flow_lookup() - the live flow @p belongs to, or NULL. Expired flows are
 * removed on the way. *@from_opener is 1 when p travels like the opener.
 */
struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, uint64_t now_us,
			 int *from_opener);
/*
 * flow_create() - open a flow for @p. Evicts a flow when the table is
 * full: the oldest not used since eviction last passed it (CLOCK). Never fails for want of space; NULL on ENOMEM.
 */
struct flow *flow_create(struct flow_table *t, const struct pkt *p, uint64_t now_us);
/*
 * The same two steps for a batch of packets: flow_probe_init() computes a
 * packet's key and hash and starts fetching its bucket, so that the cache
 * misses of a batch overlap; flow_probe_known() says, reading only, whether
 * the flow seems to exist (a hint: it may be stale by the time the packet
 * is judged); the _probe variants of lookup and create then use the hash.
 */
struct flow_probe {
	struct flow_key key;
	uint64_t hash;
	int src_is_a;
	uint32_t hint;      /* the entry flow_probe_known() saw, checked again before use */
	bool absent;        /* set by the caller: known not to be in the table, no lookup */
};
void flow_probe_init(const struct flow_table *t, const struct pkt *p, struct flow_probe *pr);
bool flow_probe_known(const struct flow_table *t, struct flow_probe *pr);
/* flow_prefetch_new() - start fetching the entries the next @n new flows will take. */
void flow_prefetch_new(const struct flow_table *t, unsigned n);
struct flow *flow_lookup_probe(struct flow_table *t, const struct flow_probe *pr,
			       const struct pkt *p, uint64_t now_us, int *from_opener);
struct flow *flow_create_probe(struct flow_table *t, const struct flow_probe *pr,
			       const struct pkt *p, uint64_t now_us);
/* flow_update() - advance TCP state and timeouts after @p passed through @f. */
/*
 * flow_tcp_fin() - @side's FIN reached the receiver (the IPS stream, which
 * holds what the receiver holds, says so): the flow ends as the connection.
 */
void flow_tcp_fin(struct flow *f, int side);
void flow_update(struct flow_table *t, struct flow *f, const struct pkt *p, int from_opener,
		 uint64_t now_us);
/*
 * flow_count() - @p passed through @f, but its receiver drops it (the IPS
 * knows: ips_opening_drops()): its counters and time only, no TCP state.
 */
void flow_count(struct flow *f, const struct pkt *p, int from_opener, uint64_t now_us);
/*
 * flow_lookup_icmp_error() - the flow an ICMP/ICMPv6 error's quoted header
 * belongs to, or NULL; the quoted packet must come from the error's
 * destination, as conntrack requires.
 */
struct flow *flow_lookup_icmp_error(struct flow_table *t, const struct pkt *p, uint64_t now_us);

struct flow_stats {
	uint64_t active, created, evicted, expired;
};
void flow_table_stats(const struct flow_table *t, struct flow_stats *s);
/*
 * flow_sweep() - expire the flows whose time is up among the next share of
 * the table (a walk comes round in ~30 s); at most once every 10 ms of
 * @now_us, cheap when called more often. Creating a flow runs it too.
 */
void flow_sweep(struct flow_table *t, uint64_t now_us);
/*
 * flow_foreach_from() - call @cb for every live flow among the entries
 * [@from, @from + @n), in table order (not on the packet path): returns
 * where to go on, FLOW_FOREACH_DONE at the end (@n UINT32_MAX: the whole
 * table). Between calls the table may change (a visit in pieces, so that
 * the worker owning it waits for one piece, not the whole table): flows
 * made or removed meanwhile may be missed, none is visited twice.
 */
#define FLOW_FOREACH_DONE UINT32_MAX
uint32_t flow_foreach_from(struct flow_table *t, uint32_t from, uint32_t n,
			   void (*cb)(void *arg, struct flow *f), void *arg);
void flow_remove(struct flow_table *t, struct flow *f);

#endif
