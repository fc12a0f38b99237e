/* ips_parse_print.c - a parsed IPS rule as canonical text, for goldens and `check`-style tools. */
#include <stdio.h>

#include "ips_rules.h"

static const char *const act_names[] = { "alert", "drop", "reject", "pass" };
static const char *const proto_names[] = { "ip", "tcp", "udp", "icmp", "tcp-pkt", "tcp-stream" };
static const char *const uop_names[] = { "=", "!=", "<", ">", "<=", ">=", "<>" };

static void print_addr(const struct ips_addr *a, FILE *out)
{
	char lo[64], hi[64];

	if (a->any) {
		fputs("any", out);
		return;
	}
	fputc('[', out);
	for (uint32_t i = 0; i < a->n; i++) {
		ll_ip_str(a->r[i].lo, lo, sizeof(lo));
		if (ll_ip_eq(a->r[i].lo, a->r[i].hi))
			fprintf(out, "%s%s", i ? "," : "", lo);
		else
			fprintf(out, "%s%s-%s", i ? "," : "", lo, ll_ip_str(a->r[i].hi, hi, sizeof(hi)));
	}
	fputc(']', out);
}

static void print_ports(const struct ips_ports *p, FILE *out)
{
	if (p->any) {
		fputs("any", out);
		return;
	}
	fputc('[', out);
	for (uint32_t i = 0; i < p->n; i++)
		if (p->r[i].lo == p->r[i].hi)
			fprintf(out, "%s%u", i ? "," : "", p->r[i].lo);
		else
			fprintf(out, "%s%u:%u", i ? "," : "", p->r[i].lo, p->r[i].hi);
	fputc(']', out);
}

static void print_uint(const char *kw, const struct ips_uint *u, FILE *out)
{
	if (u->op == IU_RANGE)
		fprintf(out, " %s:%llu<>%llu", kw, (unsigned long long)u->a, (unsigned long long)u->b);
	else
		fprintf(out, " %s:%s%llu", kw, uop_names[u->op], (unsigned long long)u->a);
}

static void print_content(const struct ips_content *c, FILE *out)
{
	fprintf(out, " content:%s\"", (c->flags & IC_NEG) ? "!" : "");
	for (uint32_t i = 0; i < c->len; i++) {
		uint8_t b = c->pat[i];
		if (b >= 0x20 && b < 0x7f && b != '"' && b != '|' && b != ';' && b != '\\')
			fputc(b, out);
		else
			fprintf(out, "|%02x|", b);
	}
	fputc('"', out);
	if (c->flags & IC_NOCASE) fputs(" nocase", out);
	static const char *const pos[] = { "offset", "depth", "distance", "within" };
	const int32_t v[] = { c->offset, c->depth, c->distance, c->within };
	for (int k = 0; k < 4; k++) {
		if (!(c->flags & (IC_OFFSET << k)))
			continue;
		if (c->var[k])
			fprintf(out, " %s:var%d", pos[k], c->var[k] - 1);
		else
			fprintf(out, " %s:%d", pos[k], v[k]);
	}
	if (c->flags & IC_STARTS) fputs(" startswith", out);
	if (c->flags & IC_ENDS) fputs(" endswith", out);
	if (c->flags & IC_FAST) fputs(" fast_pattern", out);
}

static void print_byte(const char *kw, const struct ips_byte *b, FILE *out)
{
	static const char *const ops[] = { "<", ">", "=", "&", "^", "<=", ">=" };

	fprintf(out, " %s:%u", kw, b->nbytes);
	if (kw[5] == 't' && b->var_value)
		fprintf(out, ",%s%s,var%d", (b->flags & IB_NEG) ? "!" : "", ops[b->op], b->var_value - 1);
	else if (kw[5] == 't')
		fprintf(out, ",%s%s,%llu", (b->flags & IB_NEG) ? "!" : "", ops[b->op],
			(unsigned long long)b->value);
	if (b->var_offset)
		fprintf(out, ",var%d", b->var_offset - 1);
	else
		fprintf(out, ",%d", b->offset);
	if (b->flags & IB_RELATIVE) fputs(",relative", out);
	if (b->flags & IB_LITTLE) fputs(",little", out);
	if (b->flags & IB_STRING)
		fprintf(out, ",string%s", b->base == 16 ? ",hex" : b->base == 8 ? ",oct" : b->base ? ",dec" : "");
	if (b->flags & IB_ALIGN) fputs(",align", out);
	if (b->flags & IB_BEGIN) fputs(",from_beginning", out);
	if (b->flags & IB_END) fputs(",from_end", out);
	if (b->multiplier != 1) fprintf(out, ",multiplier %u", b->multiplier);
	if (b->post_offset) fprintf(out, ",post_offset %d", b->post_offset);
	if (b->flags & IB_BITMASK) fprintf(out, ",bitmask 0x%llx", (unsigned long long)b->bitmask);
}

static void print_item(const struct ips_item *it, FILE *out)
{
	switch (it->kind) {
	case II_CONTENT: print_content(&it->u.c, out); break;
	case II_PCRE: fprintf(out, " pcre:%s\"%s\"", it->u.pcre.neg ? "!" : "", it->u.pcre.src); break;
	case II_BYTE_TEST: print_byte("byte_test", &it->u.b, out); break;
	case II_BYTE_JUMP: print_byte("byte_jump", &it->u.b, out); break;
	case II_BYTE_EXTRACT:
		print_byte("byte_extract", &it->u.b, out);
		fprintf(out, ",var %u", it->u.b.slot);
		if (it->u.b.align)
			fprintf(out, ",align %u", it->u.b.align);
		break;
	default:
		fprintf(out, " isdataat:%s", it->u.d.neg ? "!" : "");
		fprintf(out, it->u.d.var ? "var%d" : "%d", it->u.d.var ? it->u.d.var - 1 : it->u.d.n);
		fputs(it->u.d.relative ? ",relative" : "", out);
	}
}

static void print_state(const struct ips_ruleset *rs, const struct ips_rule *r, FILE *out)
{
	static const char *const flow_names[] = { "to_server", "to_client", "established",
						  "not_established", "stateless", "only_stream", "no_stream" };
	static const char *const fb_cmds[] = { "set", "unset", "toggle", "isset", "isnotset" };
	static const char *const th_kinds[] = { "", "limit", "threshold", "both", "detection_filter" };
	static const char *const tracks[] = { "by_src", "by_dst", "by_rule", "by_both" };

	if (r->flow) {
		fputs(" flow:", out);
		for (int b = 0, n = 0; b < 7; b++)
			if (r->flow & (1 << b))
				fprintf(out, "%s%s", n++ ? "," : "", flow_names[b]);
	}
	for (uint32_t i = 0; i < r->nfb; i++) {
		fprintf(out, " flowbits:%s,", fb_cmds[r->fb[i].cmd]);
		for (uint32_t k = 0; k < r->fb[i].n; k++)
			fprintf(out, "%s%s", k ? (r->fb[i].and_ ? "&" : "|") : "", rs->fb_names[r->fb[i].ids[k]]);
	}
	if (r->noalert)
		fputs(" noalert", out);
	if (r->th.kind == ITH_DETECTION)
		fprintf(out, " detection_filter:track %s,count %u,seconds %u", tracks[r->th.track],
			r->th.count, r->th.seconds);
	else if (r->th.kind)
		fprintf(out, " threshold:type %s,track %s,count %u,seconds %u", th_kinds[r->th.kind],
			tracks[r->th.track], r->th.count, r->th.seconds);
}

static void print_hdr(const struct ips_rule *r, FILE *out)
{
	static const char *const ss[] = { "server", "client", "both", "either" };

	if (r->hdr & IH_DSIZE) print_uint("dsize", &r->dsize, out);
	if (r->hdr & IH_TTL) print_uint("ttl", &r->ttl, out);
	if (r->hdr & IH_ITYPE) print_uint("itype", &r->itype, out);
	if (r->hdr & IH_ICODE) print_uint("icode", &r->icode, out);
	if (r->hdr & IH_ICMP_ID) print_uint("icmp_id", &r->icmp_id, out);
	if (r->hdr & IH_ICMP_SEQ) print_uint("icmp_seq", &r->icmp_seq, out);
	if (r->hdr & IH_IPOPTS) fprintf(out, " ipopts:%s", ips_ipopt_name(r->ipopt));
	if (r->hdr & IH_TCPMSS) print_uint("tcp.mss", &r->tcp_mss, out);
	if (r->hdr & IH_FLAGS)
		fprintf(out, " flags:%s0x%02x/0x%02x", (const char *[]){ "", "+", "*", "!" }[r->flags_mode],
			r->flags_want, r->flags_mask);
	if (r->hdr & IH_SSIZE) {
		fprintf(out, " stream_size:%s,%s,%llu", ss[r->ss_which], uop_names[r->ssize.op],
			(unsigned long long)r->ssize.a);
	}
}

void ips_rule_print(const struct ips_ruleset *rs, const struct ips_rule *r, FILE *out)
{
	fprintf(out, "%s %s%s ", act_names[r->action], proto_names[r->proto],
		r->family == 4 ? "v4" : r->family == 6 ? "v6" : "");
	print_addr(&r->src, out);
	fputc(' ', out);
	print_ports(&r->sp, out);
	fputs(r->bidir ? " <> " : " -> ", out);
	print_addr(&r->dst, out);
	fputc(' ', out);
	print_ports(&r->dp, out);
	fprintf(out, " sid:%u gid:%u rev:%u", r->sid, r->gid, r->rev);
	if (r->priority)
		fprintf(out, " priority:%d", r->priority);
	if (r->classtype)
		fprintf(out, " classtype:%s", r->classtype);
	print_state(rs, r, out);
	print_hdr(r, out);
	for (uint32_t i = 0; i < r->nitems; i++)
		print_item(&r->items[i], out);
	for (uint8_t i = 0; i < r->nhl; i++) {
		fprintf(out, " %s", ips_hbuf_name(r->hl[i].buf));
		for (uint32_t k = 0; k < r->hl[i].nitems; k++)
			print_item(&r->hl[i].items[k], out);
	}
	if (r->fp >= 0)
		fprintf(out, " fp:%d", r->fp);
	if (r->iponly)
		fputs(" ip-only", out);
	if (r->msg)
		fprintf(out, " msg:\"%s\"", r->msg);
	if (r->target)
		fprintf(out, " target:%s", r->target == 1 ? "src_ip" : "dest_ip");
	if (r->refs)
		fprintf(out, " reference:[%s]", r->refs);
	if (r->metadata)
		fprintf(out, " metadata:[%s]", r->metadata);
}
