/* test_ips_tcp.c - the IPS stream keeps what Linux keeps: window, PAWS, ACKs, urgent data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ips_env.h"

static const char *const rules =
	"alert tcp any any -> any any (flow:to_server; content:\"ATTACK\"; sid:1;)\n";

/* One segment: @ws a window-scale option (< 0: none), @tsval a timestamp (0: none). */
struct seg {
	bool to_server;
	uint32_t seq, ack;
	uint8_t fl;
	uint16_t win;
	int ws;
	uint32_t tsval;
	const char *data;
	uint16_t urp;
};

/* The timestamp echo of the next segment with a timestamp (run_echoed()). */
static uint32_t next_tsecr;

/* How the host's stack loses a segment run_opts() sends. */
enum lost { KEPT, MD5, AO, AUTH_BAD, V6_HEADER, BAD_CSUM, L2_GROUP };

/* The host is the client: segments to the server go out (else the host is the server). */
static bool host_client;
/* The client's SYNs ask for a Fast Open cookie: option 34, empty (1), or the experimental 254 (2). */
static int syn_tfo;

/*
 * Through the flow's record, then the IPS, as the pipeline runs them; true
 * when sid 1 alerted. @how: with a TCP MD5 signature option, behind an
 * IPv6 header the host's stack drops it for, with a checksum the
 * kernel had not verified and is wrong (the worker's csum_bad), or in a
 * link-layer broadcast frame (replay's l2_group).
 */
static bool run_opts(struct env *e, const struct seg *s, enum lost how)
{
	uint8_t h[60] = { 0 };
	uint32_t n = 20;
	struct pkt p = ipst_pkt(IPPROTO_TCP_, s->data, (uint32_t)strlen(s->data));

	if (s->ws >= 0) {
		const uint8_t o[4] = { 1, 3, 3, (uint8_t)s->ws };
		memcpy(h + n, o, 4), n += 4;
	}
	if (s->tsval) {
		const uint8_t o[4] = { 1, 1, 8, 10 };
		memcpy(h + n, o, 4);
		for (int i = 0; i < 4; i++)
			h[n + 4 + i] = (uint8_t)(s->tsval >> (24 - 8 * i));
		for (int i = 0; i < 4; i++)
			h[n + 8 + i] = (uint8_t)(next_tsecr >> (24 - 8 * i));
		n += 12;
	}
	if (syn_tfo && s->to_server && (s->fl & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		const uint8_t rfc[4] = { 1, 1, 34, 2 }, exp[4] = { 254, 4, 0xf9, 0x89 };
		memcpy(h + n, syn_tfo == 1 ? rfc : exp, 4), n += 4;
	}
	if (how == MD5) { /* kind 19, 18 bytes: 16 of digest (any), then two NOPs */
		h[n] = 19, h[n + 1] = 18;
		memset(h + n + 2, 0xab, 16);
		h[n + 18] = h[n + 19] = 1;
		n += 20;
	}
	if (how == AUTH_BAD) { /* kind 19 of 10 bytes, 18 before the end: the auth parse fails */
		h[n] = 19, h[n + 1] = 10;
		memset(h + n + 2, 0xab, 8);
		memset(h + n + 10, 1, 10);
		n += 20;
	}
	if (how == AO) { /* TCP-AO, kind 29: key ids 1/1, a 12-byte MAC (any) */
		h[n] = 29, h[n + 1] = 16, h[n + 2] = h[n + 3] = 1;
		memset(h + n + 4, 0xab, 12);
		n += 16;
	}
	p.dir = s->to_server != host_client ? PKT_DIR_IN : PKT_DIR_OUT;
	p.v6_undelivered = how == V6_HEADER;
	p.csum_bad = how == BAD_CSUM;
	p.l2_group = how == L2_GROUP;
	p.l4 = h;
	p.l4hlen = (uint16_t)n;
	p.l4len = n + p.paylen;
	p.l3hlen = 20;
	p.len = 20 + p.l4len; /* the flow's record counts the payload from it */
	p.tcp_seq = s->seq;
	p.tcp_ack = s->ack;
	p.tcp_flags = s->fl;
	p.tcp_win = s->win;
	p.tcp_urp = s->urp;
	if (!s->to_server)
		ipst_reverse(&p);
	/*
	 * The first packet opens the flow as flow_create_probe() does (a SYN
	 * without ACK: SYN_SENT); later ones find it in the state they left.
	 */
	if ((s->fl & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && s->to_server && !e->f.pkts[0] &&
	    !e->f.pkts[1])
		e->f.tcp_state = FT_SYN_SENT, e->f.accept = 1;
	/* a SYN on a closed flow opens a new one (tcp_reopens()), with IPS state of its own */
	if ((s->fl & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && s->to_server && e->f.tcp_state == FT_CLOSE) {
		ips_flow_free(e->f.ips);
		memset(&e->f, 0, sizeof(e->f));
		e->f.tcp_state = FT_SYN_SENT, e->f.accept = 1;
	}
	/* a handshake segment the receiver drops for its timestamps moves nothing (pipeline.c) */
	e->now += 1000;
	if (e->f.ips && ips_opening_drops(&e->f, &p, s->to_server, e->now))
		flow_count(&e->f, &p, s->to_server, e->now);
	else
		flow_update(NULL, &e->f, &p, s->to_server, e->now);
	ips_scan(e->w, e->rs, &e->f, &p, s->to_server, e->now, &e->res);
	if (e->res.reset) /* the pipeline ends the flow at a RST the stream takes */
		e->f.tcp_state = FT_CLOSE;
	return ipst_alerted(&e->res, 1);
}

static bool run(struct env *e, const struct seg *s)
{
	return run_opts(e, s, KEPT);
}

static bool run_all(struct env *e, const struct seg *s, size_t n)
{
	bool hit = false;

	for (size_t i = 0; i < n; i++)
		hit = run(e, &s[i]);
	return hit; /* the last one's */
}

/* @n segments of @s through a flow of their own: did the last one alert? */
static bool alerts(const struct seg *s, size_t n)
{
	struct env e;
	bool hit;

	env_open(&e, rules, 0);
	hit = run_all(&e, s, n);
	env_close(&e);
	return hit;
}

enum { PA = TCPF_PSH | TCPF_ACK, SA = TCPF_SYN | TCPF_ACK, SF = TCPF_SYN | TCPF_FIN };

/*
 * A decoy at the right edge of the window the server advertised (its
 * SYN-ACK: 5 bytes) is dropped by Linux; the server's ACK then opens the
 * window and the real bytes come. With window scaling the server's later
 * windows count in units of 2^shift.
 */
static void test_window(void **state)
{
	const struct seg plain[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 5, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ZZZyy", 0 }, /* the decoy, at the edge */
		{ false, 5001, 105, TCPF_ACK, 100, -1, 0, "", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg scaled[] = {
		{ true, 99, 0, TCPF_SYN, 64240, 7, 0, "", 0 },
		{ false, 5000, 100, SA, 5, 3, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, TCPF_ACK, 2, -1, 0, "", 0 }, /* 2 << 3: to 116 */
		{ true, 100, 5001, PA, 502, -1, 0, "xxxxxxxxxx", 0 },
		{ true, 110, 5001, PA, 502, -1, 0, "xxxATT", 0 }, /* past the SYN-ACK's 5 bytes */
		{ true, 116, 5001, PA, 502, -1, 0, "ZZZyy", 0 },  /* the decoy, at the edge */
		{ false, 5001, 116, TCPF_ACK, 100, -1, 0, "", 0 },
		{ true, 116, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};

	/* the decoy at the edge the scaled field says exactly: no slack past it (red24b) */
	const struct seg exact[] = {
		{ true, 99, 0, TCPF_SYN, 64240, 7, 0, "", 0 },
		{ false, 5000, 100, SA, 5, 3, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, TCPF_ACK, 1, -1, 0, "", 0 }, /* 1 << 3: to 108 */
		{ true, 100, 5001, PA, 502, -1, 0, "xxxxxATT", 0 },
		{ true, 108, 5001, PA, 502, -1, 0, "ZZZyy", 0 },  /* the decoy, at the edge */
		{ false, 5001, 108, TCPF_ACK, 100, -1, 0, "", 0 },
		{ true, 108, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_true(alerts(plain, sizeof(plain) / sizeof(plain[0])));
	assert_true(alerts(scaled, sizeof(scaled) / sizeof(scaled[0])));
	assert_true(alerts(exact, sizeof(exact) / sizeof(exact[0])));
}

/*
 * Where the window is not known, nothing is refused: no SYN seen (picked
 * up mid-stream), or the server's windows in units nobody saw negotiated
 * (its SYN-ACK seen, the client's SYN not).
 */
static void test_window_unknown(void **state)
{
	const struct seg midstream[] = {
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ false, 5001, 105, TCPF_ACK, 0, -1, 0, "", 0 }, /* window 0, shift unknown */
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg no_syn[] = {
		{ false, 5000, 100, SA, 5, 3, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ false, 5001, 100, TCPF_ACK, 1, -1, 0, "", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 }, /* within 8 << shift */
	};

	(void)state;
	assert_true(alerts(midstream, sizeof(midstream) / sizeof(midstream[0])));
	assert_true(alerts(no_syn, sizeof(no_syn) / sizeof(no_syn[0])));
}

/*
 * PAWS (RFC 7323 5.3): with timestamps on both SYNs, a decoy whose TSval
 * is older than the last one kept (by more than one) is dropped. The last
 * one kept moves only with a segment at or before what the server had
 * acknowledged: a far-ahead segment with a large TSval does not make the
 * real bytes "old". Without timestamps negotiated, nothing is refused.
 */
static void test_paws(void **state)
{
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 1000, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 777, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 1001, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 1002, "xxATT", 0 },
		{ true, 300, 5001, PA, 502, -1, 900000, "far", 0 }, /* queued: ts_recent stays */
		{ true, 105, 5001, PA, 502, -1, 500, "ZZZyy", 0 },  /* the decoy */
		{ true, 105, 5001, PA, 502, -1, 1003, "ACKyy", 0 },
	};
	struct seg off[sizeof(s) / sizeof(s[0])];

	(void)state;
	assert_true(alerts(s, sizeof(s) / sizeof(s[0])));
	/* a TSval one behind is still taken (tcp_paws_check()'s window of one) */
	memcpy(off, s, sizeof(s));
	off[5].tsval = 1001, off[5].data = "ACKyy", off[6].data = "zzzzz";
	assert_true(alerts(off, 6));
	/* the SYN-ACK without timestamps: they are off, the old TSval counts for nothing */
	memcpy(off, s, sizeof(s));
	off[1].tsval = 0, off[5].data = "ACKyy", off[6].data = "zzzzz";
	assert_true(alerts(off, 6));
}

/*
 * tcp_ack(): an ACK older than snd_una - min(max_window, bytes_acked) is
 * dropped (RFC 5961 5.2). The server sent 100 bytes, the client (window
 * 10) acknowledged them all: an ACK more than 10 below is too old, for
 * data and for a FIN; 10 below is taken.
 */
static void test_old_ack(void **state)
{
	static const char hundred[] = "0123456789012345678901234567890123456789"
				      "0123456789012345678901234567890123456789"
				      "01234567890123456789";
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 10, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, hundred, 0 },
		{ true, 100, 5101, PA, 10, -1, 0, "xxATT", 0 },
		{ true, 105, 5090, PA, 10, -1, 0, "ZZZyy", 0 }, /* the decoy: 11 below */
		{ true, 105, 5101, PA, 10, -1, 0, "ACKyy", 0 },
	};
	struct seg v[sizeof(s) / sizeof(s[0]) + 1];

	(void)state;
	assert_true(alerts(s, sizeof(s) / sizeof(s[0])));
	/* a FIN with such an ACK ends nothing */
	memcpy(v, s, sizeof(s));
	v[5].fl = TCPF_FIN | TCPF_ACK, v[5].data = "";
	assert_true(alerts(v, sizeof(s) / sizeof(s[0])));
	/* 10 below: within max_window, taken */
	memcpy(v, s, sizeof(s));
	v[5].ack = 5091, v[5].data = "ACKyy", v[6].data = "zzzzz";
	assert_true(alerts(v, 6));
}

/*
 * Urgent data: Linux without SO_OOBINLINE reads the byte before seq +
 * urgent pointer out of band, so "xxATT" + "AXCK" with the X urgent is
 * "xxATTACK" to the server. A pointer ahead names a byte still to come; a
 * pointer into bytes already taken changes nothing.
 */
static void test_urgent(void **state)
{
	const uint8_t U = TCPF_URG | PA;
	const struct seg here[] = {
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, U, 502, -1, 0, "AXCK", 2 },
	};
	const struct seg ahead[] = {
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, U, 502, -1, 0, "A", 3 },
		{ true, 106, 5001, PA, 502, -1, 0, "CXK", 0 },
	};
	const struct seg old[] = {
		{ true, 100, 5001, PA, 502, -1, 0, "xxATTA", 0 },
		{ true, 104, 5001, U, 502, -1, 0, "", 1 }, /* names 104, taken already */
		{ true, 106, 5001, PA, 502, -1, 0, "CK", 0 },
	};

	(void)state;
	assert_true(alerts(here, 2));
	assert_true(alerts(ahead, 3));
	assert_true(alerts(old, 3));
}

/*
 * A SYN once the handshake is through: Linux answers with a challenge ACK
 * and drops it (RFC 5961 4). Taken, a SYN|ACK's made-up ACK made each real
 * segment after it "too old", and the split pattern went unseen (the diff
 * review); a RST|FIN at the wrong place must not end the stream either.
 */
static void test_late_syn(void **state)
{
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "hello", 0 },
		{ true, 100, 5006, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 0x7fff0000, SA, 502, -1, 0, "", 0 }, /* dropped by Linux */
		{ true, 105, 5006, PA, 502, -1, 0, "ACKyy", 0 },
	};
	struct seg v[sizeof(s) / sizeof(s[0])];

	(void)state;
	assert_true(alerts(s, sizeof(s) / sizeof(s[0])));
	memcpy(v, s, sizeof(s));
	v[5] = (struct seg){ true, 103, 5006, TCPF_RST | TCPF_FIN | TCPF_ACK, 502, -1, 0, "zz", 0 };
	assert_true(alerts(v, sizeof(v) / sizeof(v[0])));
}

/*
 * A RST without ACK ends the connection as well (tcp_validate_incoming():
 * the ACK of a RST is not looked at): the streams' memory goes back.
 */
static void test_bare_rst_frees(void **state)
{
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 0, TCPF_RST, 0, -1, 0, "", 0 },
	};
	struct env e;
	uint64_t held;

	(void)state;
	env_open(&e, rules, 0);
	run_all(&e, s, 4);
	held = ips_stream_mem();
	run(&e, &s[4]);
	assert_true(ips_stream_mem() < held);
	env_close(&e);
}

/*
 * An ACK before the receiver's first byte, from a side that has acknowledged
 * nothing yet (Linux's min(max_window, bytes_acked) is 0), and one older
 * than the bytes acknowledged though the window has grown past them: both
 * dropped by Linux, both taken by the IPS for a while (the last review).
 */
static void test_old_ack_small(void **state)
{
	static char thousand[1001];
	const struct seg first[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5000, PA, 502, -1, 0, "xxATTZZZyy", 0 }, /* the decoy */
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg grown[] = {
		{ true, 99, 0, TCPF_SYN, 1000, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 1000, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, thousand, 0 },
		{ true, 100, 6001, TCPF_ACK, 1000, -1, 0, "", 0 },
		{ true, 100, 6001, TCPF_ACK, 60000, -1, 0, "", 0 },   /* the window grows */
		{ true, 100, 6001, PA, 60000, -1, 0, "xxATT", 0 },
		{ true, 105, 5000, PA, 60000, -1, 0, "ZZZyy", 0 },    /* 1,001 behind: too old */
		{ true, 105, 6001, PA, 60000, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	memset(thousand, 'a', 1000);
	assert_true(alerts(first, sizeof(first) / sizeof(first[0])));
	assert_true(alerts(grown, sizeof(grown) / sizeof(grown[0])));
}

/*
 * A long connection: the server sends @total bytes (60,000 a segment, the
 * client acknowledging each), then the client's split pattern, its second
 * half with an ACK @behind the latest (reordered behind a pure ACK).
 */
static bool after_transfer(uint64_t total, uint32_t behind)
{
	const struct seg hs[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 65535, -1, 0, "", 0 },
	};
	uint32_t sseq = 5001;
	struct env e;
	bool hit;

	env_open(&e, rules, 0);
	run_all(&e, hs, 3);
	for (uint64_t done = 0; done < total;) {
		uint32_t step = total - done > 60000 ? 60000 : (uint32_t)(total - done);
		struct seg sv = { false, sseq, 100, TCPF_ACK, 65535, -1, 0, "", 0 }, cl;

		sseq += step, done += step;
		sv.seq = sseq;
		run(&e, &sv);
		cl = (struct seg){ true, 100, sseq, TCPF_ACK, 65535, -1, 0, "", 0 };
		run(&e, &cl);
	}
	{
		const struct seg d[] = {
			{ true, 100, sseq, PA, 65535, -1, 0, "xxATT", 0 },
			{ true, 105, sseq - behind, PA, 65535, -1, 0, "ACKyy", 0 },
		};
		hit = run_all(&e, d, 2);
	}
	env_close(&e);
	return hit;
}

/*
 * Bytes acknowledged past 2 GiB read as "before the receiver's first byte"
 * (every later segment, both ways, was refused: the tcp15 review, live,
 * after a 2.2 GB download), and Linux's 64-bit bytes_acked has no wrap at
 * 4 GiB: an ACK within the window behind stays good.
 */
static void test_acked_wrap(void **state)
{
	(void)state;
	assert_true(after_transfer(2200000000ull, 0));
	assert_true(after_transfer((1ull << 32) + 10000, 20000));
	assert_false(after_transfer((1ull << 32) + 10000, 70000)); /* past the 65,535 window */
}

/* @n segments through a flow of its own with @rs: how many of them alerted sid 1 (or dropped). */
static int hits(const char *rs, const struct seg *s, size_t n, bool *dropped)
{
	struct env e;
	int k = 0;

	env_open(&e, rs, 0);
	for (size_t i = 0; i < n; i++) {
		k += run(&e, &s[i]);
		if (dropped && e.res.action == IPS_ACT_DROP)
			*dropped = true;
	}
	env_close(&e);
	return k;
}

/*
 * TCP Fast Open (RFC 7413): the SYN's data is the client's first bytes
 * (from ISN + 1) once the server's SYN-ACK acknowledges them. A signature
 * split between it and the next segment was missed: the SYN's data was
 * inspected with its packet only.
 */
static void test_tfo_split(void **state)
{
	static const char drop[] =
		"drop tcp any any -> any any (flow:to_server; content:\"ATTACK\"; sid:1;)\n";
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ false, 5000, 105, SA, 65535, -1, 0, "", 0 }, /* the server took the 5 bytes */
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	bool dropped = false;

	(void)state;
	assert_int_equal(hits(rules, s, 3, NULL), 1);
	assert_true(alerts(s, 3));
	assert_int_equal(hits(drop, s, 3, &dropped), 1);
	assert_true(dropped);
}

/* Two contents, one in the SYN's data and one in the next segment: the rule waits for the second. */
static void test_tfo_two_contents(void **state)
{
	static const char two[] = "alert tcp any any -> any any (flow:to_server; content:\"AAAA\"; "
				  "content:\"BBBB\"; distance:0; sid:1;)\n";
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xAAAAx", 0 },
		{ false, 5000, 106, SA, 65535, -1, 0, "", 0 },
		{ true, 106, 5001, PA, 502, -1, 0, "yBBBBy", 0 },
	};

	(void)state;
	assert_int_equal(hits(two, s, 3, NULL), 1);
}

/*
 * SYN data past stream-depth fills the stream, whose buffer goes back at
 * once; when the server took none of it the stream starts afresh with the
 * bytes the client sends again, and when it took it all the stream stays
 * full (nothing past the depth is reassembled).
 */
static void test_tfo_full(void **state)
{
	const struct seg taken[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "ZZZZZZZZZZZZZZZZZZZZ", 0 },
		{ false, 5000, 120, SA, 65535, -1, 0, "", 0 },
		{ true, 120, 5001, PA, 502, -1, 0, "xATT", 0 },
		{ true, 124, 5001, PA, 502, -1, 0, "ACKy", 0 },
	};
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "ZZZZZZZZZZZZZZZZZZZZ", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xATT", 0 },
		{ true, 104, 5001, PA, 502, -1, 0, "ACKy", 0 },
	};
	struct env e;
	uint64_t held = ips_stream_mem();

	(void)state;
	env_open(&e, rules, 8);
	run(&e, &s[0]);
	assert_int_equal(ips_stream_mem(), held); /* full: given back */
	run_all(&e, s + 1, 2);
	assert_true(run(&e, &s[3]));
	env_close(&e);
	env_open(&e, rules, 8);
	assert_false(run_all(&e, taken, 4));
	env_close(&e);
}

/*
 * A SYN-ACK that acknowledges ISN + 1 only: the server dropped the SYN's
 * data (no cookie, TFO off) and the client sends it again as a segment.
 * The stream holds it once, and never bytes the server did not take: not
 * "xxATT" + "ACKyy" when the server got "hello" + "ACKyy", and the real
 * bytes at ISN + 1 are not hidden by the SYN's decoy.
 */
static void test_tfo_not_acked(void **state)
{
	const struct seg again[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg other[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "hello", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg decoy[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "ZZZZZ", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_int_equal(hits(rules, again, 5, NULL), 1);
	assert_true(alerts(again, 5));
	assert_int_equal(hits(rules, other, 4, NULL), 0);
	assert_true(alerts(decoy, 4));
}

/*
 * SYN data on a retransmitted SYN: the first SYN carried none (or was
 * lost), the second carries the bytes the server acknowledges. The same
 * SYN sent twice with its data puts the data in the stream once.
 */
static void test_tfo_syn_again(void **state)
{
	const struct seg late_data[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ false, 5000, 105, SA, 65535, -1, 0, "", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg twice[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ false, 5000, 105, SA, 65535, -1, 0, "", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_true(alerts(late_data, 4));
	assert_int_equal(hits(rules, twice, 4, NULL), 1);
	assert_true(alerts(twice, 4));
}

/*
 * A SYN with data once the handshake is through is dropped by Linux
 * (RFC 5961 4): its data neither completes a signature nor stands for the
 * real bytes at the same place.
 */
static void test_tfo_late_syn(void **state)
{
	const struct seg completes[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 104, 0, TCPF_SYN, 64240, -1, 0, "ACKyy", 0 }, /* its data at 105 */
		{ true, 105, 5001, PA, 502, -1, 0, "zzzzz", 0 },
	};
	struct seg hides[sizeof(completes) / sizeof(completes[0])];

	(void)state;
	assert_int_equal(hits(rules, completes, 6, NULL), 0);
	memcpy(hides, completes, sizeof(hides));
	hides[4].data = "ZZZZZ", hides[5].data = "ACKyy";
	assert_true(alerts(hides, 6));
}

/*
 * A SYN|FIN with a decoy first (a listener discards it unread), then the
 * real SYN with the same ISN and its data, which the server takes: the
 * decoy neither stands for the SYN's bytes nor closes the flow before it.
 */
static void test_syn_fin_decoy(void **state)
{
	const struct seg s[] = {
		{ true, 99, 0, SF, 64240, -1, 0, "xxZZZ", 0 },
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ false, 5000, 105, SA, 65535, -1, 0, "", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_true(alerts(s, 4));
}

/*
 * An ACK before any SYN-ACK acknowledges nothing: Linux answers it with a
 * RST (or, a Fast Open child, drops it). Taken, a blind one made every real
 * segment after it "too old", and one with data stood for the real bytes.
 */
static void test_ack_before_synack(void **state)
{
	const struct seg bare[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ true, 100, 99999, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg decoy[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ true, 100, 12345, PA, 502, -1, 0, "ZZZZZ", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg after_syn_data[] = { /* Fast Open taken: the decoy after the SYN's bytes */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "xxATT", 0 },
		{ true, 105, 1, PA, 502, -1, 0, "ZZZyy", 0 },
		{ false, 5000, 105, SA, 65535, -1, 0, "", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_true(alerts(bare, 6));
	assert_true(alerts(decoy, 5));
	assert_true(alerts(after_syn_data, 4));
}

/*
 * Segments Linux drops that carry a decoy for the bytes after them: one
 * with a TCP MD5 option to a socket without a key (TCPMD5Unexpected), one
 * with a TCP-AO option (the default kernel has TCP-AO: AOUNEXPECTED), one
 * with an MD5 option of the wrong length (the kernel's auth parse fails), one
 * behind an IPv6 header the stack drops after the input hook, one with a
 * wrong checksum, one in a broadcast or multicast frame (TCP takes only
 * PACKET_HOST); and a RST with the option, the checksum or in such a
 * frame, which Linux drops too.
 */
static void test_dropped_decoys(void **state)
{
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxxx", 0 }, /* the decoy */
		{ true, 100, 5001, PA, 502, -1, 0, "ATTA", 0 },
		{ true, 104, 5001, PA, 502, -1, 0, "CK", 0 },
	};

	const struct seg rst = { true, 104, 5001, TCPF_RST | TCPF_ACK, 502, -1, 0, "", 0 };
	struct env e;

	(void)state;
	for (enum lost how = MD5; how <= L2_GROUP; how++) {
		env_open(&e, rules, 0);
		run_all(&e, s, 2);
		run_opts(&e, &s[2], how);
		assert_true(run_all(&e, s + 3, 2));
		env_close(&e);
	}
	/* such a RST (not behind an IPv6 header), at the next byte exactly, ends no stream */
	for (enum lost how = MD5; how <= L2_GROUP; how++) {
		if (how == V6_HEADER)
			continue;
		env_open(&e, rules, 0);
		run_all(&e, s, 2);
		run(&e, &s[3]);
		run_opts(&e, &rst, how);
		assert_true(run(&e, &s[4]));
		env_close(&e);
	}
}

/*
 * A TCP-AO option (RFC 5925) follows the kernel (pkt_kernel.tcp_ao): with
 * CONFIG_TCP_AO a socket without AO keys drops the segment
 * (tcp_inbound_ao_hash()), and test_dropped_decoys() holds; without it,
 * kind 29 is an unknown option and the host takes the segment: its bytes
 * are the stream's (the decoy hides the attack, as it does from the
 * application), and such a RST at the next byte ends the stream.
 */
static void test_ao_by_kernel(void **state)
{
	const struct seg s[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxxx", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "ATTA", 0 },
		{ true, 104, 5001, PA, 502, -1, 0, "CK", 0 },
	};
	const struct seg rst = { true, 104, 5001, TCPF_RST | TCPF_ACK, 502, -1, 0, "", 0 };
	struct pkt_kernel was = pkt_kernel;
	struct env e;

	(void)state;
	for (int has_ao = 0; has_ao < 2; has_ao++) {
		pkt_kernel.tcp_ao = has_ao;
		env_open(&e, rules, 0);
		run_all(&e, s, 2);
		run_opts(&e, &s[2], AO);
		assert_int_equal(run_all(&e, s + 3, 2), has_ao);
		env_close(&e);

		env_open(&e, rules, 0);
		run_all(&e, s, 2);
		run(&e, &s[3]);
		run_opts(&e, &rst, AO);
		assert_int_equal(run(&e, &s[4]), has_ao);
		env_close(&e);
	}
	pkt_kernel = was;
}

/*
 * Queued out of order at one sequence number, Linux keeps the segment that
 * ends later, a FIN counting one (tcp_data_queue_ofo()): "CK"+FIN replaces
 * "xx" there, and "xxx" does not replace "CK"+FIN.
 */
static void test_ooo_fin_counts(void **state)
{
	const uint8_t fpa = TCPF_FIN | PA;
	const struct seg replaces[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 104, 5001, PA, 502, -1, 0, "xx", 0 },
		{ true, 104, 5001, fpa, 502, -1, 0, "CK", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "ATTA", 0 },
	};
	const struct seg kept[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 104, 5001, fpa, 502, -1, 0, "CK", 0 },
		{ true, 104, 5001, PA, 502, -1, 0, "xxx", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "ATTA", 0 },
	};

	(void)state;
	assert_true(alerts(replaces, 5));
	assert_true(alerts(kept, 5));
}

/*
 * The split handshake: the server answers the client's SYN with a bare SYN,
 * Linux answers that with a SYN-ACK, and the server's ACK connects it. The
 * flow stayed in SYN_SENT, where no ACK is taken: neither stream took a
 * byte and flow:established never held. The server's ACK may also come
 * before the client's SYN-ACK has passed the engine (the client took it).
 */
static void test_split_handshake(void **state)
{
	static const char to_client[] =
		"alert tcp any any -> any any (flow:to_client,established; content:\"ATTACK\"; sid:1;)\n";
	const struct seg split[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 0, TCPF_SYN, 65535, -1, 0, "", 0 },
		{ true, 99, 5001, SA, 64240, -1, 0, "", 0 },
		{ false, 5001, 100, TCPF_ACK, 65535, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	const struct seg early[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 0, TCPF_SYN, 65535, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ true, 99, 5001, SA, 64240, -1, 0, "", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	const struct seg request[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 0, TCPF_SYN, 65535, -1, 0, "", 0 },
		{ true, 99, 5001, SA, 64240, -1, 0, "", 0 },
		{ false, 5001, 100, TCPF_ACK, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	const struct seg decoy[] = { /* an ACK of nothing the client sent: Linux drops it */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 0, TCPF_SYN, 65535, -1, 0, "", 0 },
		{ false, 5001, 777, PA, 65535, -1, 0, "zzzzz", 0 },
		{ true, 99, 5001, SA, 64240, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};

	const struct seg crossed_data[] = { /* the crossed SYN carries bytes the opener discards */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 0, TCPF_SYN, 65535, -1, 0, "zzzzzzz", 0 },
		{ true, 99, 5001, SA, 64240, -1, 0, "", 0 },
		{ false, 5001, 100, TCPF_ACK, 65535, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_int_equal(hits(to_client, crossed_data, 6, NULL), 1);
	assert_int_equal(hits(to_client, split, 6, NULL), 1);
	assert_int_equal(hits(to_client, early, 5, NULL), 1);
	assert_true(alerts(request, 6));
	assert_int_equal(hits(to_client, decoy, 6, NULL), 1);
}

/*
 * A second SYN from the client, at another sequence number inside the
 * window of the request the server holds: Linux drops the request (a
 * RST|ACK of that SYN), and the next SYN gets a SYN-ACK with another ISN.
 * The server's stream kept starting at the first ISN, and its replies
 * went unmatched: the server's RST ends the flow, and the next SYN opens
 * one of its own. (Two SYN-ACKs before the client's ACK are not followed:
 * README.)
 */
static void test_resyn_after_reset(void **state)
{
	static const char to_client[] =
		"alert tcp any any -> any any (flow:to_client,established; content:\"ATTACK\"; sid:1;)\n";
	const struct seg paced[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 199, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 0, 200, TCPF_RST | TCPF_ACK, 0, -1, 0, "", 0 },
		{ true, 777876, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 90000, 777877, SA, 65535, -1, 0, "", 0 },
		{ true, 777877, 90001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 90001, 777877, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 90006, 777877, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	/* the same SYN again, the SYN-ACK again: one connection, as before */
	const struct seg again[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	assert_int_equal(hits(to_client, paced, 9, NULL), 1);
	assert_int_equal(hits(to_client, again, 7, NULL), 1);
}

/*
 * A server's bytes right after its SYN-ACK, before the client's ACK has
 * passed the engine: the client took the SYN-ACK and is connected, so it
 * takes them. They were inspected in SYN_RECV, not established, and every
 * flow:established,to_client rule missed what a malicious server sent
 * first (10 of 10 live runs for one segment: the ACK and the bytes race
 * to the queue). Suricata's IDS mode takes such a segment as the sign of
 * a missed ACK. Bytes the client drops (an ACK of nothing it sent) do not
 * count. Nor do what the client discards on the way: bytes on the
 * SYN-ACK, a SYN-ACK or a RST of nothing it sent, a bare RST, a second
 * SYN-ACK at another number once connected; each, taken, kept the
 * connection out of established, or moved where a stream starts.
 */
static void test_server_bytes_before_ack(void **state)
{
	static const char to_client[] =
		"alert tcp any any -> any any (flow:to_client,established; content:\"ATTACK\"; sid:1;)\n";
	const struct seg early[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
		{ true, 100, 5011, TCPF_ACK, 502, -1, 0, "", 0 },
	};
	const struct seg hole[] = { /* the second segment first: counted when the first fills the hole */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
	};
	const struct seg not_taken[] = { /* an ACK of nothing the client sent: Linux drops it */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ false, 5001, 777, PA, 65535, -1, 0, "ATTACK", 0 },
	};
	const struct seg synack_bytes[] = { /* bytes on the SYN-ACK, which the client discards */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "zzzzzzzzzzzzzzzzzzzz", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	/* a SYN-ACK of nothing the client sent (Linux resets it), then the real one */
	const struct seg bad_synack[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 1005000, 12445, SA, 65535, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	/* the real SYN-ACK, then another at another number: the client, connected, drops it */
	const struct seg second_synack[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ false, 1005000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	/* the same, its ACK of nothing the client sent: the client's bytes still start at 100 */
	const struct seg second_synack_out[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ false, 1005000, 12445, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5001, PA, 502, -1, 0, "xxATT", 0 },
		{ true, 105, 5001, PA, 502, -1, 0, "ACKyy", 0 },
	};
	/* a RST before the SYN-ACK the client drops: bare, or of nothing it sent */
	const struct seg rst_first[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5001, 0, TCPF_RST, 0, -1, 0, "", 0 },
		{ false, 5001, 12445, TCPF_RST | TCPF_ACK, 0, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "", 0 },
		{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
		{ false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};

	(void)state;
	host_client = true;
	assert_int_equal(hits(to_client, rst_first, 7, NULL), 1);
	assert_int_equal(hits(to_client, early, 5, NULL), 1);
	assert_int_equal(hits(to_client, hole, 4, NULL), 1);
	assert_int_equal(hits(to_client, not_taken, 3, NULL), 0);
	assert_int_equal(hits(to_client, synack_bytes, 4, NULL), 1);
	assert_int_equal(hits(to_client, bad_synack, 6, NULL), 1);
	assert_int_equal(hits(to_client, second_synack, 6, NULL), 1);
	assert_int_equal(hits(rules, second_synack_out, 6, NULL), 1);
	host_client = false;
	/* the host's own bytes as the server, before the client's ACK: not the handshake */
	assert_int_equal(hits(to_client, early, 4, NULL), 0);
}

/* A segment and the echo of its timestamp. */
struct eseg {
	struct seg s;
	uint32_t tsecr;
};

/* hits() for segments with timestamp echoes. */
static int ehits(const char *rs, const struct eseg *s, size_t n, bool *dropped)
{
	struct env e;
	int k = 0;

	env_open(&e, rs, 0);
	for (size_t i = 0; i < n; i++) {
		next_tsecr = s[i].tsecr;
		k += run(&e, &s[i].s);
		if (dropped && e.res.action == IPS_ACT_DROP)
			*dropped = true;
	}
	next_tsecr = 0;
	env_close(&e);
	return k;
}

/*
 * Handshake segments the receiver drops for their timestamps, which the
 * flow's record alone took (session 18's live18b, 5/5 each past a
 * flow:established drop rule):
 * - the host as client: a SYN-ACK whose echo is not between the SYN's
 *   TSval and the client's clock now (Linux resets it and stays in
 *   SYN_SENT), the client's RST, then the real SYN-ACK - at the same
 *   number or another, before or after the RST;
 * - the host as server: a RST whose TSval is older than the SYN's, which
 *   its pending request drops (PAWS), then the client's ACK and attack.
 */
static void test_handshake_timestamps(void **state)
{
	static const char to_client[] =
		"alert tcp any any -> any any (flow:to_client,established; content:\"ATTACK\"; sid:1;)\n";
	static const char to_server[] =
		"alert tcp any any -> any any (flow:to_server,established; content:\"ATTACK\"; sid:1;)\n";
	const struct eseg tsecr[] = {
		{ { true, 99, 0, TCPF_SYN, 64240, -1, 1000000, "", 0 }, 0 },
		{ { false, 5000, 100, SA, 65535, -1, 777, "", 0 }, 1 }, /* the decoy: an echo of 1 */
		{ { true, 100, 0, TCPF_RST, 0, -1, 0, "", 0 }, 0 },      /* the client's answer */
		{ { false, 5000, 100, SA, 65535, -1, 0, "", 0 }, 0 },
		{ { true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 }, 0 },
		{ { false, 5001, 100, PA, 65535, -1, 0, "xxATT", 0 }, 0 },
		{ { false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 }, 0 },
	};
	const struct eseg tsecr2[] = { /* the real SYN-ACK a million lower, before the RST passed */
		{ { true, 99, 0, TCPF_SYN, 64240, -1, 1000000, "", 0 }, 0 },
		{ { false, 1005000, 100, SA, 65535, -1, 777, "", 0 }, 1 },
		{ { false, 5000, 100, SA, 65535, -1, 778, "", 0 }, 1000000 },
		{ { true, 100, 0, TCPF_RST, 0, -1, 0, "", 0 }, 0 },
		{ { true, 100, 5001, TCPF_ACK, 502, -1, 1000001, "", 0 }, 778 },
		{ { false, 5001, 100, PA, 65535, -1, 779, "xxATT", 0 }, 1000001 },
		{ { false, 5006, 100, PA, 65535, -1, 780, "ACKyy", 0 }, 1000001 },
	};
	const struct eseg good[] = { /* an echo of the SYN's TSval, or none, is taken */
		{ { true, 99, 0, TCPF_SYN, 64240, -1, 1000000, "", 0 }, 0 },
		{ { false, 5000, 100, SA, 65535, -1, 777, "", 0 }, 1000000 },
		{ { false, 5001, 100, PA, 65535, -1, 778, "ATTACK", 0 }, 1000000 },
	};
	const struct eseg pawsrst[] = {
		{ { true, 99, 0, TCPF_SYN, 64240, -1, 1000000, "", 0 }, 0 },
		{ { false, 5000, 100, SA, 65535, -1, 777, "", 0 }, 1000000 },
		{ { true, 100, 0, TCPF_RST, 0, -1, 5, "", 0 }, 0 },        /* PAWS: the request drops it */
		{ { true, 100, 5001, PA, 502, -1, 1000001, "ATTACK", 0 }, 777 },
	};
	struct eseg v[sizeof(tsecr) / sizeof(tsecr[0])];

	(void)state;
	host_client = true;
	assert_int_equal(ehits(to_client, tsecr, 7, NULL), 1);
	assert_int_equal(ehits(to_client, tsecr2, 7, NULL), 1);
	assert_int_equal(ehits(to_client, good, 3, NULL), 1);
	memcpy(v, good, sizeof(good));
	v[1].tsecr = 0;
	assert_int_equal(ehits(to_client, v, 3, NULL), 1);
	/* an echo up to the client's clock now (a millisecond a segment here), and a little more */
	v[1].tsecr = 1000000 + 3;
	assert_int_equal(ehits(to_client, v, 3, NULL), 1);
	v[1].tsecr = 1000000 + 4;
	assert_int_equal(ehits(to_client, v, 3, NULL), 0);
	/* the clock runs from the first SYN (retrans_stamp), not from the SYN sent again */
	v[1] = v[2] = v[0], v[3] = good[1], v[4] = good[2];
	v[1].s.tsval = 1000001, v[2].s.tsval = 1000002, v[3].tsecr = 1000000 + 5;
	assert_int_equal(ehits(to_client, v, 5, NULL), 1);
	/*
	 * The echo of the SYN sent again, whatever the engine's clock says:
	 * its TSval a million on (a route with tcp_usec_ts; or the first SYN
	 * held in the queue, live 1 in 3), Linux takes it. One past it still
	 * goes by the clock.
	 */
	v[0] = v[1] = good[0], v[2] = good[1], v[3] = good[2];
	v[1].s.tsval = 2000000, v[2].tsecr = v[3].tsecr = 2000000;
	assert_int_equal(ehits(to_client, v, 4, NULL), 1);
	v[2].tsecr = v[3].tsecr = 2000000 + 10;
	assert_int_equal(ehits(to_client, v, 4, NULL), 0);
	/* ahead of it: Linux resets it as one older (between() is unsigned) */
	memcpy(v, tsecr, sizeof(tsecr));
	v[1].tsecr = 1000000 + 1000;
	assert_int_equal(ehits(to_client, v, 7, NULL), 1);
	v[0].s.tsval = 3000000000u, v[1].tsecr = 1; /* more than 2^31 behind: "ahead" as signed */
	assert_int_equal(ehits(to_client, v, 7, NULL), 1);
	/* the real SYN-ACK before the client's RST (it races it to the queue) */
	memcpy(v, tsecr, sizeof(tsecr));
	v[2] = tsecr[3], v[3] = tsecr[2];
	assert_int_equal(ehits(to_client, v, 7, NULL), 1);
	/* the client's own reset once connected carries an ACK: it ends the connection */
	v[3].s.fl = TCPF_RST | TCPF_ACK, v[3].s.ack = 5001;
	assert_int_equal(ehits(to_client, v, 7, NULL), 0);
	host_client = false;
	assert_int_equal(ehits(to_server, pawsrst, 4, NULL), 1);
	/* the host's own SYN-ACK: which echo a remote client takes is its stack's affair */
	memcpy(v, pawsrst, sizeof(pawsrst));
	v[1].tsecr = 1, v[2] = v[3];
	v[2].s.fl = TCPF_ACK, v[2].s.data = "";
	assert_int_equal(ehits(to_server, v, 4, NULL), 1);
	/* a TSval as old as the SYN's passes PAWS: the request ends, the next bytes start a flow */
	memcpy(v, pawsrst, sizeof(pawsrst));
	v[2].s.tsval = 1000000;
	assert_int_equal(ehits(to_server, v, 4, NULL), 0);
	/*
	 * The same SYN again with other options: the request answers it with
	 * the same SYN-ACK and keeps the first's TSval, so PAWS still drops
	 * the RST (live, rev20b pawsodd: 5/5 ATTACK taken past sid 400).
	 */
	{
		struct eseg w[5] = { pawsrst[0], pawsrst[0], pawsrst[1], pawsrst[2], pawsrst[3] };

		w[1].s.ws = 7;
		assert_int_equal(ehits(to_server, w, 5, NULL), 1);
		w[1] = w[2], w[2] = pawsrst[0], w[2].s.ws = 7; /* or after the SYN-ACK */
		assert_int_equal(ehits(to_server, w, 5, NULL), 1);
	}
	/* without timestamps on the SYN-ACK, the listener checks none */
	memcpy(v, pawsrst, sizeof(pawsrst));
	v[1].s.tsval = 0;
	assert_int_equal(ehits(to_server, v, 4, NULL), 0);
}

/*
 * A Fast Open client (its SYN asks for a cookie, or carries one) takes the
 * bytes on the server's SYN-ACK and is connected by it (Linux 4.6+): they
 * are the server's first bytes, established. Live, a server sending its
 * attack there got it read by curl --tcp-fastopen 5 times of 5, past a
 * flow:established,to_client drop rule (session 18's live18 `tfo`).
 */
static void test_fast_open_reply(void **state)
{
	static const char to_client[] =
		"alert tcp any any -> any any (flow:to_client,established; content:\"ATTACK\"; sid:1;)\n";
	static const char to_server[] =
		"alert tcp any any -> any any (flow:to_server,established; content:\"ATTACK\"; sid:1;)\n";
	const struct seg whole[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "xxATTACKyy", 0 },
		{ true, 100, 5011, TCPF_ACK, 502, -1, 0, "", 0 },
	};
	const struct seg split[] = {
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
		{ true, 100, 5011, TCPF_ACK, 502, -1, 0, "", 0 },
	};
	const struct seg again[] = { /* the SYN-ACK sent again: its bytes are not read twice */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "xxATT", 0 },
		{ false, 5006, 100, PA, 65535, -1, 0, "ACKyy", 0 },
	};
	const struct seg fin[] = { /* bytes and a FIN: the client reads them and the end */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA | TCPF_FIN, 65535, -1, 0, "ATTACK", 0 },
	};
	const struct seg fin_only[] = { /* a FIN alone: the client, connected and half-closed, sends */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 5000, 100, SA | TCPF_FIN, 65535, -1, 0, "", 0 },
		{ true, 100, 5002, TCPF_ACK, 502, -1, 0, "", 0 },
		{ true, 100, 5002, PA, 502, -1, 0, "ATTACK", 0 },
	};
	const struct seg decoy[] = { /* a SYN-ACK of nothing the client sent: dropped, bytes and all */
		{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "", 0 },
		{ false, 8000, 777, SA, 65535, -1, 0, "ATTACK", 0 },
		{ false, 5000, 100, SA, 65535, -1, 0, "zzzzz", 0 },
		{ true, 100, 5006, TCPF_ACK, 502, -1, 0, "", 0 },
	};

	(void)state;
	host_client = true;
	syn_tfo = 2;
	assert_int_equal(hits(to_client, whole, 3, NULL), 1);
	syn_tfo = 1;
	assert_int_equal(hits(to_client, whole, 3, NULL), 1);
	assert_int_equal(hits(to_client, split, 4, NULL), 1);
	assert_int_equal(hits(to_client, again, 4, NULL), 1);
	assert_int_equal(hits(to_client, fin, 2, NULL), 1);
	assert_int_equal(hits(to_server, fin_only, 4, NULL), 1);
	assert_int_equal(hits(to_client, decoy, 4, NULL), 0);
	/* a Fast Open by data alone (no cookie option): the same */
	syn_tfo = 0;
	{
		const struct seg data_syn[] = {
			{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "GET /", 0 },
			{ false, 5000, 105, SA, 65535, -1, 0, "xxATTACKyy", 0 },
		};
		assert_int_equal(hits(to_client, data_syn, 2, NULL), 1);
		/*
		 * a SYN-ACK that leaves the SYN's data unacknowledged: Linux drops
		 * its bytes and retransmits the data; the server's real bytes come
		 * at the same number and must be the stream (rev19)
		 */
		const struct seg unacked[] = {
			{ true, 99, 0, TCPF_SYN, 64240, -1, 0, "GET /", 0 },
			{ false, 5000, 100, SA, 65535, -1, 0, "zzzzzzzzzz", 0 },
			{ true, 100, 5001, TCPF_ACK, 502, -1, 0, "", 0 },
			{ true, 100, 5001, PA, 502, -1, 0, "GET /", 0 },
			{ false, 5001, 105, PA, 65535, -1, 0, "xxATT", 0 },
			{ false, 5006, 105, PA, 65535, -1, 0, "ACKyy", 0 },
		};
		assert_int_equal(hits(to_client, unacked, 6, NULL), 1);
	}
	/* no Fast Open: the client discards the SYN-ACK's bytes, established or not */
	assert_int_equal(hits(to_client, whole, 3, NULL), 0);
	assert_int_equal(hits(to_client, split, 4, NULL), 0);
	assert_int_equal(hits(to_server, fin_only, 4, NULL), 0);
	host_client = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),   cmocka_unit_test(test_window_unknown),
		cmocka_unit_test(test_paws),     cmocka_unit_test(test_old_ack),
		cmocka_unit_test(test_urgent),   cmocka_unit_test(test_late_syn),
		cmocka_unit_test(test_syn_fin_decoy), cmocka_unit_test(test_ack_before_synack),
		cmocka_unit_test(test_dropped_decoys), cmocka_unit_test(test_ao_by_kernel),
		cmocka_unit_test(test_ooo_fin_counts),
		cmocka_unit_test(test_bare_rst_frees), cmocka_unit_test(test_acked_wrap),
		cmocka_unit_test(test_old_ack_small),
		cmocka_unit_test(test_tfo_split), cmocka_unit_test(test_tfo_not_acked),
		cmocka_unit_test(test_tfo_syn_again), cmocka_unit_test(test_tfo_late_syn),
		cmocka_unit_test(test_tfo_two_contents), cmocka_unit_test(test_tfo_full),
		cmocka_unit_test(test_split_handshake), cmocka_unit_test(test_resyn_after_reset),
		cmocka_unit_test(test_server_bytes_before_ack), cmocka_unit_test(test_fast_open_reply),
		cmocka_unit_test(test_handshake_timestamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
