/* verdict_json.c - a verdict for people and tools: the --verdicts JSON line, and explain's text. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "verdict_json.h"

const char *verdict_proto_name(uint8_t proto)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmp6";
	default: return NULL;
	}
}

static void put_ts(FILE *out, uint64_t ts_us)
{
	time_t sec = (time_t)(ts_us / 1000000u);
	struct tm tm;
	char buf[32];

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "\"ts\":\"%s.%06uZ\"", buf, (unsigned)(ts_us % 1000000u));
}

static void put_ids(FILE *out, const char *name, const uint32_t *ids, uint32_t n)
{
	fprintf(out, ",\"%s\":[", name);
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "%s%" PRIu32, i ? "," : "", ids[i]);
	fputc(']', out);
}

static void put_packet(FILE *out, const struct pkt *p)
{
	char s[64], d[64];
	const char *pn = verdict_proto_name(p->proto);

	fprintf(out, ",\"dir\":\"%s\"", p->dir == PKT_DIR_OUT ? "out" : "in");
	if (pn)
		fprintf(out, ",\"proto\":\"%s\"", pn);
	else
		fprintf(out, ",\"proto\":%u", p->proto);
	ll_ip_str_family(p->src, p->family, s, sizeof(s));
	ll_ip_str_family(p->dst, p->family, d, sizeof(d));
	fprintf(out, ",\"src\":\"%s\"", s);
	if ((p->proto == 6 || p->proto == 17) && p->l4_ok)
		fprintf(out, ",\"sport\":%u", p->sport);
	fprintf(out, ",\"dst\":\"%s\"", d);
	if ((p->proto == 6 || p->proto == 17) && p->l4_ok)
		fprintf(out, ",\"dport\":%u", p->dport);
	if ((p->proto == 1 || p->proto == 58) && p->l4_ok)
		fprintf(out, ",\"type\":%u,\"code\":%u", p->icmp_type, p->icmp_code);
}

void verdict_json_write(FILE *out, uint64_t n, uint64_t ts_us, const struct pkt *p,
			const struct verdict *v)
{
	fprintf(out, "{\"n\":%" PRIu64 ",", n);
	put_ts(out, ts_us);
	if (p)
		put_packet(out, p);
	fprintf(out, ",\"verdict\":\"%s\",\"by\":\"%s\",\"reason\":\"%s\"",
		v->accept ? "accept" : "drop", ll_by_name(v->by), ll_reason_name(v->reason));
	if (v->has_rule)
		fprintf(out, ",\"rule\":%" PRIu32, v->rule);
	if (v->nlogged)
		put_ids(out, "logged", v->logged, v->nlogged);
	if (v->nalerts)
		put_ids(out, "alerts", v->alerts, v->nalerts);
	fputs("}\n", out);
}

static const struct fw_rule *rule_by_id(const struct policy *pol, uint32_t id)
{
	for (uint32_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].id == id)
			return &pol->rules[i];
	return NULL;
}

/*
 * The allow rule (lowest id) whose direction covers @dir (FW_DIR_*): with
 * one, what no rule accepts in that direction is dropped (SPEC 4 step 4).
 */
static const struct fw_rule *first_allow(const struct policy *pol, uint8_t dir)
{
	const struct fw_rule *first = NULL;

	for (uint32_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].action == FW_ALLOW && (pol->rules[i].dir & dir) &&
		    (!first || pol->rules[i].id < first->id))
			first = &pol->rules[i];
	return first;
}

void verdict_print(FILE *out, const struct policy *pol, const struct pkt *p,
		   const struct verdict *v)
{
	/* an IPS decision names a sid, which may equal some firewall rule's id */
	bool ips = v->reason == R_IPS_DROP || v->reason == R_IPS_REJECT;
	const struct fw_rule *r = v->has_rule && !ips ? rule_by_id(pol, v->rule) : NULL;

	fprintf(out, "verdict: %s\nby: %s\nreason: %s\n", v->accept ? "accept" : "drop",
		ll_by_name(v->by), ll_reason_name(v->reason));
	if (r) {
		fputs("rule: ", out);
		fw_rule_print(r, out);
		fputc('\n', out);
	} else if (v->has_rule) {
		fprintf(out, "rule: %s %u\n", ips ? "sid" : "id", v->rule);
	}
	for (uint32_t i = 0; i < v->nlogged && i < FW_MAX_LOGGED; i++) {
		const struct fw_rule *l = rule_by_id(pol, v->logged[i]);

		fputs("logged: ", out);
		if (l)
			fw_rule_print(l, out);
		else
			fprintf(out, "id %u", v->logged[i]);
		fputc('\n', out);
	}
	/* "not-allowed" names no rule: the one that made this direction default-deny does */
	if (v->reason == R_NOT_ALLOWED && (r = first_allow(pol, p->dir))) {
		fprintf(out, "note: %s traffic is default-deny because the policy allows some of it "
			"(the first allow rule: ", p->dir == PKT_DIR_OUT ? "outbound" : "inbound");
		fw_rule_print(r, out);
		fputs("): what no rule accepts is dropped\n", out);
	}
}
