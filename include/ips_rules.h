/* ips_rules.h - the compiled IPS ruleset shared by rules/ips_*.c and filter/ips_*.c. */
#ifndef LL_IPS_RULES_H
#define LL_IPS_RULES_H

#include <pthread.h>
#include <stdio.h>

#include "ips.h"
#include "policy.h"

#define IPS_STREAM_DEPTH_DEFAULT (1u << 20)
#define IPS_STREAM_MEMCAP_DEFAULT (256ull << 20)
#define IPS_MAX_FLOWBITS_PER_RULE 8

/* Rule actions (the first word of the rule). */
enum ips_rule_action { IRA_ALERT, IRA_DROP, IRA_REJECT, IRA_PASS };

/* Header protocols; tcp-pkt inspects packets only, tcp-stream the stream only. */
enum ips_proto { IPSP_IP, IPSP_TCP, IPSP_UDP, IPSP_ICMP, IPSP_TCP_PKT, IPSP_TCP_STREAM };

/* Protocol groups that own one pattern database each (per direction). */
enum ips_pgroup { IPG_TCP, IPG_UDP, IPG_ICMP, IPG_OTHER, IPG__N };

/* An address or port set with every negation already folded in. */
struct ips_addr {
	bool any;
	uint32_t n;
	struct ip_range *r; /* sorted, merged */
};
struct ips_ports {
	bool any;
	uint32_t n;
	struct port_range *r;
};

/* A numeric test as used by dsize, ttl, itype, icode, stream_size. */
enum ips_uop { IU_EQ, IU_NE, IU_LT, IU_GT, IU_LE, IU_GE, IU_RANGE /* a < x < b */ };
struct ips_uint {
	uint8_t op;
	uint64_t a, b;
};

/* content flags */
enum {
	IC_NOCASE = 1 << 0,
	IC_NEG = 1 << 1,
	IC_OFFSET = 1 << 2,
	IC_DEPTH = 1 << 3,
	IC_DISTANCE = 1 << 4,
	IC_WITHIN = 1 << 5,
	IC_STARTS = 1 << 6,
	IC_ENDS = 1 << 7,
	IC_FAST = 1 << 8,
	IC_FAST_ONLY = 1 << 9,
	/* set once a rule is parsed (ips_parse.c: mark_chain()), read by the matcher */
	IC_RETRY = 1 << 10,  /* Suricata's WITHIN_NEXT: a later occurrence may still help */
	IC_SINGLE = 1 << 11, /* Suricata's IS_SINGLE: nothing before or after depends on it */
};

struct ips_content {
	uint8_t *pat;
	uint32_t len;
	uint16_t flags;
	int32_t offset, depth, distance, within;
	uint32_t fp_off, fp_len; /* fast_pattern:chop */
	uint8_t var[4];          /* byte_extract slot + 1 for offset, depth, distance, within; 0: none */
};

/* byte_test / byte_jump flags */
enum {
	IB_RELATIVE = 1 << 0,
	IB_LITTLE = 1 << 1,
	IB_STRING = 1 << 2,
	IB_ALIGN = 1 << 3,
	IB_BEGIN = 1 << 4,
	IB_END = 1 << 5,
	IB_NEG = 1 << 6,
	IB_BITMASK = 1 << 7,
};
enum ips_bop { IBO_LT, IBO_GT, IBO_EQ, IBO_AND, IBO_XOR, IBO_LE, IBO_GE };

struct ips_byte {
	uint8_t nbytes, op, base; /* `string`: 8/10/16, 0 from the text (0x: 16, 0: 8) */
	uint8_t slot;             /* byte_extract: where the value goes */
	uint8_t align;            /* byte_extract: round up to 2 or 4 */
	uint8_t var_value, var_offset; /* byte_extract slot + 1 used instead; 0: none */
	uint16_t flags;
	int32_t offset, post_offset;
	uint32_t multiplier;
	uint64_t value, bitmask;
};

struct ips_pcre {
	void *code; /* pcre2_code_8 * */
	char *src;  /* "/re/flags", for printing */
	bool neg, relative;
};

struct ips_isdataat {
	int32_t n;
	bool relative, neg;
	uint8_t var; /* byte_extract slot + 1 used instead of n; 0: none */
};

enum ips_item_kind { II_CONTENT, II_PCRE, II_BYTE_TEST, II_BYTE_JUMP, II_ISDATAAT, II_BYTE_EXTRACT };

#define IPS_MAX_VARS 8 /* byte_extract variables per rule */

/* One payload test; items run in rule order, each relative to the one before. */
struct ips_item {
	uint8_t kind;
	bool relative; /* depends on the previous item's end */
	union {
		struct ips_content c;
		struct ips_pcre pcre;
		struct ips_byte b;
		struct ips_isdataat d;
	} u;
};

/*
 * Header sticky buffers (ipv4.hdr, ...): each is a list of items of its
 * own, matched against the header's bytes independently of the payload
 * items and of each other, as Suricata inspects every buffer's list. A
 * rule whose buffer the packet lacks (tcp.hdr on UDP) does not match.
 */
enum ips_hbuf { IHB_IPV4, IHB_IPV6, IHB_TCP, IHB_UDP, IHB_ICMPV4, IHB_ICMPV6, IHB__N };
#define IPS_PAYLOAD (-1) /* the payload's list, for struct ips_pctx.cur */

struct ips_hlist {
	uint8_t buf;        /* enum ips_hbuf */
	uint32_t nitems;
	struct ips_item *items;
};

/* ips_hbuf_name() - the keyword of header buffer @b ("tcp.hdr"). */
const char *ips_hbuf_name(unsigned b);

/* flow: keyword bits */
enum {
	IF_TO_SERVER = 1 << 0,
	IF_TO_CLIENT = 1 << 1,
	IF_ESTABLISHED = 1 << 2,
	IF_NOT_EST = 1 << 3,
	IF_STATELESS = 1 << 4,
	IF_ONLY_STREAM = 1 << 5,
	IF_NO_STREAM = 1 << 6,
};

enum ips_fbcmd { IFB_SET, IFB_UNSET, IFB_TOGGLE, IFB_ISSET, IFB_ISNOTSET };
struct ips_flowbit {
	uint8_t cmd;
	bool and_; /* isset a&b; otherwise a|b means any */
	uint8_t n;
	uint16_t ids[IPS_MAX_FLOWBITS_PER_RULE];
};

enum ips_thkind { ITH_NONE, ITH_LIMIT, ITH_THRESHOLD, ITH_BOTH, ITH_DETECTION };
enum ips_track { ITR_SRC, ITR_DST, ITR_RULE, ITR_BOTH };
struct ips_thresh {
	uint8_t kind, track;
	uint32_t count, seconds;
};

enum ips_ss_which { ISS_SERVER, ISS_CLIENT, ISS_BOTH, ISS_EITHER };

/* Header tests on the packet (besides addresses and ports). */
enum {
	IH_DSIZE = 1 << 0,
	IH_TTL = 1 << 1,
	IH_ITYPE = 1 << 2,
	IH_ICODE = 1 << 3,
	IH_FLAGS = 1 << 4,
	IH_SSIZE = 1 << 5,
	IH_ICMP_ID = 1 << 6,
	IH_ICMP_SEQ = 1 << 7,
	IH_IPOPTS = 1 << 8,
	IH_TCPMSS = 1 << 9,
};

/* ipopts:any - any IPv4 option (the others name the option's type byte). */
#define IPS_IPOPT_ANY 0xffu

enum ips_flags_mode { IFM_EXACT, IFM_PLUS, IFM_ANY, IFM_NOT };

struct ips_rule {
	uint32_t sid, rev, gid;
	uint8_t action, proto;
	uint8_t family;     /* 0 any, 4 or 6 (ipv4/ipv6/icmpv4/icmpv6 headers) */
	bool bidir, noalert;
	bool iponly;        /* header-only rule: Suricata checks it once per flow direction */
	uint8_t flow;       /* IF_* */
	uint16_t hdr;       /* IH_* */
	uint8_t ipopt;      /* ipopts: the IPv4 option type, or IPS_IPOPT_ANY */
	int8_t fp;          /* item index of Suricata's fast pattern, -1 none */
	int8_t pf;          /* item index of the literal the prefilter looks for, -1 none */
	uint8_t flags_mode, flags_want, flags_mask;
	uint8_t ss_which;
	int32_t priority;
	uint32_t rank;      /* evaluation order: action, flowbit setters first, file order */
	struct ips_addr src, dst;
	struct ips_ports sp, dp;
	struct ips_uint dsize, ttl, itype, icode, ssize, icmp_id, icmp_seq, tcp_mss;
	struct ips_item *items; /* payload items */
	uint32_t nitems;
	struct ips_hlist *hl;   /* header buffers' items, in the order the rule names them */
	uint8_t nhl;
	struct ips_flowbit *fb;
	uint32_t nfb;
	struct ips_thresh th;
	char *vars[IPS_MAX_VARS]; /* byte_extract names, slot order */
	uint8_t nvars;
	char *msg, *classtype;
	char *refs, *metadata; /* every reference / metadata value, joined by "; " */
	uint8_t target;        /* 0 none, 1 src_ip, 2 dest_ip */
	struct srcloc loc;
};

/* Candidates for one protocol group, direction and server-port class. */
struct ips_group {
	void *db;          /* hs_database_t *, NULL when no rule has a literal */
	uint32_t *pat_off;  /* pattern id -> its rules: pat_rule[pat_off[id] .. pat_off[id + 1]) */
	uint32_t *pat_rule; /* rule indexes */
	uint32_t npat;      /* distinct literals */
	uint32_t *always;  /* rules without a literal: checked on every packet */
	uint32_t nalways;
	/* ips_litdb.c: every positive content of the rules that have two or more */
	void *lit_db;       /* hs_database_t *, NULL when no rule has two or they are folded */
	bool lit_fold;      /* folded into db instead: pattern id npat + k is literal id k */
	uint32_t nlit;
	uint32_t *lit_off;  /* rule index -> its literal ids: lit_ids[lit_off[i] .. lit_off[i + 1]) */
	uint32_t *lit_ids;
};

/*
 * One protocol group and direction, split like Suricata's signature group
 * heads by the server's port (the destination port of packets to the
 * server, the source port of packets to the client): a TLS packet never
 * scans the literals of rules for port 80.
 */
struct ips_gset {
	struct ips_group *sub;
	uint32_t nsub;
	uint8_t *port_map; /* server port -> index in sub; NULL: sub[0] for every port */
};

struct ips_skip {
	char *kw;
	uint32_t n;
};

struct ips_thtab; /* threshold counters (rules/ips_rules.c), the one mutable part */

struct ips_ruleset {
	uint64_t id;        /* unique per build: per-flow state made for another ruleset is reset */
	struct ips_rule *rules;
	uint32_t nrules;
	char **fb_names;
	uint32_t nfb;
	struct ips_gset g[IPG__N][2]; /* [group][0 to_server, 1 to_client] */
	uint32_t max_pat;   /* longest literal, for stream overlap */
	uint32_t stream_depth;
	uint64_t stream_memcap;
	struct ips_skip *skips;
	uint32_t nskips, nskipped;
	struct ips_thtab *th;
	uint32_t *by_sid;   /* rule indexes sorted by sid, for ips_rule_info() */
	uint32_t stream_rules; /* rules that also inspect reassembled TCP streams */
	uint8_t *rflags;    /* per rule, IRF_*: what the stream stage asks of every candidate */
	uint8_t *borrowed;  /* per rule, bit 0 src, 1 dst, 2 sp, 3 dp: its ranges are another rule's (ips_rules.c) */
	bool reads_home_net; /* a rule read $HOME_NET's default (no define): the host's addresses */
};

enum {
	IRF_STREAM = 1, /* ips_stream_rule() */
	IRF_ONE = 2,    /* one positive content and nothing else */
	IRF_FLOAT = 4,  /* a match anywhere is a match in any window holding it (ips_compile.c) */
	/*
	 * The same, a pcre read exactly: a negated class ("[^\n]") is no
	 * anchor. On a stream that slid (ips_stream.c) only these are checked.
	 */
	IRF_MIDSTREAM = 8,
};

/* Parsing context for one ruleset build. */
struct ips_pctx {
	const struct policy *p;
	const struct policy_opts *o;
	struct ll_errlist *errs;
	struct ips_ruleset *rs;
	struct srcloc loc;   /* of the current token */
	const uint32_t *conts; /* the current rule's continuation lines (struct policy_ips_line) */
	uint32_t nconts;
	const char *unsup;   /* set when the rule failed for an unsupported keyword */
	/* the list content & co. go to: IPS_PAYLOAD, or a header buffer (its items are in r->items meanwhile) */
	int cur;
	struct ips_item *pay_items; /* the payload's items while a header buffer's are parsed */
	uint32_t pay_n;
	int8_t var_list[IPS_MAX_VARS]; /* the list each byte_extract variable was read from */
	char unsup_buf[64];
	struct srcloc unsup_loc;
	bool told_skip; /* the first unsupported-keyword error named --skip-unsupported */
	bool addr_neg;  /* the rule's addresses negate something (Suricata's contains_negation) */
	uint32_t *sids, sids_cap; /* the rules kept so far by (gid, sid): ips_rules.c */
	size_t join_len[2], join_cap[2]; /* the current rule's refs and metadata, as joined so far */
	uint32_t *fb_index, fb_index_cap, fb_names_cap; /* flowbit names: open addressing, 1 + id */
	uint32_t *shared, shared_cap, nshared; /* distinct header ranges: 1 + (rule << 2 | side) */
	uint32_t rules_cap;
};

/*
 * ips_strict() - refuse what Suricata refuses but an earlier lifeline
 * loaded? Not for a text that ran (policy_opts.ran): an upgrade must not
 * refuse the state directory's policy and start the empty one.
 */
static inline bool ips_strict(const struct ips_pctx *c)
{
	return !c->o || !c->o->ran;
}

/* ips_rules.c */
/*
 * ips_index_grow() - double the open-addressed index @v/@cap (@first slots
 * at first; 0 is an empty slot), putting each entry back where
 * @slot_of(@c, entry) says, which reads the new *@v and *@cap. 0 or -ENOMEM
 * (the index as it was).
 */
int ips_index_grow(struct ips_pctx *c, uint32_t **v, uint32_t *cap, uint32_t first,
		   uint32_t *(*slot_of)(struct ips_pctx *c, uint32_t e));

/* ips_parse.c */
/*
 * ips_parse_rule() - parse one rule line into @r. 0; -EINVAL after adding
 * errors to c->errs; -ENOTSUP (with c->unsup naming the keyword, error not
 * added) for an unsupported keyword or protocol.
 */
int ips_parse_rule(struct ips_pctx *c, const char *text, struct ips_rule *r);
void ips_rule_free(struct ips_rule *r);
void ips_perr(struct ips_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ips_parse_opt.c: one payload/header keyword. 0, -EINVAL (error added), -ENOENT (unknown). */
/* ips_select_list() - where item keywords go next: IPS_PAYLOAD or an enum ips_hbuf. 0 or -ENOMEM. */
int ips_select_list(struct ips_pctx *c, struct ips_rule *r, int to);
int ips_parse_option(struct ips_pctx *c, struct ips_rule *r, const char *name, char *val);
int ips_parse_uint(const char *s, uint64_t max, struct ips_uint *u);
int ips_parse_num(const char *s, int64_t lo, int64_t hi, int64_t *out);
char *ips_unquote(char *s);

/* ips_parse_meta.c: flow, flowbits, threshold, flags, stream_size, ttl/itype/icode, icmp ids, ipopts, tcp.mss. */
int ips_parse_meta(struct ips_pctx *c, struct ips_rule *r, const char *name, char *val);
/* ips_ipopt_name() - the ipopts name of IPv4 option @type (IPS_IPOPT_ANY: "any"). */
const char *ips_ipopt_name(uint8_t type);

/* ips_var_is_builtin() - is @name/@n one of Suricata's standard variables ($HOME_NET, ...)? */
bool ips_var_is_builtin(const char *name, size_t n);
/* ips_vars.c: addresses and ports in rule headers. 0 or -EINVAL (error added). */
int ips_parse_addr(struct ips_pctx *c, const char *s, struct ips_addr *out);
int ips_parse_ports(struct ips_pctx *c, const char *s, struct ips_ports *out);
bool ips_addr_has(const struct ips_addr *a, ll_ip ip);
bool ips_ports_has(const struct ips_ports *a, uint16_t port);

/* ips_parse_print.c: @r of @rs as one canonical line, no newline. */
void ips_rule_print(const struct ips_ruleset *rs, const struct ips_rule *r, FILE *out);

/* ips_compile.c */
/* ips_compile() - fast patterns and one database per group. 0 or -errno (error added). */
int ips_compile(struct ips_pctx *c);
void ips_groups_free(struct ips_ruleset *rs);
/* ips_stream_rule() - does @r also look at reassembled TCP streams (payload tests, no dsize, no header buffer)? */
bool ips_stream_rule(const struct ips_rule *r);
enum ips_pgroup ips_pgroup_of(uint8_t ipproto);
/* ips_group_of() - the candidates for a packet of @p traveling @dir (0 to the server). */
const struct ips_group *ips_group_of(const struct ips_ruleset *rs, const struct pkt *p, int dir);

/* Literals on their way to hs_compile_lit_multi(): ids[k] == k. */
struct ips_pats {
	const char **expr;
	unsigned *flags, *ids;
	size_t *lens;
	unsigned n, cap;
};
/* ips_pats_push() - append a literal (not copied); 0 or -ENOMEM. */
int ips_pats_push(struct ips_pats *p, const char *expr, size_t len, unsigned flags);

/* ips_litdb.c */
/*
 * ips_litdb_build() - @g's literals of rules @rules[0..@n) (ascending): in
 * a database of their own, or (@fold non-NULL) appended to @fold, the
 * group's pattern database. 0 or -errno (error added).
 */
int ips_litdb_build(struct ips_pctx *c, struct ips_group *g, const uint32_t *rules, uint32_t n,
		    struct ips_pats *fold);
void ips_litdb_free(struct ips_group *g);

/* ips_content.c: the exact payload inspection of one rule. */
/*
 * ips_inspect() - do @r's payload items match @buf[0..@len)? Suricata's
 * semantics (offset/depth from the buffer start, distance/within from the
 * previous match, backtracking over earlier matches). @md is a
 * pcre2_match_data_8 * of the calling thread. Thread-safe.
 */
bool ips_inspect(const struct ips_rule *r, const uint8_t *buf, uint32_t len, void *md);
/*
 * ips_inspect_fresh() - does @r match @buf[0..@len) in a way that reads a
 * byte at or past @fresh (a content, pcre match or byte read that ends
 * there, or a byte isdataat requires)? For the stream stage: a match made
 * of old bytes alone was judged when they came, but a new one must be
 * found even if an old one exists (which flowbits or flow state may have
 * kept from firing then).
 */
bool ips_inspect_fresh(const struct ips_rule *r, const uint8_t *buf, uint32_t len, uint32_t fresh,
		       void *md);
/* ips_inspect_items() - the same for a header buffer's list @items[0..@n). */
bool ips_inspect_items(const struct ips_item *items, uint32_t n, const uint8_t *buf, uint32_t len,
		       void *md);
bool ips_uint_match(const struct ips_uint *u, uint64_t v);
/*
 * ips_may_match_new() - can @r match @buf[0..@len) in a way it did not match
 * @buf[0..@new_off)? false only for rules made of positive contents (no
 * endswith), none of which occurs ending after @new_off: every match of such
 * a rule then lies in the old bytes. Lets the stream stage skip re-reading
 * whole streams for rules that the new bytes cannot complete.
 */
bool ips_may_match_new(const struct ips_rule *r, const uint8_t *buf, uint32_t len, uint32_t new_off);

/*
 * ips_ruleset_from_text() - a ruleset from rule lines alone (no policy, so
 * no defines), one rule per line, '#' lines skipped; @name is used in
 * error locations. NULL when any error was added to @errs.
 */
struct ips_ruleset *ips_ruleset_from_text(const char *name, const char *text,
					  const struct policy_opts *o, struct ll_errlist *errs);

enum { IPS_TH_NONE, IPS_TH_ALERT, IPS_TH_SILENT /* act, but do not alert */ };
/*
 * ips_thresh_hit() - count a match of rule index @rule for threshold or
 * detection_filter: IPS_TH_ALERT (always without one), IPS_TH_SILENT or
 * IPS_TH_NONE, as Suricata. Thread-safe (one mutex per ruleset).
 */
int ips_thresh_hit(const struct ips_ruleset *rs, uint32_t rule, ll_ip src, ll_ip dst,
		   uint64_t now_us);

/*
 * filter/ips_head.c: tests of @r that need only the packet (ips_may_match()
 * too): header protocol and family; addresses and ports (both ways for
 * <>); the flags keyword; icmp_id / icmp_seq. Pure, thread-safe.
 */
bool ips_head_proto_ok(const struct ips_rule *r, uint8_t proto, uint8_t family);
bool ips_head_addrs_ok(const struct ips_rule *r, const struct pkt *p);
bool ips_head_flags_ok(const struct ips_rule *r, const struct pkt *p);
bool ips_head_icmp_ok(const struct ips_rule *r, const struct pkt *p);
/* ips_head_ipopt_ok() - ipopts: the IPv4 header carries the option (EOL and NOP count). */
bool ips_head_ipopt_ok(const struct ips_rule *r, const struct pkt *p);
/* ips_head_mss_ok() - tcp.mss: a TCP MSS option whose value passes the test. */
bool ips_head_mss_ok(const struct ips_rule *r, const struct pkt *p);
/* ips_head_buffers_ok() - every header buffer list of @r matches @p's header (@md: as ips_inspect()). */
bool ips_head_buffers_ok(const struct ips_rule *r, const struct pkt *p, void *md);

/* filter/ips_pending.c: rules the stream stage keeps re-checking, per flow direction. */
#define IPS_PEND_MAX 64
struct ips_pending {
	struct {
		uint32_t rule, ttl; /* ttl: segments left */
		uint32_t until;     /* and pending while the stream is shorter than this */
	} p[IPS_PEND_MAX];
	uint32_t n;
};
/* ips_pend_ttl() - segments rule @ri stays pending after its literal was seen. */
uint32_t ips_pend_ttl(const struct ips_ruleset *rs, uint32_t ri);
/*
 * ips_pend_index() - record (@on) or clear each pending rule's place + 1 in
 * @at (per rule, zero when not indexed), which ips_pend_add() needs.
 */
void ips_pend_index(const struct ips_pending *pl, uint8_t *at, bool on);
/*
 * ips_pend_add() - make @ri pending (again: a fresh ttl, same place) on a
 * stream of @len bytes; no-op when full.
 */
void ips_pend_add(struct ips_pending *pl, uint8_t *at, const struct ips_ruleset *rs, uint32_t ri,
		  uint32_t len);
/* ips_pend_age() - one segment passed, the stream is @len bytes: drop the rules whose time is up. */
void ips_pend_age(struct ips_pending *pl, uint32_t len);

/*
 * A pending rule that can match anywhere is re-checked on the stream's
 * last PEND_WINDOW bytes (plus the longest content), ips_scan.c; a stream
 * under memory pressure keeps that much (ips_stream.c).
 */
#define PEND_WINDOW (16u << 10)

/* filter/ips_stream.c: in-order TCP reassembly per flow direction. */
struct ips_stream;
/*
 * ips_stream_add() - feed TCP segment @p to @s. Sets *@data and *@len to the
 * reassembled stream so far and *@new_off to where the bytes this segment
 * completed start (== *@len when it added nothing in order); *@is_pkt true
 * means those new bytes are exactly @p's payload (false: they may still be).
 * A stream that can take no more bytes (full, or complete up to its FIN)
 * frees its buffer on the next call, which reports an empty stream.
 */
void ips_stream_add(struct ips_stream *s, const struct ips_ruleset *rs, const struct pkt *p,
		    bool takes, bool fast_open_reply, const uint8_t **data, uint32_t *len,
		    uint32_t *new_off, bool *is_pkt);
/*
 * (@takes false: the receiver drops this segment - no ACK, an ACK of bytes
 * never sent or too old, a bad checksum, outside the window, PAWS - so its
 * data, FIN, urgent pointer and SYN sequence number are not taken into the
 * stream; the packet itself is still inspected. Urgent data: the byte the
 * urgent pointer names is left out, as Linux without SO_OOBINLINE reads.
 * A SYN's data (TCP Fast Open) goes in as the first bytes; the SYN-ACK
 * takes back what the server did not keep, ips_stream_acked(). A SYN-ACK's
 * data goes in only with @fast_open_reply: the opener tried Fast Open and
 * takes it.)
 *
 * ips_stream_acked() - the other side's SYN-ACK acknowledged @ack: where
 * @s's bytes start, unless it holds some already (a SYN before the real
 * one, which the host dropped, set another start). The first one also says
 * how much of the SYN's data the server took; the rest leaves the stream.
 */
void ips_stream_acked(struct ips_stream *s, uint32_t ack);
/*
 * ips_stream_ack() - the other side's segment (not a SYN or RST), which @s's
 * sender takes, acknowledged @ack: after a resync, where the receiver's
 * next byte is known again.
 */
void ips_stream_ack(struct ips_stream *s, uint32_t ack);
/*
 * ips_stream_unsure() - @s's bytes may be a blind sender's (a flow back from
 * offload, before the receiver's ACK placed its sender): its RST and FIN
 * count once the receiver acknowledges all @s holds (ips_stream_ack()).
 */
void ips_stream_unsure(struct ips_stream *s);
/*
 * ips_stream_rst_ends() - would a RST at @seq from @s's side end the
 * connection at the receiver: its next byte exactly (after a FIN, the one
 * after the FIN), or, with SACK negotiated (@sack), the end of the highest
 * block it holds out of order? False when that is not known.
 */
bool ips_stream_rst_ends(const struct ips_stream *s, uint32_t seq, bool sack);
/* ips_stream_fin_taken() - has @s every byte up to its FIN: the receiver took the FIN? */
bool ips_stream_fin_taken(const struct ips_stream *s);
/* ips_stream_end() - no more bytes for @s: its buffer and queue go back now. */
void ips_stream_end(struct ips_stream *s);
/* ips_stream_settle() - when @s takes no more bytes, its buffer and queue go back now. */
void ips_stream_settle(struct ips_stream *s);
/*
 * ips_stream_trim() - after @s's new bytes were read: a stream that slid
 * (past half the memcap) keeps only the window the next read needs.
 * ips_stream_base() - how many of @s's first bytes it let go that way: its
 * data starts at that byte of the stream (0: at the first).
 */
void ips_stream_trim(struct ips_stream *s, const struct ips_ruleset *rs);
uint32_t ips_stream_base(const struct ips_stream *s);
/* ips_stream_start() - where @s's side's bytes start, when its SYN or the SYN-ACK told. */
bool ips_stream_start(const struct ips_stream *s, uint32_t *start);
struct ips_stream *ips_stream_new(void);
void ips_stream_free(struct ips_stream *s);
uint64_t ips_stream_mem(void);
/* ips_stream_pool_off() - this thread judges no packets: its stream buffers skip the pool. */
void ips_stream_pool_off(void);
/* ips_stream_pool_bytes() - idle stream buffer bytes this thread's pool keeps for reuse. */
uint64_t ips_stream_pool_bytes(void);
/* ips_stream_memcap_hits() - streams cut short by stream_memcap, since the start. */
uint64_t ips_stream_memcap_hits(void);
/* ips_stream_slid() - streams that memory pressure made keep only a window (slide()), since the start. */
uint64_t ips_stream_slid(void);

/*
 * filter/ips_tcp.c: what a Linux receiver keeps of a TCP segment beyond
 * its ACK - the receive window, PAWS, too-old ACKs. One side of a
 * connection as the other side's receiver knows it, learnt from the
 * segments the stream took; what was not seen (no SYN, a flow picked up
 * mid-stream or back from the kernel) refuses nothing.
 */
struct ips_tcp_side {
	uint32_t ack;    /* highest ACK taken from it: the other's snd_una, its own rcv_wup */
	uint32_t edge;   /* right edge of its receive window: the highest ACK + window */
	uint32_t maxwin; /* the largest window it advertised (the other's max_window) */
	uint32_t ts;     /* its TSval the other side keeps (ts_recent) */
	uint8_t wscale;  /* the shift its SYN offered */
	uint8_t has;     /* what is known: ips_tcp.c's ITS_* */
};
struct ips_tcp {
	struct ips_tcp_side side[2]; /* [0] the opener */
	uint64_t syn_us;   /* when the opener's first SYN with a timestamp went by */
	bool decoy_synack; /* a SYN-ACK the host as client drops for its echo went by */
	bool decoy_ahead;  /* the latest such SYN-ACK echoed past the first SYN's TSval seen */
	uint32_t syn_ts_span; /* the opener's latest SYN TSval less its first's (side[0].ts) */
	uint8_t keyed;     /* the host signed a segment: 1 TCP MD5, 2 TCP-AO (it holds the key) */
};
/*
 * ips_tcp_take() - would the receiver of @p, sent by side @dir, keep it
 * (its checksum and ACK already checked)? @rstart: where the receiver's
 * own bytes start, when known (NULL: not). A segment kept updates @t
 * (@now_us: when the opener's first SYN passed, ips_tcp_opening_drops()).
 * @sig: set when it is kept signed (a flow the host signs in), which only
 * the receiver can check: the flow's record takes it, a stream must not.
 */
bool ips_tcp_take(struct ips_tcp *t, const struct pkt *p, int dir, const uint32_t *rstart,
		  uint64_t now_us, bool *sig);
/*
 * ips_tcp_opening_drops() - while the flow is in @state (SYN_SENT or
 * SYN_RECV), does the receiver of @p, sent by side @dir, drop it for its
 * timestamps where the flow's record alone would take it (ips_tcp.c)?
 */
bool ips_tcp_opening_drops(struct ips_tcp *t, uint8_t state, const struct pkt *p, int dir,
			   uint64_t now_us);
/* ips_tcp_forget() - segments went by unseen (an offloaded flow): nothing known any more. */
void ips_tcp_forget(struct ips_tcp *t);

#endif
