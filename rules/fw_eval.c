/* fw_eval.c - the reference firewall evaluator: SPEC section 4, steps 2-4, by walking every rule. */
#include <string.h>

#include "fw.h"
#include "pkt.h"

#define FW_PRIORITIES 5

static const char *const action_names[FW__ACTIONS] = {
	[FW_BYPASS] = "bypass",		  [FW_LOG_ONLY] = "log-only", [FW_FORCE_ALLOW] = "force-allow",
	[FW_DENY] = "deny",		  [FW_ALLOW] = "allow",
};

/* fw_action_name() - the keyword of @a ("bypass", ...); "?" when out of range. */
const char *fw_action_name(enum fw_action a)
{
	if ((unsigned)a >= FW__ACTIONS)
		return "?";
	return action_names[a];
}

static bool proto_matches(const struct fw_rule *r, uint8_t proto)
{
	switch (r->proto_kind) {
	case FWP_ANY:
		return true;
	case FWP_TCP:
		return proto == IPPROTO_TCP_;
	case FWP_UDP:
		return proto == IPPROTO_UDP_;
	case FWP_TCP_UDP:
		return proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_;
	case FWP_ICMP:
		return proto == IPPROTO_ICMP_;
	case FWP_ICMP6:
		return proto == IPPROTO_ICMPV6_;
	case FWP_NUM:
		return proto == r->proto_num;
	}
	return false;
}

static bool ip_in_ranges(const struct ip_range *v, uint32_t n, ll_ip a)
{
	for (uint32_t i = 0; i < n; i++)
		if (ll_ip_cmp(a, v[i].lo) >= 0 && ll_ip_cmp(a, v[i].hi) <= 0)
			return true;
	return false;
}

static bool addr_matches(const struct addr_match *m, ll_ip a)
{
	if (m->any)
		return true;
	if (m->family && (m->family == 4) != ll_ip_is_v4(a))
		return false; /* even negated: `! 10.0.0.0/8` says nothing about IPv6 */
	return ip_in_ranges(m->r, m->n, a) != m->neg;
}

static bool port_in_ranges(const struct port_range *v, uint32_t n, uint16_t port)
{
	for (uint32_t i = 0; i < n; i++)
		if (port >= v[i].lo && port <= v[i].hi)
			return true;
	return false;
}

/* Ports exist only on TCP and UDP: a port test never matches other packets, even negated. */
static bool port_matches(const struct port_match *m, const struct fw_key *k, uint16_t port)
{
	if (m->any)
		return true;
	if (k->proto != IPPROTO_TCP_ && k->proto != IPPROTO_UDP_)
		return false;
	return port_in_ranges(m->r, m->n, port) != m->neg;
}

static bool iface_matches(const struct fw_rule *r, const char *ifname)
{
	if (!r->iface[0])
		return true;
	return ifname && strncmp(r->iface, ifname, sizeof(r->iface)) == 0;
}

static bool icmp_matches(const struct fw_rule *r, const struct fw_key *k)
{
	if (r->icmp_type >= 0 && k->icmp_type != r->icmp_type)
		return false;
	return r->icmp_code < 0 || k->icmp_code == r->icmp_code;
}

/* fw_rule_matches() - does @r match @k (every field)? Pure; any thread. */
bool fw_rule_matches(const struct fw_rule *r, const struct fw_key *k)
{
	if (!(r->dir & k->dir) || !proto_matches(r, k->proto))
		return false;
	if (!iface_matches(r, k->ifname))
		return false;
	if (!addr_matches(&r->src, k->src) || !addr_matches(&r->dst, k->dst))
		return false;
	if (!port_matches(&r->sport, k, k->sport) || !port_matches(&r->dport, k, k->dport))
		return false;
	if (!icmp_matches(r, k))
		return false;
	return (k->tcp_flags & r->tcp_flags) == r->tcp_flags;
}

/* Keep the lowest FW_MAX_LOGGED ids, ascending. */
static void logged_add(struct fw_result *res, uint32_t id)
{
	uint32_t i = res->nlogged;

	if (i == FW_MAX_LOGGED) {
		if (id >= res->logged[i - 1])
			return;
		i--;
	} else {
		res->nlogged++;
	}
	while (i > 0 && res->logged[i - 1] > id) {
		res->logged[i] = res->logged[i - 1];
		i--;
	}
	res->logged[i] = id;
}

void fw_result_action(struct fw_result *res, enum fw_action a)
{
	static const struct {
		enum ll_reason reason;
		bool accept, inspect;
	} out[FW__ACTIONS] = {
		[FW_BYPASS] = { R_BYPASS, true, false },
		[FW_FORCE_ALLOW] = { R_FORCE_ALLOW, true, true },
		[FW_DENY] = { R_DENY, false, false },
		[FW_ALLOW] = { R_ALLOW, true, true },
	};

	res->reason = out[a].reason;
	res->accept = out[a].accept;
	res->inspect = out[a].inspect;
}

void fw_result_decide(struct fw_result *res, const struct fw_rule *r)
{
	fw_result_action(res, r->action);
	res->rule = r;
	res->rule_id = r->id;
	res->nolog = r->nolog;
}

/*
 * fw_eval_linear() - one pass collects, per (priority, action), the matching
 * rule with the lowest id; the walk over that table is then the SPEC's order.
 * Log-only ids are kept aside and reported only if the walk reaches them.
 */
void fw_eval_linear(const struct policy *p, const struct fw_key *k, struct fw_result *res)
{
	static const uint8_t order[] = { FW_BYPASS, FW_LOG_ONLY, FW_FORCE_ALLOW, FW_DENY, FW_ALLOW };
	const struct fw_rule *best[FW_PRIORITIES][FW__ACTIONS] = { { NULL } };
	struct fw_result logs[FW_PRIORITIES] = { { 0 } };

	memset(res, 0, sizeof(*res));
	if (!p || (p->nrules == 0 && p->nips_lines == 0)) {
		res->reason = R_EMPTY_POLICY;
		res->accept = true;
		return;
	}
	for (uint32_t i = 0; i < p->nrules; i++) {
		const struct fw_rule *r = &p->rules[i];
		const struct fw_rule **b;

		if (r->priority >= FW_PRIORITIES || r->action >= FW__ACTIONS ||
		    !fw_rule_matches(r, k))
			continue;
		if (r->action == FW_LOG_ONLY) {
			logged_add(&logs[r->priority], r->id);
			continue;
		}
		b = &best[r->priority][r->action];
		if (!*b || r->id < (*b)->id)
			*b = r;
	}
	for (int pri = FW_PRIORITIES - 1; pri >= 0; pri--) {
		for (size_t a = 0; a < LL_ARRAY_SIZE(order); a++) {
			if (order[a] == FW_LOG_ONLY) {
				/* the checker keeps log-only at 4; hand-built policies may not */
				for (uint32_t j = 0; j < logs[pri].nlogged; j++)
					logged_add(res, logs[pri].logged[j]);
				continue;
			}
			if (best[pri][order[a]]) {
				fw_result_decide(res, best[pri][order[a]]);
				return;
			}
		}
	}
	if (p->allow_dirs & k->dir) {
		res->reason = R_NOT_ALLOWED;
		return;
	}
	res->reason = R_DEFAULT;
	res->accept = true;
	res->inspect = true;
}
