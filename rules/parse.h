/* parse.h - private to the policy parser: lexer, values, parser state. */
#ifndef LL_PARSE_H
#define LL_PARSE_H

#include <stdarg.h>

#include "policy.h"

/* A growable string; on ENOMEM it sets oom and stops growing. */
struct strbuf {
	char *s;
	size_t n, cap;
	bool oom;
};
void sb_add(struct strbuf *b, const char *s, size_t n);
void sb_puts(struct strbuf *b, const char *s);
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sb_steal(struct strbuf *b); /* NULL on ENOMEM; the buffer is then empty */

enum tok_type {
	T_EOF,
	T_NL,
	T_WORD,
	T_STRING, /* s/n include the quotes */
	T_VAR,    /* $name: s/n include the '$' */
	T_LBRACE,
	T_RBRACE,
	T_COMMA,
	T_BANG,
	T_EQ,
	T_BAD, /* the lexer already reported it */
};

struct token {
	enum tok_type type;
	const char *s;
	uint32_t n;
	size_t off; /* byte offset in the buffer */
	struct srcloc loc;
};

struct lexer {
	const char *buf;
	size_t len, pos;
	size_t bol; /* offset of the current line's first byte */
	uint32_t line;
	const char *file;
	struct ll_errlist *errs;
	unsigned nerr;
	bool ran; /* policy_opts.ran: no errors for what earlier versions took */
};

void lex_init(struct lexer *lx, const char *file, const char *buf, size_t len,
	      struct ll_errlist *errs);
void lex_next(struct lexer *lx, struct token *t);
/* Skip the rest of the current line (error recovery). */
void lex_skip_line(struct lexer *lx);
/*
 * The IPS rule starting at @first up to the end of its line, lines ending
 * in '\' joined as Suricata does. Malloc'd; NULL on ENOMEM. *@conts
 * (malloc'd, *@nconts of them): where in the text each continuation line
 * starts, for error locations.
 */
char *lex_raw_rule(struct lexer *lx, const struct token *first, uint32_t **conts, uint32_t *nconts);
/* Decode a T_STRING token's contents; malloc'd, NULL on ENOMEM. */
char *lex_string_value(const struct token *t);
bool tok_is(const struct token *t, const char *word);
/* "'tok'" (shortened when long), "end of line" or "end of file". */
const char *tok_desc(const struct token *t, char *buf, size_t len);
#define TOK_DESC_LEN 96

/* A parsed ADDR or PORTS value: ranges sorted and merged, canonical text. */
struct pvalue {
	enum set_kind kind;
	bool any, neg;
	bool kind_known;
	bool inferred; /* kind taken from the first item (define) */
	bool has_any_set; /* holds a define that is any: no table narrows it */
	uint32_t n, cap;
	struct ip_range *addrs;
	struct port_range *ports;
	struct strbuf text;
	uint32_t items;
};
void pvalue_free(struct pvalue *v);
int pvalue_add_addr(struct pvalue *v, struct ip_range r);
int pvalue_add_port(struct pvalue *v, struct port_range r);
void pvalue_normalize(struct pvalue *v);

struct incl {
	char *key; /* realpath, or the name when there is none */
};

/* A file an include statement read, and where that statement is. */
struct incl_seen {
	char *key; /* realpath */
	struct srcloc at;
};

struct parser {
	struct policy *p;
	struct ll_errlist *errs;
	unsigned nerr;
	bool oom;
	struct lexer *lx;
	struct token tok;
	struct srcloc *idloc; /* per rule: where its id was written (line 0: auto) */
	uint32_t rules_cap, sets_cap, ips_cap;
	struct incl stack[16];
	int depth;
	unsigned nincludes; /* include statements followed, in all */
	struct incl_seen *seen; /* the files they read, each once */
	uint32_t nseen, seen_cap;
	size_t bytes;       /* policy text read, includes too */
	struct srcloc serial_loc;
	bool ran; /* policy_opts.ran */
};

void perr(struct parser *ps, const struct srcloc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void next(struct parser *ps);
const char *desc(struct parser *ps, char *buf); /* tok_desc of the current token */

/* parse_value.c */
enum want_kind { WANT_ADDR = SET_ADDR, WANT_PORT = SET_PORT, WANT_ANY_KIND };
/*
 * Parse ADDR or PORTS at the current token: any, !, $name, a list or one
 * item. @want WANT_ANY_KIND (define) decides the kind from the first item.
 * Returns 0, or -1 after a syntax error (resync needed). Semantic errors
 * are reported and parsing goes on.
 */
int parse_value(struct parser *ps, enum want_kind want, bool allow_any_neg, struct pvalue *v);
int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out);

/* parse_rule.c */
int parse_rule(struct parser *ps, enum fw_action a);
int action_lookup(const struct token *t);
/* rule_keyword() - is @t a firewall rule's keyword (from, to, port, id, ...), never a value? */
bool rule_keyword(const struct token *t);
/* starts_statement() - does @t begin a statement (a rule's action, define, include, serial)? */
bool starts_statement(const struct token *t);

/* policy.c */
/* Read a whole file; 0 or -errno (-EFBIG past the size limit). */
int policy_read_file(const char *path, char **buf, size_t *len);
/*
 * policy_read_include() - policy_read_file() for an include: a regular file
 * only (-EFTYPE_), so that a FIFO or a device named in a policy never makes
 * a load wait (the path the user names may be a pipe: /dev/stdin), and at
 * most @max bytes (-EFBIG, unread when its size says so).
 */
#define EFTYPE_ 4096 /* no errno means "not a regular file" (BSD has EFTYPE) */
int policy_read_include(const char *path, size_t max, char **buf, size_t *len);
/* What a policy_read_file() error means, for "cannot read X: ..." (the size limit named). */
const char *policy_read_error(int rc);
/* Free what a rule owns (matches, texts, msg), not the rule itself. */
void fw_rule_release(struct fw_rule *r);

/* parser.c */
int parse_buffer(struct parser *ps, const char *file, const char *buf, size_t len);
void parser_finish(struct parser *ps);
const char *intern_file(struct parser *ps, const char *name);

/* icmp_names.c */
int icmp_type_lookup(bool v6, const char *s, size_t len);
int icmp_code_lookup(bool v6, const char *s, size_t len);
const char *icmp_type_name(bool v6, int type);
const char *icmp_code_name(bool v6, int type, int code);

#endif
