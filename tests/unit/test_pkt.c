/* test_pkt.c - pkt_parse(): every header, every sanity reason, never past caplen; crafted bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_pcap.h"
#include "pkt.h"

/* Each parse gets an exact-size heap copy, so valgrind/ASan see any over-read. */
static uint8_t *g_copy;

static int parse_wire(struct pkt *p, const uint8_t *b, uint32_t cap, uint32_t wire,
		      enum ll_reason *why)
{
	free(g_copy);
	g_copy = malloc(cap ? cap : 1);
	assert_non_null(g_copy);
	memcpy(g_copy, b, cap);
	*why = R__COUNT;
	return pkt_parse_wire(p, g_copy, cap, wire, why);
}

static int parse(struct pkt *p, const uint8_t *b, uint32_t cap, enum ll_reason *why)
{
	int r;

	free(g_copy);
	g_copy = malloc(cap ? cap : 1);
	assert_non_null(g_copy);
	memcpy(g_copy, b, cap);
	*why = R__COUNT;
	r = pkt_parse(p, g_copy, cap, why);
	return r;
}

static void expect_ok(struct pkt *p, const uint8_t *b, uint32_t n)
{
	enum ll_reason why;
	int r = parse(p, b, n, &why);

	if (r)
		fail_msg("parse failed: %s", ll_reason_name(why));
}

static void expect_fail(const uint8_t *b, uint32_t n, enum ll_reason want)
{
	struct pkt p;
	enum ll_reason why;

	memset(&p, 0, sizeof(p));
	assert_int_equal(parse(&p, b, n, &why), -1);
	if (why != want)
		fail_msg("reason %s, want %s", ll_reason_name(why), ll_reason_name(want));
}

static void put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

static ll_ip ip(const char *s)
{
	ll_ip a;

	assert_int_equal(ll_ip_parse(s, &a), 0);
	return a;
}

/* IPv4 header of @ihl words (options zero = EOL) from 192.0.2.1 to 198.51.100.2. */
static uint32_t ip4(uint8_t *b, uint8_t proto, uint32_t tot, uint8_t ihl)
{
	memset(b, 0, ihl * 4u);
	b[0] = (uint8_t)(0x40 | ihl);
	put16(b + 2, tot);
	put16(b + 4, 0x1234);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, (uint8_t[]){ 192, 0, 2, 1, 198, 51, 100, 2 }, 8);
	return ihl * 4u;
}

static uint32_t tcp(uint8_t *b, uint16_t sp, uint16_t dp, uint8_t doff, uint8_t flags)
{
	memset(b, 0, doff * 4u);
	put16(b, sp);
	put16(b + 2, dp);
	put32(b + 4, 1000);
	put32(b + 8, 2000);
	b[12] = (uint8_t)(doff << 4);
	b[13] = flags;
	put16(b + 14, 65535);
	return doff * 4u;
}

static uint32_t udp(uint8_t *b, uint16_t sp, uint16_t dp, uint16_t len)
{
	put16(b, sp);
	put16(b + 2, dp);
	put16(b + 4, len);
	put16(b + 6, 0xdead); /* a wrong checksum is never malformed */
	return 8;
}

/* IPv6 header from 2001:db8::1 to 2001:db8::2. */
static uint32_t ip6(uint8_t *b, uint8_t nh, uint32_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, plen);
	b[6] = nh;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 1;
	b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 2;
	return 40;
}

/* An 8-byte extension header (HBH/DST/routing) carrying a PadN. */
static uint32_t ext8(uint8_t *b, uint8_t nh)
{
	memset(b, 0, 8);
	b[0] = nh;
	b[2] = 1; /* PadN */
	b[3] = 4;
	return 8;
}

static uint32_t frag6(uint8_t *b, uint8_t nh, uint32_t off, int more, uint32_t id)
{
	memset(b, 0, 8);
	b[0] = nh;
	put16(b + 2, off | (more ? 1 : 0));
	put32(b + 4, id);
	return 8;
}

static void test_ipv4_tcp(void **state)
{
	uint8_t b[64];
	struct pkt p;
	uint32_t n = ip4(b, 6, 50, 5);

	(void)state;
	n += tcp(b + n, 40112, 4120, 5, TCPF_SYN | TCPF_ACK);
	put16(b + n - 2, 7); /* the urgent pointer */
	memcpy(b + n, "hello!0123", 10);
	n += 10;
	memset(&p, 0, sizeof(p));
	p.dir = PKT_DIR_OUT;
	p.ifindex = 3;
	p.ifname = "eth0";
	expect_ok(&p, b, n);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.len, 50);
	assert_int_equal(p.caplen, 50);
	assert_int_equal(p.l3hlen, 20);
	assert_true(ll_ip_eq(p.src, ip("192.0.2.1")));
	assert_true(ll_ip_eq(p.dst, ip("198.51.100.2")));
	assert_int_equal(p.sport, 40112);
	assert_int_equal(p.dport, 4120);
	assert_int_equal(p.tcp_flags, TCPF_SYN | TCPF_ACK);
	assert_int_equal(p.tcp_seq, 1000);
	assert_int_equal(p.tcp_ack, 2000);
	assert_int_equal(p.tcp_win, 65535);
	assert_int_equal(p.tcp_urp, 7);
	assert_true(p.l4_ok);
	assert_false(p.is_frag);
	assert_false(p.ipopts);
	assert_int_equal(p.paylen, 10);
	assert_memory_equal(p.payload, "hello!0123", 10);
	assert_ptr_equal(p.l4, p.l3 + 20);
	assert_int_equal(p.l4len, 30);
	/* the caller's fields survive */
	assert_int_equal(p.dir, PKT_DIR_OUT);
	assert_int_equal(p.ifindex, 3);
	assert_string_equal(p.ifname, "eth0");
}

static void test_ipv4_udp_padding_trimmed(void **state)
{
	uint8_t b[60] = { 0 }; /* Ethernet pads a 28-byte datagram to 46 */
	struct pkt p;
	uint32_t n = ip4(b, 17, 32, 5);

	(void)state;
	udp(b + n, 68, 67, 12);
	memcpy(b + 28, "abcd", 4);
	memset(b + 32, 0xee, 14);
	expect_ok(&p, b, 46);
	assert_int_equal(p.len, 32);
	assert_int_equal(p.caplen, 32);
	assert_int_equal(p.sport, 68);
	assert_int_equal(p.dport, 67);
	assert_int_equal(p.paylen, 4);
	assert_int_equal(p.l4len, 12);
}

/* SCTP, DCCP and UDP-Lite carry ports where TCP and UDP do: flows and events keep them. */
static void test_ports_other_transports(void **state)
{
	static const uint8_t protos[] = { 132, 33, 136 };
	uint8_t b[48] = { 0 };
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(protos); i++) {
		uint32_t n = ip4(b, protos[i], 48, 5);

		put16(b + n, 6666);
		put16(b + n + 2, 9999);
		expect_ok(&p, b, 48);
		assert_int_equal(p.proto, protos[i]);
		assert_int_equal(p.sport, 6666);
		assert_int_equal(p.dport, 9999);
	}
}

static void test_ipv4_options(void **state)
{
	uint8_t b[64];
	struct pkt p;
	uint32_t n = ip4(b, 17, 24 + 8 + 4, 6);

	(void)state;
	b[20] = 148; /* router alert, length 4 */
	b[21] = 4;
	n += udp(b + n, 1, 2, 12);
	memset(b + n, 0, 4);
	expect_ok(&p, b, n + 4);
	assert_true(p.ipopts);
	assert_int_equal(p.l3hlen, 24);
	assert_int_equal(p.sport, 1);

	b[21] = 1; /* length < 2 */
	expect_fail(b, n + 4, R_BAD_OPTIONS);
	b[21] = 5; /* past the header */
	expect_fail(b, n + 4, R_BAD_OPTIONS);
	b[20] = 1, b[21] = 1, b[22] = 1, b[23] = 7; /* NOPs, then no room for a length */
	expect_fail(b, n + 4, R_BAD_OPTIONS);
	b[23] = 0; /* EOL ends the list */
	expect_ok(&p, b, n + 4);
}

static void test_bad_version(void **state)
{
	uint8_t b[40];

	(void)state;
	ip4(b, 6, 40, 5);
	b[0] = 0x55;
	expect_fail(b, 40, R_BAD_VERSION);
	b[0] = 0x05;
	expect_fail(b, 40, R_BAD_VERSION);
}

static void test_bad_ihl(void **state)
{
	uint8_t b[40];

	(void)state;
	ip4(b, 6, 40, 5);
	b[0] = 0x44;
	expect_fail(b, 40, R_BAD_IHL);
	b[0] = 0x40;
	expect_fail(b, 40, R_BAD_IHL);
	b[0] = 0x4f; /* 60 bytes of header in a 40-byte packet */
	expect_fail(b, 40, R_BAD_IHL);
}

static void test_bad_length(void **state)
{
	uint8_t b[40];
	uint32_t n = ip4(b, 17, 19, 5);

	(void)state;
	udp(b + n, 1, 2, 8);
	expect_fail(b, 28, R_BAD_LENGTH); /* total < header */
	put16(b + 2, 29);
	expect_fail(b, 28, R_BAD_LENGTH); /* total > what the link delivered */

	uint8_t c[48];
	ip6(c, 17, 9);
	udp(c + 40, 1, 2, 9);
	expect_fail(c, 48, R_BAD_LENGTH);
}

static void test_snaplen_truncation(void **state)
{
	uint8_t b[100];
	struct pkt p;
	enum ll_reason why;
	uint32_t n = ip4(b, 6, 100, 5);

	(void)state;
	n += tcp(b + n, 1234, 80, 5, TCPF_ACK);
	memset(b + n, 'x', sizeof(b) - n);
	/* cut at 54 of 100 on the wire: judged on what is there */
	assert_int_equal(parse_wire(&p, b, 54, 100, &why), 0);
	assert_int_equal(p.len, 100);
	assert_int_equal(p.caplen, 54);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.paylen, 14);
	/* the same bytes seen whole (NFQUEUE): the header lies */
	assert_int_equal(parse(&p, b, 54, &why), -1);
	assert_int_equal(why, R_BAD_LENGTH);
	/* TCP header cut */
	assert_int_equal(parse_wire(&p, b, 30, 100, &why), -1);
	assert_int_equal(why, R_TRUNCATED);
	/* IP header cut */
	assert_int_equal(parse_wire(&p, b, 12, 100, &why), -1);
	assert_int_equal(why, R_TRUNCATED);
	assert_int_equal(parse_wire(&p, b, 0, 100, &why), -1);
	assert_int_equal(why, R_TRUNCATED);
	/* a datagram too short for its TCP header is truncated too */
	put16(b + 2, 30);
	assert_int_equal(parse(&p, b, 30, &why), -1);
	assert_int_equal(why, R_TRUNCATED);
}

static void test_tcp_offset(void **state)
{
	uint8_t b[60];
	struct pkt p;
	uint32_t n = ip4(b, 6, 44, 5);

	(void)state;
	n += tcp(b + n, 1, 2, 6, TCPF_SYN);
	expect_ok(&p, b, n);
	assert_int_equal(p.paylen, 0);
	b[32] = 4 << 4;
	expect_fail(b, n, R_BAD_TCP_OFFSET);
	b[32] = 7 << 4; /* 28 bytes of header in a 24-byte segment */
	expect_fail(b, n, R_BAD_TCP_OFFSET);
}

static void test_udp_length(void **state)
{
	uint8_t b[40];
	struct pkt p;
	uint32_t n = ip4(b, 17, 36, 5);

	(void)state;
	udp(b + n, 53, 33000, 16);
	expect_ok(&p, b, 36);
	assert_int_equal(p.paylen, 8);
	put16(b + 24, 12); /* shorter than the datagram: the kernel trims */
	expect_ok(&p, b, 36);
	assert_int_equal(p.paylen, 4);
	put16(b + 24, 7);
	expect_fail(b, 36, R_BAD_UDP_LENGTH);
	put16(b + 24, 17);
	expect_fail(b, 36, R_BAD_UDP_LENGTH);
}

static void test_icmp_echo(void **state)
{
	uint8_t b[40];
	struct pkt p;
	uint32_t n = ip4(b, 1, 36, 5);

	(void)state;
	memset(b + n, 0, 16);
	b[n] = 8;
	put16(b + n + 4, 0x881c);
	expect_ok(&p, b, 36);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.sport, 0x881c);
	assert_int_equal(p.dport, 0x881c);
	assert_false(p.inner.present);
	b[n] = 0;
	expect_ok(&p, b, 36);
	assert_int_equal(p.sport, 0x881c);
	b[n] = 13; /* timestamp: no id in the ports */
	expect_ok(&p, b, 36);
	assert_int_equal(p.sport, 0);
	/* fewer than 8 bytes of ICMP in the datagram */
	put16(b + 2, 26);
	expect_fail(b, 26, R_TRUNCATED);
}

/* Where an ICMPv4 payload starts, as Suricata's decoder has it: errors and echo at 8, timestamps at 20, router adverts after their addresses. */
static void test_icmp_payload_start(void **state)
{
	static const uint8_t at8[] = { 0, 3, 4, 5, 11, 12, 8 };
	enum ll_reason why;
	uint8_t b[80];
	struct pkt p;
	uint32_t n = ip4(b, 1, 60, 5);

	(void)state;
	memset(b + n, 0, 40);
	for (size_t i = 0; i < sizeof(at8); i++) {
		b[n] = at8[i];
		expect_ok(&p, b, 60);
		assert_int_equal(p.payload - p.l4, 8);
		assert_int_equal(p.paylen, 32);
	}
	b[n] = 13;
	expect_ok(&p, b, 60);
	assert_int_equal(p.payload - p.l4, 20);
	assert_int_equal(p.paylen, 20);
	b[n] = 9, b[n + 4] = 2, b[n + 5] = 2; /* two addresses of two words: 16 bytes */
	expect_ok(&p, b, 60);
	assert_int_equal(p.payload - p.l4, 24);
	/* a message too short for what its type announces keeps the 8-byte header */
	b[n + 4] = 5; /* 40 bytes of addresses in a 40-byte message */
	expect_ok(&p, b, 60);
	assert_int_equal(p.payload - p.l4, 8);
	n = ip4(b, 1, 36, 5);
	b[n] = 13; /* a 16-byte timestamp */
	expect_ok(&p, b, 36);
	assert_int_equal(p.payload - p.l4, 8);
	assert_int_equal(p.paylen, 8);
	assert_int_equal(p.l4hlen, 8);
	/* sized by the message on the wire, not by what was captured: a 40-byte timestamp cut at 30 */
	n = ip4(b, 1, 40, 5);
	b[n] = 13;
	assert_int_equal(parse_wire(&p, b, 30, 40, &why), 0);
	assert_int_equal(p.l4hlen, 20);
	assert_int_equal(p.paylen, 0);
}

/* ICMP 3/4 quoting a TCP segment the host sent, cut after @quote bytes. */
static uint32_t frag_needed(uint8_t *b, uint32_t quote)
{
	uint8_t q[40];
	uint32_t n = ip4(q, 6, 40, 5);

	tcp(q + n, 40112, 4120, 5, TCPF_ACK);
	memcpy(q + 12, (uint8_t[]){ 198, 51, 100, 2, 203, 0, 113, 10 }, 8);
	n = ip4(b, 1, 28 + quote, 5);
	memset(b + n, 0, 8);
	b[n] = 3;
	b[n + 1] = 4;
	put16(b + n + 6, 1400);
	memcpy(b + n + 8, q, quote);
	return n + 8 + quote;
}

static void test_icmp_error_quote(void **state)
{
	uint8_t b[80];
	struct pkt p;
	uint32_t n;

	(void)state;
	n = frag_needed(b, 28);
	expect_ok(&p, b, n);
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.icmp_code, 4);
	assert_true(p.inner.present);
	assert_int_equal(p.inner.family, 4);
	assert_int_equal(p.inner.proto, 6);
	assert_true(ll_ip_eq(p.inner.src, ip("198.51.100.2")));
	assert_true(ll_ip_eq(p.inner.dst, ip("203.0.113.10")));
	assert_true(p.inner.has_ports);
	assert_int_equal(p.inner.sport, 40112);
	assert_int_equal(p.inner.dport, 4120);
	assert_int_equal(p.sport, 0);

	/* a short quote is normal: fill what is there */
	n = frag_needed(b, 22);
	expect_ok(&p, b, n);
	assert_true(p.inner.present);
	assert_false(p.inner.has_ports);
	n = frag_needed(b, 24);
	expect_ok(&p, b, n);
	assert_true(p.inner.has_ports);
	n = frag_needed(b, 10);
	expect_ok(&p, b, n);
	assert_false(p.inner.present);
	n = frag_needed(b, 0);
	expect_ok(&p, b, n);
	assert_false(p.inner.present);
	/* a quoted SCTP header gives its ports too: the error goes with the SCTP flow */
	n = frag_needed(b, 28);
	b[28 + 9] = 132;
	expect_ok(&p, b, n);
	assert_int_equal(p.inner.proto, 132);
	assert_true(p.inner.has_ports);
	assert_int_equal(p.inner.sport, 40112);
	assert_int_equal(p.inner.dport, 4120);
}

static void test_icmp_error_quoting_echo(void **state)
{
	uint8_t b[80];
	struct pkt p;
	uint32_t n = ip4(b, 1, 56, 5);

	(void)state;
	memset(b + n, 0, 36);
	b[n] = 11; /* time exceeded */
	ip4(b + n + 8, 1, 84, 5);
	b[n + 28] = 8;
	put16(b + n + 32, 0x4242);
	expect_ok(&p, b, 56);
	assert_true(p.inner.present);
	assert_int_equal(p.inner.proto, 1);
	assert_int_equal(p.inner.icmp_type, 8);
	assert_true(p.inner.has_ports);
	assert_int_equal(p.inner.sport, 0x4242);
	assert_int_equal(p.inner.dport, 0);
}

static void test_ipv6_udp(void **state)
{
	uint8_t b[64];
	struct pkt p;

	(void)state;
	ip6(b, 17, 12);
	udp(b + 40, 546, 547, 12);
	memcpy(b + 48, "dhcp", 4);
	expect_ok(&p, b, 52);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.len, 52);
	assert_int_equal(p.l3hlen, 40);
	assert_true(ll_ip_eq(p.src, ip("2001:db8::1")));
	assert_true(ll_ip_eq(p.dst, ip("2001:db8::2")));
	assert_int_equal(p.sport, 546);
	assert_int_equal(p.dport, 547);
	assert_int_equal(p.paylen, 4);
	assert_false(p.is_frag);
	assert_int_equal(p.frag_hdr_off, 0);
}

static void test_ipv6_ext_chain(void **state)
{
	uint8_t b[128];
	struct pkt p;
	uint32_t n = ip6(b, 0, 0);

	(void)state;
	n += ext8(b + n, 60);                 /* hop-by-hop */
	n += ext8(b + n, 43);                 /* destination options */
	n += ext8(b + n, 51);                 /* routing */
	memset(b + n, 0, 16);                 /* AH: (2 + 2) * 4 = 16 bytes */
	b[n] = 6;
	b[n + 1] = 2;
	n += 16;
	n += tcp(b + n, 5555, 443, 5, TCPF_SYN);
	put16(b + 4, n - 40);
	expect_ok(&p, b, n);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.l3hlen, 40 + 24 + 16);
	assert_int_equal(p.sport, 5555);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_flags, TCPF_SYN);
}

/*
 * IPv6 + one extension header (@nh; bytes 2 and 3 as given) + TCP: does
 * the parse say the host's stack drops it after netfilter's input hook?
 */
static bool undelivered(uint8_t nh, uint8_t b2, uint8_t b3)
{
	uint8_t b[96];
	struct pkt p;
	uint32_t n = ip6(b, nh, 0);

	n += ext8(b + n, 6);
	b[n - 6] = b2, b[n - 5] = b3;
	if (nh == 51) /* AH: its length is in 4-byte words less 2 */
		b[n - 7] = 0;
	n += tcp(b + n, 5555, 443, 5, TCPF_ACK);
	put16(b + 4, n - 40);
	expect_ok(&p, b, n);
	assert_int_equal(p.dport, 443);
	return p.v6_undelivered;
}

/*
 * Destination options, routing and AH headers are read after the input
 * hook (ip6_input_finish()): a segment behind one the host drops must not
 * count as delivered (the IPS stream would keep a decoy the application
 * never reads). Hop-by-hop options the kernel checks before the hook.
 */
static void test_ipv6_undelivered(void **state)
{
	(void)state;
	assert_false(undelivered(60, 1, 4));    /* PadN */
	assert_false(undelivered(60, 0x1e, 4)); /* unknown, "skip" */
	assert_true(undelivered(60, 0x9e, 4));  /* unknown, "discard and say so" */
	assert_true(undelivered(60, 0x5e, 4));  /* unknown, "discard" */
	assert_false(undelivered(43, 0, 0));    /* routing, no segment left */
	assert_true(undelivered(43, 0, 1));     /* type 0, a segment left: forwarded, not read */
	assert_true(undelivered(43, 4, 0));     /* segment routing, off unless enabled */
	assert_true(undelivered(51, 0, 0));     /* AH: the SA's pass comes again without it */
}

/* IPv6 + a hop-by-hop header of the 8 bytes @o (its next header set here) + TCP: parse result. */
static int hbh_parse(const uint8_t o[8], enum ll_reason *why)
{
	uint8_t b[96];
	struct pkt p;
	uint32_t n = ip6(b, 0, 0);

	memcpy(b + n, o, 8);
	b[n] = 6;
	n += 8;
	n += tcp(b + n, 5555, 443, 5, TCPF_ACK);
	put16(b + 4, n - 40);
	return parse(&p, b, n, why);
}

/*
 * Hop-by-hop options the kernel refuses (ip6_parse_tlv() from
 * ip6_rcv_core()) drop the packet before netfilter's prerouting hook: live
 * the engine never sees it, nor does the host's TCP. Replay took it, a
 * decoy in the IPS stream, hiding the bytes the host did read. Checked on
 * 6.18: unknown "discard" option, 16 bytes of padding, a Router Alert of
 * length 4 and 9 options dropped before a raw PREROUTING rule; Router
 * Alert of length 2 and an unknown "skip" option delivered.
 */
static void test_ipv6_hbh_dropped_before_hook(void **state)
{
	static const uint8_t ok[][8] = {
		{ 0, 0, 1, 4, 0, 0, 0, 0 },       /* PadN */
		{ 0, 0, 0x1e, 4, 0, 0, 0, 0 },    /* unknown, "skip" */
		{ 0, 0, 5, 2, 0, 0, 1, 0 },       /* Router Alert (MLD), then a PadN of 0 */
	};
	static const uint8_t bad[][8] = {
		{ 0, 0, 0x9e, 4, 0, 0, 0, 0 },    /* unknown, "discard and say so" */
		{ 0, 0, 0x5e, 4, 0, 0, 0, 0 },    /* unknown, "discard" */
		{ 0, 0, 5, 4, 0, 0, 0, 0 },       /* Router Alert not 2 bytes long */
		{ 0, 0, 1, 4, 1, 0, 0, 0 },       /* PadN not zero */
		{ 0, 0, 0xc2, 4, 0, 1, 0, 0 },    /* Jumbo Payload, payload length not 0 */
	};
	enum ll_reason why;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(hbh_parse(ok[i], &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hbh_parse(bad[i], &why), -1);
		assert_int_equal(why, R_BAD_EXTHDR);
	}
}

/*
 * A type 2 routing header (Mobile IPv6) with no segment left: a kernel
 * built with CONFIG_IPV6_MIP6 drops it unless its home-agent code put it
 * there (ipv6_rthdr_rcv()), one without (this VM's 6.18) delivers it.
 * pkt_kernel says which; by default a distribution kernel's (present).
 */
static void test_ipv6_rh2_by_kernel(void **state)
{
	struct pkt_kernel was = pkt_kernel;

	(void)state;
	pkt_kernel.mip6 = true;
	assert_true(undelivered(43, 2, 0));
	pkt_kernel.mip6 = false;
	assert_false(undelivered(43, 2, 0));
	assert_true(undelivered(43, 2, 1)); /* a segment left: never read here */
	assert_false(undelivered(43, 0, 0));
	pkt_kernel = was;
}

/* pkt_tcp_opts() of a TCP header whose options are @o (@olen bytes, padded with EOL). */
static struct pkt_tcp_opts tcp_opts_of(const uint8_t *o, uint32_t olen)
{
	static uint8_t h[60];
	struct pkt_tcp_opts r;
	struct pkt p;

	memset(&p, 0, sizeof(p));
	memset(h, 0, sizeof(h));
	memcpy(h + 20, o, olen);
	p.l4 = h;
	p.l4hlen = p.l4len = (uint16_t)(20 + ((olen + 3) & ~3u));
	pkt_tcp_opts(&p, &r);
	return r;
}

/*
 * TCP-AO (RFC 5925, kind 29): with CONFIG_TCP_AO, tcp_inbound_hash() drops
 * a segment carrying one to a socket without AO keys (tcp_inbound_ao_hash():
 * AOUNEXPECTED), and one with MD5 and AO or two of either (incorrect auth
 * options); the kernel's auth parse reads options while 5 bytes are left.
 * Without TCP-AO, kind 29 is an unknown option: the segment is taken.
 */
static void test_tcp_opts_ao(void **state)
{
	static const uint8_t ao[16] = { 29, 16, 1, 1, 0xab, 0xab, 0xab, 0xab,
					0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab };
	static const uint8_t ao_short[8] = { 29, 4, 1, 1, 1, 1, 1, 1 }; /* malformed: dropped too */
	static const uint8_t tail[8] = { 1, 1, 1, 1, 1, 1, 29, 2 }; /* under 5 bytes left: not read */
	uint8_t md5_ao[36] = { 19, 18 };
	struct pkt_kernel was = pkt_kernel;
	struct pkt_tcp_opts o;

	(void)state;
	memcpy(md5_ao + 18, ao, sizeof(ao));
	o = tcp_opts_of(ao, sizeof(ao));
	assert_true(o.ao);
	assert_false(o.md5);
	assert_true(tcp_opts_of(ao_short, sizeof(ao_short)).ao);
	assert_false(tcp_opts_of(tail, sizeof(tail)).ao);
	o = tcp_opts_of(md5_ao, sizeof(md5_ao));
	assert_true(o.ao && o.md5);

	pkt_kernel.tcp_ao = true;
	assert_true(pkt_tcp_signed(&o));
	o = tcp_opts_of(ao, sizeof(ao));
	assert_true(pkt_tcp_signed(&o));
	pkt_kernel.tcp_ao = false;
	assert_false(pkt_tcp_signed(&o));
	o = tcp_opts_of(md5_ao, sizeof(md5_ao));
	assert_true(pkt_tcp_signed(&o)); /* the MD5 signature alone is dropped without a key */
	pkt_kernel = was;
}

/*
 * Options the kernel's authentication-option parse fails on
 * (tcp_do_parse_auth_options(), CONFIG_TCP_MD5SIG or CONFIG_TCP_AO):
 * tcp_inbound_hash() drops the segment whatever the socket. The parse reads
 * options while 18 bytes are left, 5 with TCP-AO. Live on 6.18 (MD5SIG, no
 * TCP-AO): each "dropped" decoy below 18 bytes before the end was dropped,
 * the "tail" ones taken.
 */
static void test_tcp_opts_auth_parse(void **state)
{
	static const struct {
		uint8_t o[20];
		bool no_ao, with_ao; /* dropped by a kernel without TCP-AO, with it */
	} c[] = {
		/* MD5, 10 bytes (not 18) */
		{ { 19, 10, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
		  true, true },
		/* a length past the header's end */
		{ { 254, 30, 0xab }, true, true },
		/* TCP-AO, 4 bytes: too short for its header and a MAC */
		{ { 29, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, true, true },
		/* the same 8 bytes before the end (under 18, 5 or more) */
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 29, 4, 1, 1, 1, 1, 1, 1 }, false, true },
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 254, 30, 0, 0, 1, 1, 1, 1 }, false, true },
		/* 4 bytes before the end: never read */
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 29, 4, 1, 1 }, false, false },
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 254, 30, 0, 0 }, false, false },
		/* an EOL ends the walk */
		{ { 0, 0, 254, 30 }, false, false },
		/* well-formed: timestamps and SACK-permitted */
		{ { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 4, 2, 1, 1, 1, 1, 1, 1 }, false, false },
	};
	struct pkt_kernel was = pkt_kernel;
	struct pkt_tcp_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pkt_kernel.tcp_ao = false;
		o = tcp_opts_of(c[i].o, sizeof(c[i].o));
		if (pkt_tcp_signed(&o) != c[i].no_ao)
			fail_msg("case %zu without TCP-AO", i);
		pkt_kernel.tcp_ao = true;
		o = tcp_opts_of(c[i].o, sizeof(c[i].o));
		if (pkt_tcp_signed(&o) != c[i].with_ao)
			fail_msg("case %zu with TCP-AO", i);
		/* before 6.7 (tcp_parse_md5sig_option()) none of them is dropped */
		pkt_kernel.tcp_ao = pkt_kernel.auth_parse = false;
		o = tcp_opts_of(c[i].o, sizeof(c[i].o));
		if (pkt_tcp_signed(&o))
			fail_msg("case %zu before 6.7", i);
		pkt_kernel.auth_parse = true;
	}
	pkt_kernel = was;
}

/*
 * IPv6 + a destination options header of @len bytes (options @o, @olen
 * bytes, then zeros: Pad1s) + TCP, or a routing header of type @o[0]
 * with segments left @o[1] when @olen is 0, to @mcast or not.
 */
static bool undelivered_hdr(uint8_t nh, const uint8_t *o, uint32_t olen, uint32_t len, bool mcast)
{
	uint8_t b[160];
	struct pkt p;
	uint32_t n = ip6(b, nh, 0);

	if (mcast)
		b[24] = 0xff, b[25] = 0x02;
	memset(b + n, 0, len);
	b[n] = 6;
	b[n + 1] = (uint8_t)(len / 8 - 1);
	if (nh == 43)
		b[n + 2] = o[0], b[n + 3] = o[1];
	else if (olen) /* none: all Pad1s (memcpy() takes no NULL, even for 0 bytes) */
		memcpy(b + n + 2, o, olen);
	n += len;
	n += tcp(b + n, 5555, 443, 5, TCPF_ACK);
	put16(b + 4, n - 40);
	expect_ok(&p, b, n);
	assert_int_equal(p.dport, 443);
	return p.v6_undelivered;
}

/*
 * What else ip6_parse_tlv() and ipv6_rthdr_rcv() drop after the input hook
 * (checked on Linux 6.18: delivered to a UDP socket or not): more than 7
 * bytes of padding in a row, a PadN with data, more than 8 options, RPL,
 * any routing header to a multicast address. A decoy there is an
 * insertion the IPS stream must not keep.
 */
static void test_ipv6_undelivered_tlv_rules(void **state)
{
	static const uint8_t padn4[] = { 1, 4, 0, 0, 0, 0 }, padn12[] = { 1, 12 };
	static const uint8_t padn_data[] = { 1, 4, 0, 0, 1, 0 };
	static const uint8_t pad6_opt_pad6[] = { 1, 4, 0, 0, 0, 0, 0x1e, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t opts[32] = { 0 };
	static const uint8_t rh0_0[] = { 0, 0 }, rh3_0[] = { 3, 0 }, rh253_0[] = { 253, 0 };

	(void)state;
	assert_false(undelivered_hdr(60, padn4, sizeof(padn4), 8, false));
	assert_true(undelivered_hdr(60, padn12, sizeof(padn12), 16, false)); /* 14 pad bytes */
	assert_true(undelivered_hdr(60, NULL, 0, 16, false));                /* 14 Pad1s */
	assert_true(undelivered_hdr(60, padn_data, sizeof(padn_data), 8, false));
	assert_false(undelivered_hdr(60, pad6_opt_pad6, sizeof(pad6_opt_pad6), 16, false));
	for (int i = 0; i < 9; i++)
		opts[2 * i] = 0x1e; /* unknown, "skip", empty */
	assert_false(undelivered_hdr(60, opts, 16, 24, false)); /* 8 options, then 6 Pad1s */
	assert_true(undelivered_hdr(60, opts, 18, 24, false));  /* 9 */
	assert_false(undelivered_hdr(43, rh0_0, 0, 8, false));
	assert_false(undelivered_hdr(43, rh253_0, 0, 8, false));
	assert_true(undelivered_hdr(43, rh3_0, 0, 8, false));
	assert_true(undelivered_hdr(43, rh0_0, 0, 8, true));
}

static void test_ipv6_esp_and_none(void **state)
{
	uint8_t b[80];
	struct pkt p;
	uint32_t n = ip6(b, 0, 24);

	(void)state;
	n += ext8(b + n, 50);
	memset(b + n, 0xab, 16); /* ESP: SPI, sequence, ciphertext */
	n += 16;
	expect_ok(&p, b, n);
	assert_int_equal(p.proto, 50);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.l3hlen, 48);

	n = ip6(b, 59, 4);
	memset(b + n, 0, 4);
	expect_ok(&p, b, 44);
	assert_int_equal(p.proto, 59);
}

static void test_ipv6_bad_exthdr(void **state)
{
	uint8_t b[80];
	struct pkt p;
	enum ll_reason why;
	uint32_t n = ip6(b, 60, 16);

	(void)state;
	n += ext8(b + n, 0); /* hop-by-hop after destination options */
	n += ext8(b + n, 59);
	expect_fail(b, n, R_BAD_EXTHDR);

	n = ip6(b, 0, 8);
	n += ext8(b + n, 59);
	b[41] = 1; /* 16 bytes of header in an 8-byte payload */
	expect_fail(b, n, R_BAD_EXTHDR);
	b[41] = 0;
	b[43] = 5; /* PadN longer than the header */
	expect_fail(b, n, R_BAD_EXTHDR);
	b[43] = 4;
	expect_ok(&p, b, n);

	/* cut by the capture, not by the datagram: truncated */
	n = ip6(b, 0, 16);
	n += ext8(b + n, 17);
	b[41] = 1;
	assert_int_equal(parse_wire(&p, b, 44, 56, &why), -1);
	assert_int_equal(why, R_TRUNCATED);
	assert_int_equal(parse_wire(&p, b, 30, 56, &why), -1);
	assert_int_equal(why, R_TRUNCATED);
}

/*
 * Linux BIG TCP (gro/gso_max_size past 64 KiB) queues GRO super-packets: an
 * IPv6 jumbogram (payload length 0, hop-by-hop Jumbo Payload option, RFC
 * 2675) or an IPv4 packet of total length 0. They are judged like any TCP
 * packet, not dropped as malformed; the same headers below 64 KiB are.
 */
static void test_jumbograms(void **state)
{
	const uint32_t big = 70000;
	uint8_t *b = calloc(1, big + 48);
	struct pkt p;
	enum ll_reason why;
	uint32_t n;

	(void)state;
	assert_non_null(b);
	n = ip6(b, 0, 0);
	b[n] = 6; /* hop-by-hop: Jumbo Payload, then TCP */
	b[n + 2] = 0xc2;
	b[n + 3] = 4;
	put32(b + n + 4, big + 8);
	n += 8;
	tcp(b + n, 40000, 5201, 5, TCPF_ACK);
	assert_int_equal(parse_wire(&p, b, big + 48, big + 48, &why), 0);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.len, big + 48);
	assert_int_equal(p.dport, 5201);
	assert_int_equal(p.paylen, big - 20);
	/* cut by the queue's copy range: still judged on its headers */
	assert_int_equal(parse_wire(&p, b, 65531, big + 48, &why), 0);
	assert_int_equal(p.dport, 5201);
	/* longer than what arrived */
	assert_int_equal(parse_wire(&p, b, 65531, big + 40, &why), -1);
	assert_int_equal(why, R_BAD_LENGTH);
	put32(b + 44, 0xffffffff);
	assert_int_equal(parse_wire(&p, b, 65531, big + 48, &why), -1);
	assert_int_equal(why, R_BAD_LENGTH);
	/* a jumbo option of 64 KiB or less, or none, with payload length 0 */
	put32(b + 44, 1000);
	assert_int_equal(parse_wire(&p, b, 1048, 1048, &why), -1);
	assert_int_equal(why, R_BAD_EXTHDR);
	b[42] = 1; /* PadN instead */
	put32(b + 44, big + 8);
	assert_int_equal(parse_wire(&p, b, big + 48, big + 48, &why), -1);
	assert_int_equal(why, R_BAD_EXTHDR);
	/* no hop-by-hop header at all (kernels that stopped inserting it): the packet's length */
	n = ip6(b, 6, 0);
	tcp(b + n, 40000, 5201, 5, TCPF_ACK);
	assert_int_equal(parse_wire(&p, b, 65531, big + 40, &why), 0);
	assert_int_equal(p.len, big + 40);
	assert_int_equal(p.dport, 5201);
	assert_int_equal(parse_wire(&p, b, 1040, 1040, &why), -1);
	assert_int_equal(why, R_TRUNCATED);

	n = ip4(b, 6, 0, 5);
	tcp(b + n, 40000, 5201, 5, TCPF_ACK);
	assert_int_equal(parse_wire(&p, b, 65531, big + 40, &why), 0);
	assert_int_equal(p.len, big + 40);
	assert_int_equal(p.dport, 5201);
	assert_int_equal(parse_wire(&p, b, 1040, 1040, &why), -1);
	assert_int_equal(why, R_BAD_LENGTH);
	free(b);
}

/*
 * The engine holds IPv4 as ::ffff:0:0/96: an IPv6 header naming such an
 * address is malformed (RFC 4291 2.5.5.2), never judged as IPv4; an ICMPv6
 * error quoting one quotes nothing.
 */
static void test_ipv6_v4_mapped(void **state)
{
	uint8_t b[128];
	struct pkt p;
	uint32_t n = ip6(b, 17, 8);

	(void)state;
	udp(b + n, 4120, 22, 8);
	expect_ok(&p, b, 48);
	b[18] = b[19] = 0xff; /* source ::ffff:0.0.0.1 */
	memset(b + 8, 0, 10);
	expect_fail(b, 48, R_BAD_ADDR);
	{
		/* and it prints as the IPv6 header held it, not as an IPv4 source */
		enum ll_reason why;
		char a[64];

		memset(&p, 0, sizeof(p));
		assert_int_equal(parse(&p, b, 48, &why), -1);
		assert_string_equal(ll_ip_str_family(p.src, p.family, a, sizeof(a)), "::ffff:0.0.0.1");
		assert_string_equal(ll_ip_str(p.src, a, sizeof(a)), "0.0.0.1");
	}
	ip6(b, 17, 8);
	b[34] = b[35] = 0xff; /* destination */
	memset(b + 24, 0, 10);
	expect_fail(b, 48, R_BAD_ADDR);

	/* packet too big quoting ::ffff:198.51.100.2 -> 2001:db8::2 UDP */
	n = ip6(b, 58, 8 + 48);
	memset(b + n, 0, 8);
	b[n] = 2;
	ip6(b + n + 8, 17, 8);
	memset(b + n + 16, 0, 10); /* the quoted source */
	b[n + 26] = b[n + 27] = 0xff;
	memcpy(b + n + 28, (uint8_t[]){ 198, 51, 100, 2 }, 4);
	udp(b + n + 48, 53, 33000, 8);
	expect_ok(&p, b, n + 56);
	assert_false(p.inner.present);
	b[n + 26] = 0; /* 2000::ff:c633:6402: a real IPv6 quote */
	b[n + 16] = 0x20;
	expect_ok(&p, b, n + 56);
	assert_true(p.inner.present);
	assert_int_equal(p.inner.dport, 33000);
}

static void test_ipv6_fragments(void **state)
{
	uint8_t b[80];
	struct pkt p;
	uint32_t n = ip6(b, 0, 0);

	(void)state;
	n += ext8(b + n, 44);
	n += frag6(b + n, 17, 0, 1, 0xdeadbeef);
	n += udp(b + n, 53, 40000, 1000);
	memset(b + n, 0, 8);
	n += 8;
	put16(b + 4, n - 40);
	expect_ok(&p, b, n);
	assert_true(p.is_frag);
	assert_true(p.frag_first);
	assert_true(p.frag_more);
	assert_int_equal(p.frag_off, 0);
	assert_int_equal(p.frag_id, 0xdeadbeef);
	assert_int_equal(p.frag_hdr_off, 48);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 53); /* UDP length covers the datagram, not this fragment */
	assert_true(p.l4_ok);

	frag6(b + 48, 17, 1232, 0, 0xdeadbeef);
	expect_ok(&p, b, n);
	assert_true(p.is_frag);
	assert_false(p.frag_first);
	assert_false(p.frag_more);
	assert_int_equal(p.frag_off, 1232);
	assert_false(p.l4_ok);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.proto, 17);

	/* atomic fragment: the kernel treats it as the whole datagram */
	frag6(b + 48, 17, 0, 0, 7);
	put16(b + 60, 16);
	expect_ok(&p, b, n);
	assert_false(p.is_frag);
	assert_int_equal(p.frag_hdr_off, 48);
	assert_int_equal(p.frag_id, 7);
	assert_int_equal(p.sport, 53);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t b[60];
	struct pkt p;
	uint32_t n = ip4(b, 6, 28, 5);

	(void)state;
	put16(b + 6, 0x2000); /* MF, offset 0: only 8 bytes of TCP */
	memset(b + n, 0, 8);
	put16(b + n, 1000);
	put16(b + n + 2, 80);
	expect_ok(&p, b, 28);
	assert_true(p.is_frag);
	assert_true(p.frag_first);
	assert_true(p.frag_more);
	assert_int_equal(p.frag_id, 0x1234);
	assert_false(p.l4_ok); /* cut by fragmentation: not malformed */

	put16(b + 6, 0x0003); /* last fragment at 24 */
	expect_ok(&p, b, 28);
	assert_true(p.is_frag);
	assert_false(p.frag_first);
	assert_false(p.frag_more);
	assert_int_equal(p.frag_off, 24);
	assert_false(p.l4_ok);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.l3hlen, 20);

	put16(b + 6, 0x4000); /* DF alone is no fragment */
	put16(b + 2, 40);
	tcp(b + 20, 1, 2, 5, 0);
	expect_ok(&p, b, 40);
	assert_false(p.is_frag);
}

static void test_icmpv6(void **state)
{
	uint8_t b[128];
	struct pkt p;
	uint32_t n = ip6(b, 58, 8);

	(void)state;
	memset(b + n, 0, 8);
	b[n] = 128;
	put16(b + n + 4, 0xface);
	expect_ok(&p, b, 48);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(p.sport, 0xface);
	assert_int_equal(p.dport, 0xface);

	/* packet too big quoting IPv6 + destination options + UDP */
	n = ip6(b, 58, 8 + 40 + 8 + 8);
	memset(b + n, 0, 8);
	b[n] = 2;
	put32(b + n + 4, 1280);
	n += 8;
	n += ip6(b + n, 60, 1000);
	b[n - 40 + 23] = 2, b[n - 40 + 39] = 1; /* quoted: from ::2 to ::1 */
	n += ext8(b + n, 17);
	n += udp(b + n, 33000, 53, 992);
	expect_ok(&p, b, n);
	assert_int_equal(p.icmp_type, 2);
	assert_true(p.inner.present);
	assert_int_equal(p.inner.family, 6);
	assert_int_equal(p.inner.proto, 17);
	assert_true(ll_ip_eq(p.inner.src, ip("2001:db8::2")));
	assert_true(p.inner.has_ports);
	assert_int_equal(p.inner.sport, 33000);
	assert_int_equal(p.inner.dport, 53);

	/* the quote cut inside the extension header */
	put16(b + 4, 8 + 40 + 4);
	expect_ok(&p, b, 40 + 8 + 40 + 4);
	assert_true(p.inner.present);
	assert_false(p.inner.has_ports);

	/* neighbour solicitation: type and code */
	n = ip6(b, 58, 24);
	b[7] = 255;
	memset(b + n, 0, 24);
	b[n] = 135;
	expect_ok(&p, b, 64);
	assert_int_equal(p.icmp_type, 135);
	assert_int_equal(p.ttl, 255);
}

/* A failed parse still says who sent what, for the verdict line. */
static void test_failed_parse_fills_basics(void **state)
{
	uint8_t b[40];
	struct pkt p;
	enum ll_reason why;
	uint32_t n = ip4(b, 17, 36, 5);

	(void)state;
	udp(b + n, 53, 33000, 99);
	memset(b + 28, 0, 8);
	assert_int_equal(parse(&p, b, 36, &why), -1);
	assert_int_equal(why, R_BAD_UDP_LENGTH);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.proto, 17);
	assert_true(ll_ip_eq(p.src, ip("192.0.2.1")));
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 33000);
	b[0] = 0x43;
	assert_int_equal(parse(&p, b, 36, &why), -1);
	assert_int_equal(why, R_BAD_IHL);
	assert_true(ll_ip_eq(p.dst, ip("198.51.100.2")));
}

/*
 * Every prefix of valid packets, seen as a snaplen cut of the whole: parsing
 * succeeds or says truncated, and never reads past the prefix.
 */
static void test_prefix_sweep(void **state)
{
	uint8_t pk[6][96];
	uint32_t len[6], n;
	struct pkt p;
	enum ll_reason why;

	(void)state;
	n = ip4(pk[0], 6, 60, 6);
	pk[0][20] = 1;
	n += tcp(pk[0] + n, 1, 2, 6, TCPF_SYN);
	memset(pk[0] + n, 'a', 60 - n);
	len[0] = 60;
	len[1] = frag_needed(pk[1], 28);
	n = ip6(pk[2], 0, 0);
	n += ext8(pk[2] + n, 44);
	n += frag6(pk[2] + n, 17, 0, 1, 1);
	n += udp(pk[2] + n, 1, 2, 100);
	put16(pk[2] + 4, n - 40);
	len[2] = n;
	n = ip6(pk[3], 58, 56);
	memset(pk[3] + n, 0, 56);
	pk[3][n] = 1;
	ip6(pk[3] + n + 8, 6, 20);
	tcp(pk[3] + n + 48, 9, 10, 5, 0);
	len[3] = 96;
	n = ip4(pk[4], 1, 28, 5);
	memset(pk[4] + n, 0, 8);
	pk[4][n] = 8;
	len[4] = 28;
	n = ip4(pk[5], 17, 36, 5);
	udp(pk[5] + n, 7, 8, 16);
	memset(pk[5] + 28, 0, 8);
	len[5] = 36;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(parse(&p, pk[i], len[i], &why), 0);
		for (uint32_t c = 0; c < len[i]; c++) {
			int r = parse_wire(&p, pk[i], c, len[i], &why);

			if (r && why != R_TRUNCATED)
				fail_msg("packet %d cut at %u: %s", i, c, ll_reason_name(why));
		}
	}
}

/* Random bytes: whatever comes out, the parser stays inside the buffer. */
static void test_random_bytes(void **state)
{
	uint8_t b[128];
	struct pkt p;
	enum ll_reason why;
	uint32_t x = 12345;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint32_t n = 0;

		for (size_t j = 0; j < sizeof(b); j++) {
			x = x * 1103515245 + 12345;
			b[j] = (uint8_t)(x >> 16);
		}
		b[0] = (uint8_t)((i & 1 ? 0x40 : 0x60) | (b[0] & 0x0f));
		if (i & 2)
			b[6] = (uint8_t[]){ 0, 43, 44, 60, 51, 58, 6, 17 }[b[7] & 7];
		n = b[1] % sizeof(b);
		if (parse_wire(&p, b, n, n + (b[2] & 3) * 40u, &why) == 0)
			assert_true(p.caplen <= n);
		else
			assert_true(why >= R_TRUNCATED && why < R__COUNT);
	}
}

/* ---- the shared pcap corpus (skipped when absent) ---- */

#define SKIP_NO_CORPUS()                                                                  \
	do {                                                                               \
		if (!hp_corpus()) {                                                        \
			print_message("SKIP: no pcap corpus ($LL_SHARED or "                \
				      "$LL_ROOT/../shared/corpora/pcaps absent)\n");        \
			skip();                                                            \
		}                                                                          \
	} while (0)

/* What one frame of a capture should give: rc 0, or -1 with a reason. */
struct want {
	const char *file;
	uint32_t frame;
	int rc;
	enum ll_reason why;
};

struct walk {
	const struct want *w; /* this file's expectations, or NULL */
	size_t nw;
	const char *file;
	uint32_t ip_frames, ok_frames, checked;
	void (*each)(struct walk *k, const struct hp_frame *f, struct pkt *p, int rc,
		     enum ll_reason why);
	void *arg;
};

static int walk_frame(void *arg, const struct hp_frame *f)
{
	struct walk *k = arg;
	struct pkt p;
	enum ll_reason why;
	int rc;

	if (!f->l3)
		return 0;
	memset(&p, 0, sizeof(p));
	rc = parse_wire(&p, f->l3, f->caplen, f->wirelen, &why);
	k->ip_frames++;
	k->ok_frames += rc == 0;
	if (rc == 0 && p.caplen > f->caplen)
		fail_msg("%s #%u: caplen grew", k->file, f->n);
	for (size_t i = 0; i < k->nw; i++) {
		if (strcmp(k->w[i].file, k->file) || k->w[i].frame != f->n)
			continue;
		k->checked++;
		if (rc != k->w[i].rc || (rc && why != k->w[i].why))
			fail_msg("%s #%u: got %d %s, want %d %s", k->file, f->n, rc,
				 rc ? ll_reason_name(why) : "ok", k->w[i].rc,
				 k->w[i].rc ? ll_reason_name(k->w[i].why) : "ok");
	}
	if (k->each)
		k->each(k, f, &p, rc, why);
	return 0;
}

static void walk_file(struct walk *k, const char *rel)
{
	const char *path = hp_path(rel);

	k->file = rel;
	if (hp_each(path, walk_frame, k) < 0)
		fail_msg("cannot read %s", path);
}

static void walk_one(void *arg, const char *rel)
{
	struct walk k = { 0 };
	uint32_t *ipf = arg;

	walk_file(&k, rel);
	*ipf += k.ip_frames;
}

/* Every frame of every capture in these folders parses without crashing. */
static void test_corpus_all_frames(void **state)
{
	static const char *const dirs[] = { "malformed", "checksums", "frag", "icmp", "icmpv6",
					    "tcp", "dns", "dhcp", "linktypes" };
	uint32_t ipf = 0;
	int files = 0;

	(void)state;
	SKIP_NO_CORPUS();
	for (size_t d = 0; d < LL_ARRAY_SIZE(dirs); d++) {
		int n = hp_each_pcap(dirs[d], walk_one, &ipf);

		assert_true(n > 0);
		files += n;
	}
	assert_true(files >= 60);
	assert_true(ipf >= 500);
}

/* The malformed captures and the reason each frame gets (see FACTS.md). */
static const struct want malformed[] = {
	{ "malformed/sv__truncated.pcap", 1, -1, R_BAD_LENGTH },        /* IP length > frame */
	{ "malformed/td__esp_truncated.pcap", 1, 0, 0 },                /* snaplen: UDP 4500 there */
	{ "malformed/td__ipv4_invalid_hdr_length.pcap", 1, -1, R_BAD_IHL },
	{ "malformed/td__ipv4_invalid_total_length.pcap", 1, -1, R_BAD_LENGTH },
	{ "malformed/td__ipv6-bad-version.pcap", 1, 0, 0 },
	{ "malformed/td__ipv6-bad-version.pcap", 2, -1, R_BAD_VERSION },
	{ "malformed/td__ipv6-bad-version.pcap", 3, 0, 0 },
	{ "malformed/td__ipv6-bad-version.pcap", 4, -1, R_BAD_VERSION },
	{ "malformed/td__ipv6_invalid_length.pcap", 1, -1, R_TRUNCATED }, /* 39-byte IPv6 header */
	{ "malformed/td__ipv6_no_next_header.pcap", 1, 0, 0 },
	{ "malformed/td__tcp_header_heapoverflow.pcap", 1, -1, R_TRUNCATED },
	{ "malformed/zk__icmp-header-trunc.pcap", 1, 0, 0 },  /* type, code and echo id there */
	{ "malformed/zk__icmp-header-trunc.pcap", 2, 0, 0 },
	{ "malformed/zk__icmp-payload-trunc.pcap", 1, 0, 0 },
	{ "malformed/zk__ip-bogus-header-len.pcap", 1, -1, R_BAD_LENGTH }, /* total length 0 */
	{ "malformed/zk__ip4-trunc.pcap", 1, -1, R_TRUNCATED },
	{ "malformed/zk__ip6-ext-trunc.pcap", 1, -1, R_BAD_LENGTH },  /* payload on no bytes */
	{ "malformed/zk__ip6-trunc.pcap", 1, -1, R_TRUNCATED },
	{ "malformed/zk__ipv4-internally-truncated-header.pcap", 1, -1, R_TRUNCATED },
	{ "malformed/zk__ipv4-truncated-broken-header.pcap", 1, -1, R_BAD_IHL }, /* IHL past it */
	{ "malformed/zk__syn-bad.pcap", 1, 0, 0 },            /* bad checksum only */
	{ "malformed/zk__truncated-header.pcap", 1, 0, 0 },   /* TCP options cut: tolerated */
	{ "malformed/zk__truncated-header.pcap", 4, 0, 0 },
	{ "malformed/zk__udp-contents-truncated-oob.pcap", 1, 0, 0 },
	{ "malformed/zk__unknown-ip-short-payload.pcap", 2, 0, 0 },
};

static void test_corpus_malformed(void **state)
{
	const char *last = "";
	uint32_t checked = 0;

	(void)state;
	SKIP_NO_CORPUS();
	for (size_t i = 0; i < LL_ARRAY_SIZE(malformed); i++) {
		struct walk k = { 0 };

		if (!strcmp(malformed[i].file, last))
			continue;
		last = malformed[i].file;
		k.w = malformed;
		k.nw = LL_ARRAY_SIZE(malformed);
		walk_file(&k, last);
		checked += k.checked;
	}
	assert_int_equal(checked, LL_ARRAY_SIZE(malformed));
}

/* Bad checksums are not malformed. */
static void test_corpus_checksums_ok(void **state)
{
	static const char *const f[] = {
		"zk__ip4-bad-chksum", "zk__ip4-icmp-bad-chksum", "zk__ip4-icmp-good-chksum",
		"zk__ip4-tcp-bad-chksum", "zk__ip4-tcp-good-chksum", "zk__ip4-udp-bad-chksum",
		"zk__ip4-udp-good-chksum", "zk__ip6-icmp6-bad-chksum", "zk__ip6-icmp6-good-chksum",
		"zk__ip6-route0-icmp6-good-chksum", "zk__ip6-route0-tcp-bad-chksum",
		"zk__ip6-tcp-bad-chksum", "zk__ip6-tcp-good-chksum", "zk__ip6-udp-bad-chksum",
		"zk__ip6-udp-good-chksum",
	};

	(void)state;
	SKIP_NO_CORPUS();
	for (size_t i = 0; i < LL_ARRAY_SIZE(f); i++) {
		char rel[128];
		struct walk k = { 0 };

		snprintf(rel, sizeof(rel), "checksums/%s.pcap", f[i]);
		walk_file(&k, rel);
		assert_int_equal(k.ip_frames, 1);
		if (k.ok_frames != 1)
			fail_msg("%s does not parse", rel);
	}
}

/* Quoted headers, per FACTS.md / tshark. */
struct quote {
	const char *file;
	uint32_t frame;
	uint8_t type, code, proto, has_ports;
	const char *isrc, *idst;
	uint16_t isport, idport;
};

static const struct quote quotes[] = {
	{ "icmp/zk__smtp.pcap", 26, 3, 4, 6, 1, "10.10.1.4", "74.53.140.153", 1470, 25 },
	{ "icmp/zk__smtp.pcap", 28, 3, 4, 6, 1, "10.10.1.4", "74.53.140.153", 1470, 25 },
	{ "icmp/zk__smtp.pcap", 29, 3, 4, 6, 1, "10.10.1.4", "74.53.140.153", 1470, 25 },
	{ "icmp/zk__smtp.pcap", 30, 3, 4, 6, 1, "10.10.1.4", "74.53.140.153", 1470, 25 },
	{ "icmp/zk__icmp-destunreach-udp.pcap", 1, 3, 3, 17, 1, "192.168.1.1", "192.168.1.102",
	  53, 59207 },
	{ "icmp/zk__icmp-destunreach-ip.pcap", 1, 3, 0, 0, 0, "10.0.0.2", "10.0.0.1", 0, 0 },
	{ "icmp/zk__icmp-timeexceeded.pcap", 1, 11, 0, 17, 1, "10.0.0.2", "10.0.0.1", 30000, 13000 },
	{ "icmp/td__icmp-rfc5837.pcap", 1, 11, 0, 17, 1, "12.4.4.4", "12.1.1.1", 42315, 33440 },
	{ "icmpv6/zk__icmp6-toobig.pcap", 1, 2, 0, 17, 1, "fe80::beef", "fe80::dead", 30000, 13000 },
	{ "icmpv6/zk__icmp6-destunreach-ip6ext-udp.pcap", 1, 1, 0, 17, 1, "fe80::beef",
	  "fe80::dead", 30000, 13000 },
	{ "icmpv6/zk__icmp6-timeexceeded.pcap", 1, 3, 0, 17, 1, "fe80::beef", "fe80::dead", 30000,
	  13000 },
	{ "icmpv6/zk__icmp6-paramprob.pcap", 1, 4, 0, 17, 1, "fe80::beef", "fe80::dead", 30000,
	  13000 },
};

static void check_quote(struct walk *k, const struct hp_frame *f, struct pkt *p, int rc,
			enum ll_reason why)
{
	const struct quote *q = k->arg;

	(void)why;
	if (f->n != q->frame)
		return;
	k->checked++;
	assert_int_equal(rc, 0);
	assert_int_equal(p->icmp_type, q->type);
	assert_int_equal(p->icmp_code, q->code);
	assert_true(p->inner.present);
	assert_int_equal(p->inner.proto, q->proto);
	assert_true(ll_ip_eq(p->inner.src, ip(q->isrc)));
	assert_true(ll_ip_eq(p->inner.dst, ip(q->idst)));
	assert_int_equal(p->inner.has_ports, q->has_ports);
	assert_int_equal(p->inner.sport, q->isport);
	assert_int_equal(p->inner.dport, q->idport);
}

static void test_corpus_icmp_quotes(void **state)
{
	(void)state;
	SKIP_NO_CORPUS();
	for (size_t i = 0; i < LL_ARRAY_SIZE(quotes); i++) {
		struct walk k = { 0 };

		k.each = check_quote;
		k.arg = (void *)&quotes[i];
		walk_file(&k, quotes[i].file);
		assert_int_equal(k.checked, 1);
	}
}

static void check_icmp6(struct walk *k, const struct hp_frame *f, struct pkt *p, int rc,
			enum ll_reason why)
{
	(void)f;
	(void)why;
	assert_int_equal(rc, 0);
	assert_int_equal(p->proto, 58);
	if (p->icmp_type == 128 || p->icmp_type == 129) {
		assert_int_equal(p->sport, 1);
		assert_int_equal(p->dport, 1);
	}
	if (p->icmp_type >= 133 && p->icmp_type <= 137)
		assert_int_equal(p->ttl, 255);
	k->checked++;
}

/* ND with hop limit 255 and echo ids, every frame; ping ids from tshark. */
static void test_corpus_icmp6(void **state)
{
	static const char *const f[] = { "icmpv6/zk__icmp6-ping.pcap",
					 "icmpv6/zk__icmp6-neighbor-solicit.pcap",
					 "icmpv6/zk__icmp6-router-advert.pcap",
					 "icmpv6/zk__icmp6-nd-options.pcap" };
	struct walk k = { 0 };

	(void)state;
	SKIP_NO_CORPUS();
	k.each = check_icmp6;
	for (size_t i = 0; i < LL_ARRAY_SIZE(f); i++)
		walk_file(&k, f[i]);
	assert_int_equal(k.checked, 8 + 1 + 1 + 20);
}

struct tcpfact {
	uint32_t frame;
	uint16_t sport, dport;
	uint8_t flags;
};

static void check_tcp(struct walk *k, const struct hp_frame *f, struct pkt *p, int rc,
		      enum ll_reason why)
{
	const struct tcpfact *t = k->arg;

	(void)why;
	for (; t->frame; t++) {
		if (t->frame != f->n)
			continue;
		assert_int_equal(rc, 0);
		assert_int_equal(p->proto, 6);
		assert_int_equal(p->sport, t->sport);
		assert_int_equal(p->dport, t->dport);
		assert_int_equal(p->tcp_flags & 0x3f, t->flags);
		k->checked++;
	}
}

/* Ports and flags from FACTS.md (tshark). */
static void test_corpus_tcp_facts(void **state)
{
	static const struct tcpfact hs[] = { { 1, 46656, 80, TCPF_SYN },
					     { 2, 80, 46656, TCPF_SYN | TCPF_ACK },
					     { 3, 46656, 80, TCPF_ACK },
					     { 0 } };
	static const struct tcpfact all8[] = { { 1, 6260, 80, 0x3f }, { 0 } };
	static const struct tcpfact rst[] = { { 1, 80, 52875, TCPF_ACK | TCPF_RST }, { 0 } };
	static const struct tcpfact psyn[] = { { 1, 80, 80, TCPF_SYN },
					       { 4, 80, 80, TCPF_ACK | TCPF_FIN },
					       { 0 } };
	struct walk k = { 0 };

	(void)state;
	SKIP_NO_CORPUS();
	k.each = check_tcp;
	k.arg = (void *)hs;
	walk_file(&k, "tcp/td__tcp-handshake-nano.pcap");
	k.arg = (void *)all8;
	walk_file(&k, "tcp/td__tcp_eight_lowest_weight_flags_set.pcap");
	k.arg = (void *)rst;
	walk_file(&k, "tcp/td__tcp_rst_data.pcap");
	k.arg = (void *)psyn;
	walk_file(&k, "tcp/zk__payload-syn.pcap");
	assert_int_equal(k.checked, 3 + 1 + 1 + 2);
}

static int teardown(void **state)
{
	(void)state;
	free(g_copy);
	g_copy = NULL;
	return 0;
}

/* The transport checksum: right, one byte changed, an odd length, IPv6 UDP. */
static void test_l4_csum(void **state)
{
	uint8_t v4[] = { 0x45, 0x00, 0x00, 0x31, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x8e, 0x8f, 0xc0,
			 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00,
			 0x00, 0x64, 0x00, 0x00, 0x13, 0x89, 0x50, 0x18, 0xff, 0xff, 0xc8, 0x06, 0x00,
			 0x00, 0x47, 0x45, 0x54, 0x20, 0x45, 0x56, 0x49, 0x4c, 0x21 };
	uint8_t v6[] = { 0x60, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00,
			 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
			 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			 0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0d, 0x4b, 0x6f, 0x68, 0x65, 0x6c, 0x6c,
			 0x6f };
	enum ll_reason why;
	struct pkt p;

	(void)state;
	assert_int_equal(pkt_parse(&p, v4, sizeof(v4), &why), 0);
	assert_true(pkt_l4_csum_ok(&p)); /* 9 bytes of payload: the odd one padded */
	v4[sizeof(v4) - 1] ^= 0x10;
	assert_int_equal(pkt_parse(&p, v4, sizeof(v4), &why), 0);
	assert_false(pkt_l4_csum_ok(&p));
	/* not all of it captured: it cannot tell, so it does not call it wrong */
	assert_int_equal(pkt_parse_wire(&p, v4, sizeof(v4) - 2, sizeof(v4), &why), 0);
	assert_true(pkt_l4_csum_ok(&p));
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_true(pkt_l4_csum_ok(&p));
	/*
	 * A local sender's unfilled checksum (CHECKSUM_PARTIAL, over veth):
	 * the pseudo-header's sum, 0x5b93 here. Wrong on the wire, but what
	 * the receiving stack takes when the kernel says nothing (NFLOG).
	 */
	v6[46] = 0x5b, v6[47] = 0x93;
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_false(pkt_l4_csum_ok(&p));
	assert_true(pkt_l4_csum_taken(&p));
	v6[47] ^= 1;
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_false(pkt_l4_csum_taken(&p));
	/*
	 * UDP over IPv6 whose right checksum is 0xffff (its sum without it is
	 * 0): a 0 in its place sums right too, but is "no checksum", which
	 * IPv6 forbids and Linux drops (a DHCPv6 Reply the client never reads).
	 */
	v6[48] = 0xb3, v6[49] = 0xd4;
	v6[46] = 0xff, v6[47] = 0xff;
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_true(pkt_l4_csum_ok(&p));
	assert_true(pkt_l4_csum_taken(&p));
	v6[46] = 0, v6[47] = 0;
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_false(pkt_l4_csum_ok(&p));
	assert_false(pkt_l4_csum_taken(&p));
	v6[48] = 0x68, v6[49] = 0x65;
	v6[46] = 0x4b, v6[47] = 0x6f; /* back to the right sum */
	v6[9] ^= 1; /* the source address: the pseudo-header counts */
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_false(pkt_l4_csum_ok(&p));
	assert_false(pkt_l4_csum_taken(&p));
}

/*
 * UDP sums its datagram, as long as its length field says (Linux trims the
 * packet to it first): bytes past it in the IP payload count for nothing.
 */
static void test_udp_csum_over_udp_length(void **state)
{
	uint8_t v6[] = { 0x60, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00,
			 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
			 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			 0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0d, 0x4b, 0x6f, 0x68, 0x65, 0x6c, 0x6c,
			 0x6f, 0x00, 0x00 };
	enum ll_reason why;
	struct pkt p;

	(void)state;
	/* UDP length 13 of a 15-byte payload: right over the 13 bytes, as Linux sums them */
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_int_equal(p.paylen, 5);
	assert_true(pkt_l4_csum_ok(&p));
	assert_true(pkt_l4_csum_taken(&p));
	/* right only over all 15 bytes with length 15: Linux drops it, its client never reads it */
	v6[46] = 0x4b, v6[47] = 0x6d;
	assert_int_equal(pkt_parse(&p, v6, sizeof(v6), &why), 0);
	assert_false(pkt_l4_csum_ok(&p));
	assert_false(pkt_l4_csum_taken(&p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv4_udp_padding_trimmed),
		cmocka_unit_test(test_ports_other_transports),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_ihl),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_snaplen_truncation),
		cmocka_unit_test(test_tcp_offset),
		cmocka_unit_test(test_udp_length),
		cmocka_unit_test(test_icmp_echo), cmocka_unit_test(test_icmp_payload_start),
		cmocka_unit_test(test_icmp_error_quote),
		cmocka_unit_test(test_icmp_error_quoting_echo),
		cmocka_unit_test(test_ipv6_udp),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_undelivered),
		cmocka_unit_test(test_ipv6_hbh_dropped_before_hook),
		cmocka_unit_test(test_ipv6_rh2_by_kernel),
		cmocka_unit_test(test_tcp_opts_ao),
		cmocka_unit_test(test_tcp_opts_auth_parse),
		cmocka_unit_test(test_ipv6_undelivered_tlv_rules),
		cmocka_unit_test(test_ipv6_esp_and_none),
		cmocka_unit_test(test_ipv6_bad_exthdr),
		cmocka_unit_test(test_jumbograms),
		cmocka_unit_test(test_ipv6_v4_mapped),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_icmpv6),
		cmocka_unit_test(test_failed_parse_fills_basics),
		cmocka_unit_test(test_prefix_sweep),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_corpus_all_frames),
		cmocka_unit_test(test_corpus_malformed),
		cmocka_unit_test(test_corpus_checksums_ok),
		cmocka_unit_test(test_corpus_icmp_quotes),
		cmocka_unit_test(test_corpus_icmp6),
		cmocka_unit_test(test_corpus_tcp_facts),
		cmocka_unit_test(test_l4_csum),
		cmocka_unit_test(test_udp_csum_over_udp_length),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
