/*
 * ips.h - the seam where IPS inspection plugs into the pipeline. The IPS
 * issue implements it; until then a policy cannot contain IPS rules
 * (the parser rejects them), so policy->ips is always NULL and ips_scan()
 * is never reached with rules to run.
 */
#ifndef LL_IPS_H
#define LL_IPS_H

#include "flow.h"
#include "pkt.h"

#define IPS_MAX_ALERTS 16

struct ips_result {
	int action;       /* 0 none, 1 drop, 2 reject, 3 pass (stop inspecting this flow) */
	uint32_t sid;     /* the deciding rule for drop/reject */
	uint32_t nalerts; /* sids that alerted on this packet */
	uint32_t alerts[IPS_MAX_ALERTS];
};

#endif
