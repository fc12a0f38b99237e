/* lexer.c - policy text to tokens; rejects NUL bytes and invalid UTF-8 with a location. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* lex_init() - tokenize @buf (@len bytes; NULs are errors, not terminators). */
void lex_init(struct lexer *lx, const char *file, const char *buf, size_t len,
	      struct ll_errlist *errs)
{
	memset(lx, 0, sizeof(*lx));
	lx->buf = buf;
	lx->len = len;
	lx->line = 1;
	lx->file = file;
	lx->errs = errs;
	/* a UTF-8 byte order mark, as some editors write, starts no token (as in the config) */
	if (len >= 3 && memcmp(buf, LL_UTF8_BOM, 3) == 0)
		lx->pos = lx->bol = 3;
}

static struct srcloc loc_at(const struct lexer *lx, size_t off)
{
	return (struct srcloc){ lx->file, lx->line, (uint32_t)(off - lx->bol + 1) };
}

static void lex_err(struct lexer *lx, size_t off, const char *msg, int byte)
{
	struct srcloc loc = loc_at(lx, off);

	lx->nerr++;
	if (byte >= 0)
		ll_err_add(lx->errs, &loc, "%s 0x%02x", msg, byte);
	else
		ll_err_add(lx->errs, &loc, "%s", msg);
}

/* Length of the valid UTF-8 sequence at @p (at most @n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * A NUL byte: binary data, not policy text. One error, and nothing after it
 * is read (a binary file made hundreds of errors). Returns the bytes left.
 */
static size_t lex_nul(struct lexer *lx, size_t pos)
{
	lex_err(lx, pos, "NUL byte: binary data, not policy text (nothing after it is read)", -1);
	return lx->len - pos;
}

/*
 * An invalid UTF-8 byte: reported and skipped, but past a few errors the
 * text is not a policy at all, and one more line says so instead of a
 * line per byte. Returns the bytes used (all that is left when it stops).
 */
#define LEX_MAX_ERRORS 10
static size_t lex_bad_byte(struct lexer *lx, size_t pos, int byte)
{
	if (lx->nerr >= LEX_MAX_ERRORS) {
		lex_err(lx, pos, "too many bad bytes: not policy text (nothing after this is read)", -1);
		return lx->len - pos;
	}
	lex_err(lx, pos, "invalid UTF-8 byte", byte);
	return 1;
}

/*
 * Check the byte at lx->pos inside a comment, string or raw rule: broken
 * UTF-8 is reported and skipped, a NUL ends the text. Returns the bytes used.
 */
static size_t text_byte(struct lexer *lx, size_t pos)
{
	const unsigned char *p = (const unsigned char *)lx->buf + pos;
	size_t n;

	if (*p == 0)
		return lex_nul(lx, pos);
	n = utf8_len(p, lx->len - pos);
	return n ? n : lex_bad_byte(lx, pos, *p);
}

static bool is_word_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-' || c == ':' || c == '/';
}

static bool is_var_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static void skip_blanks_and_comments(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->pos++;
		} else if (c == '#') {
			while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
				lx->pos += text_byte(lx, lx->pos);
		} else {
			return;
		}
	}
}

/*
 * A C1 control (U+0080-U+009F) in UTF-8 at @p: 0 or its code point. Like
 * C0, printed raw it acts on a terminal (U+009B is CSI).
 */
static unsigned c1_control(const struct lexer *lx, size_t p)
{
	const unsigned char *b = (const unsigned char *)lx->buf;

	return p + 1 < lx->len && b[p] == 0xc2 && b[p + 1] >= 0x80 && b[p + 1] <= 0x9f ? b[p + 1] : 0;
}

static void lex_string(struct lexer *lx, struct token *t)
{
	size_t p = lx->pos + 1;

	while (p < lx->len && lx->buf[p] != '"' && lx->buf[p] != '\n') {
		unsigned char c;
		unsigned c1;

		if (lx->buf[p] == '\\' && p + 1 < lx->len && lx->buf[p + 1] != '\n') {
			p++;
			c = (unsigned char)lx->buf[p];
			if (c != '"' && c != '\\' && !lx->ran) { /* \x became x, silently */
				struct srcloc loc = loc_at(lx, p - 1);

				lx->nerr++;
				if (c > 0x20 && c < 0x7f)
					ll_err_add(lx->errs, &loc, "unknown escape '\\%c' in a string: "
						   "only \\\" and \\\\ are escapes", c);
				else
					ll_err_add(lx->errs, &loc, "unknown escape in a string: only "
						   "\\\" and \\\\ are escapes");
			}
		}
		c = (unsigned char)lx->buf[p];
		if (c && c != '\t' && (c < 0x20 || c == 0x7f)) {
			/* printed by check --print, show and the logs, it would act on the terminal */
			struct srcloc loc = loc_at(lx, p);

			lx->nerr++;
			ll_err_add(lx->errs, &loc, "control character 0x%02x in a string", c);
			p++;
			continue;
		}
		if ((c1 = c1_control(lx, p)) && !lx->ran) {
			struct srcloc loc = loc_at(lx, p);

			lx->nerr++;
			ll_err_add(lx->errs, &loc, "control character U+%04X in a string", c1);
			p += 2;
			continue;
		}
		p += text_byte(lx, p);
	}
	if (p >= lx->len || lx->buf[p] != '"') {
		lex_err(lx, lx->pos, "unterminated string", -1);
		t->type = T_BAD;
		lx->pos = p;
		return;
	}
	t->type = T_STRING;
	lx->pos = p + 1;
}

static void lex_bad(struct lexer *lx, struct token *t)
{
	const unsigned char *p = (const unsigned char *)lx->buf + lx->pos;
	size_t n = *p ? utf8_len(p, lx->len - lx->pos) : 0;
	struct srcloc loc = loc_at(lx, lx->pos);

	t->type = T_BAD;
	if (*p == 0) {
		n = lex_nul(lx, lx->pos);
	} else if (n == 0) {
		n = lex_bad_byte(lx, lx->pos, *p);
	} else if (n == 3 && memcmp(p, LL_UTF8_BOM, 3) == 0) {
		lx->nerr++; /* invisible when quoted: name it */
		ll_err_add(lx->errs, &loc, "unexpected byte order mark (U+FEFF): only the start of "
			   "a file may have one");
	} else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
		lx->nerr++; /* a control byte, shown as such: raw, it would act on the terminal */
		ll_err_add(lx->errs, &loc, "unexpected control character 0x%02x", *p);
	} else if ((*p == '+' || *p == '*') && lx->pos && is_word_char((unsigned char)p[-1])) {
		lx->nerr++; /* iptables' eth+, nft's eth*, a shell's 192.0.2.* */
		ll_err_add(lx->errs, &loc, "unexpected character '%c': wildcards are not supported "
			   "(an interface needs its whole name, addresses a prefix such as "
			   "192.0.2.0/24)", *p);
	} else {
		lx->nerr++;
		ll_err_add(lx->errs, &loc, "unexpected character '%.*s'", (int)n, (const char *)p);
	}
	lx->pos += n;
}

static void lex_single(struct lexer *lx, struct token *t, char c)
{
	static const char chars[] = "{},!=";
	static const enum tok_type types[] = { T_LBRACE, T_RBRACE, T_COMMA, T_BANG, T_EQ };
	const char *hit = c ? strchr(chars, c) : NULL;

	if (c == '$') {
		size_t p = lx->pos + 1;
		while (p < lx->len && is_var_char(lx->buf[p]))
			p++;
		if (p == lx->pos + 1) {
			lex_err(lx, lx->pos, "'$' must be followed by a name", -1);
			t->type = T_BAD;
		} else {
			t->type = T_VAR;
		}
		lx->pos = p;
	} else if (hit) {
		t->type = types[hit - chars];
		lx->pos++;
	} else if (c == '"') {
		lex_string(lx, t);
	} else if (is_word_char((unsigned char)c)) {
		while (lx->pos < lx->len && is_word_char((unsigned char)lx->buf[lx->pos]))
			lx->pos++;
		t->type = T_WORD;
	} else {
		lex_bad(lx, t);
	}
}

/* lex_next() - the next token; T_NL ends each line, T_EOF the buffer (forever). */
void lex_next(struct lexer *lx, struct token *t)
{
	skip_blanks_and_comments(lx);
	t->off = lx->pos;
	t->s = lx->buf + lx->pos;
	t->loc = loc_at(lx, lx->pos);
	if (lx->pos >= lx->len) {
		t->type = T_EOF;
		t->n = 0;
		return;
	}
	if (lx->buf[lx->pos] == '\n') {
		t->type = T_NL;
		t->n = 1;
		lx->pos++;
		lx->line++;
		lx->bol = lx->pos;
		return;
	}
	lex_single(lx, t, lx->buf[lx->pos]);
	t->n = (uint32_t)(lx->pos - t->off);
}

/*
 * lex_skip_line() - drop the rest of the line; the next token is its T_NL
 * (or T_EOF). Bad bytes in the dropped text are still reported: they are
 * wrong whatever the syntax error before them was.
 */
void lex_skip_line(struct lexer *lx)
{
	while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
		lx->pos += text_byte(lx, lx->pos);
}

/* True when the line [from, to) ends in '\' (before trailing blanks). */
static bool continued(const char *buf, size_t from, size_t *to)
{
	size_t e = *to;

	while (e > from && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
		e--;
	if (e > from && buf[e - 1] == '\\') {
		*to = e - 1;
		return true;
	}
	return false;
}

/* lex_raw_rule() - see parse.h. Leaves the lexer before the rule's last newline. */
char *lex_raw_rule(struct lexer *lx, const struct token *first, uint32_t **conts, uint32_t *nconts)
{
	struct strbuf b = { 0 };
	size_t start = first->off;
	uint32_t *v;

	*conts = NULL;
	*nconts = 0;

	lx->pos = start;
	for (;;) {
		size_t end;

		while (lx->pos < lx->len && lx->buf[lx->pos] != '\n') {
			unsigned char c = (unsigned char)lx->buf[lx->pos];

			if (c && c != '\t' && c != '\r' && (c < 0x20 || c == 0x7f)) {
				struct srcloc loc = loc_at(lx, lx->pos);

				lx->nerr++; /* as in a string: printed, it would act on the terminal */
				ll_err_add(lx->errs, &loc, "unexpected control character 0x%02x", c);
				lx->pos++;
				continue;
			}
			if (c1_control(lx, lx->pos) && !lx->ran) {
				struct srcloc loc = loc_at(lx, lx->pos);

				lx->nerr++;
				ll_err_add(lx->errs, &loc, "unexpected control character U+%04X",
					   c1_control(lx, lx->pos));
				lx->pos += 2;
				continue;
			}
			lx->pos += text_byte(lx, lx->pos);
		}
		end = lx->pos;
		if (!continued(lx->buf, start, &end) || lx->pos >= lx->len) {
			while (end > start && (lx->buf[end - 1] == '\r' || lx->buf[end - 1] == ' ' ||
					       lx->buf[end - 1] == '\t'))
				end--;
			sb_add(&b, lx->buf + start, end - start);
			break;
		}
		sb_add(&b, lx->buf + start, end - start);
		lx->pos++; /* the newline: the rule goes on */
		lx->line++;
		lx->bol = lx->pos;
		start = lx->pos;
		/* where the next line's bytes start in the joined text, for error locations */
		if ((v = realloc(*conts, (*nconts + 1) * sizeof(*v)))) {
			*conts = v;
			v[(*nconts)++] = (uint32_t)b.n;
		}
	}
	/*
	 * Blanks before a '\' whose next line is empty end the rule too, and
	 * so does a '\' left last (it escapes nothing; printed last on a line
	 * it would read back as a continuation): trimmed, so that the rule
	 * prints as it parses again.
	 */
	while (b.s && b.n && (b.s[b.n - 1] == ' ' || b.s[b.n - 1] == '\t' || b.s[b.n - 1] == '\r' ||
			      b.s[b.n - 1] == '\\'))
		b.s[--b.n] = 0;
	return sb_steal(&b);
}

/* lex_string_value() - the contents of a T_STRING with \" and \\ decoded. */
char *lex_string_value(const struct token *t)
{
	char *out = malloc(t->n);
	size_t j = 0;

	if (!out)
		return NULL;
	for (size_t i = 1; i + 1 < t->n; i++) {
		if (t->s[i] == '\\' && i + 2 < t->n)
			i++;
		out[j++] = t->s[i];
	}
	out[j] = 0;
	return out;
}

/* tok_is() - is @t the word @word? */
bool tok_is(const struct token *t, const char *word)
{
	return t->type == T_WORD && strlen(word) == t->n && memcmp(t->s, word, t->n) == 0;
}

/* tok_desc() - how an error quotes @t; long tokens are cut with "...". */
const char *tok_desc(const struct token *t, char *buf, size_t len)
{
	if (t->type == T_EOF)
		return "end of file";
	if (t->type == T_NL)
		return "end of line";
	if (t->n > 60) {
		int cut = 57;

		while (cut > 0 && ((unsigned char)t->s[cut] & 0xc0) == 0x80)
			cut--; /* never split a UTF-8 character */
		snprintf(buf, len, "'%.*s...'", cut, t->s);
	} else
		snprintf(buf, len, "'%.*s'", (int)t->n, t->s);
	return buf;
}
