/* parser.c - policy statements: serial, define, include, firewall rules, IPS lines; ids. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define MAX_INCLUDE_DEPTH ((int)LL_ARRAY_SIZE(((struct parser *)0)->stack))
/* Depth alone does not bound a fan-out: 16 includes of a file that includes 16... */
#define MAX_INCLUDES 4096

/* perr() - record an error; the policy will not load. */
void perr(struct parser *ps, const struct srcloc *loc, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	ps->nerr++;
	/* the lexer already reported a bad token; saying "expected X" too is noise */
	if (ps->tok.type == T_BAD && loc->file == ps->tok.loc.file &&
	    loc->line == ps->tok.loc.line && loc->col == ps->tok.loc.col)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		ps->oom = true;
		return;
	}
	ll_err_add(ps->errs, loc, "%s", msg);
	free(msg);
}

void next(struct parser *ps)
{
	lex_next(ps->lx, &ps->tok);
}

const char *desc(struct parser *ps, char *buf)
{
	return tok_desc(&ps->tok, buf, TOK_DESC_LEN);
}

static void *grow(void *v, uint32_t n, uint32_t *cap, size_t elem, bool *oom)
{
	void *nv;
	uint32_t c;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : 8;
	nv = realloc(v, c * elem);
	if (!nv) {
		*oom = true;
		return NULL;
	}
	*cap = c;
	return nv;
}

/* Rest of the statement must be empty; otherwise report and resync. */
static int end_of_statement(struct parser *ps)
{
	char buf[TOK_DESC_LEN];

	if (ps->tok.type == T_NL || ps->tok.type == T_EOF)
		return 0;
	if (ps->tok.type != T_BAD)
		perr(ps, &ps->tok.loc, "unexpected %s", desc(ps, buf));
	return -1;
}

static int st_serial(struct parser *ps)
{
	char buf[TOK_DESC_LEN];
	struct srcloc at = ps->tok.loc;
	uint64_t v;
	int rc;

	next(ps);
	if (ps->tok.type != T_WORD ||
	    (rc = parse_u64(ps->tok.s, ps->tok.n, UINT64_MAX, &v)) != 0) {
		perr(ps, &ps->tok.loc, "bad serial %s", desc(ps, buf));
		return -1;
	}
	if (ps->p->has_serial)
		perr(ps, &at, "serial given twice (first at %s:%u:%u)", ps->serial_loc.file,
		     ps->serial_loc.line, ps->serial_loc.col);
	ps->serial_loc = at;
	ps->p->has_serial = true;
	ps->p->serial = v;
	next(ps);
	return end_of_statement(ps);
}

static bool valid_name(const struct token *t)
{
	if (t->type != T_WORD || !((t->s[0] >= 'a' && t->s[0] <= 'z') ||
				   (t->s[0] >= 'A' && t->s[0] <= 'Z') || t->s[0] == '_'))
		return false;
	for (uint32_t i = 1; i < t->n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
			    t->s[i]))
			return false;
	return true;
}

static int add_set(struct parser *ps, const struct token *name, struct pvalue *v)
{
	struct policy *p = ps->p;
	struct fw_set *s;

	p->sets = grow(p->sets, p->nsets, &ps->sets_cap, sizeof(*s), &ps->oom) ?: p->sets;
	if (ps->oom)
		return -1;
	s = &p->sets[p->nsets++];
	memset(s, 0, sizeof(*s));
	s->name = strndup(name->s, name->n);
	s->kind = v->kind;
	s->n = v->n;
	s->addrs = v->addrs;
	s->ports = v->ports;
	s->text = sb_steal(&v->text);
	s->loc = name->loc;
	v->addrs = NULL;
	v->ports = NULL;
	if (!s->name || !s->text)
		ps->oom = true;
	return 0;
}

/*
 * `any` as a define's value: every address and every port, one range each,
 * so that the set serves as either, as it is used (a Suricata variable may
 * be either).
 */
static int any_value(struct parser *ps, struct pvalue *v)
{
	pvalue_free(v);
	memset(v, 0, sizeof(*v));
	v->addrs = malloc(sizeof(*v->addrs));
	v->ports = malloc(sizeof(*v->ports));
	if (!v->addrs || !v->ports) {
		ps->oom = true;
		return -1;
	}
	v->addrs[0] = (struct ip_range){ { 0, 0 }, { UINT64_MAX, UINT64_MAX } };
	v->ports[0] = (struct port_range){ 0, 65535 };
	v->n = 1;
	v->kind = SET_ADDR;
	v->kind_known = v->any = true;
	sb_puts(&v->text, "any");
	return 0;
}

static int st_define(struct parser *ps)
{
	char buf[TOK_DESC_LEN];
	const struct fw_set *old;
	struct token name;
	struct pvalue v;
	int rc;

	next(ps);
	name = ps->tok;
	if (!valid_name(&name)) {
		perr(ps, &name.loc, "bad define name %s", desc(ps, buf));
		return -1;
	}
	if ((old = policy_set(ps->p, name.s, name.n)))
		perr(ps, &name.loc, "%s is already defined at %s:%u:%u", desc(ps, buf),
		     old->loc.file, old->loc.line, old->loc.col);
	next(ps);
	if (ps->tok.type != T_EQ) {
		perr(ps, &ps->tok.loc, "expected '=' after the define name, got %s", desc(ps, buf));
		return -1;
	}
	next(ps);
	if (ps->tok.type == T_NL || ps->tok.type == T_EOF) {
		perr(ps, &ps->tok.loc, "expected an address, port or list, got %s", desc(ps, buf));
		return -1;
	}
	if (tok_is(&ps->tok, "any")) { /* Suricata's most common change: EXTERNAL_NET any */
		memset(&v, 0, sizeof(v));
		rc = any_value(ps, &v);
		next(ps);
	} else if ((rc = parse_value(ps, WANT_ANY_KIND, false, &v)) == 0 && v.any) {
		rc = any_value(ps, &v); /* it holds an any define: it is everything too */
	}
	if (rc == 0 && !old && (rc = add_set(ps, &name, &v)) == 0)
		ps->p->sets[ps->p->nsets - 1].any = v.any;
	pvalue_free(&v);
	return rc ?: end_of_statement(ps);
}

static char *include_path(const char *from, const char *path)
{
	const char *slash = strrchr(from, '/');
	char *out;

	if (path[0] == '/' || !slash)
		return strdup(path);
	if (asprintf(&out, "%.*s/%s", (int)(slash - from), from, path) < 0)
		return NULL;
	return out;
}

static bool include_loop(struct parser *ps, const char *key)
{
	for (int i = 0; i < ps->depth; i++)
		if (strcmp(ps->stack[i].key, key) == 0)
			return true;
	return false;
}

static int include_file(struct parser *ps, const struct srcloc *at, const char *path)
{
	char real[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!realpath(path, real)) {
		perr(ps, at, "cannot include '%s': %s", path, strerror(errno));
		return 0;
	}
	if (include_loop(ps, real)) {
		perr(ps, at, "include loop: '%s' is already being read", path);
		return 0;
	}
	/* a second read would only redefine what the first defined: say where that was */
	for (uint32_t i = 0; i < ps->nseen && !ps->ran; i++)
		if (strcmp(ps->seen[i].key, real) == 0) {
			perr(ps, at, "'%s' is already included, at %s:%u:%u: a file is read once",
			     path, ps->seen[i].at.file, ps->seen[i].at.line, ps->seen[i].at.col);
			return 0;
		}
	if (ps->depth >= MAX_INCLUDE_DEPTH) {
		perr(ps, at, "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
		return 0;
	}
	if (++ps->nincludes > MAX_INCLUDES) {
		if (ps->nincludes == MAX_INCLUDES + 1)
			perr(ps, at, "more than %d includes in one policy: no more are read", MAX_INCLUDES);
		return 0;
	}
	ps->seen = grow(ps->seen, ps->nseen, &ps->seen_cap, sizeof(*ps->seen), &ps->oom) ?: ps->seen;
	if (ps->oom || !(ps->seen[ps->nseen].key = strdup(real))) {
		ps->oom = true;
		return 0;
	}
	ps->seen[ps->nseen++].at = *at;
	/* what is left of the budget bounds the read itself: an include past it is not read */
	rc = policy_read_include(path, ps->bytes < POLICY_MAX_BYTES ? POLICY_MAX_BYTES - ps->bytes : 0,
				 &buf, &len);
	if (rc == -EFBIG) {
		perr(ps, at, "cannot include '%s': the policy and its includes would be larger than "
		     "the %d MiB a policy may be", path, POLICY_MAX_MIB);
		return 0;
	}
	if (rc < 0) {
		perr(ps, at, "cannot include '%s': %s", path, policy_read_error(rc));
		return 0;
	}
	ps->bytes += len;
	parse_buffer(ps, path, buf, len);
	free(buf);
	return 0;
}

static int st_include(struct parser *ps)
{
	char buf[TOK_DESC_LEN];
	struct srcloc at;
	char *name, *path;
	int rc;

	next(ps);
	at = ps->tok.loc;
	if (ps->tok.type != T_STRING) {
		perr(ps, &at, "expected a quoted path after 'include', got %s", desc(ps, buf));
		return -1;
	}
	name = lex_string_value(&ps->tok);
	path = name ? include_path(ps->lx->file, name) : NULL;
	next(ps);
	rc = end_of_statement(ps);
	if (rc == 0 && path)
		include_file(ps, &at, path);
	if (!path)
		ps->oom = true;
	free(name);
	free(path);
	return rc;
}

static bool is_ips_action(const struct token *t)
{
	return tok_is(t, "alert") || tok_is(t, "drop") || tok_is(t, "reject") || tok_is(t, "pass") ||
	       tok_is(t, "rejectsrc") || tok_is(t, "rejectdst") || tok_is(t, "rejectboth");
}

/* starts_statement() - see parse.h. */
bool starts_statement(const struct token *t)
{
	return t->type == T_WORD && (action_lookup(t) >= 0 || is_ips_action(t) ||
				     tok_is(t, "define") || tok_is(t, "include") || tok_is(t, "serial"));
}

static int st_ips(struct parser *ps)
{
	struct policy *p = ps->p;
	struct policy_ips_line *l;
	struct srcloc at = ps->tok.loc;
	uint32_t *conts, nconts;
	char *text = lex_raw_rule(ps->lx, &ps->tok, &conts, &nconts);

	p->ips_lines = grow(p->ips_lines, p->nips_lines, &ps->ips_cap, sizeof(*l), &ps->oom)
			       ?: p->ips_lines;
	if (!text || ps->oom) {
		free(text);
		free(conts);
		ps->oom = true;
		return -1;
	}
	l = &p->ips_lines[p->nips_lines++];
	l->text = text;
	l->loc = at;
	l->conts = conts;
	l->nconts = nconts;
	next(ps);
	return 0;
}

static int statement(struct parser *ps)
{
	char buf[TOK_DESC_LEN];
	int a;

	if (ps->tok.type == T_BAD)
		return -1;
	if (ps->tok.type != T_WORD) {
		perr(ps, &ps->tok.loc, "unexpected %s at the start of a statement", desc(ps, buf));
		return -1;
	}
	if ((a = action_lookup(&ps->tok)) >= 0)
		return parse_rule(ps, (enum fw_action)a);
	if (is_ips_action(&ps->tok))
		return st_ips(ps);
	if (tok_is(&ps->tok, "define"))
		return st_define(ps);
	if (tok_is(&ps->tok, "include"))
		return st_include(ps);
	if (tok_is(&ps->tok, "serial"))
		return st_serial(ps);
	perr(ps, &ps->tok.loc, "unknown keyword %s", desc(ps, buf));
	return -1;
}

/*
 * parse_buffer() - every statement of @buf (the file @file). Errors go to
 * ps->errs; after one, parsing resumes at the next line. Re-entered by include.
 */
int parse_buffer(struct parser *ps, const char *file, const char *buf, size_t len)
{
	struct lexer lx, *outer = ps->lx;
	struct token saved = ps->tok;
	char real[PATH_MAX];

	if (ps->depth >= MAX_INCLUDE_DEPTH)
		return -ELOOP;
	ps->stack[ps->depth].key = strdup(realpath(file, real) ? real : file);
	if (!ps->stack[ps->depth].key)
		return -ENOMEM;
	ps->depth++;
	lex_init(&lx, intern_file(ps, file), buf, len, ps->errs);
	lx.ran = ps->ran;
	ps->lx = &lx;
	for (next(ps); ps->tok.type != T_EOF && !ps->oom && !ll_err_full(ps->errs); next(ps)) {
		if (ps->tok.type == T_NL)
			continue;
		if (statement(ps) < 0 && ps->tok.type != T_NL && ps->tok.type != T_EOF) {
			lex_skip_line(&lx);
			next(ps);
		}
	}
	ps->nerr += lx.nerr;
	ps->lx = outer;
	ps->tok = saved;
	free(ps->stack[--ps->depth].key);
	return 0;
}

static void assign_ids(struct parser *ps)
{
	struct policy *p = ps->p;
	uint64_t next_id = 0;

	for (uint32_t i = 0; i < p->nrules; i++)
		if (!p->rules[i].id_auto && p->rules[i].id > next_id)
			next_id = p->rules[i].id;
	for (uint32_t i = 0; i < p->nrules; i++) {
		if (!p->rules[i].id_auto)
			continue;
		if (++next_id > UINT32_MAX) {
			perr(ps, &p->rules[i].loc, "no automatic id left above the explicit ones");
			return;
		}
		p->rules[i].id = (uint32_t)next_id;
	}
}

static int cmp_idx_by_id(const void *a, const void *b, void *arg)
{
	const struct fw_rule *r = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (r[x].id != r[y].id)
		return r[x].id < r[y].id ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void check_duplicate_ids(struct parser *ps)
{
	struct policy *p = ps->p;
	uint32_t *idx = malloc((p->nrules + 1) * sizeof(*idx));

	if (!idx) {
		ps->oom = true;
		return;
	}
	for (uint32_t i = 0; i < p->nrules; i++)
		idx[i] = i;
	qsort_r(idx, p->nrules, sizeof(*idx), cmp_idx_by_id, p->rules);
	/* id 0: automatic, or an invalid id already reported */
	for (uint32_t i = 1, first = 0; i < p->nrules; i++) {
		const struct fw_rule *a = &p->rules[idx[first]], *b = &p->rules[idx[i]];
		const struct srcloc *at = &ps->idloc[idx[first]];

		if (b->id == 0 || a->id != b->id) {
			first = i;
			continue;
		}
		perr(ps, &ps->idloc[idx[i]], "duplicate id %u (first at %s:%u:%u)", b->id, at->file,
		     at->line, at->col);
	}
	free(idx);
}

/* parser_finish() - the checks that need the whole policy: ids. */
void parser_finish(struct parser *ps)
{
	check_duplicate_ids(ps);
	assign_ids(ps);
}
