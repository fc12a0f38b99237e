/*
 * control_fmt.c - the reading requests status, flows and explain,
 * formatted here (human, JSON) from what the engine reports through
 * control_ops, so every engine prints the same way (stats and show:
 * control_stats.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control_int.h"
#include "verdict_json.h"
#include "event.h"
#include "pkt.h"

#define NOT_SUPPORTED(out) (fputs("not supported by this engine\n", out), CTL_R_FAIL)

/* control_iso_time() - see control_int.h. */
const char *control_iso_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRIu64, t);
	return buf;
}

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

static int64_t confirm_left_s(const struct control *c)
{
	int64_t ms = c->confirm_ms ? c->confirm_ms - control_now_ms() : 0;

	return c->confirm_ms ? (ms > 0 ? (ms + 999) / 1000 : 0) : -1;
}

/*
 * The policy that runs is the one a confirm deadline, or a start with a
 * confirm pending, brought back (until a load or reset): status says so,
 * or the operator who finds the old policy running cannot tell a rollback
 * from a load nobody made.
 */
static bool rolled_back(const struct control *c)
{
	return !c->confirm_ms && c->expired_at && !strcmp(c->meta.sha256, c->expired_to);
}

static void status_policy_text(const struct control *c, const struct policy *p, FILE *out)
{
	char t[32];

	fputs("policy: ", out);
	policy_print_counts(p, out);
	fprintf(out, ", sha256 %s", p->hash);
	if (c->meta.loaded_at)
		fprintf(out, ", loaded %s", control_iso_time(c->meta.loaded_at, t, sizeof(t)));
	fprintf(out, "%s\n", c->meta.is_signed ? ", signed" : "");
	if (confirm_left_s(c) >= 0)
		fprintf(out, "confirm: pending, rolls back in %" PRId64 " s unless "
			"`lifelinectl confirm`\n", confirm_left_s(c));
	else if (rolled_back(c))
		fprintf(out, "confirm: none pending; policy sha256 %.16s was not confirmed: %s "
			"%s and brought back the policy above\n", c->expired_from,
			c->expired_restart ? "the engine stopped before it was, and its start at" :
					     "its deadline passed at",
			control_iso_time(c->expired_at, t, sizeof(t)));
	else
		fputs("confirm: none pending\n", out);
}

/* Where the engine got a DNS server: DHCP, the config, or the host's resolvers at start. */
static const char *dns_source(const struct lifeline_dns *d)
{
	return d->learned ? "learned" : d->host ? "resolv.conf" : "configured";
}

static void status_text(const struct control *c, const struct control_status *s, FILE *out)
{
	char a[64], t[32];

	fprintf(out, "engine: running, pid %d", s->pid);
	if (s->started_us)
		fprintf(out, ", up %" PRIu64 " s", now_s() - s->started_us / 1000000);
	fputc('\n', out);
	status_policy_text(c, c->ops->policy(c->ctx), out);
	if (s->heartbeat_seen)
		fprintf(out, "heartbeat: last seen %s (%" PRIu64 " s ago), missed %u, %s\n",
			control_iso_time(s->heartbeat_last_us / 1000000, t, sizeof(t)),
			now_s() - s->heartbeat_last_us / 1000000, s->heartbeat_missed,
			s->online ? "online" : "offline");
	else
		fprintf(out, "heartbeat: never seen, missed %u, %s\n", s->heartbeat_missed,
			s->online ? "online" : "offline");
	fputs("managers:", out);
	for (uint32_t i = 0; i < s->nmanagers; i++)
		fprintf(out, " %s", ll_ip_str(s->managers[i], a, sizeof(a)));
	fputs(s->nmanagers ? "\n" : " none (heartbeat ports open to any address)\n", out);
	fputs("dns:", out);
	for (uint32_t i = 0; i < s->ndns; i++)
		fprintf(out, " %s (%s)", ll_ip_str(s->dns[i].addr, a, sizeof(a)), dns_source(&s->dns[i]));
	fputs(s->ndns ? "\n" : " none\n", out);
	fprintf(out, "queues: %u-%u, %u worker%s; hooks: %s%s\n", c->cfg->queue_lo,
		c->cfg->queue_hi, s->nworkers, s->nworkers == 1 ? "" : "s",
		s->hooks_backend ? s->hooks_backend : "none",
		!s->hooks_backend ? "" :
		s->hooks_gone ? " (its rules are GONE, flushed by another tool?: nothing is filtered "
				"and the kernel lifeline is down; `lifelinectl load` of a policy or a "
				"restart puts them back)" :
		s->hooks_queue ? " (queue rule installed)" :
				 " (queue rule taken out by reset: traffic is not filtered; a "
				 "restart of lifelined queues again)");
	fprintf(out, "packets: %" PRIu64 " (accepted %" PRIu64 ", dropped %" PRIu64 ")\n",
		s->ctr.packets, s->ctr.accepted, s->ctr.dropped);
	fprintf(out, "flows: %" PRIu64 " active, %" PRIu64 " created, %" PRIu64 " evicted, %"
		PRIu64 " expired\n", s->flows.active, s->flows.created, s->flows.evicted,
		s->flows.expired);
}

static void status_json(const struct control *c, const struct control_status *s, FILE *out)
{
	const struct policy *p = c->ops->policy(c->ctx);
	uint32_t skipped = 0, ips = ips_ruleset_count(p->ips, &skipped); /* as the text form counts */
	char a[64], t[32];

	fprintf(out, "{\"engine\":{\"running\":true,\"pid\":%d,\"started\":\"%s\"},", s->pid,
		control_iso_time(s->started_us / 1000000, t, sizeof(t)));
	fprintf(out, "\"policy\":{\"rules\":%u,\"ips_rules\":%u,\"ips_skipped\":%u,", p->nrules,
		ips, skipped);
	if (p->has_serial)
		fprintf(out, "\"serial\":%" PRIu64 ",", p->serial);
	fprintf(out, "\"sha256\":\"%s\",\"loaded_at\":\"%s\",\"signed\":%s},", p->hash,
		control_iso_time(c->meta.loaded_at, t, sizeof(t)),
		c->meta.is_signed ? "true" : "false");
	fprintf(out, "\"confirm\":{\"pending\":%s", confirm_left_s(c) >= 0 ? "true" : "false");
	if (confirm_left_s(c) >= 0)
		fprintf(out, ",\"seconds_left\":%" PRId64, confirm_left_s(c));
	else if (rolled_back(c))
		fprintf(out, ",\"rolled_back\":{\"at\":\"%s\",\"by\":\"%s\","
			"\"unconfirmed_sha256\":\"%s\"}", control_iso_time(c->expired_at, t, sizeof(t)),
			c->expired_restart ? "restart" : "deadline", c->expired_from);
	fprintf(out, "},\"heartbeat\":{\"seen\":%s,", s->heartbeat_seen ? "true" : "false");
	if (s->heartbeat_seen)
		fprintf(out, "\"last\":\"%s\",",
			control_iso_time(s->heartbeat_last_us / 1000000, t, sizeof(t)));
	fprintf(out, "\"missed\":%u,\"online\":%s},\"managers\":[", s->heartbeat_missed,
		s->online ? "true" : "false");
	for (uint32_t i = 0; i < s->nmanagers; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "", ll_ip_str(s->managers[i], a, sizeof(a)));
	fputs("],\"dns\":[", out);
	for (uint32_t i = 0; i < s->ndns; i++)
		fprintf(out, "%s{\"addr\":\"%s\",\"learned\":%s,\"source\":\"%s\"}", i ? "," : "",
			ll_ip_str(s->dns[i].addr, a, sizeof(a)), s->dns[i].learned ? "true" : "false",
			dns_source(&s->dns[i]));
	fprintf(out, "],\"queues\":{\"first\":%u,\"last\":%u,\"workers\":%u},", c->cfg->queue_lo,
		c->cfg->queue_hi, s->nworkers);
	fprintf(out, "\"hooks\":{\"backend\":\"%s\",\"queue\":%s,\"rules\":\"%s\"},",
		s->hooks_backend ? s->hooks_backend : "none", s->hooks_queue ? "true" : "false",
		!s->hooks_backend ? "none" : s->hooks_gone ? "gone" : "present");
	fprintf(out, "\"packets\":{\"total\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"dropped\":%"
		PRIu64 "},", s->ctr.packets, s->ctr.accepted, s->ctr.dropped);
	fprintf(out, "\"flows\":{\"active\":%" PRIu64 ",\"created\":%" PRIu64 ",\"evicted\":%"
		PRIu64 ",\"expired\":%" PRIu64 "}}\n", s->flows.active, s->flows.created,
		s->flows.evicted, s->flows.expired);
}

/* control_req_status() - STATUS [json]. */
const char *control_req_status(struct control *c, const struct control_msg *m, FILE *out)
{
	struct control_status *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return fputs("out of memory\n", out), CTL_R_FAIL;
	rc = c->ops->status ? c->ops->status(c->ctx, s) : 0;
	if (rc < 0) {
		fprintf(out, "engine status failed: %s\n", strerror(-rc));
	} else if (control_msg_has(m, "json")) {
		status_json(c, s, out);
	} else {
		status_text(c, s, out);
	}
	free(s);
	return rc < 0 ? CTL_R_FAIL : CTL_R_OK;
}

struct flow_filter {
	int dir;                  /* FW_DIR_IN / FW_DIR_OUT of the opener, 0 any */
	int proto;                /* -1 any */
	int port;                 /* either side's, -1 any */
	int nend;
	struct {
		bool has_port;
		uint32_t nr;          /* 0: any address */
		struct ip_range r[2]; /* an address or prefix as written (ll_range_as_written()) */
		uint16_t port;
	} end[2];
};

/*
 * Flows listed in one reply at most (~10 MB of text): a million-flow table
 * made an 88 MB reply, and any local peer may ask, a dozen at once. The
 * count still covers every matching flow, and --kill drops them all.
 */
#define FLOWS_LIST_MAX 100000

struct flow_visit {
	const struct flow_filter *f;
	bool kill;
	uint64_t n;
	uint64_t passing; /* offloaded under the running generation: the kernel passes them */
	FILE *out;
};

static int parse_u16(const char *s, uint16_t *v, unsigned max)
{
	char *end;
	unsigned long x;

	if (!s || !*s)
		return -EINVAL;
	x = strtoul(s, &end, 10);
	if (*end || x > max)
		return -EINVAL;
	*v = (uint16_t)x;
	return 0;
}

/* FLOWS proto=N a1=ADDR[/LEN] p1=PORT a2= p2= port=PORT (each optional; port=: either side's). */
static int flow_filter_parse(const struct control_msg *m, struct flow_filter *f)
{
	static const char *const ak[] = { "a1", "a2" }, *const pk[] = { "p1", "p2" };
	uint16_t v;

	memset(f, 0, sizeof(*f));
	f->proto = f->port = -1;
	if (control_msg_get(m, "port")) {
		if (parse_u16(control_msg_get(m, "port"), &v, 65535) < 0)
			return -EINVAL;
		f->port = v;
	}
	if (control_msg_get(m, "dir")) {
		const char *d = control_msg_get(m, "dir");
		if (strcmp(d, "in") && strcmp(d, "out"))
			return -EINVAL;
		f->dir = d[0] == 'i' ? FW_DIR_IN : FW_DIR_OUT;
	}
	if (control_msg_get(m, "proto")) {
		if (parse_u16(control_msg_get(m, "proto"), &v, 255) < 0)
			return -EINVAL;
		f->proto = v;
	}
	for (int i = 0; i < 2; i++) {
		const char *a = control_msg_get(m, ak[i]), *p = control_msg_get(m, pk[i]);
		struct ip_range r;

		if (!a && !p)
			continue;
		if (a && ll_prefix_parse(a, &r) < 0)
			return -EINVAL;
		if (a)
			f->end[f->nend].nr = ll_range_as_written(r, f->end[f->nend].r);
		if (p && parse_u16(p, &f->end[f->nend].port, 65535) < 0)
			return -EINVAL;
		f->end[f->nend++].has_port = p != NULL;
	}
	return 0;
}

static bool end_is(const struct flow_filter *ff, int i, ll_ip a, uint16_t port)
{
	bool in = ff->end[i].nr == 0;

	for (uint32_t j = 0; j < ff->end[i].nr && !in; j++)
		in = ll_ip_cmp(ff->end[i].r[j].lo, a) <= 0 && ll_ip_cmp(a, ff->end[i].r[j].hi) <= 0;
	return in && (!ff->end[i].has_port || ff->end[i].port == port);
}

static bool flow_matches(const struct flow_filter *ff, const struct flow *f)
{
	const struct flow_key *k = &f->key;

	if ((ff->proto >= 0 && k->proto != ff->proto) || (ff->dir && f->orig_dir != ff->dir))
		return false;
	if (ff->port >= 0 && (!pkt_proto_has_ports(k->proto) || (k->pa != ff->port && k->pb != ff->port)))
		return false; /* an ICMP echo's id is no port */
	if (ff->nend == 1)
		return end_is(ff, 0, k->a, k->pa) || end_is(ff, 0, k->b, k->pb);
	if (ff->nend == 2)
		return (end_is(ff, 0, k->a, k->pa) && end_is(ff, 1, k->b, k->pb)) ||
		       (end_is(ff, 0, k->b, k->pb) && end_is(ff, 1, k->a, k->pa));
	return true;
}

static const char *const tcp_states[] = {
	[FT_NONE] = "-",	       [FT_SYN_SENT] = "syn-sent",	[FT_SYN_RECV] = "syn-recv",
	[FT_SYN_SENT2] = "syn-sent2",  [FT_SYN_RECV2] = "syn-recv2",	[FT_ESTABLISHED] = "established",
	[FT_FIN_WAIT] = "fin-wait",    [FT_CLOSE_WAIT] = "close-wait", [FT_TIME_WAIT] = "time-wait",
	[FT_CLOSE] = "close",
};

/*
 * One flow, as its opening packet and decision. "offloaded": the kernel
 * passes its packets now, so the state and counters stop at the offload;
 * "earlier-policy": decided before the running policy came, judged again
 * on its next packet.
 */
static void flow_print(const struct flow *f, bool stale, FILE *out)
{
	struct fw_key ok, *o = &ok;
	const char *pn;
	char a[64], b[64];

	flow_orig(NULL, f, &ok); /* no interface in the listing */
	pn = verdict_proto_name(o->proto);
	if (pn)
		fprintf(out, "%s %s", o->dir == FW_DIR_OUT ? "out" : "in", pn);
	else
		fprintf(out, "%s proto %u", o->dir == FW_DIR_OUT ? "out" : "in", o->proto);
	ll_ip_str(o->src, a, sizeof(a));
	ll_ip_str(o->dst, b, sizeof(b));
	if (o->proto == 6 || o->proto == 17)
		fprintf(out, o->family == 6 ? " [%s]:%u -> [%s]:%u" : " %s:%u -> %s:%u", a, o->sport, b,
			o->dport);
	else
		fprintf(out, " %s -> %s", a, b);
	fprintf(out, " %s %s", f->accept ? "accept" : "drop", ll_reason_name(f->reason));
	if (f->has_rule)
		fprintf(out, " rule %u", f->rule_id);
	if (f->tcp_state < sizeof(tcp_states) / sizeof(tcp_states[0]) && f->tcp_state)
		fprintf(out, " %s", tcp_states[f->tcp_state]);
	if (f->offloaded)
		fputs(" offloaded", out);
	if (stale)
		fputs(" earlier-policy", out);
	fprintf(out, " packets %" PRIu32 "/%" PRIu32 " bytes %" PRIu64 "/%" PRIu64 "\n",
		f->pkts[0], f->pkts[1], f->bytes[0], f->bytes[1]);
}

static bool flow_visit(void *arg, const struct flow *f, bool stale)
{
	struct flow_visit *v = arg;

	if (!flow_matches(v->f, f))
		return false;
	if (v->n++ < FLOWS_LIST_MAX)
		flow_print(f, stale, v->out);
	if (f->offloaded && !stale)
		v->passing++;
	return v->kill;
}

/* control_req_flows() - FLOWS [kill] [filter]: list, or drop, matching flows. */
const char *control_req_flows(struct control *c, const struct control_msg *m, FILE *out)
{
	struct flow_filter ff;
	struct flow_visit v = { .f = &ff, .kill = control_msg_has(m, "kill"), .out = out };
	int rc;

	if (flow_filter_parse(m, &ff) < 0)
		return fputs("bad flow filter\n", out), CTL_R_BAD;
	if (!c->ops->flows)
		return NOT_SUPPORTED(out);
	if ((rc = c->ops->flows(c->ctx, flow_visit, &v)) < 0) {
		fprintf(out, "engine flows failed: %s\n", strerror(-rc));
		return CTL_R_FAIL;
	}
	if (v.n > FLOWS_LIST_MAX)
		fprintf(out, "... %" PRIu64 " more not listed (a filter narrows the list)\n",
			v.n - FLOWS_LIST_MAX);
	fprintf(out, "%" PRIu64 " flow%s%s\n", v.n, v.n == 1 ? "" : "s", v.kill ? " dropped" : "");
	/*
	 * A kill forgets the engine's entries; it cuts no connection. Say so,
	 * or an operator who killed an attacker's flows takes them for gone:
	 * the next packet opens a flow the running policy judges again (mid-stream
	 * TCP too), and an offloaded one never comes back to the engine at all.
	 */
	if (v.kill && v.n)
		fputs("note: the connections are not cut: each one's next packet is judged again by "
		      "the running policy, which may accept it; to block them, deny the addresses "
		      "first (lifelinectl table NAME add ADDR, or a new policy)\n", out);
	if (v.kill && v.passing)
		fprintf(out, "note: %" PRIu64 " of them offloaded: the kernel passes their packets "
			"without the engine until their conntrack entries end (conntrack -D) or the "
			"next policy load\n", v.passing);
	return CTL_R_OK;
}

/* EXPLAIN dir= proto= src= dst= [sport= dport= type= code= flags= ttl= on=] into @p. */
static int explain_pkt(const struct control_msg *m, struct pkt *p)
{
	const char *dir = control_msg_get(m, "dir");
	uint16_t v;

	memset(p, 0, sizeof(*p));
	if (!dir || (strcmp(dir, "in") && strcmp(dir, "out")))
		return -EINVAL;
	p->dir = dir[0] == 'i' ? PKT_DIR_IN : PKT_DIR_OUT;
	if (parse_u16(control_msg_get(m, "proto"), &v, 255) < 0)
		return -EINVAL;
	p->proto = (uint8_t)v;
	if (!control_msg_get(m, "src") || !control_msg_get(m, "dst") ||
	    ll_ip_parse(control_msg_get(m, "src"), &p->src) < 0 ||
	    ll_ip_parse(control_msg_get(m, "dst"), &p->dst) < 0 ||
	    ll_ip_is_v4(p->src) != ll_ip_is_v4(p->dst))
		return -EINVAL;
	p->family = ll_ip_is_v4(p->src) ? 4 : 6;
	if (control_msg_get(m, "sport") && parse_u16(control_msg_get(m, "sport"), &p->sport, 65535) < 0)
		return -EINVAL;
	if (control_msg_get(m, "dport") && parse_u16(control_msg_get(m, "dport"), &p->dport, 65535) < 0)
		return -EINVAL;
	if (control_msg_get(m, "type") && parse_u16(control_msg_get(m, "type"), &v, 255) == 0)
		p->icmp_type = (uint8_t)v;
	if (control_msg_get(m, "code") && parse_u16(control_msg_get(m, "code"), &v, 255) == 0)
		p->icmp_code = (uint8_t)v;
	if (control_msg_get(m, "flags") && parse_u16(control_msg_get(m, "flags"), &v, 255) == 0)
		p->tcp_flags = (uint8_t)v;
	p->ttl = 64;
	if (control_msg_get(m, "ttl") && parse_u16(control_msg_get(m, "ttl"), &v, 255) == 0)
		p->ttl = (uint8_t)v;
	p->ifname = control_msg_get(m, "on");
	p->l4_ok = 1;
	return 0;
}

/* control_req_explain() - EXPLAIN: the running engine's verdict for one packet. */
const char *control_req_explain(struct control *c, const struct control_msg *m, FILE *out)
{
	const struct policy *pol = c->ops->policy(c->ctx);
	struct verdict v = { 0 };
	const char *why;
	struct pkt p;
	int rc;

	if (explain_pkt(m, &p) < 0)
		return fputs("bad packet description\n", out), CTL_R_BAD;
	if (!c->ops->explain)
		return NOT_SUPPORTED(out);
	if ((rc = c->ops->explain(c->ctx, &p, &v)) < 0) {
		fprintf(out, "engine explain failed: %s\n", strerror(-rc));
		return CTL_R_FAIL;
	}
	verdict_print(out, pol, &p, &v);
	if ((why = control_unqueued(c)))
		fprintf(out, "note: %s: the kernel passes such a packet without asking the engine\n",
			why);
	return CTL_R_OK;
}
