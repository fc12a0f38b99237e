/*
 * hooks.h - the engine's kernel rules: skip loopback, offloaded flows, the
 * kernel copy of the lifeline, then the queue rule. nft where the kernel has
 * the nft queue expression, iptables + ipset otherwise.
 */
#ifndef LL_HOOKS_H
#define LL_HOOKS_H

#include <stdio.h>
#include "config.h"

enum hooks_backend {
	HOOKS_AUTO,     /* nft when the kernel has nft queue, else iptables */
	HOOKS_NFT,
	HOOKS_IPTABLES,
	HOOKS_BOTH,     /* hooks_print() only: both backends, for golden tests */
};

/* Names the engine owns; nothing else is ever touched. */
#define HOOKS_NFT_TABLE "lifeline"          /* table inet lifeline */
/*
 * iptables: the chains live in the mangle table, jumped to first from INPUT
 * and OUTPUT. There an ACCEPT (lifeline, offloaded flows, the engine's
 * verdict) ends only the mangle table's walk, and the host's own filter
 * rules (ufw, docker, fail2ban) still see every packet; in the filter table
 * it would end theirs too. REJECT works only in the filter table: the
 * packets the engine marks for an IPS reject jump there to one more chain.
 */
#define HOOKS_IPT_TABLE "mangle"
#define HOOKS_IPT_IN "LIFELINE-IN"          /* mangle chain jumped to first from INPUT */
#define HOOKS_IPT_OUT "LIFELINE-OUT"        /* ... and from OUTPUT */
#define HOOKS_IPT_SAVE "LIFELINE-SAVE"      /* mangle: an offloaded packet's generation to its connmark */
#define HOOKS_IPT_REJECT_IN "LIFELINE-REJECT-IN"   /* filter chain: IPS rejects, from INPUT */
#define HOOKS_IPT_REJECT_OUT "LIFELINE-REJECT-OUT" /* ... from OUTPUT */
#define HOOKS_IPT_CLEAR "LIFELINE-CLEAR"    /* raw: our mark bits cleared from what the host sends */
#define HOOKS_SET_PREFIX "lifeline-"        /* ipset names: lifeline-mgr4, -mgr6, -dns4, -dns6 */
#define HOOKS_NFLOG_GROUP 4118              /* NFLOG copies of DHCP replies and heartbeats */
/*
 * Heartbeat packets are accepted by the kernel lifeline before the queue,
 * so the engine sees them through rate-limited NFLOG copies; the prefix
 * says which chain (direction) copied them.
 */
#define HOOKS_HB_PREFIX_IN "hb-in"
#define HOOKS_HB_PREFIX_OUT "hb-out"
#define HOOKS_HB_LOG_RATE 10u               /* copies per second per rule, */
#define HOOKS_HB_LOG_BURST 20u              /* after a burst of this many */
/*
 * Offload marks: the generation lives in these packet-mark / connmark bits,
 * so other tools' mark bits are left alone. Generation 0 means "not offloaded".
 */
#define HOOKS_MARK_MASK 0x7f000000u
#define HOOKS_MARK_SHIFT 24
#define HOOKS_GEN_MAX 126u
/*
 * All mark bits set is never a generation: a packet returned with it
 * (NF_REPEAT) is rejected by the kernel rules - TCP RST, else ICMP port
 * unreachable - so that an IPS `reject` answers with the kernel's own packet.
 */
#define HOOKS_REJECT_GEN 127u
/*
 * The input chains' last rule before the queue: TCP that came in a
 * link-layer broadcast or multicast frame is never queued. Linux TCP
 * discards it after this hook (tcp_v4_rcv()/tcp_v6_rcv(): pkt_type !=
 * PACKET_HOST), but queued, the flow table and the IPS stream took it:
 * anyone on the link sent a decoy copy of a segment's bytes, or a RST
 * that ended the streams, to ff:ff:ff:ff:ff:ff, then the real segment,
 * and the signature went unseen. Handed on unjudged rather than dropped:
 * the host discards it either way, a drop of ours would be one the engine
 * neither decides nor counts, and a kernel that ever took such a segment
 * must not find lifeline cutting it off. UDP and ICMP (DHCP, ND) are
 * untouched, and with them everything lifeline judges in such frames.
 */
#define HOOKS_IPT_NOT_UNICAST "-p tcp -m pkttype ! --pkt-type unicast -j RETURN"
#define HOOKS_NFT_NOT_UNICAST "meta l4proto tcp meta pkttype != host accept"
/*
 * The output chains' last rule before the queue: the TCP RST the kernel's
 * REJECT sends (an IPS reject the engine marked, or a REJECT rule of the
 * host's own) for an incoming connection's first packet. nf_send_reset()
 * gives it that connection's conntrack, not confirmed yet (nf_ct_attach():
 * ctstate RELATED), and the queue drops such a packet
 * (nfnetlink_queue.c nf_ct_drop_unconfirmed()): queued, the reject
 * answered nothing and became a drop. Only nf_ct_attach() makes a TCP RST
 * related, and the engine has judged the packet it answers already.
 */
#define HOOKS_IPT_REJECT_RST "-p tcp --tcp-flags RST RST -m conntrack --ctstate RELATED -j ACCEPT"
#define HOOKS_NFT_REJECT_RST "tcp flags & rst == rst ct state related accept"

enum hooks_set { HSET_MGR, HSET_DNS, HSET__COUNT };

/* Everything a ruleset is generated from. */
struct hooks_spec {
	uint16_t queue_lo, queue_hi;
	bool fail_open;     /* queue bypass */
	bool offload;       /* offload rules present */
	bool queue;         /* queue rule present (false after `reset --hooks-only`) */
	uint32_t gen;       /* current offload generation, 1..HOOKS_GEN_MAX */
	uint16_t heartbeat_port, agent_port;
	bool any_manager;   /* no manager configured: heartbeat ports from/to anyone */
	uint16_t nflog_group;
	const ll_ip *set_addrs[HSET__COUNT]; /* initial set elements */
	uint32_t set_n[HSET__COUNT];
};

struct hooks {
	enum hooks_backend backend; /* HOOKS_NFT or HOOKS_IPTABLES once installed */
	struct hooks_spec spec;
	bool installed;
	char err[512];              /* the failing tool's message, for the caller to print */
};

/* hooks_mark() - the packet mark bits that carry generation @gen. */
static inline uint32_t hooks_mark(uint32_t gen) { return gen << HOOKS_MARK_SHIFT; }

/*
 * hooks_backend_from_env() - LIFELINE_HOOKS_BACKEND=nft|iptables|both
 * overrides detection (golden tests print both without root); HOOKS_AUTO
 * when unset.
 */
enum hooks_backend hooks_backend_from_env(void);
/*
 * hooks_detect() - HOOKS_NFT when `nft -c` accepts a queue rule in this
 * network namespace (nothing is committed), else HOOKS_IPTABLES.
 */
enum hooks_backend hooks_detect(void);
/*
 * hooks_spec_from_config() - @s from @cfg: literal managers and configured
 * DNS servers, copied into the caller's buffers (at most @max each).
 */
void hooks_spec_from_config(struct hooks_spec *s, const struct config *cfg, ll_ip *mgr_buf,
			    ll_ip *dns_buf, uint32_t max);

/*
 * hooks_print() - the rules lifelined would install for @cfg, as the input
 * of the tools it feeds (ipset/iptables-restore, or nft -f). HOOKS_AUTO
 * follows the environment, then detection. Returns 0 or -errno.
 */
int hooks_print(const struct config *cfg, enum hooks_backend b, FILE *out);

/*
 * hooks_install() - create or refresh our sets, table and chains in one
 * transaction per tool, jumps inserted first (iptables). @b HOOKS_AUTO:
 * detect. Idempotent: a second call replaces our rules. 0 or -errno with
 * h->err set. Not thread-safe: the engine's control thread calls it.
 */
int hooks_install(struct hooks *h, enum hooks_backend b, const struct hooks_spec *s);
/*
 * hooks_forget_gen() - delete the conntrack entries whose connmark carries
 * @gen: flows offloaded when @gen was last in use (an earlier engine, or
 * HOOKS_GEN_MAX swaps ago) and idle since, which the rule for @gen would
 * otherwise let pass unjudged. Their next packet opens a new conntrack
 * entry and comes to the queue. 0, -ENOENT when conntrack(8) is missing,
 * -EIO when it failed.
 */
int hooks_forget_gen(uint32_t gen);
/* hooks_rewrite() - our chains again as @h->spec says (atomic; the sets keep their elements). */
int hooks_rewrite(struct hooks *h);
/* hooks_set_generation() - accept offloaded flows of @gen only (atomic rewrite). */
int hooks_set_generation(struct hooks *h, uint32_t gen);
/* hooks_set_addrs() - replace one kernel set's elements in place, atomically. */
int hooks_set_addrs(struct hooks *h, enum hooks_set set, const ll_ip *a, uint32_t n);
/*
 * hooks_quiesce() - stop queueing without unregistering any hook (nft:
 * flush our chains; iptables: nothing to do). Deleting a base chain makes
 * the kernel drop every packet still queued in the namespace, so a clean
 * stop quiesces, drains the queues, then removes.
 */
int hooks_quiesce(struct hooks *h);
/* hooks_remove() - delete our table/chains/jumps/sets. 0 or -errno. */
int hooks_remove(struct hooks *h);
/*
 * hooks_remove_queue() - rewrite our chains without the queue rule, keeping
 * the kernel lifeline and sets (lifelinectl reset when the engine is dead).
 * Finds the installed backend itself. 0, -ENOENT when nothing is installed.
 */
int hooks_remove_queue(const struct config *cfg, char *err, size_t errlen);
/*
 * hooks_list() - our rules as installed in this namespace: `nft list table`
 * or `iptables -S` of our input chain in @out (when @len), and which
 * backend they are; HOOKS_AUTO when neither is installed.
 */
#define HOOKS_LIST_MAX (1u << 16)
/*
 * How long iptables waits for the xtables lock (the legacy backend has one;
 * iptables-nft ignores it): bounded, so that another process holding it
 * cannot hang status, a load or the console's reset. A tool that gave up
 * exits HOOKS_XT_LOCKED.
 */
#define HOOKS_XT_WAIT_S "2"
#define HOOKS_XT_WAIT "--wait=" HOOKS_XT_WAIT_S
/* A stop removes everything, however long the lock is held (the stop timeout bounds it). */
#define HOOKS_XT_WAIT_STOP "-w"
#define HOOKS_XT_LOCKED 4
enum hooks_backend hooks_list(char *out, size_t len);
/* hooks_listing_queues() - does hooks_list()'s @listing hold a queue rule? */
bool hooks_listing_queues(enum hooks_backend b, const char *listing);
/*
 * hooks_queue_installed() - hooks_queue_state() of whichever backend holds
 * our rules: 1 installed, 0 taken out (`lifelinectl reset`), -EIO when no
 * rules of ours are found, some are gone, or the tools fail (that is no
 * reset). Runs nft or iptables: the control thread only.
 */
int hooks_queue_installed(void);
/*
 * hooks_queue_state() - what `status` reports of backend @b's rules now:
 * the queue rule in place (iptables: and the jumps into our chains),
 * taken out (reset), our rules gone altogether (a flush by another tool:
 * nothing filters and the kernel lifeline is down), or unknown (the tool
 * itself failed). Runs nft or iptables.
 */
enum hooks_queue_state { HQ_UNKNOWN, HQ_INSTALLED, HQ_OUT, HQ_GONE };
enum hooks_queue_state hooks_queue_state(enum hooks_backend b);

/* Backend text generators (hooks_ipt.c, hooks_nft.c). */
void hooks_ipset_text(const struct hooks_spec *s, FILE *out, bool create_only);
void hooks_ipset_replace_text(enum hooks_set set, int family, const ll_ip *a, uint32_t n,
			      FILE *out);
/*
 * The iptables jumps: into our mangle chains from INPUT and OUTPUT, into
 * the filter reject chains, and a backstop in the security table (after
 * filter) that drops what carries the reject mark still - should a flush
 * of the filter table take the reject jumps, an IPS reject becomes a plain
 * drop, not an accept. And a jump first in the raw table's OUTPUT to
 * LIFELINE-CLEAR, which clears our mark bits from every packet the host
 * sends before mangle sees it: a socket's SO_MARK (CAP_NET_RAW is enough
 * since Linux 5.17: any host-network container) set to the current
 * generation would pass as the engine's verdict, unjudged both ways. A
 * packet the engine hands back (NF_REPEAT) re-enters the mangle hook
 * only (nf_reinject()), so the verdict's mark stays. The backstop and the
 * clear are best effort, each on its own (a kernel may lack the security
 * or the raw table).
 */
enum {
	HOOKS_JUMP_IN, HOOKS_JUMP_OUT, HOOKS_JUMP_REJECT_IN, HOOKS_JUMP_REJECT_OUT,
	HOOKS_JUMP_DROP_IN, HOOKS_JUMP_DROP_OUT, HOOKS_JUMP_CLEAR_OUT, HOOKS_JUMP__N
};
#define HOOKS_JUMPS_ALL ((1 << HOOKS_JUMP__N) - 1)
#define HOOKS_JUMPS_BACKSTOP (1 << HOOKS_JUMP_DROP_IN | 1 << HOOKS_JUMP_DROP_OUT)
#define HOOKS_JUMPS_CLEAR (1 << HOOKS_JUMP_CLEAR_OUT)
struct hooks_jump {
	const char *table, *from, *chain; /* from the built-in chain @from of @table to @chain */
	bool reject_mark;                 /* only packets with the IPS reject mark jump */
};
/* hooks_ipt_jump() - jump @jump (HOOKS_JUMP_*). */
const struct hooks_jump *hooks_ipt_jump(int jump);
/*
 * @jumps: bit 1 << HOOKS_JUMP_* inserts that jump first in its built-in
 * chain (the backstop's in a *security section of its own at the end, the
 * clear's in a *raw section after it).
 */
void hooks_ipt_text(const struct hooks_spec *s, int family, int jumps, FILE *out);
/*
 * hooks_ipt_missing_jumps() - the jumps @family (4 or 6) lacks in the
 * kernel now: bit 1 << HOOKS_JUMP_*. Runs iptables -C for each. -EBUSY
 * when another process held the xtables lock: no telling (a jump added
 * then might be there twice).
 */
int hooks_ipt_missing_jumps(int family);
/*
 * hooks_ipt_rule_ahead() - a rule of the host's ahead of our jump in mangle
 * INPUT (@jump HOOKS_JUMP_IN) or OUTPUT (HOOKS_JUMP_OUT) of @family that
 * ends what it matches there (ACCEPT, DROP, RETURN...) or may (a jump to a
 * chain, a goto), so that never reaches the queue: 1, the rule in @out
 * (@len, as `iptables -S` prints it). 0 when there is none (MARK,
 * CONNMARK, LOG and the like ahead of it go on to it), or no jump
 * (hooks_ipt_missing_jumps() tells that); -EBUSY when another process
 * holds the xtables lock, -EIO when the tool fails.
 */
int hooks_ipt_rule_ahead(int family, int jump, char *out, size_t len);
/*
 * hooks_ipt_save_flushed() - is chain HOOKS_IPT_SAVE empty (flushed by
 * another tool) in a family whose input chain of ours jumps to it (offload
 * on)? 1 yes, 0 no, -EBUSY when another process holds the xtables lock.
 */
int hooks_ipt_save_flushed(void);
/* hooks_ipt_backstop_text() - the *security section alone, for @jumps' backstop bits. */
void hooks_ipt_backstop_text(int jumps, FILE *out);
/* hooks_ipt_clear_text() - the *raw section alone: LIFELINE-CLEAR, and its jump when in @jumps. */
void hooks_ipt_clear_text(int jumps, FILE *out);
/* hooks_ipt_remove_text() - our chains gone, the raw one apart (@raw: it alone). */
void hooks_ipt_remove_text(bool raw, FILE *out);
void hooks_nft_text(const struct hooks_spec *s, bool elements, FILE *out);
void hooks_nft_set_text(enum hooks_set set, const ll_ip *a, uint32_t n, FILE *out);
const char *hooks_set_name(enum hooks_set set, int family);

/*
 * hooks_run() - run @argv with @input on its stdin; its output goes to @err
 * (truncated). Returns the exit status (0 ok), or -errno when it could not run.
 */
int hooks_run(char *const argv[], const char *input, size_t len, char *err, size_t errlen);

#endif
