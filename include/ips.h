/*
 * ips.h - the seam where IPS inspection plugs into the pipeline: rules/ips_*.c
 * build policy->ips from the policy's Suricata-syntax lines, filter/ips_scan.c
 * inspects packets with it (include/ips_rules.h holds the internals).
 */
#ifndef LL_IPS_H
#define LL_IPS_H

#include <stdio.h>

#include "flow.h"
#include "pkt.h"

#define IPS_MAX_ALERTS 16

enum ips_action {
	IPS_ACT_NONE,
	IPS_ACT_DROP,
	IPS_ACT_REJECT,
	IPS_ACT_PASS, /* stop inspecting this flow */
};

struct ips_result {
	int action;       /* enum ips_action */
	uint32_t sid;     /* the deciding rule for drop/reject */
	uint32_t nalerts; /* sids that alerted on this packet */
	uint32_t alerts[IPS_MAX_ALERTS];
	bool reset;       /* a RST the receiver takes (its next byte exactly) ended the connection */
	bool fin;         /* the packet's side reached its FIN in order: the receiver took it */
	bool nomem;       /* nothing inspected: no memory for the rule set's scratch (tried again next packet) */
	bool untaken;     /* the receiver drops this TCP segment (ips_tcp.c): it moves nothing */
};

struct ips_ruleset;
struct ips_worker; /* per-thread scratch (one per packet worker) */

/*
 * ips_worker_new() - scratch for scanning with @rs (NULL: none needed);
 * NULL only when the worker itself finds no memory. Scratch it cannot get
 * now is asked for again at each ips_scan().
 */
struct ips_worker *ips_worker_new(const struct ips_ruleset *rs);
void ips_worker_free(struct ips_worker *w);

/*
 * ips_scan() - inspect @p, which belongs to flow @f (to_server: it travels
 * like the flow's opener) and was accepted by the firewall for inspection.
 * Fills @res. Per-flow state lives in f->ips (ips_flow_free() releases it).
 */
void ips_scan(struct ips_worker *w, const struct ips_ruleset *rs, struct flow *f,
	      const struct pkt *p, int to_server, uint64_t now_us, struct ips_result *res);
void ips_flow_free(void *state);
/*
 * ips_opening_drops() - is @p (of @f, from its opener when @to_server) a
 * segment of the handshake its receiver drops for its timestamps, which
 * the flow's record cannot tell (it keeps none; the IPS state of an
 * inspected flow does)? The pipeline then leaves the record as it was.
 */
bool ips_opening_drops(const struct flow *f, const struct pkt *p, int to_server, uint64_t now_us);
/* ips_decoy_ahead() - did the SYN-ACK ips_opening_drops() just refused echo past the first SYN seen? */
bool ips_decoy_ahead(const struct flow *f);

/*
 * ips_may_match() - can any rule of @rs ever match a flow opened by @k?
 * false lets the live engine offload the flow at once.
 */
bool ips_may_match(const struct ips_ruleset *rs, const struct fw_key *k);

/*
 * ips_ruleset_count() - rules loaded in @rs (NULL: 0); *@skipped (may be
 * NULL) gets the number skipped for unsupported keywords.
 */
uint32_t ips_ruleset_count(const struct ips_ruleset *rs, uint32_t *skipped);
/*
 * ips_reads_home_net() - a rule of @rs (NULL: none) read $HOME_NET's
 * default (policy_opts.home_net, no `define`), directly or through
 * $EXTERNAL_NET, $HTTP_SERVERS, ...: compile again when the host's
 * addresses change.
 */
bool ips_reads_home_net(const struct ips_ruleset *rs);
/*
 * ips_class_find() - the description and (*@prio) priority of classtype
 * @name; NULL: not one of Suricata's defaults.
 */
const char *ips_class_find(const char *name, int *prio);
/* ips_rule_info() - what events say of the rule with @sid (gid 1 first); false: none. */
struct ips_rule_info {
	const char *msg;
	uint32_t gid, rev;
	uint32_t severity;    /* as Suricata's: priority, else the classtype's, else 3 */
	const char *category; /* the classtype's description; NULL: none or unknown */
	bool blocks;          /* a drop or reject rule: its alerts say "blocked", as Suricata's */
};
bool ips_rule_info(const struct ips_ruleset *rs, uint32_t sid, struct ips_rule_info *out);
/* ips_ruleset_skips() - call @cb once per skipped keyword with its rule count. */
void ips_ruleset_skips(const struct ips_ruleset *rs,
		       void (*cb)(void *arg, const char *kw, uint32_t n), void *arg);
/*
 * ips_print_skips() - one line per skipped keyword on @out, each after
 * @lead: "skipped N IPS rules with unsupported keyword 'KW'". What check,
 * load and lifelined say of --skip-unsupported.
 */
void ips_print_skips(const struct ips_ruleset *rs, FILE *out, const char *lead);

#endif
