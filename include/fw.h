/* fw.h - firewall evaluation: the key a packet presents and the decision. */
#ifndef LL_FW_H
#define LL_FW_H

#include "policy.h"
#include "reason.h"

/* What the firewall looks at: the opening packet of a flow. */
struct fw_key {
	uint8_t dir;      /* FW_DIR_IN or FW_DIR_OUT */
	uint8_t family;   /* 4 or 6 */
	uint8_t proto;
	uint8_t tcp_flags;
	ll_ip src, dst;
	uint16_t sport, dport; /* TCP/UDP only; 0 otherwise */
	int16_t icmp_type, icmp_code; /* -1 when not ICMP/ICMPv6 */
	const char *ifname;   /* NULL: matches only rules without `on` */
};

#define FW_MAX_LOGGED 16

struct fw_result {
	enum ll_reason reason; /* R_BYPASS, R_FORCE_ALLOW, R_DENY, R_ALLOW, R_NOT_ALLOWED, R_DEFAULT, R_EMPTY_POLICY */
	bool accept;
	bool inspect;          /* accepted and IPS should look (force-allow, allow, default) */
	const struct fw_rule *rule; /* deciding rule, NULL for not-allowed/default */
	uint32_t rule_id;      /* its id and nolog (0, false without one): the packet path */
	bool nolog;            /* reads these, not the rule, which it would miss in cache */
	uint32_t nlogged;      /* log-only rules that matched (ids ascending), capped */
	uint32_t logged[FW_MAX_LOGGED];
};

/*
 * fw_result_decide() - @res for deciding rule @r: reason, accept and
 * inspect from its action (bypass/force-allow/deny/allow). One table for
 * the reference evaluator and the classifier.
 */
void fw_result_decide(struct fw_result *res, const struct fw_rule *r);
/* fw_result_action() - the same from an action (enum fw_action) alone; res->rule is left as is. */
void fw_result_action(struct fw_result *res, enum fw_action action);

/* fw_rule_matches() - does @r match @k (every field)? */
bool fw_rule_matches(const struct fw_rule *r, const struct fw_key *k);

/*
 * fw_eval_linear() - the reference evaluator: SPEC section 4 steps 2-4 by
 * walking every rule. Slow and obviously right; tests compare the
 * classifier with it.
 */
void fw_eval_linear(const struct policy *p, const struct fw_key *k, struct fw_result *res);

/*
 * fw_classify() - the same decision from the compiled classifier
 * (policy->classifier); falls back to fw_eval_linear() when not compiled.
 */
void fw_classify(const struct policy *p, const struct fw_key *k, struct fw_result *res);

/*
 * fw_classify_batch() - fw_classify() for @n keys at once: res[i] is
 * exactly what fw_classify(p, keys[i], &res[i]) gives. The lookups are
 * walked side by side, FW_BATCH at a time, so that their cache misses
 * overlap; any @n works (0 does nothing). @res must not overlap the keys.
 * Read-only on the policy, like fw_classify().
 */
#define FW_BATCH 8
void fw_classify_batch(const struct policy *p, const struct fw_key *const keys[], unsigned n,
		       struct fw_result res[]);

/* fw_compile() - build policy->classifier. 0 or -ENOMEM / -E2BIG. */
int fw_compile(struct policy *p);

/*
 * fw_classifier_free() - free a compiled classifier (policy->classifier);
 * NULL is fine. policy_free() calls it.
 */
void fw_classifier_free(void *classifier);

/* fw_classifier_bytes() - heap bytes held by p->classifier (0 when not compiled). */
size_t fw_classifier_bytes(const struct policy *p);

#endif
