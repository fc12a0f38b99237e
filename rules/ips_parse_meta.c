/* ips_parse_meta.c - flow/state keywords: flow, flowbits, threshold, stream_size, header tests. */
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "ips_rules.h"

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	for (char *e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = 0;
	return s;
}

static int bad(struct ips_pctx *c, const char *kw, const char *what)
{
	ips_perr(c, "%s: bad value '%s'", kw, what ? what : "");
	return -EINVAL;
}

static int parse_flow(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	static const struct { const char *n; uint8_t bit; } words[] = {
		{ "to_server", IF_TO_SERVER },	{ "from_client", IF_TO_SERVER },
		{ "to_client", IF_TO_CLIENT },	{ "from_server", IF_TO_CLIENT },
		{ "established", IF_ESTABLISHED }, { "not_established", IF_NOT_EST },
		{ "stateless", IF_STATELESS },	{ "only_stream", IF_ONLY_STREAM },
		{ "no_stream", IF_NO_STREAM },
	};
	char *save = NULL;

	for (char *t = val ? strtok_r(val, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		t = trim(t);
		for (i = 0; i < LL_ARRAY_SIZE(words) && strcmp(t, words[i].n); i++)
			;
		if (i == LL_ARRAY_SIZE(words))
			return bad(c, "flow", t);
		r->flow |= words[i].bit;
	}
	if (!val)
		return bad(c, "flow", val);
	if ((r->flow & IF_TO_SERVER) && (r->flow & IF_TO_CLIENT)) {
		ips_perr(c, "flow: to_server and to_client together");
		return -EINVAL;
	}
	if ((r->flow & IF_ESTABLISHED) && (r->flow & IF_NOT_EST)) {
		ips_perr(c, "flow: established and not_established together");
		return -EINVAL;
	}
	return 0;
}

/* Interned flowbit name -> id, shared by every rule of the ruleset. */
/* The slot of @name in c->fb_index (open addressing, at most half full). */
static uint32_t *fb_slot(struct ips_pctx *c, const char *name)
{
	uint32_t m = c->fb_index_cap - 1, i = ll_hash_str(name, SIZE_MAX) & m;

	while (c->fb_index[i] && strcmp(c->rs->fb_names[c->fb_index[i] - 1], name))
		i = (i + 1) & m;
	return &c->fb_index[i];
}

static uint32_t *fb_slot_of(struct ips_pctx *c, uint32_t e)
{
	return fb_slot(c, c->rs->fb_names[e - 1]);
}

/* A flowbit name's number, a new one for a new name (ids are 16-bit). */
static int fb_id(struct ips_pctx *c, const char *name)
{
	struct ips_ruleset *rs = c->rs;
	uint32_t *slot;
	char **v;

	if (2 * (rs->nfb + 1) > c->fb_index_cap &&
	    ips_index_grow(c, &c->fb_index, &c->fb_index_cap, 256, fb_slot_of) < 0)
		return -ENOMEM;
	slot = fb_slot(c, name);
	if (*slot)
		return (int)*slot - 1;
	if (rs->nfb >= UINT16_MAX) {
		ips_perr(c, "flowbits: more than %u names in one policy", UINT16_MAX);
		return -EINVAL;
	}
	if (rs->nfb == c->fb_names_cap) {
		uint32_t cap = c->fb_names_cap ? 2 * c->fb_names_cap : 64;

		if (!(v = realloc(rs->fb_names, cap * sizeof(*v))))
			return -ENOMEM;
		rs->fb_names = v;
		c->fb_names_cap = cap;
	}
	if (!(rs->fb_names[rs->nfb] = strdup(name)))
		return -ENOMEM;
	*slot = ++rs->nfb;
	return (int)rs->nfb - 1;
}

static int parse_flowbits(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	static const char *const cmds[] = { "set", "unset", "toggle", "isset", "isnotset" };
	char *comma = val ? strchr(val, ',') : NULL, *names, *save = NULL;
	struct ips_flowbit fb = { 0 };
	size_t i;

	if (val && !strcmp(trim(val), "noalert")) {
		r->noalert = true;
		return 0;
	}
	if (!comma)
		return bad(c, "flowbits", val);
	*comma = 0;
	for (i = 0; i < LL_ARRAY_SIZE(cmds) && strcmp(trim(val), cmds[i]); i++)
		;
	if (i == LL_ARRAY_SIZE(cmds))
		return bad(c, "flowbits", val);
	fb.cmd = (uint8_t)i;
	names = trim(comma + 1);
	fb.and_ = strchr(names, '&') != NULL;
	for (char *t = strtok_r(names, "|&", &save); t; t = strtok_r(NULL, "|&", &save)) {
		int id = fb_id(c, trim(t));
		if (id < 0)
			return id;
		if (fb.n == IPS_MAX_FLOWBITS_PER_RULE || !*trim(t))
			return bad(c, "flowbits", t);
		fb.ids[fb.n++] = (uint16_t)id;
	}
	if (!fb.n)
		return bad(c, "flowbits", names);
	struct ips_flowbit *v = realloc(r->fb, (r->nfb + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->fb = v;
	v[r->nfb++] = fb;
	return 0;
}

/*
 * Suricata 8's additions (type backoff with multiplier, track by_flow):
 * unsupported, so --skip-unsupported skips the rule and names them,
 * rather than a "bad value" that fails the whole policy.
 */
static int thresh_unsup(struct ips_pctx *c, const char *kw, const char *what)
{
	snprintf(c->unsup_buf, sizeof(c->unsup_buf), "%s/%s", kw, what);
	c->unsup = c->unsup_buf;
	return -ENOTSUP;
}

/* threshold: type T, track K, count N, seconds S; detection_filter: track, count, seconds. */
static int parse_threshold(struct ips_pctx *c, struct ips_rule *r, const char *kw, char *val)
{
	bool det = !strcmp(kw, "detection_filter");
	struct ips_thresh th = { .kind = det ? ITH_DETECTION : ITH_NONE, .track = 0xff };
	char *save = NULL;
	int64_t v;
	int have = 0;

	for (char *t = val ? strtok_r(val, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
		char *k = trim(t), *a = strchr(k, ' ');
		if (!a)
			return bad(c, kw, k);
		*a++ = 0;
		a = trim(a);
		if ((!strcmp(k, "type") && !det && !strcmp(a, "backoff")) ||
		    (!strcmp(k, "track") && !strcmp(a, "by_flow")))
			return thresh_unsup(c, kw, a);
		if (!strcmp(k, "multiplier") && !det)
			return thresh_unsup(c, kw, k);
		if (!strcmp(k, "type") && !det) {
			th.kind = !strcmp(a, "limit") ? ITH_LIMIT : !strcmp(a, "threshold") ? ITH_THRESHOLD :
				  !strcmp(a, "both") ? ITH_BOTH : ITH_NONE;
			if (th.kind == ITH_NONE)
				return bad(c, kw, a);
		} else if (!strcmp(k, "track")) {
			th.track = !strcmp(a, "by_src") ? ITR_SRC : !strcmp(a, "by_dst") ? ITR_DST :
				   !strcmp(a, "by_rule") ? ITR_RULE : !strcmp(a, "by_both") ? ITR_BOTH : 0xff;
			if (th.track == 0xff)
				return bad(c, kw, a);
		} else if ((!strcmp(k, "count") || !strcmp(k, "seconds")) &&
			   !ips_parse_num(a, 0, UINT32_MAX, &v)) {
			*(k[0] == 'c' ? &th.count : &th.seconds) = (uint32_t)v;
			have |= k[0] == 'c' ? 1 : 2;
		} else {
			return bad(c, kw, k);
		}
	}
	if (th.kind == ITH_NONE || th.track == 0xff || have != 3) {
		ips_perr(c, "%s needs %strack, count and seconds", kw, det ? "" : "type, ");
		return -EINVAL;
	}
	if (r->th.kind != ITH_NONE) {
		ips_perr(c, "only one threshold or detection_filter per rule");
		return -EINVAL;
	}
	r->th = th;
	return 0;
}

static int parse_stream_size(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	static const char *const which[] = { "server", "client", "both", "either" };
	char *f[3], *save = NULL, buf[48];
	int n = 0;
	size_t i;

	for (char *t = val ? strtok_r(val, ",", &save) : NULL; t && n < 3; t = strtok_r(NULL, ",", &save))
		f[n++] = trim(t);
	if (n != 3)
		return bad(c, "stream_size", val);
	for (i = 0; i < LL_ARRAY_SIZE(which) && strcmp(f[0], which[i]); i++)
		;
	snprintf(buf, sizeof(buf), "%s%s", f[1], f[2]);
	if (i == LL_ARRAY_SIZE(which) || strchr(f[1], '-') || ips_parse_uint(buf, UINT32_MAX, &r->ssize))
		return bad(c, "stream_size", f[0]);
	r->ss_which = (uint8_t)i;
	r->hdr |= IH_SSIZE;
	return 0;
}

static int flag_bit(char ch)
{
	switch (ch) {
	case 'F': return TCPF_FIN;
	case 'S': return TCPF_SYN;
	case 'R': return TCPF_RST;
	case 'P': return TCPF_PSH;
	case 'A': return TCPF_ACK;
	case 'U': return TCPF_URG;
	case 'E': case '2': return 0x40;
	case 'C': case '1': return 0x80;
	case '0': return 0;
	default: return -1;
	}
}

/* flags: [!*+]FLAGS[,MASK] (the modifier may also trail, as Snort wrote it). */
static int parse_flags(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	char *comma = val ? strchr(val, ',') : NULL;
	int b;

	if (!val || r->proto == IPSP_UDP || r->proto == IPSP_ICMP) {
		ips_perr(c, val ? "flags needs protocol tcp or ip" : "flags needs a value");
		return -EINVAL;
	}
	if (comma) {
		*comma = 0;
		for (char *m = trim(comma + 1); *m; m++) {
			if ((b = flag_bit(*m)) < 0)
				return bad(c, "flags", comma + 1);
			r->flags_mask |= (uint8_t)b;
		}
	}
	r->flags_mode = IFM_EXACT;
	for (char *s = trim(val); *s; s++) {
		if (*s == '!' || *s == '*' || *s == '+') {
			r->flags_mode = *s == '!' ? IFM_NOT : *s == '*' ? IFM_ANY : IFM_PLUS;
			continue;
		}
		if ((b = flag_bit(*s)) < 0)
			return bad(c, "flags", val);
		r->flags_want |= (uint8_t)b;
	}
	r->hdr |= IH_FLAGS;
	return 0;
}

/*
 * Numeric tests on one header field: ttl, itype, icode; icmp_id/icmp_seq
 * (ICMP echo-like messages); tcp.mss (the MSS option's value; packets
 * without one never match). icmpv6.mtu stays unsupported: a
 * packet-too-big is on the lifeline, accepted before any rule, so such a
 * rule could never fire.
 */
static const struct {
	const char *kw;
	uint64_t max;
	size_t off;   /* the struct ips_uint in struct ips_rule */
	uint16_t bit; /* IH_* */
} hdr_uints[] = {
	{ "ttl", 255, offsetof(struct ips_rule, ttl), IH_TTL },
	{ "itype", 255, offsetof(struct ips_rule, itype), IH_ITYPE },
	{ "icode", 255, offsetof(struct ips_rule, icode), IH_ICODE },
	{ "icmp_id", 65535, offsetof(struct ips_rule, icmp_id), IH_ICMP_ID },
	{ "icmp_seq", 65535, offsetof(struct ips_rule, icmp_seq), IH_ICMP_SEQ },
	{ "tcp.mss", 65535, offsetof(struct ips_rule, tcp_mss), IH_TCPMSS },
};

/* One of hdr_uints; -ENOENT when @kw is none of them. */
static int parse_hdr_uint(struct ips_pctx *c, struct ips_rule *r, const char *kw, char *val)
{
	for (size_t i = 0; i < LL_ARRAY_SIZE(hdr_uints); i++) {
		if (strcmp(kw, hdr_uints[i].kw) != 0)
			continue;
		if (val)
			val = trim(val);
		/* icmp_id:"300", as Suricata's icmp_id and icmp_seq parsers take it */
		if (val && hdr_uints[i].bit & (IH_ICMP_ID | IH_ICMP_SEQ) && val[0] == '"' &&
		    strlen(val) > 1 && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = 0;
			val = trim(val + 1);
		}
		if (ips_parse_uint(val, hdr_uints[i].max,
				   (struct ips_uint *)((char *)r + hdr_uints[i].off)))
			return bad(c, kw, val);
		r->hdr |= hdr_uints[i].bit;
		return 0;
	}
	return -ENOENT;
}

/* The ipopts names Suricata knows, with the IPv4 option type each names. */
static const struct { const char *name; uint8_t type; } ipopt_names[] = {
	{ "eol", 0x00 },  { "nop", 0x01 },  { "rr", 0x07 },    { "ts", 0x44 },
	{ "sec", 0x82 },  { "lsrr", 0x83 }, { "esec", 0x85 },  { "satid", 0x88 },
	{ "ssrr", 0x89 }, { "any", IPS_IPOPT_ANY },
};

/* ipopts:NAME - one IPv4 option, or any. */
static int parse_ipopts(struct ips_pctx *c, struct ips_rule *r, char *val)
{
	const char *v = val ? trim(val) : NULL;

	for (size_t i = 0; v && i < LL_ARRAY_SIZE(ipopt_names); i++) {
		if (!strcmp(v, ipopt_names[i].name)) {
			r->ipopt = ipopt_names[i].type;
			r->hdr |= IH_IPOPTS;
			return 0;
		}
	}
	return bad(c, "ipopts", val);
}

/* ips_ipopt_name() - see ips_rules.h. */
const char *ips_ipopt_name(uint8_t type)
{
	for (size_t i = 0; i < LL_ARRAY_SIZE(ipopt_names); i++)
		if (ipopt_names[i].type == type)
			return ipopt_names[i].name;
	return "?";
}

int ips_parse_meta(struct ips_pctx *c, struct ips_rule *r, const char *name, char *val)
{
	if (!strcmp(name, "flow"))
		return parse_flow(c, r, val);
	if (!strcmp(name, "flowbits"))
		return parse_flowbits(c, r, val);
	if (!strcmp(name, "noalert")) {
		r->noalert = true;
		return 0;
	}
	if (!strcmp(name, "threshold") || !strcmp(name, "detection_filter"))
		return parse_threshold(c, r, name, val);
	if (!strcmp(name, "stream_size"))
		return parse_stream_size(c, r, val);
	if (!strcmp(name, "flags"))
		return parse_flags(c, r, val);
	if (!strcmp(name, "ipopts"))
		return parse_ipopts(c, r, val);
	return parse_hdr_uint(c, r, name, val);
}
