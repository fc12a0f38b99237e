/*
 * control_table.c - `lifelinectl table` (an address set changed without a
 * reload of the file) and the rule diff that load and rollback print.
 * A set change rebuilds the policy from its canonical text with the one
 * define replaced: the policy stays immutable, and the classifier, IPS
 * variables and every rule using the set agree on the new value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control_int.h"
#include "ips.h"
#include "fw.h"

#define DIFF_MAX_LINES 200

struct rtext {
	uint32_t id;
	char *text;
};

static int cmp_rtext(const void *a, const void *b)
{
	const struct rtext *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The rules of @p by id, each with its canonical text. NULL on ENOMEM (also for 0 rules). */
static struct rtext *rule_texts(const struct policy *p)
{
	struct rtext *v = calloc(p->nrules + 1, sizeof(*v));

	for (uint32_t i = 0; v && i < p->nrules; i++) {
		size_t len;
		FILE *f = open_memstream(&v[i].text, &len);
		v[i].id = p->rules[i].id;
		if (f) {
			fw_rule_print(&p->rules[i], f);
			fclose(f);
		}
	}
	if (v)
		qsort(v, p->nrules, sizeof(*v), cmp_rtext);
	return v;
}

static void free_texts(struct rtext *v, uint32_t n)
{
	for (uint32_t i = 0; v && i < n; i++)
		free(v[i].text);
	free(v);
}

struct diff_count {
	uint32_t added, removed, changed, lines;
	uint32_t ips_added, ips_removed;
};

static void diff_line(struct diff_count *d, char sign, const char *text, FILE *out)
{
	if (d->lines++ < DIFF_MAX_LINES)
		fprintf(out, "  %c %s\n", sign, text ? text : "?");
}

static void diff_rules(const struct policy *a, const struct policy *b, struct diff_count *d,
		       FILE *out)
{
	struct rtext *x = rule_texts(a), *y = rule_texts(b);
	uint32_t i = 0, j = 0;

	if (!x || !y)
		goto out;
	while (i < a->nrules || j < b->nrules) {
		if (j == b->nrules || (i < a->nrules && x[i].id < y[j].id)) {
			diff_line(d, '-', x[i++].text, out);
			d->removed++;
		} else if (i == a->nrules || y[j].id < x[i].id) {
			diff_line(d, '+', y[j++].text, out);
			d->added++;
		} else {
			if (!x[i].text || !y[j].text || strcmp(x[i].text, y[j].text) != 0) {
				diff_line(d, '~', y[j].text, out);
				d->changed++;
			}
			i++, j++;
		}
	}
out:
	free_texts(x, a->nrules);
	free_texts(y, b->nrules);
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* @p's IPS rule lines, sorted by text (NULL on ENOMEM; none: an empty list). */
static const char **ips_texts(const struct policy *p)
{
	const char **t = calloc(p->nips_lines + 1, sizeof(*t));

	for (uint32_t i = 0; t && i < p->nips_lines; i++)
		t[i] = p->ips_lines[i].text;
	if (t)
		qsort(t, p->nips_lines, sizeof(*t), cmp_text);
	return t;
}

/*
 * IPS rules by their text, in order: a rule whose text changed in any way
 * (action, sid, a content) is one removed and one added, as a text diff
 * shows it. Counted in d->ips_added and d->ips_removed.
 */
static void diff_ips(const struct policy *a, const struct policy *b, struct diff_count *d,
		     FILE *out)
{
	const char **x = ips_texts(a), **y = ips_texts(b);
	uint32_t i = 0, j = 0;

	while (x && y && (i < a->nips_lines || j < b->nips_lines)) {
		int c = i == a->nips_lines ? 1 : j == b->nips_lines ? -1 : strcmp(x[i], y[j]);

		if (c < 0) {
			diff_line(d, '-', x[i++], out);
			d->ips_removed++;
		} else if (c > 0) {
			diff_line(d, '+', y[j++], out);
			d->ips_added++;
		} else {
			i++, j++;
		}
	}
	free(x);
	free(y);
}

static void diff_sets(const struct policy *a, const struct policy *b, FILE *out)
{
	for (uint32_t i = 0; i < b->nsets; i++) {
		const struct fw_set *o = policy_set(a, b->sets[i].name, strlen(b->sets[i].name));
		if (!o || strcmp(o->text, b->sets[i].text) != 0)
			fprintf(out, "  %c define %s = %s\n", o ? '~' : '+', b->sets[i].name,
				b->sets[i].text);
	}
	for (uint32_t i = 0; i < a->nsets; i++)
		if (!policy_set(b, a->sets[i].name, strlen(a->sets[i].name)))
			fprintf(out, "  - define %s\n", a->sets[i].name);
}

/* control_diff() - see control_int.h. */
void control_diff(const struct policy *old, const struct policy *new, FILE *out)
{
	struct diff_count d = { 0 };

	diff_sets(old, new, out);
	diff_rules(old, new, &d, out);
	diff_ips(old, new, &d, out);
	if (d.lines > DIFF_MAX_LINES)
		fprintf(out, "  ... %u more\n", d.lines - DIFF_MAX_LINES);
	fprintf(out, "rules: %u added, %u removed, %u changed", d.added, d.removed, d.changed);
	/* IPS rules loaded, as the summary counts them (--skip-unsupported leaves some out) */
	uint32_t skipped = 0, before = ips_ruleset_count(old->ips, NULL),
		 after = ips_ruleset_count(new->ips, &skipped);
	if (d.ips_added || d.ips_removed || before != after) {
		fprintf(out, "; IPS rules: %u added, %u removed (%u -> %u loaded", d.ips_added,
			d.ips_removed, before, after);
		/* the '+' lines list them too: say why they are not loaded */
		if (skipped)
			fprintf(out, ", %u of the new policy's skipped as unsupported", skipped);
		fputc(')', out);
	}
	fputc('\n', out);
}

typedef unsigned __int128 u128;

static u128 to128(ll_ip a)
{
	return ((u128)a.hi << 64) | a.lo;
}

static ll_ip from128(u128 v)
{
	return (ll_ip){ (uint64_t)(v >> 64), (uint64_t)v };
}

/* "A", "A/N" or "A-B" into @r. */
static int parse_range(char *s, struct ip_range *r)
{
	char *sep = strpbrk(s, "/-"), *end, kind = sep ? *sep : 0;
	ll_ip a, b;
	long n;
	int rc;

	if (sep)
		*sep = '\0';
	if ((rc = ll_ip_parse_rule(s, &a)) < 0)
		return rc;
	r->lo = r->hi = a;
	if (kind == '/') { /* a prefix length, never an address */
		int bits = ll_ip_is_v4(a) ? 32 : 128;
		u128 host;
		n = strtol(sep + 1, &end, 10);
		if (!sep[1] || *end || n < 0 || n > bits)
			return -EINVAL;
		host = n == 0 && bits == 128 ? ~(u128)0 : (((u128)1 << (bits - n)) - 1);
		if (n == bits)
			host = 0;
		r->lo = from128(to128(a) & ~host);
		r->hi = from128(to128(a) | host);
	} else if (kind == '-') { /* an address of the same family, never a length */
		if ((rc = ll_ip_parse_rule(sep + 1, &b)) < 0)
			return rc;
		if (ll_ip_is_v4(a) != ll_ip_is_v4(b) || ll_ip_cmp(a, b) > 0)
			return -EINVAL;
		r->hi = b;
	}
	return 0;
}

/* One range as the parser reads it back: address, CIDR or A-B. */
static void print_range(const struct ip_range *r, FILE *out)
{
	u128 lo = to128(r->lo), hi = to128(r->hi), size = hi - lo + 1;
	int bits = ll_ip_is_v4(r->lo) ? 32 : 128, len = bits;
	char a[64], b[64];

	ll_ip_str(r->lo, a, sizeof(a));
	if (lo == hi) {
		fputs(a, out);
		return;
	}
	if (size && (size & (size - 1)) == 0 && (lo & (size - 1)) == 0) {
		while (size > 1)
			size >>= 1, len--;
		fprintf(out, "%s/%d", a, len);
		return;
	}
	fprintf(out, "%s-%s", a, ll_ip_str(r->hi, b, sizeof(b)));
}

/*
 * @r as the parser reads it back, @lead and @trail around each piece: a range
 * crossing the IPv4 block is cut at its edges (ll_range_split_v4()).
 */
static void print_pieces(const struct ip_range *r, const char *lead, const char *trail, FILE *out)
{
	struct ip_range piece[3];
	uint32_t n = ll_range_split_v4(*r, piece);

	for (uint32_t i = 0; i < n; i++) {
		fputs(lead, out);
		print_range(&piece[i], out);
		fputs(trail, out);
	}
}

/* The first of the @n sorted, disjoint ranges at @r that ends at or after @x (@n when none). */
static uint32_t first_ending_from(const struct ip_range *r, uint32_t n, u128 x)
{
	uint32_t a = 0, b = n;

	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (to128(r[m].hi) < x)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/*
 * Print what is left of [@lo, @hi] once the sorted, disjoint ranges
 * @del/@n are taken out: one sweep from the first that reaches @lo (a
 * delete of 100,000 addresses was a recursion as deep, quadratic).
 */
static void print_minus(u128 lo, u128 hi, const struct ip_range *del, uint32_t n, FILE *out)
{
	for (uint32_t j = first_ending_from(del, n, lo); j < n; j++) {
		u128 dl = to128(del[j].lo), dh = to128(del[j].hi);

		if (dl > hi)
			break;
		if (dl > lo)
			print_pieces(&(struct ip_range){ from128(lo), from128(dl - 1) }, " ", "", out);
		if (dh >= hi)
			return;
		lo = dh + 1;
	}
	print_pieces(&(struct ip_range){ from128(lo), from128(hi) }, " ", "", out);
}

static int by_lo(const void *a, const void *b)
{
	u128 x = to128(((const struct ip_range *)a)->lo), y = to128(((const struct ip_range *)b)->lo);

	return x < y ? -1 : x > y;
}

/* Sort @r/@n and merge what overlaps or touches: sorted, disjoint; the new count. */
static uint32_t normalise(struct ip_range *r, uint32_t n)
{
	uint32_t k = 0;

	qsort(r, n, sizeof(*r), by_lo);
	for (uint32_t i = 0; i < n; i++) {
		if (k && to128(r[k - 1].hi) != ~(u128)0 && to128(r[i].lo) <= to128(r[k - 1].hi) + 1) {
			if (to128(r[i].hi) > to128(r[k - 1].hi))
				r[k - 1].hi = r[i].hi;
			continue;
		}
		r[k++] = r[i];
	}
	return k;
}

/* @set's ranges plus (@add) or minus @r/@n, as "{ a b }" (the parser merges). */
static int set_text(const struct fw_set *set, const struct ip_range *r, uint32_t n, bool add,
		    bool flush, char **text)
{
	size_t len;
	struct ip_range *del = NULL;
	uint32_t ndel = 0;
	FILE *f;

	if (!add && !flush && n) {
		del = malloc(2 * n * sizeof(*del)); /* ll_range_as_written(): 2 pieces at most */
		if (!del)
			return -ENOMEM;
		for (uint32_t i = 0; i < n; i++)
			ndel += ll_range_as_written(r[i], del + ndel);
		ndel = normalise(del, ndel);
	}
	f = open_memstream(text, &len);
	if (!f) {
		free(del);
		return -ENOMEM;
	}
	fputc('{', f);
	for (uint32_t i = 0; !flush && i < set->n; i++)
		print_minus(to128(set->addrs[i].lo), to128(set->addrs[i].hi), del, ndel, f);
	for (uint32_t i = 0; add && i < n; i++) {
		fputc(' ', f);
		print_range(&r[i], f); /* as written: the parser reads it the same way */
	}
	fputs(" }", f);
	free(del);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

/*
 * A set built on others (`define ok = { $admins, 192.0.2.0/24 }`) keeps
 * its `$name` items: written out as addresses, it would stop following
 * $admins, and an address deleted there later would stay in it. An add
 * appends to the items as written; a delete or flush could not say which
 * item an address came from, and is refused (returns 1, said on @out).
 */
static int set_text_refs(const struct fw_set *set, const struct ip_range *r, uint32_t n,
			 const char *op, char **text, FILE *out)
{
	const char *t = set->text ? set->text : "";
	size_t len = strlen(t), from = 0, size;
	FILE *f;

	if (strcmp(op, "add") != 0) {
		fprintf(out, "table %s %s: %s is built on other sets (%s): change those, or "
			"write %s as addresses only; nothing changed\n", set->name, op, set->name,
			t, set->name);
		return 1;
	}
	if (len >= 2 && t[0] == '{' && t[len - 1] == '}')
		from = 1, len -= 2; /* the items inside the braces */
	f = open_memstream(text, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "{ %.*s", (int)len, t + from);
	for (uint32_t i = 0; i < n; i++) {
		fputc(' ', f);
		print_range(&r[i], f);
	}
	fputs(" }", f);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

/* The addresses in the request body, one per line (blank lines skipped). */
static int body_ranges(const struct control_msg *m, struct ip_range **out, uint32_t *n, FILE *err)
{
	char *text = strndup(m->body, m->bodylen), *line, *save = NULL;
	struct ip_range *v = calloc(m->bodylen / 2 + 1, sizeof(*v));
	int rc = 0;

	*n = 0;
	if (!text || !v)
		rc = -ENOMEM;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && !rc;
	     line = strtok_r(NULL, "\n", &save)) {
		char copy[128];
		int bad;

		snprintf(copy, sizeof(copy), "%s", line);
		bad = parse_range(line, &v[*n]);
		if (bad == -EAFNOSUPPORT) {
			fprintf(err, "'%s': " LL_V4_MAPPED_WHY "\n", copy);
			rc = -EINVAL;
		} else if (bad < 0) {
			fprintf(err, "'%s' is not an address, CIDR or range A-B\n", copy);
			rc = -EINVAL;
		} else {
			(*n)++;
		}
	}
	free(text);
	if (rc)
		free(v);
	else
		*out = v;
	return rc;
}

/*
 * "{ a b, c }" as the canonical print writes a list, "{ a, b, c }", and
 * one item bare (malloc'd; NULL on ENOMEM): the persisted current.pol then
 * reads as `show` prints it, and hashes the same.
 */
static char *canonical_list(const char *v)
{
	size_t j = 0;
	bool item = false, sep = false;
	char *out = malloc(2 * strlen(v) + 4); /* ", " for each blank at most, and "{ }" */

	if (!out)
		return NULL;
	for (size_t i = 0; v[i]; i++) {
		char ch = v[i];

		if (ch == ' ' || ch == ',') {
			sep = item;
			continue;
		}
		if (ch == '{' || ch == '}') {
			if (j && out[j - 1] != ' ')
				out[j++] = ' ';
			out[j++] = ch;
			item = sep = false;
			continue;
		}
		if (sep) {
			out[j++] = ',';
			out[j++] = ' ';
		} else if (j && out[j - 1] == '{') {
			out[j++] = ' ';
		}
		out[j++] = ch;
		item = true;
		sep = false;
	}
	out[j] = '\0';
	/* one item prints bare: "{ 192.0.2.9 }" is "192.0.2.9" */
	if (j > 4 && out[0] == '{' && !strchr(out, ',') && strcmp(out, "{ }") != 0) {
		memmove(out, out + 2, j - 4);
		out[j - 4] = '\0';
	}
	return out;
}

/* The running policy's canonical text with @name's define replaced by @value. */
static char *policy_with_set(const struct policy *p, const char *name, const char *value)
{
	char *res = NULL, *key = NULL, *at, *eol;
	size_t len = 0;
	char *text = policy_text(p, &len);

	/* names have no length limit: a fixed buffer cut long ones short (and never matched) */
	if (!text || asprintf(&key, "\ndefine %s = ", name) < 0) {
		key = NULL;
		goto out;
	}
	if (strncmp(text, key + 1, strlen(key + 1)) == 0)
		at = text;
	else if ((at = strstr(text, key)))
		at++;
	if (!at || !(eol = strchr(at, '\n')))
		goto out;
	if (asprintf(&res, "%.*s%s%s%s", (int)(at - text), text, key + 1, value, eol) < 0)
		res = NULL;
out:
	free(key);
	free(text);
	return res;
}

static void show_set(const struct fw_set *s, FILE *out)
{
	for (uint32_t i = 0; i < s->n; i++)
		print_pieces(&s->addrs[i], "", "\n", out);
}

/* Does @set (sorted, disjoint) hold all of [@lo, @hi] (@whole), or any of it? */
static bool set_has_span(const struct fw_set *set, u128 lo, u128 hi, bool whole)
{
	uint32_t i = first_ending_from(set->addrs, set->n, lo);

	if (i == set->n)
		return false;
	return whole ? to128(set->addrs[i].lo) <= lo && hi <= to128(set->addrs[i].hi) :
		       to128(set->addrs[i].lo) <= hi;
}

/* The same for @r as written: an IPv6 one covers no IPv4 address (ll_range_as_written()). */
static bool set_has(const struct fw_set *set, const struct ip_range *r, bool whole)
{
	struct ip_range piece[2];
	uint32_t n = ll_range_as_written(*r, piece);
	bool all = true, any = false;

	for (uint32_t i = 0; i < n; i++) {
		bool has = set_has_span(set, to128(piece[i].lo), to128(piece[i].hi), whole);
		all &= has;
		any |= has;
	}
	return whole ? all : any;
}

/*
 * As nft and ipset do: adding what the set holds changes nothing (it was
 * listed twice); deleting what it does not hold is an error, and nothing
 * changes. Leaves in @r/@n only the ranges there is something to do for.
 */
static bool table_noop(const struct fw_set *set, const char *op, struct ip_range *r, uint32_t *n,
		       FILE *out, bool *fail)
{
	bool add = strcmp(op, "add") == 0;
	uint32_t k = 0;

	*fail = false;
	if (!add && strcmp(op, "delete") != 0)
		return false;
	for (uint32_t i = 0; i < *n; i++) {
		if (add && set_has(set, &r[i], true))
			continue;
		if (!add && !set_has(set, &r[i], false)) {
			fprintf(out, "table %s delete: ", set->name);
			print_range(&r[i], out);
			fputs(" is not in the set; nothing changed\n", out);
			*fail = true;
			return true;
		}
		r[k++] = r[i];
	}
	*n = k;
	if (!k)
		fprintf(out, "table %s add: already in the set; nothing changed\n", set->name);
	return !k;
}

/*
 * A negation stays in the family of what it negates, so `! $set` is IPv4
 * outside the set while the set holds only IPv4, and every address outside
 * it while it is empty or holds both families. A change that moves the set
 * across those lines would change what such a rule matches in the other
 * family (an IPv4 address added to an empty blocklist behind `allow ...
 * from ! $bad` would stop every IPv6 packet matching it): refused, naming
 * the rule. NULL when no negated address of @new changed family.
 */
static const struct fw_rule *negation_shift(const struct policy *old, const struct policy *new,
					    bool *src)
{
	if (!old || old->nrules != new->nrules)
		return NULL;
	for (uint32_t i = 0; i < new->nrules; i++) {
		const struct fw_rule *a = &old->rules[i], *b = &new->rules[i];

		if (a->id != b->id)
			return NULL; /* not the same rules: nothing to compare */
		if ((*src = b->src.neg && a->src.family != b->src.family) ||
		    (b->dst.neg && a->dst.family != b->dst.family))
			return b;
	}
	return NULL;
}

static const char *family_words(uint8_t f)
{
	return f == 4 ? "IPv4 only" : f == 6 ? "IPv6 only" : "both IPv4 and IPv6";
}

/* Build, compile and swap the policy with @set changed. */
static const char *table_change(struct control *c, const struct fw_set *set, const char *op,
				const struct ip_range *r, uint32_t n, FILE *out)
{
	struct policy_opts po;
	struct ll_errlist errs = { 0 };
	char *value = NULL, *text = NULL, msg[256], name[256];
	const char *res = CTL_R_FAIL;
	struct policy *p = NULL;
	struct state_meta old = c->meta;

	control_policy_opts(c, &po, c->meta.skip_unsupported);
	po.ran = true; /* the running policy's rules, one define changed */

	if (set->text && strchr(set->text, '$')) {
		int rc = set_text_refs(set, r, n, op, &value, out);

		if (rc > 0)
			goto out;
		if (rc < 0) {
			fputs("out of memory\n", out);
			goto out;
		}
	} else if (set_text(set, r, n, strcmp(op, "add") == 0, strcmp(op, "flush") == 0,
			    &value) < 0) {
		fputs("out of memory\n", out);
		goto out;
	}
	{
		char *canon_value = canonical_list(value);

		free(value);
		value = canon_value;
	}
	if (!value || !(text = policy_with_set(c->ops->policy(c->ctx), set->name, value))) {
		fputs("out of memory\n", out);
		goto out;
	}
	p = policy_load_string("table", text, &po, &errs);
	ll_err_print(&errs, out);
	if (!p || fw_compile(p) < 0) {
		fprintf(out, "cannot rebuild the policy with the new set; nothing changed\n");
		goto out;
	}
	{
		const struct policy *cur = c->ops->policy(c->ctx);
		bool src = false;
		const struct fw_rule *nr = negation_shift(cur, p, &src);

		if (nr) {
			const struct fw_rule *was = &cur->rules[nr - p->rules];
			const struct addr_match *m = src ? &nr->src : &nr->dst;

			fprintf(out, "table %s %s: rule id %u has '%s %s', which now matches %s; with "
				"the set changed it would match %s: nothing changed (change it with "
				"addresses of both families in one command, or write one rule per "
				"family)\n", set->name, op,
				nr->id, src ? "from" : "to", m->text,
				family_words(src ? was->src.family : was->dst.family),
				family_words(m->family));
			goto out;
		}
	}
	snprintf(name, sizeof(name), "%s", set->name);
	snprintf(msg, sizeof(msg), "table %.128s %s", name, op);
	/* the set as the new policy prints it (canonical), read before the engine owns @p */
	const struct fw_set *now = policy_set(p, name, strlen(name));
	char *canon = now && now->text ? strdup(now->text) : NULL;
	if (canon)
		free(value), value = canon;
	memcpy(c->meta.sha256, p->hash, sizeof(c->meta.sha256));
	if (c->ops->swap_policy(c->ctx, p, CONTROL_SWAP_TABLE, msg) < 0) {
		c->meta = old;
		fputs("the engine refused the changed policy; nothing changed\n", out);
	} else {
		/* persisted with the policy, so a restart keeps the set as changed */
		c->meta.is_signed = false;
		if (control_persist(c, text, strlen(text), NULL, 0, out) != PERSIST_GAVE_WAY) {
			/* @set belonged to the old policy, which the engine may have freed */
			fprintf(out, "%s = %s\n", name, value);
			res = CTL_R_OK;
		}
	}
	p = NULL;
out:
	policy_free(p);
	ll_err_free(&errs);
	free(value);
	free(text);
	return res;
}

/* control_req_table() - TABLE name= op=: see control_proto.c. */
const char *control_req_table(struct control *c, const struct control_msg *m, FILE *out)
{
	const char *name = control_msg_get(m, "name"), *op = control_msg_get(m, "op");
	const struct fw_set *set;
	struct ip_range *r = NULL;
	uint32_t n = 0;
	const char *res;
	bool fail;

	if (!name || !op || (strcmp(op, "add") && strcmp(op, "delete") && strcmp(op, "show") &&
			     strcmp(op, "flush"))) {
		fputs("TABLE needs name= and op=add|delete|show|flush\n", out);
		return CTL_R_BAD;
	}
	set = policy_set(c->ops->policy(c->ctx), name, strlen(name));
	if (!set || set->kind != SET_ADDR) {
		fprintf(out, set ? "'%s' is a port set; table changes address sets\n" :
			"the running policy has no address set '%s'\n", name);
		return CTL_R_FAIL;
	}
	if (strcmp(op, "show") == 0) {
		show_set(set, out);
		return CTL_R_OK;
	}
	if (set->any) {
		fprintf(out, "'%s' is any (define %s = any): it holds every address already; "
			"define it as a list to change it with table\n", name, name);
		return CTL_R_FAIL;
	}
	/* a changed set is a changed policy, and no one signed it: only signed loads change it */
	if (c->cfg->trusted_key) {
		fprintf(out, "table %s %s: refused: with trusted-key, policies change only by a signed "
			"load (edit the set in the policy, sign it, load it)\n", name, op);
		return CTL_R_FAIL;
	}
	if (strcmp(op, "flush") != 0 && (body_ranges(m, &r, &n, out) < 0 || n == 0)) {
		if (n == 0 && r)
			fprintf(out, "table %s %s: give at least one address\n", name, op);
		free(r);
		return CTL_R_FAIL;
	}
	if (table_noop(set, op, r, &n, out, &fail))
		res = fail ? CTL_R_FAIL : CTL_R_OK;
	else
		res = table_change(c, set, op, r, n, out);
	free(r);
	return res;
}
