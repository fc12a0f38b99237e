/* test_ips_content.c - positional modifiers against hand-computed offsets and Suricata's own vectors. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ips_test.h"

/* Does @rule match @payload in one TCP packet to port 80 (no flow)? -1: did not load. */
static int run(const char *rule, const void *payload, uint32_t len, uint8_t proto, bool quiet)
{
	struct ll_errlist errs = { 0 };
	struct ips_ruleset *rs = ipst_rules(rule, false, &errs);
	struct ips_worker *w;
	struct ips_result res;
	struct pkt p = ipst_pkt(proto, payload, len);

	if (!quiet)
		ll_err_print(&errs, stderr);
	ll_err_free(&errs);
	if (!rs)
		return -1;
	w = ips_worker_new(rs);
	ips_scan(w, rs, NULL, &p, 1, 0, &res);
	ips_worker_free(w);
	ips_ruleset_free(rs);
	return res.nalerts == 1;
}

static int m(const char *opts, const char *payload)
{
	char rule[1024];

	snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)", opts);
	return run(rule, payload, (uint32_t)strlen(payload), IPPROTO_TCP_, false);
}

/* Case-insensitive @pat inside payload[@off, @off + @depth) (depth 0: to the end), naively. */
static int naive_nocase(const char *payload, const char *pat, int off, int depth)
{
	int n = (int)strlen(payload), k = (int)strlen(pat), end = depth ? off + depth : n;

	for (int i = off; i + k <= (end < n ? end : n); i++) {
		int j = 0;
		while (j < k && tolower((unsigned char)payload[i + j]) == tolower((unsigned char)pat[j]))
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

/* nocase search anchored on a caseless byte (":", "/") agrees with a naive search, windows too. */
static void test_nocase_anchor(void **state)
{
	static const char *pats[] = { "ab:", "A:b", ":ab", "b/a", "aB", "Ab/A:" };
	static const char alpha[] = "aAbB:/";
	uint32_t x = 12345;

	(void)state;
	for (int t = 0; t < 600; t++) {
		char payload[16], opts[128];
		int n = 1 + (int)((x = x * 1103515245 + 12345) >> 16) % 14, off, depth;
		for (int i = 0; i < n; i++)
			payload[i] = alpha[((x = x * 1103515245 + 12345) >> 16) % 6];
		payload[n] = 0;
		const char *pat = pats[((x = x * 1103515245 + 12345) >> 16) % 6];
		off = (int)((x = x * 1103515245 + 12345) >> 16) % 4;
		depth = (int)((x = x * 1103515245 + 12345) >> 16) % 3 ? 0 : (int)strlen(pat) + (int)(x >> 20) % 4;
		if (depth)
			snprintf(opts, sizeof(opts), "content:\"%s\"; nocase; offset:%d; depth:%d;", pat, off, depth);
		else
			snprintf(opts, sizeof(opts), "content:\"%s\"; nocase; offset:%d;", pat, off);
		assert_int_equal(m(opts, payload), naive_nocase(payload, pat, off, depth));
	}
}

/* offset/depth count from the payload start; depth is measured from offset. */
static void test_offset_depth(void **state)
{
	(void)state;
	assert_int_equal(m("content:\"cd\"; offset:2;", "abcdef"), 1);
	assert_int_equal(m("content:\"cd\"; offset:3;", "abcdef"), 0);
	assert_int_equal(m("content:\"cd\"; depth:4;", "abcdef"), 1);
	assert_int_equal(m("content:\"cd\"; depth:3;", "abcdef"), 0);
	assert_int_equal(m("content:\"de\"; offset:2; depth:3;", "abcdef"), 1);  /* window [2,5) */
	assert_int_equal(m("content:\"ef\"; offset:2; depth:3;", "abcdef"), 0);
	assert_int_equal(m("content:\"ab\"; startswith;", "abab"), 1);
	assert_int_equal(m("content:\"ba\"; startswith;", "abab"), 0);
	assert_int_equal(m("content:\"ab\"; endswith;", "abab"), 1);
	assert_int_equal(m("content:\"ba\"; endswith;", "abab"), 0);
	assert_int_equal(m("content:\"abab\"; startswith; endswith;", "abab"), 1);
}

/* distance/within count from the end of the previous match; within from after distance. */
static void test_distance_within(void **state)
{
	(void)state;
	assert_int_equal(m("content:\"a\"; content:\"d\"; distance:2;", "abcd"), 1);
	assert_int_equal(m("content:\"a\"; content:\"d\"; distance:3;", "abcd"), 0);
	assert_int_equal(m("content:\"a\"; content:\"c\"; within:2;", "abcd"), 1);
	assert_int_equal(m("content:\"a\"; content:\"d\"; within:2;", "abcd"), 0);
	assert_int_equal(m("content:\"a\"; content:\"d\"; distance:1; within:2;", "abcd"), 1);
	assert_int_equal(m("content:\"b\"; content:\"a\"; distance:-2; within:1;", "abcd"), 1);
	/* backtracking: the first "a" fails, the second succeeds */
	assert_int_equal(m("content:\"a\"; content:\"x\"; within:1;", "abaxa"), 1);
	assert_int_equal(m("content:\"a\"; content:\"x\"; distance:0; within:1;", "abab"), 0);
}

/* nocase folds the whole alphabet, A and Z too, and nothing else ('[' + 32 is '{'). */
static void test_nocase_alphabet_edges(void **state)
{
	(void)state;
	assert_int_equal(m("content:\"zip\"; nocase;", "xxZIPxx"), 1);
	assert_int_equal(m("content:\"AZ\"; nocase;", "xxazxx"), 1);
	assert_int_equal(m("content:\"[\"; nocase;", "xx{xx"), 0);
}

static void test_negation_nocase(void **state)
{
	(void)state;
	assert_int_equal(m("content:\"ABC\"; nocase;", "xxabcxx"), 1);
	assert_int_equal(m("content:\"ABC\";", "xxabcxx"), 0);
	assert_int_equal(m("content:\"x\"; content:!\"abc\";", "xxabcxx"), 0);
	assert_int_equal(m("content:\"x\"; content:!\"abd\";", "xxabcxx"), 1);
	assert_int_equal(m("content:\"ab\"; content:!\"c\"; within:1;", "abcabd"), 1);
	assert_int_equal(m("content:\"|61 62|c\";", "zabc"), 1);
	assert_int_equal(m("content:\"a|3b|b\";", "a;b"), 1);
}

/* Does @opts match @buf (a NUL-terminated string) with a match that reads a byte at or past @fresh? */
static int fr(const char *opts, const char *buf, uint32_t fresh)
{
	char rule[1024];
	struct ll_errlist errs = { 0 };
	struct ips_ruleset *rs;
	pcre2_match_data *md = pcre2_match_data_create(64, NULL);
	int ok;

	snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)", opts);
	rs = ipst_rules(rule, false, &errs);
	ll_err_free(&errs);
	if (!rs || !md)
		return -1;
	ok = ips_inspect_fresh(&rs->rules[0], (const uint8_t *)buf, (uint32_t)strlen(buf), fresh, md);
	pcre2_match_data_free(md);
	ips_ruleset_free(rs);
	return ok;
}

/* a new occurrence counts though a later independent content has only old ones (rev19) */
static void test_fresh_old_independent(void **state)
{
	(void)state;
	assert_int_equal(fr("content:\"AAAA\"; content:\"Q\";", "AAAAxQxxAAAA", 8), 1);
	assert_int_equal(fr("content:\"EXPLOIT\"; content:\"cmd\";", "EXPLOIT cmd xxEXPLOIT", 14), 1);
	/* and nothing reads the new bytes: no */
	assert_int_equal(fr("content:\"AAAA\"; content:\"Q\";", "AAAAxQxxzzzz", 8), 0);
}

/*
 * Old occurrences past the budget (3,000 steps) hid a new one: a match of
 * a bounded chain that reads a new byte starts near the new bytes, so the
 * search for the first content starts there (rev19 #4).
 */
static void test_fresh_past_old_occurrences(void **state)
{
	size_t n = 3500;
	char *buf = malloc(n * 6 + 16);
	uint32_t fresh;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * 6, "ATTACK", 6);
	fresh = (uint32_t)(n * 6);
	strcpy(buf + fresh, "xxATTACK");
	assert_int_equal(fr("content:\"ATTACK\";", buf, fresh), 1);
	assert_int_equal(fr("content:\"AT\"; content:\"TACK\"; distance:0; within:4;", buf, fresh), 1);
	assert_int_equal(fr("content:\"ATT\"; isdataat:3,relative;", buf, fresh), 1);
	/* a match ending in the old bytes but read past them (isdataat) still counts */
	buf[fresh] = 0;
	strcpy(buf + fresh - 6, "ATTACKzz");
	assert_int_equal(fr("content:\"ATTACK\"; isdataat:1,relative;", buf, fresh), 1);
	/* and none that reads a new byte: no */
	strcpy(buf + fresh, "xxxxxx");
	assert_int_equal(fr("content:\"ATTACK\";", buf, fresh), 0);
	free(buf);
}

/*
 * Where an inspection stops early (Suricata's discontinue_matching) and
 * where it must go on to a later occurrence: each of these matches in
 * Suricata, at a later occurrence of the first content than the first one.
 */
static void test_discontinue(void **state)
{
	(void)state;
	/* the next keyword has within: the content before it is retried */
	assert_int_equal(m("content:\"A\"; content:\"B\"; distance:0; content:\"C\"; within:1;",
			   "AxBxxAByBC"), 1);
	/* a negated relative content after it: retried too (one of Suricata's content vectors) */
	assert_int_equal(m("content:\"fix\"; content:\"this\"; within:6; content:!\"and\"; distance:0;",
			   "we need to fix this and yes fix this now"), 1);
	/* an absolute keyword in between does not hide the within after it */
	assert_int_equal(m("content:\"A\"; isdataat:3; content:\"B\"; distance:0; within:1;", "AxAB"), 1);
	/* a found negated content whose offset or depth came from byte_extract does not stop */
	assert_int_equal(m("content:\"A\"; byte_extract:1,0,v,relative,string,dec; "
			   "content:!\"B\"; offset:v; depth:1;", "A3xBA0z"), 1);
	assert_int_equal(m("content:\"A\"; byte_extract:1,0,v,relative,string,dec; "
			   "content:!\"B\"; depth:v;", "A4xBA1z"), 1);
	/*
	 * a failed isdataat discontinues (Suricata's no_match_discontinue): the
	 * second "A", whose jump lands where 3 bytes follow, is not tried
	 */
	assert_int_equal(m("content:\"A\"; byte_jump:1,0,relative,from_beginning,string,dec; "
			   "isdataat:3,relative;", "A8zzzzzA0q"), 0);
	assert_int_equal(m("content:\"A\"; byte_jump:1,0,relative,from_beginning,string,dec; "
			   "isdataat:2,relative;", "A8zzzzzA0q"), 1);
	/* a relative negated one that found data is a plain no match: retried */
	assert_int_equal(m("content:\"A\"; isdataat:!1,relative;", "AxxA"), 1);
	/* and where nothing later can help, the answer is still no */
	assert_int_equal(m("content:\"A\"; content:\"B\"; distance:0;", "BAxA"), 0);
	assert_int_equal(m("content:\"A\"; content:!\"x\"; content:\"A\"; distance:1;", "AxAA"), 0);
}

/*
 * Suricata's PCRE match limit (3500 steps): a pattern that matches only
 * after exponential backtracking does not match, plain or negated, while
 * the same pattern matches where it needs few steps.
 */
static void test_pcre_match_limit(void **state)
{
	char slow[64], fast[8] = "bac";

	(void)state;
	memset(slow, 'a', 20);
	strcpy(slow + 20, "bac"); /* 2^20 steps at each of the first 20 starts, then "ac" */
	assert_int_equal(m("pcre:\"/(a+)+c/\";", fast), 1);
	assert_int_equal(m("pcre:\"/(a+)+c/\";", slow), 0);
	assert_int_equal(m("content:\"b\"; pcre:!\"/(a+)+c/\";", slow), 0);
	assert_int_equal(m("content:\"b\"; pcre:!\"/(a+)+d/\";", fast), 1);
}

static void test_isdataat_bytes(void **state)
{
	(void)state;
	/* relative: n more bytes after the match; absolute: a byte at offset n */
	assert_int_equal(m("content:\"ab\"; isdataat:3,relative;", "abcde"), 1);
	assert_int_equal(m("content:\"ab\"; isdataat:4,relative;", "abcde"), 0);
	assert_int_equal(m("content:\"ab\"; isdataat:!4,relative;", "abcde"), 1);
	assert_int_equal(m("isdataat:4;", "abcde"), 1);
	assert_int_equal(m("isdataat:5;", "abcde"), 0);
	/* "0012" at 2 as decimal text = 12 */
	assert_int_equal(m("byte_test:4,=,12,2,string,dec;", "xx0012yy"), 1);
	/*
	 * Text is read as Suricata reads it, by strtoull(): `string` alone takes
	 * the base from the text (010 octal, 0x10 hex), blanks lead, 0x is
	 * allowed in hex, and up to 23 bytes may be read.
	 */
	assert_int_equal(m("content:\"Q\"; byte_test:4,=,16,0,relative,string;", "Q0x10"), 1);
	assert_int_equal(m("content:\"Q\"; byte_jump:3,0,relative,string; content:\"X\"; distance:0; within:1;",
			   "Q010abcdefghXiY"), 1); /* 010 = 8 */
	assert_int_equal(m("content:\"Q\"; byte_jump:3,0,relative,string,dec; content:\"X\"; distance:0; within:1;",
			   "Q010abcdefghXiY"), 0); /* 010 = 10: lands on i */
	assert_int_equal(m("content:\"L=\"; byte_test:4,>,100,0,relative,string,dec;", "L= 500"), 1);
	assert_int_equal(m("content:\"L=\"; byte_test:4,=,16,0,relative,string,hex;", "L=0x10"), 1);
	assert_int_equal(m("byte_test:12,>,5,0,string,dec;", "000000000006"), 1);
	assert_int_equal(m("byte_test:4,>,0,0,string,dec;", "abcd"), 0); /* no number */
	/* a value past INT64_MAX is a uint64 as Suricata reads it, not a load error */
	assert_int_equal(m("byte_test:8,=,0xffffffffffffffff,0;", "\xff\xff\xff\xff\xff\xff\xff\xff"), 1);
	assert_int_equal(m("byte_test:8,>,9223372036854775808,0;", "\xff\xff\xff\xff\xff\xff\xff\xff"), 1);
	assert_int_equal(m("byte_test:8,>,9223372036854775808,0;", "\x7f\xff\xff\xff\xff\xff\xff\xff"), 0);
	assert_int_equal(m("byte_test:23,>,0,0,string,dec;", "99999999999999999999999"), 0); /* out of range */
	/* byte_extract's `string` alone stays decimal, as Suricata's */
	assert_int_equal(m("byte_extract:2,0,n,string; byte_test:1,=,n,2,string,dec;", "08" "8"), 1);
	assert_int_equal(m("byte_test:2,>,0x4141,0;", "ABz"), 1); /* 0x4142 */
	assert_int_equal(m("byte_test:2,<,0x4141,0,little;", "ABz"), 0); /* 0x4241 */
	assert_int_equal(m("byte_test:1,&,1,0;", "A"), 1);
	assert_int_equal(m("byte_test:1,!&,1,0;", "A"), 0);
	/* length byte 2 at 0, then skip it: cursor at 3, "x" must follow */
	assert_int_equal(m("byte_jump:1,0; content:\"x\"; within:1;", "\x02..xy"), 1);
	assert_int_equal(m("byte_jump:1,0; content:\"y\"; within:1;", "\x02..xy"), 0);
	assert_int_equal(m("byte_jump:1,0,from_beginning; content:\"c\"; within:1;", "\x02" "bcd"), 1);
	assert_int_equal(m("byte_jump:1,0,multiplier 2; content:\"d\"; within:1;", "\x01" "abd"), 1);
	assert_int_equal(m("byte_jump:1,0,post_offset 1; content:\"c\"; within:1;", "\x01" "abc"), 1);
	/* byte_extract: "2" read at 0, the cursor after it; x lies 2 bytes further */
	assert_int_equal(m("byte_extract:1,0,n,string; content:\"x\"; distance:n; within:1;", "2abx"), 1);
	assert_int_equal(m("byte_extract:1,0,n,string; content:\"x\"; distance:n; within:1;", "1abx"), 0);
	assert_int_equal(m("byte_extract:1,0,n; byte_test:1,=,n,1;", "\x07\x07"), 1);
	assert_int_equal(m("byte_extract:1,0,n,align 4; isdataat:!n;", "\x01" "bcd"), 1); /* n = 4 */
	assert_int_equal(m("pcre:\"/b+c/\";", "abbbc"), 1);
	assert_int_equal(m("content:\"x\"; pcre:\"/^y/R\";", "axyz"), 1);
	assert_int_equal(m("content:\"x\"; pcre:\"/^z/R\";", "axyz"), 0);
	assert_int_equal(m("pcre:!\"/q/\";", "axyz"), 1);
	assert_int_equal(m("dsize:4;", "axyz"), 1);
	assert_int_equal(m("dsize:5<>9;", "axyz"), 0);
}

/* Does @opts match the @len bytes of @payload (NUL bytes too)? */
static int mb(const char *opts, const char *payload, uint32_t len)
{
	char rule[1024];

	snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)", opts);
	return run(rule, payload, len, IPPROTO_TCP_, false);
}

/*
 * Values a packet hands byte_extract and byte_jump are the attacker's, up to
 * 2^64 - 1: as positions they are past the buffer, never before it (one UDP
 * packet with 0x80000000 as an offset crashed the engine in memmem), and no
 * sum of them overflows (the sanitizer build aborts on one).
 */
static void test_values_from_packet(void **state)
{
	(void)state;
	/* an offset from the packet, 1 and then 2^31: B lies at 5 */
	assert_int_equal(mb("content:\"A\"; byte_extract:4,0,off,relative; content:\"B\"; offset:off;",
			    "A\x00\x00\x00\x01" "B", 6), 1);
	assert_int_equal(mb("content:\"A\"; byte_extract:4,0,off,relative; content:\"B\"; offset:off;",
			    "A\x80\x00\x00\x00" "B", 6), 0);
	assert_int_equal(mb("content:\"A\"; byte_extract:4,0,off,relative; content:!\"B\"; offset:off;",
			    "A\x80\x00\x00\x00" "B", 6), 1);
	/* a distance is the value's low 32 bits, signed, as in Suricata: 0xffffffff is -1 */
	assert_int_equal(mb("content:\"A\"; byte_extract:4,0,off,relative; content:\"B\"; distance:off;",
			    "A\xff\xff\xff\xff" "B", 6), 1);
	assert_int_equal(mb("content:\"A\"; byte_extract:4,0,off,relative; content:\"B\"; distance:off;",
			    "A\x00\x00\x00\x02" "B", 6), 0);
	/* a depth past the buffer bounds nothing; a within is 32 bits, signed, too (-1 here) */
	assert_int_equal(mb("byte_extract:4,0,d; content:\"B\"; depth:d;", "\xff\xff\xff\xff" "B", 5), 1);
	assert_int_equal(mb("byte_extract:4,0,d; content:\"B\"; distance:0; within:d;",
			    "\xff\xff\xff\xff" "B", 5), 0);
	assert_int_equal(mb("byte_extract:4,0,d; content:\"B\"; distance:0; within:d;",
			    "\x7f\xff\xff\xff" "B", 5), 1);
	/*
	 * 8-byte jumps wrap in uint64 and jump signed, as Suricata's (ips19 L4):
	 * 0xfffffffffffffff6 + 20 is 10, past the 8 bytes read: Z at 18; 2^64 - 1
	 * less 1 from the end is 2 back (10); 2^63 - 1 plus 1 is the most
	 * negative jump, which clamps to the start; 2^62 lands nowhere
	 */
	assert_int_equal(mb("byte_jump:8,0,post_offset 20; content:\"Z\"; within:1;",
			    "\xff\xff\xff\xff\xff\xff\xff\xf6" "..........Z", 19), 1);
	assert_int_equal(mb("byte_jump:8,0,post_offset 20; content:\"Z\"; within:1;",
			    "\xff\xff\xff\xff\xff\xff\xff\xf6" ".........Z.", 19), 0);
	assert_int_equal(mb("byte_jump:8,0,from_end,post_offset -1; content:\"z\"; within:1;",
			    "\xff\xff\xff\xff\xff\xff\xff\xff" "abzc", 12), 1);
	assert_int_equal(mb("byte_jump:8,0,post_offset 1; content:\"\x7f\"; within:1;",
			    "\x7f\xff\xff\xff\xff\xff\xff\xff" "z", 9), 1);
	assert_int_equal(mb("byte_jump:8,0;", "\x40\x00\x00\x00\x00\x00\x00\x00" "z", 9), 0);
	/*
	 * a name byte_extract defines twice: references name the first
	 * definition, as Suricata's lookup by name does (the second still reads)
	 */
	assert_int_equal(mb("content:\"A\"; byte_extract:1,0,n,relative; byte_extract:1,0,n,relative; "
			    "content:\"B\"; distance:n; within:1;", "A\x00\x02" "B..", 6), 1);
	assert_int_equal(mb("content:\"A\"; byte_extract:1,0,n,relative; byte_extract:1,0,n,relative; "
			    "content:\"B\"; distance:n; within:1;", "A\x00\x02" "..B", 6), 0);
	assert_int_equal(mb("content:\"A\"; byte_extract:1,0,n,relative; byte_extract:1,0,n,relative;",
			    "A\x00", 2), 0);
	/* isdataat and byte_test positions from the packet */
	assert_int_equal(mb("byte_extract:4,0,n; isdataat:n,relative;", "\xff\xff\xff\xff" "z", 5), 0);
	assert_int_equal(mb("byte_extract:4,0,n; byte_test:1,=,0,n,relative;", "\xff\xff\xff\xff" "z", 5), 0);
	/* a value compared is all its 64 bits, not a position */
	assert_int_equal(mb("byte_extract:8,0,v; byte_test:8,=,v,0;", "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 1);
	assert_int_equal(mb("byte_extract:8,0,v; byte_test:8,>,v,0;", "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 0);
}

/* Minimal JSON field reader for the vector file: the string value of "key" in @obj. */
static char *json_str(const char *obj, const char *end, const char *key)
{
	char pat[64], *out, *o;
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(obj, pat);
	if (!p || p > end)
		return NULL;
	p += strlen(pat);
	o = out = malloc(strlen(p) + 1);
	for (; *p && *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				*o++ = (char)strtol((char[5]){ p[1], p[2], p[3], p[4], 0 }, NULL, 16);
				p += 4;
				continue;
			}
			*o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			continue;
		}
		*o++ = *p;
	}
	*o = 0;
	return out;
}

static uint32_t unhex(const char *h, uint8_t *out)
{
	uint32_t n = 0;

	for (; h[0] && h[1]; h += 2)
		out[n++] = (uint8_t)strtol((char[3]){ h[0], h[1], 0 }, NULL, 16);
	return n;
}

/* Every vector that loads must give Suricata's answer; unsupported keywords are counted. */
static void test_suricata_vectors(void **state)
{
	const char *sh = ipst_shared();
	char path[4200];
	int total = 0, ok = 0, unsupported = 0, bad = 0;
	static char text[1 << 20];
	static uint8_t pay[65536];

	(void)state;
	if (!sh) {
		print_message("SKIP: $LL_SHARED/corpora absent, content vectors not run\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/corpora/content-vectors/suricata_content_vectors.json", sh);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = 0;
	fclose(f);
	for (char *o = strchr(text, '{'); o; o = strchr(o + 1, '{')) {
		char *end = strchr(o, '}'), *rule = json_str(o, end, "rule"), *hex = json_str(o, end, "payload_hex");
		char *proto = json_str(o, end, "packet_proto");
		bool expect = strstr(o, "\"expect_match\": true") && strstr(o, "\"expect_match\": true") < end;
		if (rule && hex) {
			total++;
			int r = run(rule, pay, unhex(hex, pay), proto && !strcmp(proto, "UDP") ? IPPROTO_UDP_ : IPPROTO_TCP_, true);
			if (r < 0)
				unsupported++;
			else if (r == expect)
				ok++;
			else
				bad++, print_message("MISMATCH want %d: %s | %s\n", expect, rule, hex);
		}
		free(rule), free(hex), free(proto);
		o = end;
	}
	print_message("content vectors: %d total, %d agree, %d not loadable (unsupported), %d differ\n",
		      total, ok, unsupported, bad);
	assert_int_equal(bad, 0);
	assert_true(ok >= total - 2); /* byte_extract of 0 bytes is refused at load */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offset_depth),
		cmocka_unit_test(test_values_from_packet),
		cmocka_unit_test(test_nocase_anchor),
		cmocka_unit_test(test_nocase_alphabet_edges),
		cmocka_unit_test(test_distance_within),
		cmocka_unit_test(test_negation_nocase), cmocka_unit_test(test_pcre_match_limit), cmocka_unit_test(test_discontinue), cmocka_unit_test(test_fresh_old_independent),
		cmocka_unit_test(test_fresh_past_old_occurrences),
		cmocka_unit_test(test_isdataat_bytes),
		cmocka_unit_test(test_suricata_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
