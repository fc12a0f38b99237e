/*
 * pipeline.h - the spine: parse -> lifeline -> flow -> firewall -> IPS ->
 * verdict. One struct pipeline per packet worker (live) or per replay.
 */
#ifndef LL_PIPELINE_H
#define LL_PIPELINE_H

#include "config.h"
#include "flow.h"
#include "fw.h"
#include "ips.h"
#include "lifeline.h"
#include "pkt.h"
#include "reason.h"

struct verdict {
	bool accept;
	uint8_t by;       /* enum ll_by */
	uint8_t reason;   /* enum ll_reason */
	bool has_rule;
	uint32_t rule;    /* firewall id or IPS sid */
	bool offload;     /* decision final for the rest of the flow, and config offload yes */
	bool nolog;       /* deciding deny rule said nolog */
	uint32_t nlogged;
	uint32_t logged[FW_MAX_LOGGED];
	uint32_t nalerts;
	uint32_t alerts[IPS_MAX_ALERTS];
};

struct pipeline_counters {
	uint64_t packets, accepted, dropped;
	uint64_t by_reason[R__COUNT];
	uint64_t by_by[BY__COUNT];
};

struct pipeline {
	const struct config *cfg;
	struct policy *policy;      /* current policy; swapped by the owner */
	uint32_t generation;        /* bumped on every policy change */
	struct lifeline lifeline;
	struct flow_table *flows;
	struct ips_worker *ips;     /* per-worker IPS scratch */
	uint64_t *rule_hits;        /* packets decided per rule, by index in policy->rules */
	uint32_t nrule_hits;
	struct pipeline_counters ctr;
	/* host addresses for `dir` (config `host`, live: interface addresses) */
	struct ip_range *hosts;
	uint32_t nhosts;
};

int pipeline_init(struct pipeline *pl, const struct config *cfg, struct policy *policy);
void pipeline_fini(struct pipeline *pl);
/* pipeline_set_policy() - judge flows again under @policy from the next packet on. */
void pipeline_set_policy(struct pipeline *pl, struct policy *policy);

/* pipeline_fw_key() - the firewall's view of a parsed packet (benches use it too). */
void pipeline_fw_key(const struct pkt *p, struct fw_key *k);

/*
 * pipeline_set_dir() - replay's direction: PKT_DIR_OUT when @p's source is a
 * host address, else PKT_DIR_IN; a guess (p->dir_guessed) when its
 * destination is a host address too, or neither is.
 */
void pipeline_set_dir(const struct pipeline *pl, struct pkt *p);

/*
 * pipeline_judge() - the spine. @p is a parsed, whole (reassembled) datagram
 * with dir/ifname set; fills @v and counts it.
 */
void pipeline_judge(struct pipeline *pl, struct pkt *p, uint64_t now_us, struct verdict *v);
/*
 * pipeline_judge_batch() - pipeline_judge() for @n packets, with the same
 * results in the same order, but faster: the flow buckets of the whole
 * batch are fetched at once and the opening packets of new flows are
 * classified together, so that their cache misses overlap.
 */
#define PIPELINE_BATCH 16
void pipeline_judge_batch(struct pipeline *pl, struct pkt *const pkts[], unsigned n,
			  const uint64_t now_us[], struct verdict v[]);
/* pipeline_sanity() - the verdict for a packet that failed to parse. */
void pipeline_sanity(struct pipeline *pl, enum ll_reason why, struct verdict *v);
/* pipeline_not_ip() - the verdict for a non-IP frame (always accepted). */
void pipeline_not_ip(struct pipeline *pl, struct verdict *v);

#endif
