/*
 * print.c - a policy in canonical form (check --print, show, and the text the hash covers).
 *
 * The canonical form, which the parser reads back to the same form:
 *   serial N                              (when given)
 *   define NAME = VALUE                   (every define, in definition order,
 *                                          values canonical; includes expanded)
 *   ACTION [priority N] DIR PROTO [on IFACE] [from ADDR [port PORTS]]
 *          [to ADDR [port PORTS]] [type T [code C]] [flags F,...] id N
 *          [msg "text"] [nolog]           (every rule, in file order with
 *                                          includes expanded in place)
 *   IPS rule lines                        (as written, continuations joined)
 * with one blank line between these groups. Details:
 *   - priority is printed only when it differs from the action's default
 *     (0, and 4 for log-only), so `allow` and `log-only` never show it;
 *   - every rule shows its id, automatic ones too;
 *   - `from any` / `to any` are left out unless a port follows;
 *   - addresses print in their shortest form, CIDRs as the network (host
 *     bits masked), a /32 or /128 as a plain address; a one-item list as the
 *     item; lists nft-style `{ a, b }` in the order written; `$name` stays;
 *   - ICMP types print by nft name where one exists, codes by name only
 *     under destination-unreachable (elsewhere the names would mislead);
 *   - TCP flags print upper case in wire order: FIN,SYN,RST,PSH,ACK,URG.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ips.h"
#include "parse.h"

static const char *const dir_names[] = { [FW_DIR_IN] = "in", [FW_DIR_OUT] = "out",
					 [FW_DIR_ANY] = "any" };
static const char *const proto_names[] = {
	[FWP_ANY] = "any",	   [FWP_TCP] = "tcp",	[FWP_UDP] = "udp",
	[FWP_TCP_UDP] = "tcp-udp", [FWP_ICMP] = "icmp", [FWP_ICMP6] = "icmp6",
};

/* Ranges as text, for rules built by hand (the parser always sets text). */
static void print_ip_ranges(const struct ip_range *r, uint32_t n, FILE *out)
{
	char a[64], b[64];

	fputs(n == 1 ? "" : "{ ", out);
	for (uint32_t i = 0; i < n; i++) {
		fprintf(out, "%s%s", i ? ", " : "", ll_ip_str(r[i].lo, a, sizeof(a)));
		if (!ll_ip_eq(r[i].lo, r[i].hi))
			fprintf(out, "-%s", ll_ip_str(r[i].hi, b, sizeof(b)));
	}
	fputs(n == 1 ? "" : " }", out);
}

static void print_port_ranges(const struct port_range *r, uint32_t n, FILE *out)
{
	fputs(n == 1 ? "" : "{ ", out);
	for (uint32_t i = 0; i < n; i++) {
		fprintf(out, "%s%u", i ? ", " : "", r[i].lo);
		if (r[i].lo != r[i].hi)
			fprintf(out, "-%u", r[i].hi);
	}
	fputs(n == 1 ? "" : " }", out);
}

static void print_endpoint(const char *kw, const struct addr_match *a,
			   const struct port_match *p, FILE *out)
{
	if (a->any && p->any)
		return;
	fprintf(out, " %s ", kw);
	if (a->text)
		fputs(a->text, out);
	else if (a->any)
		fputs("any", out);
	else
		fputs(a->neg ? "! " : "", out), print_ip_ranges(a->r, a->n, out);
	if (p->any)
		return;
	fputs(" port ", out);
	if (p->text)
		fputs(p->text, out);
	else
		fputs(p->neg ? "! " : "", out), print_port_ranges(p->r, p->n, out);
}

static void print_icmp(const struct fw_rule *r, FILE *out)
{
	bool v6 = r->proto_kind == FWP_ICMP6;
	const char *name;

	if (r->icmp_type < 0)
		return;
	if ((name = icmp_type_name(v6, r->icmp_type)))
		fprintf(out, " type %s", name);
	else
		fprintf(out, " type %d", r->icmp_type);
	if (r->icmp_code < 0)
		return;
	if ((name = icmp_code_name(v6, r->icmp_type, r->icmp_code)))
		fprintf(out, " code %s", name);
	else
		fprintf(out, " code %d", r->icmp_code);
}

static void print_flags(uint8_t flags, FILE *out)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
	const char *sep = " flags ";

	for (unsigned i = 0; i < LL_ARRAY_SIZE(names); i++) {
		if (flags & (1u << i)) {
			fprintf(out, "%s%s", sep, names[i]);
			sep = ",";
		}
	}
}

static void print_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* fw_rule_print() - @r in canonical form (see the top of this file), no newline. */
void fw_rule_print(const struct fw_rule *r, FILE *out)
{
	uint8_t def_pri = r->action == FW_LOG_ONLY ? 4 : 0;

	fputs(fw_action_name(r->action), out);
	if (r->priority != def_pri)
		fprintf(out, " priority %u", r->priority);
	fprintf(out, " %s", r->dir <= FW_DIR_ANY && r->dir ? dir_names[r->dir] : "?");
	if (r->proto_kind == FWP_NUM)
		fprintf(out, " proto %u", r->proto_num);
	else
		fprintf(out, " %s", r->proto_kind < FWP_NUM ? proto_names[r->proto_kind] : "?");
	if (r->iface[0])
		fprintf(out, " on %.*s", (int)sizeof(r->iface), r->iface);
	print_endpoint("from", &r->src, &r->sport, out);
	print_endpoint("to", &r->dst, &r->dport, out);
	print_icmp(r, out);
	print_flags(r->tcp_flags, out);
	fprintf(out, " id %u", r->id);
	if (r->msg)
		fputs(" msg ", out), print_string(r->msg, out);
	if (r->nolog)
		fputs(" nolog", out);
}

/* policy_print_counts() - see policy.h. */
void policy_print_counts(const struct policy *p, FILE *out)
{
	uint32_t skipped = 0, ips = ips_ruleset_count(p->ips, &skipped);

	fprintf(out, "%u firewall rule%s, %u set%s", p->nrules, p->nrules == 1 ? "" : "s", p->nsets,
		p->nsets == 1 ? "" : "s");
	if (p->nips_lines)
		fprintf(out, ", %u IPS rule%s", ips, ips == 1 ? "" : "s");
	if (skipped)
		fprintf(out, " (%u skipped)", skipped);
	if (p->has_serial)
		fprintf(out, ", serial %llu", (unsigned long long)p->serial);
}

/* policy_print() - @p in canonical form; printing its output again gives the same text. */
void policy_print(const struct policy *p, FILE *out)
{
	bool gap = false;

	if (p->has_serial) {
		fprintf(out, "serial %llu\n", (unsigned long long)p->serial);
		gap = true;
	}
	if (p->nsets && gap)
		fputc('\n', out);
	for (uint32_t i = 0; i < p->nsets; i++, gap = true)
		fprintf(out, "define %s = %s\n", p->sets[i].name, p->sets[i].text);
	if (p->nrules && gap)
		fputc('\n', out);
	for (uint32_t i = 0; i < p->nrules; i++, gap = true) {
		fw_rule_print(&p->rules[i], out);
		fputc('\n', out);
	}
	if (p->nips_lines && gap)
		fputc('\n', out);
	for (uint32_t i = 0; i < p->nips_lines; i++)
		fprintf(out, "%s\n", p->ips_lines[i].text);
}

char *policy_text(const struct policy *p, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	policy_print(p, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
