/*
 * policy.h - a parsed, checked, immutable policy: firewall rules and IPS
 * rules plus the named sets they use. rules/ builds it from text;
 * filter/ only reads it and swaps pointers to it.
 */
#ifndef LL_POLICY_H
#define LL_POLICY_H

#include <stdio.h>
#include "ll.h"

/* The largest policy text: check, load, include and the state directory all hold to it. */
#define POLICY_MAX_MIB 64
#define POLICY_MAX_BYTES ((size_t)POLICY_MAX_MIB << 20)

/* Actions, in the order they are tried within one priority (SPEC section 4). */
enum fw_action {
	FW_BYPASS,
	FW_LOG_ONLY,
	FW_FORCE_ALLOW,
	FW_DENY,
	FW_ALLOW, /* priority 0 only, tried after deny */
	FW__ACTIONS
};

enum fw_dir_mask {
	FW_DIR_IN = 1,  /* == PKT_DIR_IN */
	FW_DIR_OUT = 2, /* == PKT_DIR_OUT */
	FW_DIR_ANY = 3,
};

enum fw_proto_kind {
	FWP_ANY,
	FWP_TCP,
	FWP_UDP,
	FWP_TCP_UDP,
	FWP_ICMP,
	FWP_ICMP6,
	FWP_NUM, /* proto N: proto_num */
};

/*
 * A named set from `define`. Sets are shared by the rules that reference
 * them (and by `lifelinectl table`), so a rule's match points at the set.
 */
enum set_kind { SET_ADDR, SET_PORT };
struct fw_set {
	char *name;
	enum set_kind kind;
	uint32_t n;
	struct ip_range *addrs;   /* SET_ADDR: sorted, merged, non-overlapping */
	struct port_range *ports; /* SET_PORT: sorted, merged, non-overlapping */
	char *text;               /* canonical text of the value, for --print */
	struct srcloc loc;
	bool any; /* `define X = any`: every address (addrs) or every port (ports), as used */
};

/*
 * An address or port match. any: matches everything (neg is then false).
 * Otherwise the ranges are sorted, merged and non-overlapping (the compiled
 * union of every item, defines expanded) and neg inverts the whole match -
 * within the ranges' family when they hold one only (`! 10.0.0.0/8` is
 * IPv4 outside 10/8, as in pf and nft: no IPv6 address matches it).
 * text is the canonical printed form (e.g. "! $mgmt", "{ 192.0.2.0/24, 2001:db8::1 }").
 */
struct addr_match {
	bool any, neg;
	uint8_t family;  /* 4 or 6: the ranges hold that family only (and so does a negation) */
	uint32_t n;
	struct ip_range *r;
	char *text;
};
struct port_match {
	bool any, neg;
	uint32_t n;
	struct port_range *r;
	char *text;
};

struct fw_rule {
	uint32_t id;
	bool id_auto;           /* assigned automatically (printed anyway) */
	uint8_t action;         /* enum fw_action */
	uint8_t priority;       /* 0..4 */
	uint8_t dir;            /* enum fw_dir_mask */
	uint8_t proto_kind;     /* enum fw_proto_kind */
	uint8_t proto_num;      /* FWP_NUM */
	char iface[16];         /* "" = any interface */
	struct addr_match src, dst;
	struct port_match sport, dport; /* any unless proto is tcp/udp/tcp-udp */
	int16_t icmp_type, icmp_code;   /* -1 = any */
	uint8_t tcp_flags;              /* TCPF_* that must all be set; 0 = no test */
	bool nolog;
	char *msg;                      /* NULL when absent */
	struct srcloc loc;
};

struct ips_ruleset; /* rules/ips_*.c define it */

/* An IPS rule line as found in the policy, handed to ips_ruleset_build(). */
struct policy_ips_line {
	char *text;       /* the whole rule, continuation lines joined */
	struct srcloc loc;
	uint32_t *conts;  /* where in @text each continuation line starts (line loc.line + 1 + k, col 1) */
	uint32_t nconts;
};

struct policy {
	uint64_t serial;     /* 0 when absent */
	bool has_serial;
	struct fw_rule *rules;
	uint32_t nrules;     /* in file order, includes expanded in place */
	struct fw_set *sets; /* in definition order */
	uint32_t nsets;
	uint8_t allow_dirs;  /* union of the dir masks of every allow rule (SPEC 4 step 4) */
	struct policy_ips_line *ips_lines; /* IPS rule lines, in file order */
	uint32_t nips_lines;
	struct ips_ruleset *ips; /* built from ips_lines; NULL when there are none */
	char **files;        /* interned file names (srcloc.file points here) */
	uint32_t nfiles;
	void *classifier;    /* compiled form (rules/classify.c), NULL until compiled */
	char hash[65];       /* SHA-256 hex of the canonical text */
	uint64_t home_hash;  /* policy_home_hash() of the options it was compiled with */
};

struct policy_opts {
	bool skip_unsupported; /* IPS rules with unsupported keywords are skipped, not errors */
	/* IPS: the host's addresses, the default of $HOME_NET (none: Suricata's RFC 1918 default) */
	const struct ip_range *home_net;
	uint32_t nhome_net;
	uint32_t stream_depth;  /* IPS bytes per TCP flow direction; 0: 1 MiB */
	uint64_t stream_memcap; /* IPS reassembly memory, all flows; 0: 256 MiB */
	/*
	 * The text ran before (the state directory's, the running policy's):
	 * what an earlier version took it still takes as it took it - a value
	 * that matches nothing, an unknown escape, a C1 control, a file
	 * included twice - so that an upgrade does not refuse a policy it ran
	 * and start with the empty one. load and check refuse them.
	 */
	bool ran;
};

/*
 * policy_load_file() - read, parse and check @path (includes relative to the
 * including file). Returns the policy, or NULL with every problem appended
 * to @errs (errno EINVAL; ENOENT/EACCES for an unreadable top file).
 * The caller owns the result (policy_free()).
 */
struct policy *policy_load_file(const char *path, const struct policy_opts *o,
				struct ll_errlist *errs);
/* policy_load_string() - the same from memory; @name is used in locations. */
struct policy *policy_load_string(const char *name, const char *text,
				  const struct policy_opts *o, struct ll_errlist *errs);
/*
 * ips_ruleset_build() - parse and compile p->ips_lines into p->ips, using
 * p->sets for variables. Appends every error to @errs; returns 0 or -EINVAL.
 * With o->skip_unsupported, rules with unsupported keywords are skipped and
 * counted instead. Called by the policy loader when there are IPS lines.
 */
int ips_ruleset_build(struct policy *p, const struct policy_opts *o, struct ll_errlist *errs);
void ips_ruleset_free(struct ips_ruleset *rs);

/*
 * policy_home_hash() - a hash of @o's $HOME_NET default (policy.home_hash
 * keeps the one a policy was compiled with): the engine compiles a policy
 * that reads it again only when the host's addresses really changed.
 */
uint64_t policy_home_hash(const struct policy_opts *o);

/* policy_empty() - the empty policy (accepts everything). */
struct policy *policy_empty(void);
void policy_free(struct policy *p);
/* policy_set() - @p's set named by the @n bytes at @name (no '@'), or NULL (also for NULL @p). */
const struct fw_set *policy_set(const struct policy *p, const char *name, size_t n);
/*
 * policy_print_counts() - "N firewall rules, N sets, N IPS rules (N
 * skipped), serial S", the parts that apply: how check, load and status
 * describe a policy.
 */
void policy_print_counts(const struct policy *p, FILE *out);
/* policy_print() - canonical form; printing its output again gives the same text. */
void policy_print(const struct policy *p, FILE *out);
/*
 * policy_text() - policy_print() into a malloc'd, NUL-terminated string
 * (*@len bytes); NULL on ENOMEM. What is hashed, persisted and compared.
 */
char *policy_text(const struct policy *p, size_t *len);
/* fw_rule_print() - one rule in canonical form, no newline. */
void fw_rule_print(const struct fw_rule *r, FILE *out);
const char *fw_action_name(enum fw_action a);

#endif
