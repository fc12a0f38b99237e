/* test_event.c - event lines: EVE fields, JSON escaping, Community ID vectors, rate limit, resolv.conf. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "event.h"
#include "lifeline.h"
#include "pipeline.h"

#define SEC 1000000ULL
/* 2026-11-25T10:00:01.250000 UTC */
#define TS (1795600801ULL * SEC + 250000)

static ll_ip ip(const char *s)
{
	ll_ip a;

	assert_int_equal(ll_ip_parse(s, &a), 0);
	return a;
}

static char *esc(const char *s, size_t len)
{
	static char buf[512];
	size_t n = event_json_escape(buf, sizeof(buf), s, len);

	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	return buf;
}

static void test_escape(void **state)
{
	(void)state;
	assert_string_equal(esc("plain", 5), "plain");
	assert_string_equal(esc("a\"b\\c", 5), "a\\\"b\\\\c");
	assert_string_equal(esc("\n\r\t\b\f", 5), "\\n\\r\\t\\u0008\\u000c");
	assert_string_equal(esc("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f");
	assert_string_equal(esc("nul\0in", 6), "nul\\u0000in");
	assert_string_equal(esc("/etc/passwd", 11), "/etc/passwd");
	/* valid UTF-8 passes through */
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF */
	assert_string_equal(esc("\x80", 1), "\\ufffd");
	assert_string_equal(esc("a\xc3", 2), "a\\ufffd");
	assert_string_equal(esc("\xc0\xaf", 2), "\\ufffd\\ufffd");
	assert_string_equal(esc("\xe0\x80\xaf", 3), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xed\xa0\x80", 3), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xf4\x90\x80\x80", 4), "\\ufffd\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xe2\x82", 2), "\\ufffd\\ufffd");
}

/* snprintf semantics: the needed length comes back, output is cut and terminated. */
static void test_escape_truncation(void **state)
{
	char small[5];

	(void)state;
	assert_int_equal(event_json_escape(small, sizeof(small), "a\"bcdef", 7), 8);
	assert_string_equal(small, "a\\\"b");
	assert_int_equal(event_json_escape(NULL, 0, "\n", 1), 2);
}

static void test_fputs(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	char big[600];

	(void)state;
	event_json_fputs(f, "say \"hi\"\n");
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	event_json_fputs(f, big);
	fclose(f);
	assert_int_equal(strncmp(out, "\"say \\\"hi\\\"\\n\"\"", 15), 0);
	assert_int_equal(len, 14 + 2 + 2 * 599);
	free(out);
}

/* ---- Community ID: the spec's baseline (corelight/community-id-spec, baseline/) ---- */

struct cid_vec {
	uint8_t proto;
	const char *src, *dst;
	int sport, dport; /* ICMP: type and code; -1: no ports */
	const char *seed0, *seed1;
};

static const struct cid_vec cid_vecs[] = {
	{ 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0,
	  "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=" },
	{ 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 0,
	  "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=" },
	{ 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
	  "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=", "1:lVEtCZpYu84Xqaa++3lXFyuu2n4=" },
	{ 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
	  "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=" },
	{ 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0,
	  "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=" },
	{ 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0,
	  "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=" },
	{ 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0,
	  "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=", "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0,
	  "1:pkvHqCL88/tg1k4cPigmZXUtL00=", "1:K/ee5UCqAMAQXDorP5nSa2CGLjc=" },
	{ 1, "192.168.0.89", "192.168.0.1", 8, 0,
	  "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 1, "192.168.0.1", "192.168.0.89", 0, 0,
	  "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 1, "10.0.0.1", "10.0.0.2", 11, 0,
	  "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20=" },
	{ 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
	  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
	  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 132, "192.168.170.8", "192.168.170.56", 7, 7,
	  "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 132, "192.168.170.56", "192.168.170.8", 7, 7,
	  "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 6, "128.232.110.120", "66.35.250.204", 34855, 80,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 6, "66.35.250.204", "128.232.110.120", 80, 34855,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 17, "192.168.1.52", "8.8.8.8", 54585, 53,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 17, "8.8.8.8", "192.168.1.52", 53, 54585,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 46, "10.1.12.1", "10.1.12.2", -1, -1,
	  "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI=" },
	{ 46, "10.1.12.2", "10.1.12.1", -1, -1,
	  "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI=" },
};

static struct ev_tuple vec_tuple(const struct cid_vec *v)
{
	struct ev_tuple t = { 0 };

	t.src = ip(v->src);
	t.dst = ip(v->dst);
	t.family = ll_ip_is_v4(t.src) ? 4 : 6;
	t.proto = v->proto;
	if (v->proto == 1 || v->proto == 58) {
		t.has_icmp = true;
		t.icmp_type = (uint8_t)v->sport;
		t.icmp_code = (uint8_t)v->dport;
	} else if (v->sport >= 0) {
		t.has_ports = true;
		t.sport = (uint16_t)v->sport;
		t.dport = (uint16_t)v->dport;
	}
	return t;
}

static void test_community_id_vectors(void **state)
{
	char cid[COMMUNITY_ID_LEN];

	(void)state;
	for (size_t i = 0; i < LL_ARRAY_SIZE(cid_vecs); i++) {
		struct ev_tuple t = vec_tuple(&cid_vecs[i]);

		assert_int_equal(community_id_v1(&t, 0, cid), 0);
		if (strcmp(cid, cid_vecs[i].seed0))
			fprintf(stderr, "vector %zu: %s\n", i, cid);
		assert_string_equal(cid, cid_vecs[i].seed0);
		assert_int_equal(community_id_v1(&t, 1, cid), 0);
		assert_string_equal(cid, cid_vecs[i].seed1);
	}
}

static void test_community_id_invalid(void **state)
{
	struct ev_tuple t = vec_tuple(&cid_vecs[17]);
	char cid[COMMUNITY_ID_LEN];

	(void)state;
	t.has_ports = false; /* TCP without ports cannot be hashed */
	assert_int_equal(community_id_v1(&t, 0, cid), -EINVAL);
	assert_string_equal(cid, "");
	t = vec_tuple(&cid_vecs[17]);
	t.family = 0;
	assert_int_equal(community_id_v1(&t, 0, cid), -EINVAL);
}

/* ---- event lines ---- */

static char *fmt(const struct event *ev, uint64_t suppressed)
{
	static char buf[2048];
	size_t n = event_format(ev, suppressed, buf, sizeof(buf));

	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	return buf;
}

static struct ev_tuple tcp_tuple(void)
{
	struct ev_tuple t = { 0 };

	t.family = 4;
	t.proto = 6;
	t.has_ports = true;
	t.src = ip("128.232.110.120");
	t.dst = ip("66.35.250.204");
	t.sport = 34855;
	t.dport = 80;
	return t;
}

static void test_format_drop(void **state)
{
	struct event ev = { .type = EV_DROP, .ts_us = TS, .tuple = tcp_tuple(), .has_rule = true,
			    .rule_id = 10, .fw_action = "deny", .by = "firewall",
			    .reason = "deny", .in_iface = "eth0" };

	(void)state;
	assert_string_equal(fmt(&ev, 0),
			    "{\"timestamp\":\"2026-11-25T10:00:01.250000+0000\",\"in_iface\":\"eth0\","
			    "\"event_type\":\"drop\",\"src_ip\":\"128.232.110.120\",\"src_port\":34855,"
			    "\"dest_ip\":\"66.35.250.204\",\"dest_port\":80,\"proto\":\"TCP\","
			    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
			    "\"firewall\":{\"rule_id\":10,\"action\":\"deny\"},"
			    "\"by\":\"firewall\",\"reason\":\"deny\"}\n");
	assert_non_null(strstr(fmt(&ev, 7), ",\"suppressed\":7}\n"));
}

static void test_format_alert(void **state)
{
	struct event ev = { .type = EV_ALERT, .ts_us = TS, .tuple = tcp_tuple(), .sid = 1000001,
			    .rev = 2, .signature = "passwd \"probe\"", .category = "web",
			    .severity = 2, .blocked = true };

	(void)state;
	assert_string_equal(fmt(&ev, 0),
			    "{\"timestamp\":\"2026-11-25T10:00:01.250000+0000\",\"event_type\":\"alert\","
			    "\"src_ip\":\"128.232.110.120\",\"src_port\":34855,"
			    "\"dest_ip\":\"66.35.250.204\",\"dest_port\":80,\"proto\":\"TCP\","
			    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
			    "\"alert\":{\"action\":\"blocked\",\"gid\":1,\"signature_id\":1000001,"
			    "\"rev\":2,\"signature\":\"passwd \\\"probe\\\"\",\"category\":\"web\","
			    "\"severity\":2}}\n");
	ev.blocked = false;
	assert_non_null(strstr(fmt(&ev, 0), "\"action\":\"allowed\""));
}

static void test_format_icmp_and_plain(void **state)
{
	struct event ev = { .type = EV_LIFELINE, .ts_us = TS, .reason = "icmp6-pmtu" };
	struct event pol = { .type = EV_POLICY, .ts_us = TS, .message = "loaded serial 42\n" };

	(void)state;
	ev.tuple.family = 6;
	ev.tuple.proto = 58;
	ev.tuple.src = ip("2001:db8::1");
	ev.tuple.dst = ip("2001:db8::2");
	ev.tuple.has_icmp = true;
	ev.tuple.icmp_type = 2;
	assert_non_null(strstr(fmt(&ev, 0), "\"event_type\":\"lifeline\",\"src_ip\":\"2001:db8::1\","
					   "\"dest_ip\":\"2001:db8::2\",\"proto\":\"IPv6-ICMP\","
					   "\"icmp_type\":2,\"icmp_code\":0,\"community_id\":\"1:"));
	assert_null(strstr(fmt(&ev, 0), "port"));
	assert_string_equal(fmt(&pol, 0), "{\"timestamp\":\"2026-11-25T10:00:01.250000+0000\","
					  "\"event_type\":\"policy\","
					  "\"message\":\"loaded serial 42\\n\"}\n");
	pol.type = EV_READY;
	pol.message = NULL;
	assert_string_equal(fmt(&pol, 0), "{\"timestamp\":\"2026-11-25T10:00:01.250000+0000\","
					  "\"event_type\":\"ready\"}\n");
	pol.type = EV_HEARTBEAT;
	assert_non_null(strstr(fmt(&pol, 0), "\"heartbeat\""));
	/* a protocol without a name goes out as Suricata prints it */
	ev.tuple.proto = 253;
	ev.tuple.has_icmp = false;
	assert_non_null(strstr(fmt(&ev, 0), "\"proto\":\"253\""));
	ev.tuple.proto = 4;
	assert_non_null(strstr(fmt(&ev, 0), "\"proto\":\"004\""));
	assert_string_equal(event_proto_name(17), "UDP");
	assert_string_equal(event_proto_name(1), "ICMP");
}

/* A long signature does not fit the 1 KiB fast path; the line is still whole. */
static void test_format_long(void **state)
{
	char sig[3000];
	struct event ev = { .type = EV_ALERT, .ts_us = TS, .signature = sig };
	size_t n;
	char *buf;

	(void)state;
	memset(sig, 'x', sizeof(sig) - 1);
	sig[sizeof(sig) - 1] = '\0';
	n = event_format(&ev, 0, NULL, 0);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(event_format(&ev, 0, buf, n + 1), n);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(buf[n - 2], '}');
	free(buf);
}

static void test_tuple_from_pkt(void **state)
{
	struct pkt p = { 0 };
	struct ev_tuple t;

	(void)state;
	p.family = 4;
	p.proto = 17;
	p.src = ip("10.0.0.1");
	p.dst = ip("10.0.0.2");
	p.sport = 1000;
	p.dport = 53;
	p.l4_ok = 1;
	event_tuple_from_pkt(&t, &p);
	assert_true(t.has_ports);
	assert_false(t.has_icmp);
	assert_int_equal(t.dport, 53);
	p.proto = 1;
	p.icmp_type = 3;
	p.icmp_code = 4;
	event_tuple_from_pkt(&t, &p);
	assert_false(t.has_ports);
	assert_true(t.has_icmp);
	assert_int_equal(t.icmp_code, 4);
	p.l4_ok = 0;
	event_tuple_from_pkt(&t, &p);
	assert_false(t.has_icmp);
}

/* ---- the log file ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_rate_limit(void **state)
{
	char path[] = "/tmp/test_event_XXXXXX";
	int fd = mkstemp(path);
	struct ev_log *log;
	struct event ev = { .type = EV_DROP, .has_rule = true, .rule_id = 10,
			    .fw_action = "deny" };
	int written = 0;
	char *text;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	log = event_log_open(path);
	assert_non_null(log);
	event_log_set_rate(log, 2, 5); /* 2 per second, bursts of 5 */
	/* 20 drops by rule 10 in the same instant: the burst gets through */
	for (int i = 0; i < 20; i++) {
		ev.ts_us = TS;
		int rc = event_emit(log, &ev);
		assert_true(rc == 0 || rc == -EAGAIN);
		written += rc == 0;
	}
	assert_int_equal(written, 5);
	/* another rule has its own bucket */
	ev.rule_id = 11;
	assert_int_equal(event_emit(log, &ev), 0);
	/* log events are limited too, apart from drops of the same rule */
	ev.type = EV_LOG;
	ev.rule_id = 10;
	assert_int_equal(event_emit(log, &ev), 0);
	/* half a second later rule 10 has one token: one line that counts the 15 suppressed */
	ev.type = EV_DROP;
	ev.ts_us = TS + SEC / 2;
	assert_int_equal(event_emit(log, &ev), 0);
	assert_int_equal(event_emit(log, &ev), -EAGAIN);
	/* alerts and policy events are never limited */
	for (int i = 0; i < 20; i++) {
		struct event a = { .type = EV_ALERT, .ts_us = TS, .sid = 1 };
		assert_int_equal(event_emit(log, &a), 0);
	}
	/* a long quiet spell refills to the burst, no more */
	ev.ts_us = TS + 3600 * SEC;
	written = 0;
	for (int i = 0; i < 20; i++)
		written += event_emit(log, &ev) == 0;
	assert_int_equal(written, 5);
	event_log_close(log);

	text = slurp(path);
	assert_int_equal(count_lines(text, "\n"), 5 + 1 + 1 + 1 + 20 + 5);
	assert_int_equal(count_lines(text, "\"suppressed\":15}"), 1);
	assert_int_equal(count_lines(text, "\"suppressed\":1}"), 1);
	free(text);
	unlink(path);
}

static void test_rate_limit_off(void **state)
{
	char path[] = "/tmp/test_event_XXXXXX";
	int fd = mkstemp(path);
	struct ev_log *log;
	struct event ev = { .type = EV_LOG, .ts_us = TS, .has_rule = true, .rule_id = 14 };

	(void)state;
	close(fd);
	log = event_log_open(path);
	assert_non_null(log);
	event_log_set_rate(log, 0, 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(event_emit(log, &ev), 0);
	event_log_close(log);
	unlink(path);
}

/* SIGHUP rotation: after a rename, reopen() writes to the new file at the old path. */
static void test_reopen(void **state)
{
	char path[] = "/tmp/test_event_XXXXXX", rotated[64];
	int fd = mkstemp(path);
	struct event ev = { .type = EV_READY, .ts_us = TS };
	struct ev_log *log;
	char *a, *b;

	(void)state;
	close(fd);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	log = event_log_open(path);
	assert_non_null(log);
	assert_int_equal(event_emit(log, &ev), 0);
	assert_int_equal(rename(path, rotated), 0);
	ev.type = EV_POLICY;
	assert_int_equal(event_emit(log, &ev), 0); /* still the old file */
	assert_int_equal(event_log_reopen(log), 0);
	ev.type = EV_HEARTBEAT;
	assert_int_equal(event_emit(log, &ev), 0);
	event_log_close(log);
	a = slurp(rotated);
	b = slurp(path);
	assert_int_equal(count_lines(a, "\n"), 2);
	assert_non_null(strstr(a, "\"ready\""));
	assert_non_null(strstr(a, "\"policy\""));
	assert_int_equal(count_lines(b, "\n"), 1);
	assert_non_null(strstr(b, "\"heartbeat\""));
	free(a);
	free(b);
	unlink(path);
	unlink(rotated);
	/* an unwritable path fails with errno */
	assert_null(event_log_open("/nonexistent/dir/events.json"));
	assert_int_equal(errno, ENOENT);
}

/*
 * A log that takes nothing costs events, never a blocked worker: a FIFO
 * without a reader fails the open (ENXIO) instead of waiting for one; one
 * whose reader stopped reading fills, and then each event is lost (counted).
 */
static void test_fifo_never_blocks(void **state)
{
	char dir[] = "/tmp/test_event_XXXXXX", path[64];
	struct event ev = { .type = EV_READY, .ts_us = TS };
	struct ev_log *log;
	int rd, rc = 0, i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(event_log_open(path));
	assert_int_equal(errno, ENXIO);
	/* the engine keeps such a log: events lost until a SIGHUP's reopen finds a reader */
	log = event_log_new(path, &rc);
	assert_non_null(log);
	assert_int_equal(rc, -ENXIO);
	assert_true(event_emit(log, &ev) < 0);
	assert_int_equal(event_log_lost(log), 1);
	rd = open(path, O_RDONLY | O_NONBLOCK); /* a reader that never reads */
	assert_true(rd >= 0);
	assert_int_equal(event_log_reopen(log), 0);
	assert_int_equal(event_emit(log, &ev), 0);
	event_log_close(log);
	log = event_log_open(path);
	assert_non_null(log);
	rc = 0;
	for (i = 0; i < 100000 && rc == 0; i++) /* 64 KiB of pipe: a few hundred lines */
		rc = event_emit(log, &ev);
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(event_log_lost(log), 1);
	assert_int_equal(event_emit(log, &ev), -ENOBUFS);
	assert_int_equal(event_log_lost(log), 2);
	event_log_close(log);
	close(rd);
	unlink(path);
	rmdir(dir);
}

/*
 * A full disk (here: RLIMIT_FSIZE) cuts a line: it is lost and counted, and
 * the next line starts on a line of its own, so that every later line parses.
 */
static void test_cut_line_then_newline(void **state)
{
	char path[] = "/tmp/test_event_XXXXXX", *text, *line, *save = NULL;
	int fd = mkstemp(path), rc = 0, lines = 0, whole = 0;
	struct event ev = { .type = EV_POLICY, .ts_us = TS, .message = "x" };
	struct rlimit old, lim;
	struct ev_log *log;
	void (*sig)(int) = signal(SIGXFSZ, SIG_IGN);

	(void)state;
	close(fd);
	log = event_log_open(path);
	assert_non_null(log);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = (struct rlimit){ 1000, old.rlim_max }; /* the soft limit only: it can go back up */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	while (rc == 0)
		rc = event_emit(log, &ev);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, sig);
	assert_int_equal(event_log_lost(log), 1);
	ev.message = "after";
	assert_int_equal(event_emit(log, &ev), 0);
	event_log_close(log);
	text = slurp(path);
	line = strstr(text, "\"after\"}\n");
	assert_non_null(line);
	assert_string_equal(line, "\"after\"}\n"); /* the last line, whole */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		whole += line[0] == '{' && line[strlen(line) - 1] == '}';
	}
	assert_true(lines > 2);
	assert_int_equal(whole, lines - 1); /* all but the cut one, "after" too: on its own line */
	free(text);
	unlink(path);
}

struct writer {
	struct ev_log *log;
	int id;
};

static void *writer(void *arg)
{
	struct writer *w = arg;
	char msg[300];

	memset(msg, 'a' + w->id, sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (int i = 0; i < 500; i++) {
		struct event ev = { .type = EV_LIFELINE, .ts_us = TS, .message = msg };
		if (event_emit(w->log, &ev))
			return (void *)1;
	}
	return NULL;
}

/* Lines from several threads never interleave. */
static void test_threads(void **state)
{
	char path[] = "/tmp/test_event_XXXXXX";
	int fd = mkstemp(path);
	struct writer w[4];
	pthread_t th[4];
	struct ev_log *log;
	char *text, *line, *save = NULL;
	int n = 0;

	(void)state;
	close(fd);
	log = event_log_open(path);
	assert_non_null(log);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ log, i };
		assert_int_equal(pthread_create(&th[i], NULL, writer, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *rc;
		pthread_join(th[i], &rc);
		assert_null(rc);
	}
	event_log_close(log);
	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *m = strstr(line, "\"message\":\"");
		assert_non_null(m);
		m += 11;
		for (int k = 0; k < 299; k++)
			assert_int_equal(m[k], m[0]);
		assert_string_equal(m + 299, "\"}");
		n++;
	}
	assert_int_equal(n, 2000);
	free(text);
	unlink(path);
}

static bool sig_of(void *arg, uint32_t sid, struct ev_sig *out)
{
	(void)arg;
	if (sid == 2001 || sid == 2002) { /* a second drop rule, an alert rule */
		*out = (struct ev_sig){ .msg = sid == 2001 ? "second drop" : "just alert", .gid = 1,
					.rev = 1, .severity = 3, .blocks = sid == 2001 };
		return true;
	}
	if (sid != 2000)
		return false;
	*out = (struct ev_sig){ .msg = "ET SCAN probe", .gid = 1, .rev = 7, .severity = 2,
				.category = "Attempted Information Leak", .blocks = true };
	return true;
}

/* One judged packet: its alerts, its log-only rules, its drop. */
static void test_emit_verdict(void **state)
{
	char path[] = "/tmp/test_event_XXXXXX";
	int fd = mkstemp(path);
	struct pkt p = { 0 };
	struct verdict v = { 0 };
	struct ev_log *log;
	char *text;

	(void)state;
	close(fd);
	log = event_log_open(path);
	assert_non_null(log);
	p.family = 4;
	p.proto = 6;
	p.l4_ok = 1;
	p.src = ip("192.0.2.7");
	p.dst = ip("198.51.100.2");
	p.sport = 40000;
	p.dport = 23;
	p.ifname = "eth0";
	/* a deny with two log-only rules */
	v.by = BY_FIREWALL;
	v.reason = R_DENY;
	v.has_rule = true;
	v.rule = 10;
	v.nlogged = 2;
	v.logged[0] = 14;
	v.logged[1] = 15;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, sig_of, NULL), 3);
	/* nolog: the log-only rules still log, the drop does not */
	v.nolog = true;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, sig_of, NULL), 2);
	/* an accepted packet with an alert */
	memset(&v, 0, sizeof(v));
	v.accept = true;
	v.by = BY_FIREWALL;
	v.reason = R_ALLOW;
	v.nalerts = 1;
	v.alerts[0] = 2000;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, sig_of, NULL), 1);
	/* an IPS drop: blocked alert plus the drop */
	v.accept = false;
	v.by = BY_IPS;
	v.reason = R_IPS_DROP;
	v.has_rule = true;
	v.rule = 2000;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, NULL, NULL), 2);
	/*
	 * a later packet of the flow that rule ended: a drop naming the
	 * signature, never a firewall rule with the sid for its id
	 */
	v.by = BY_FLOW;
	v.nalerts = 0;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, sig_of, NULL), 1);
	/*
	 * two drop rules and an alert rule on one packet: as Suricata's
	 * AlertJsonHeader(), each alert's own rule decides its action, so
	 * both drop rules say "blocked", the alert rule "allowed"
	 */
	v.by = BY_IPS;
	v.rule = 2001;
	v.nalerts = 3;
	v.alerts[0] = 2000;
	v.alerts[1] = 2001;
	v.alerts[2] = 2002;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, sig_of, NULL), 4);
	/* the lifeline makes no event */
	memset(&v, 0, sizeof(v));
	v.accept = true;
	v.by = BY_LIFELINE;
	v.reason = R_HEARTBEAT;
	assert_int_equal(event_emit_verdict(log, &p, &v, TS, NULL, NULL), 0);
	event_log_close(log);

	text = slurp(path);
	assert_int_equal(count_lines(text, "\n"), 13);
	assert_int_equal(count_lines(text, "\"event_type\":\"drop\""), 4);
	assert_int_equal(count_lines(text, "\"event_type\":\"log\""), 4);
	assert_int_equal(count_lines(text, "\"event_type\":\"alert\""), 5);
	assert_int_equal(count_lines(text, "\"firewall\":{\"rule_id\":10,\"action\":\"deny\"}"), 1);
	assert_int_equal(count_lines(text, "\"firewall\":{\"rule_id\":15,\"action\":\"log-only\"}"), 2);
	assert_int_equal(count_lines(text, "\"action\":\"allowed\",\"gid\":1,\"signature_id\":2000,"
					   "\"rev\":7,\"signature\":\"ET SCAN probe\","
					   "\"category\":\"Attempted Information Leak\",\"severity\":2}"), 1);
	assert_int_equal(count_lines(text, "\"action\":\"blocked\""), 6);
	assert_int_equal(count_lines(text, "\"action\":\"blocked\",\"gid\":1,\"signature_id\":2000,"), 4);
	assert_int_equal(count_lines(text, "\"action\":\"blocked\",\"gid\":1,\"signature_id\":2001,"), 2);
	assert_int_equal(count_lines(text, "\"action\":\"allowed\",\"gid\":1,\"signature_id\":2002,"), 1);
	assert_int_equal(count_lines(text, "\"by\":\"flow\",\"reason\":\"drop\""), 1);
	assert_int_equal(count_lines(text, "\"rule_id\":2000"), 0);
	assert_int_equal(count_lines(text, "\"in_iface\":\"eth0\""), 13);
	assert_int_equal(count_lines(text, "\"by\":\"ips\",\"reason\":\"drop\""), 6);
	free(text);
	unlink(path);
}

/* ---- resolv.conf ---- */

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_resolv(void **state)
{
	char etc[] = "/tmp/test_resolv_XXXXXX";
	ll_ip out[8];
	int n;

	(void)state;
	write_file(etc, "# generated\n"
			"search example.com\n"
			"nameserver 192.0.2.53\n"
			"  nameserver\t2001:db8::53   # trailing comment\n"
			"nameserver fe80::1%eth0\n"
			"nameserver 192.0.2.53\n"
			"; nameserver 10.9.9.9\n"
			"#nameserver 10.8.8.8\n"
			"nameserver not-an-address\n"
			"nameserverx 10.7.7.7\n"
			"options edns0\n"
			"nameserver 198.51.100.53");
	n = resolv_read_servers(etc, out, 8);
	assert_int_equal(n, 4);
	assert_true(ll_ip_eq(out[0], ip("192.0.2.53")));
	assert_true(ll_ip_eq(out[1], ip("2001:db8::53")));
	assert_true(ll_ip_eq(out[2], ip("fe80::1")));
	assert_true(ll_ip_eq(out[3], ip("198.51.100.53"))); /* last line, no newline */
	/* with no stub the host list is the file's */
	assert_int_equal(resolv_host_servers(etc, "/nonexistent", out, 8), 4);
	/* bounded by max */
	assert_int_equal(resolv_read_servers(etc, out, 2), 2);
	unlink(etc);
	assert_int_equal(resolv_read_servers("/nonexistent/resolv.conf", out, 8), -ENOENT);
}

static void test_resolv_last_line(void **state)
{
	char etc[] = "/tmp/test_resolv_XXXXXX";
	ll_ip out[4];

	(void)state;
	write_file(etc, "nameserver 198.51.100.53");
	assert_int_equal(resolv_read_servers(etc, out, 4), 1);
	assert_true(ll_ip_eq(out[0], ip("198.51.100.53")));
	unlink(etc);
}

static void test_resolv_systemd(void **state)
{
	char etc[] = "/tmp/test_resolv_XXXXXX", up[] = "/tmp/test_resolv_XXXXXX";
	char empty[] = "/tmp/test_resolv_XXXXXX";
	ll_ip out[8];

	(void)state;
	write_file(etc, "# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n");
	write_file(up, "nameserver 10.0.0.1\nnameserver 10.0.0.2\n");
	write_file(empty, "# no servers\n");
	assert_int_equal(resolv_host_servers(etc, up, out, 8), 2);
	assert_true(ll_ip_eq(out[0], ip("10.0.0.1")));
	assert_true(ll_ip_eq(out[1], ip("10.0.0.2")));
	assert_int_equal(resolv_host_servers(etc, up, out, 1), 1);
	/* no upstream list: the stub is all there is */
	assert_int_equal(resolv_host_servers(etc, "/nonexistent", out, 8), 1);
	assert_true(ll_ip_eq(out[0], ip("127.0.0.53")));
	assert_int_equal(resolv_host_servers(etc, empty, out, 8), 1);
	unlink(etc);
	/* the stub beside another server: the file is taken as it is */
	write_file(strcpy(etc, "/tmp/test_resolv_XXXXXX"),
		   "nameserver 127.0.0.53\nnameserver 192.0.2.1\n");
	assert_int_equal(resolv_host_servers(etc, up, out, 8), 2);
	assert_true(ll_ip_eq(out[1], ip("192.0.2.1")));
	unlink(etc);
	unlink(up);
	unlink(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_fputs),
		cmocka_unit_test(test_community_id_vectors),
		cmocka_unit_test(test_community_id_invalid),
		cmocka_unit_test(test_format_drop),
		cmocka_unit_test(test_format_alert),
		cmocka_unit_test(test_format_icmp_and_plain),
		cmocka_unit_test(test_format_long),
		cmocka_unit_test(test_tuple_from_pkt),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_rate_limit_off),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_fifo_never_blocks),
		cmocka_unit_test(test_cut_line_then_newline),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_emit_verdict),
		cmocka_unit_test(test_resolv),
		cmocka_unit_test(test_resolv_last_line),
		cmocka_unit_test(test_resolv_systemd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
