/*
 * control_stats.c - `stats` (human, JSON, Prometheus) and `show
 * [--counters]`. Kernel queue drops come from /proc/net/netfilter/
 * nfnetlink_queue, read here: the server lives in the engine's namespace.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control_int.h"

struct kqueue {
	unsigned queue;
	uint64_t waiting, kernel_dropped, user_dropped;
};

/* Queues the kernel reports, at most @max. */
static int read_kqueues(struct kqueue *q, int max)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned long long w, kd, ud;
	unsigned num, pid, mode, range, seq, one;
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fscanf(f, "%u %u %llu %u %u %llu %llu %u %u", &num, &pid, &w, &mode,
				 &range, &kd, &ud, &seq, &one) == 9)
		q[n++] = (struct kqueue){ num, w, kd, ud };
	fclose(f);
	return n;
}

static int cmp_hits(const void *a, const void *b)
{
	const struct control_rule_hits *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void stats_text(const struct control_stats *s, const struct kqueue *kq, int nk, FILE *out)
{
	const struct pipeline_counters *c = &s->ctr;

	fprintf(out, "packets %" PRIu64 "  accepted %" PRIu64 "  dropped %" PRIu64 "\n",
		c->packets, c->accepted, c->dropped);
	/* live, most of the lifeline never reaches the queue: "lifeline 0" is not "none passed" */
	fputs("by (what reached the engine; the kernel's lifeline rules pass heartbeat, DHCP, DNS "
	      "and PMTU packets unseen and uncounted: status's heartbeat line tells):\n", out);
	for (int i = 0; i < BY__COUNT; i++)
		if (c->by_by[i])
			fprintf(out, "  %-16s %" PRIu64 "\n", ll_by_name(i), c->by_by[i]);
	fputs("by reason:\n", out);
	for (int i = 0; i < R__COUNT; i++)
		if (c->by_reason[i])
			fprintf(out, "  %-16s %" PRIu64 "\n", ll_reason_name(i), c->by_reason[i]);
	fputs("by rule:\n", out);
	for (uint32_t i = 0; i < s->nrules; i++)
		if (s->rules[i].packets)
			fprintf(out, "  id %-13u %" PRIu64 "\n", s->rules[i].id, s->rules[i].packets);
	fputs("by queue:\n", out);
	for (uint32_t i = 0; i < s->nqueues; i++)
		fprintf(out, "  queue %-10u packets %" PRIu64 "  verdict errors %" PRIu64
			"  not delivered (socket full) %" PRIu64 "\n", s->queues[i].queue,
			s->queues[i].packets, s->queues[i].verdict_errors, s->queues[i].undelivered);
	for (int i = 0; i < nk; i++)
		fprintf(out, "  kernel queue %u: waiting %" PRIu64 "  dropped (queue full) %"
			PRIu64 "  dropped (netlink) %" PRIu64 "\n", kq[i].queue, kq[i].waiting,
			kq[i].kernel_dropped, kq[i].user_dropped);
	fprintf(out, "flows: %" PRIu64 " active of %" PRIu64 ", %" PRIu64 " created, %" PRIu64
		" expired, %" PRIu64 " evicted (table full)\n", s->flows.active, s->max_flows,
		s->flows.created, s->flows.expired, s->flows.evicted);
	fprintf(out, "events lost: %" PRIu64 " (disk full, or a pipe nobody reads)\n", s->events_lost);
	if (s->ips_memcap)
		fprintf(out, "IPS reassembly: %.1f of %.1f MiB in use; %" PRIu64 " stream%s cut short "
			"by that bound (inspected packet by packet after); %" PRIu64 " kept to a window "
			"past half of it (rules placed from the stream's start skipped)\n",
			s->ips_mem / 1048576.0, s->ips_memcap / 1048576.0, s->ips_memcap_hits,
			s->ips_memcap_hits == 1 ? "" : "s", s->ips_slid);
}

static void stats_json(const struct control_stats *s, const struct kqueue *kq, int nk, FILE *out)
{
	const struct pipeline_counters *c = &s->ctr;
	const char *sep = "";

	fprintf(out, "{\"packets\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"dropped\":%" PRIu64
		",\"by\":{", c->packets, c->accepted, c->dropped);
	for (int i = 0; i < BY__COUNT; i++, sep = ",")
		fprintf(out, "%s\"%s\":%" PRIu64, sep, ll_by_name(i), c->by_by[i]);
	fputs("},\"reason\":{", out);
	sep = "";
	for (int i = 0; i < R__COUNT; i++, sep = ",")
		fprintf(out, "%s\"%s\":%" PRIu64, sep, ll_reason_name(i), c->by_reason[i]);
	fputs("},\"rules\":{", out);
	for (uint32_t i = 0; i < s->nrules; i++)
		fprintf(out, "%s\"%u\":%" PRIu64, i ? "," : "", s->rules[i].id, s->rules[i].packets);
	fputs("},\"queues\":[", out);
	for (uint32_t i = 0; i < s->nqueues; i++)
		fprintf(out, "%s{\"queue\":%u,\"packets\":%" PRIu64 ",\"verdict_errors\":%" PRIu64
			",\"undelivered\":%" PRIu64 "}", i ? "," : "", s->queues[i].queue,
			s->queues[i].packets, s->queues[i].verdict_errors, s->queues[i].undelivered);
	fputs("],\"kernel_queues\":[", out);
	for (int i = 0; i < nk; i++)
		fprintf(out, "%s{\"queue\":%u,\"waiting\":%" PRIu64 ",\"queue_dropped\":%" PRIu64
			",\"user_dropped\":%" PRIu64 "}", i ? "," : "", kq[i].queue, kq[i].waiting,
			kq[i].kernel_dropped, kq[i].user_dropped);
	fprintf(out, "],\"flows\":{\"active\":%" PRIu64 ",\"max\":%" PRIu64 ",\"created\":%" PRIu64
		",\"expired\":%" PRIu64 ",\"evicted\":%" PRIu64 "},\"events_lost\":%" PRIu64
		",\"ips_reassembly\":{\"bytes\":%" PRIu64 ",\"bound\":%" PRIu64 ",\"cut_short\":%"
		PRIu64 ",\"windowed\":%" PRIu64 "}}\n", s->flows.active, s->max_flows, s->flows.created,
		s->flows.expired, s->flows.evicted, s->events_lost, s->ips_mem, s->ips_memcap,
		s->ips_memcap_hits, s->ips_slid);
}

static void prom_type(FILE *out, const char *name, const char *help, const char *type)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_head(FILE *out, const char *name, const char *help)
{
	prom_type(out, name, help, "counter");
}

/* One metric without labels. */
static void prom_one(FILE *out, const char *name, const char *help, const char *type, uint64_t v)
{
	prom_type(out, name, help, type);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

/*
 * What status tells, as gauges: a collector fed by `stats --prometheus`
 * alone saw a host gone offline, or passing everything unfiltered after a
 * reset, as a quiet healthy one (counters flat, drops 0).
 */
static void status_prom(const struct control_status *st, FILE *out)
{
	prom_one(out, "lifeline_heartbeat_online", "1 while heartbeats with a manager come in time "
		 "(status: online), else 0.", "gauge", st->online);
	prom_one(out, "lifeline_heartbeat_last_seen_timestamp_seconds", "Unix time of the last "
		 "heartbeat packet; 0: none seen.", "gauge",
		 st->heartbeat_seen ? st->heartbeat_last_us / 1000000 : 0);
	prom_one(out, "lifeline_heartbeat_missed", "Heartbeat intervals missed since the last one.",
		 "gauge", st->heartbeat_missed);
	if (st->hooks_backend)
		prom_one(out, "lifeline_queue_rule_installed", "1 while the kernel queue rule sends "
			 "packets to the engine; 0 after `reset` took it out or its rules were "
			 "flushed: traffic is not filtered.", "gauge",
			 st->hooks_queue && !st->hooks_gone);
}

static void stats_prom(const struct control_stats *s, const struct kqueue *kq, int nk, FILE *out)
{
	const struct pipeline_counters *c = &s->ctr;

	prom_head(out, "lifeline_packets_total", "Packets judged, by verdict.");
	fprintf(out, "lifeline_packets_total{verdict=\"accept\"} %" PRIu64 "\n", c->accepted);
	fprintf(out, "lifeline_packets_total{verdict=\"drop\"} %" PRIu64 "\n", c->dropped);
	prom_head(out, "lifeline_by_total", "Packets by deciding stage, of those the engine judged: "
		  "the kernel's lifeline rules pass heartbeat, DHCP, DNS and PMTU packets uncounted.");
	for (int i = 0; i < BY__COUNT; i++)
		fprintf(out, "lifeline_by_total{by=\"%s\"} %" PRIu64 "\n", ll_by_name(i), c->by_by[i]);
	prom_head(out, "lifeline_reason_total", "Packets by verdict reason, of those the engine "
		  "judged: heartbeat, dhcp, dns and pmtu passed by the kernel's lifeline rules are "
		  "not counted.");
	for (int i = 0; i < R__COUNT; i++)
		fprintf(out, "lifeline_reason_total{reason=\"%s\"} %" PRIu64 "\n", ll_reason_name(i),
			c->by_reason[i]);
	prom_head(out, "lifeline_rule_packets_total", "Packets decided by each rule.");
	for (uint32_t i = 0; i < s->nrules; i++)
		fprintf(out, "lifeline_rule_packets_total{id=\"%u\"} %" PRIu64 "\n", s->rules[i].id,
			s->rules[i].packets);
	prom_head(out, "lifeline_queue_packets_total", "Packets read per NFQUEUE worker.");
	for (uint32_t i = 0; i < s->nqueues; i++)
		fprintf(out, "lifeline_queue_packets_total{queue=\"%u\"} %" PRIu64 "\n",
			s->queues[i].queue, s->queues[i].packets);
	prom_head(out, "lifeline_queue_undelivered_total",
		  "Packets the kernel could not send to the engine (socket buffer full): "
		  "with fail-open passed unjudged, else dropped.");
	for (uint32_t i = 0; i < s->nqueues; i++)
		fprintf(out, "lifeline_queue_undelivered_total{queue=\"%u\"} %" PRIu64 "\n",
			s->queues[i].queue, s->queues[i].undelivered);
	prom_head(out, "lifeline_kernel_queue_dropped_total", "Packets the kernel dropped, queue full.");
	for (int i = 0; i < nk; i++)
		fprintf(out, "lifeline_kernel_queue_dropped_total{queue=\"%u\"} %" PRIu64 "\n",
			kq[i].queue, kq[i].kernel_dropped);
	prom_head(out, "lifeline_kernel_queue_user_dropped_total",
		  "Packets the kernel could not send to the engine (netlink buffer).");
	for (int i = 0; i < nk; i++)
		fprintf(out, "lifeline_kernel_queue_user_dropped_total{queue=\"%u\"} %" PRIu64 "\n",
			kq[i].queue, kq[i].user_dropped);
	prom_one(out, "lifeline_flows", "Flows in the tables now.", "gauge", s->flows.active);
	prom_one(out, "lifeline_flows_max",
		 "Flows the tables hold at most (max-flows times the workers: a table each).",
		 "gauge", s->max_flows);
	prom_one(out, "lifeline_flows_created_total", "Flows created.", "counter", s->flows.created);
	prom_one(out, "lifeline_flows_expired_total", "Flows ended by their timeout.", "counter",
		 s->flows.expired);
	prom_one(out, "lifeline_flows_evicted_total", "Flows pushed out by a full table.", "counter",
		 s->flows.evicted);
	prom_one(out, "lifeline_events_lost_total", "Event lines not written (disk full, a pipe "
		 "nobody reads).", "counter", s->events_lost);
	prom_one(out, "lifeline_ips_reassembly_bytes", "IPS reassembly memory in use.", "gauge",
		 s->ips_mem);
	prom_one(out, "lifeline_ips_reassembly_cut_short_total", "IPS streams cut short by the "
		 "reassembly memory bound.", "counter", s->ips_memcap_hits);
	prom_one(out, "lifeline_ips_reassembly_windowed_total", "IPS streams kept to a window past "
		 "half the reassembly memory bound (rules placed from the stream's start skipped).",
		 "counter", s->ips_slid);
}

/* The engine's counters, rule hits sorted by id. NULL + @out message on failure. */
static struct control_stats *get_stats(struct control *c, FILE *out)
{
	struct control_stats *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return fputs("out of memory\n", out), NULL;
	if (!c->ops->stats) {
		fputs("not supported by this engine\n", out);
		free(s);
		return NULL;
	}
	if ((rc = c->ops->stats(c->ctx, s)) < 0) {
		fprintf(out, "engine stats failed: %s\n", strerror(-rc));
		free(s->rules);
		free(s);
		return NULL;
	}
	if (s->nqueues > CONTROL_MAX_QUEUES)
		s->nqueues = CONTROL_MAX_QUEUES;
	if (s->rules)
		qsort(s->rules, s->nrules, sizeof(*s->rules), cmp_hits);
	else
		s->nrules = 0;
	return s;
}

/* control_req_stats() - STATS [json|prometheus]. */
const char *control_req_stats(struct control *c, const struct control_msg *m, FILE *out)
{
	struct control_stats *s = get_stats(c, out);
	struct kqueue kq[CONTROL_MAX_QUEUES];
	int nk;

	if (!s)
		return CTL_R_FAIL;
	nk = read_kqueues(kq, CONTROL_MAX_QUEUES);
	if (control_msg_has(m, "json")) {
		stats_json(s, kq, nk, out);
	} else if (control_msg_has(m, "prometheus")) {
		stats_prom(s, kq, nk, out);
		if (c->ops->status) {
			struct control_status *st = calloc(1, sizeof(*st));

			if (st && c->ops->status(c->ctx, st) == 0)
				status_prom(st, out);
			free(st);
		}
	} else {
		stats_text(s, kq, nk, out);
	}
	free(s->rules);
	free(s);
	return CTL_R_OK;
}

static uint64_t hits_of(const struct control_stats *s, uint32_t id)
{
	struct control_rule_hits key = { .id = id }, *h;

	if (!s || !s->nrules)
		return 0;
	h = bsearch(&key, s->rules, s->nrules, sizeof(key), cmp_hits);
	return h ? h->packets : 0;
}

/* control_req_show() - SHOW [counters]: canonical form, each rule's hits as a comment. */
const char *control_req_show(struct control *c, const struct control_msg *m, FILE *out)
{
	const struct policy *p = c->ops->policy(c->ctx);
	struct control_stats *s = NULL;

	if (!control_msg_has(m, "counters")) {
		policy_print(p, out);
		return CTL_R_OK;
	}
	if (!(s = get_stats(c, out)))
		return CTL_R_FAIL;
	if (p->has_serial)
		fprintf(out, "serial %" PRIu64 "\n\n", p->serial);
	for (uint32_t i = 0; i < p->nsets; i++)
		fprintf(out, "define %s = %s\n", p->sets[i].name, p->sets[i].text);
	if (p->nsets)
		fputc('\n', out);
	for (uint32_t i = 0; i < p->nrules; i++) {
		fw_rule_print(&p->rules[i], out);
		fprintf(out, "  # %" PRIu64 " packets\n", hits_of(s, p->rules[i].id));
	}
	for (uint32_t i = 0; i < p->nips_lines; i++)
		fprintf(out, "%s%s\n", i ? "" : "\n", p->ips_lines[i].text);
	free(s->rules);
	free(s);
	return CTL_R_OK;
}
