/*
 * fuzz_ips.c - IPS rule lines (Suricata syntax) through the policy parser
 * and the IPS compiler; a valid rule set then inspects a few packets, so
 * the compiled matcher runs too. After a NUL, the rest of the input is a
 * payload the fuzzer chooses, carried by a TCP connection with a real
 * handshake (flow:established holds) in two segments and an answer, a UDP
 * datagram and its answer, and an ICMP echo: the byte keywords then see
 * packet bytes of every value (a fixed payload never reached one crash).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"

/*
 * An IPv4 packet between 192.0.2.7 (@rev 0: its sender) and 198.51.100.2:
 * TCP (6) with @flags, @seq and @ack, UDP (17), or an ICMP echo (1).
 */
static size_t mkpkt(uint8_t *b, uint8_t proto, int rev, uint16_t sport, uint16_t dport,
		    uint8_t flags, uint32_t seq, uint32_t ack, const void *pay, size_t plen)
{
	static const uint8_t a[4] = { 192, 0, 2, 7 }, h[4] = { 198, 51, 100, 2 };
	size_t l4 = proto == 6 ? 20 : 8, len = 20 + l4 + plen;

	memset(b, 0, 20 + l4);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, rev ? h : a, 4);
	memcpy(b + 16, rev ? a : h, 4);
	if (proto == 1) {
		b[20] = 8; /* echo request, id 0, sequence 5 */
		b[27] = 5;
	} else {
		b[20] = (uint8_t)(sport >> 8);
		b[21] = (uint8_t)sport;
		b[22] = (uint8_t)(dport >> 8);
		b[23] = (uint8_t)dport;
	}
	if (proto == 6) {
		uint32_t s = htonl(seq), k = htonl(ack);

		memcpy(b + 24, &s, 4);
		memcpy(b + 28, &k, 4);
		b[32] = 0x50;
		b[33] = flags;
		b[34] = 0xff;
	} else if (proto == 17) {
		b[24] = (uint8_t)((8 + plen) >> 8);
		b[25] = (uint8_t)(8 + plen);
	}
	if (plen)
		memcpy(b + 20 + l4, pay, plen);
	return len;
}

static size_t fixed(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags,
		    const char *pay)
{
	return mkpkt(b, proto, 0, sport, dport, flags, 0, 0, pay, strlen(pay));
}

static void judge(struct pipeline *pl, const uint8_t *b, size_t len, uint64_t now)
{
	struct pkt p;
	struct verdict v;
	enum ll_reason why;

	memset(&p, 0, sizeof(p));
	if (pkt_parse(&p, b, (uint32_t)len, &why) < 0)
		return;
	pipeline_set_dir(pl, &p);
	pipeline_judge(pl, &p, now, &v);
}

/* A connection and a datagram carrying @pay (at most 2 KiB of it), and an echo. */
static void carry(struct pipeline *pl, uint8_t *b, const uint8_t *pay, size_t plen)
{
	uint32_t c = 1000, s = 5000;
	size_t half;

	if (plen > 2048)
		plen = 2048;
	half = plen / 2;
	judge(pl, b, mkpkt(b, 6, 0, 40001, 80, 0x02, c, 0, NULL, 0), 10);
	judge(pl, b, mkpkt(b, 6, 1, 80, 40001, 0x12, s, c + 1, NULL, 0), 11);
	judge(pl, b, mkpkt(b, 6, 0, 40001, 80, 0x10, c + 1, s + 1, NULL, 0), 12);
	judge(pl, b, mkpkt(b, 6, 0, 40001, 80, 0x18, c + 1, s + 1, pay, half), 13);
	judge(pl, b, mkpkt(b, 6, 0, 40001, 80, 0x18, c + 1 + (uint32_t)half, s + 1, pay + half,
			   plen - half), 14);
	judge(pl, b, mkpkt(b, 6, 1, 80, 40001, 0x18, s + 1, c + 1 + (uint32_t)plen, pay, plen), 15);
	judge(pl, b, mkpkt(b, 17, 0, 5353, 53, 0, 0, 0, pay, plen), 16);
	judge(pl, b, mkpkt(b, 17, 1, 53, 5353, 0, 0, 0, pay, plen), 17);
	judge(pl, b, mkpkt(b, 1, 0, 0, 0, 0, 0, 0, pay, plen), 18);
}

static void inspect(struct policy *pol, const uint8_t *pay, size_t plen)
{
	static uint8_t b[2048 + 64];
	struct pipeline pl;

	if (pipeline_init(&pl, fuzz_config(), pol) == 0) {
		judge(&pl, b, fixed(b, 6, 40000, 80, 0x02, ""), 1);
		judge(&pl, b, fixed(b, 6, 40000, 80, 0x18,
				    "GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"), 2);
		judge(&pl, b, fixed(b, 6, 40000, 80, 0x18, "\x18\x03\x00\x01\x02\x40\x00 x"), 3);
		judge(&pl, b, fixed(b, 17, 5353, 53, 0, "\x12\x34\x01\x00\x00\x01\x00\x00"), 4);
		if (pay)
			carry(&pl, b, pay, plen);
	}
	pipeline_fini(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *text;
	struct policy *p;

	if (size > 64 * 1024)
		return 0;
	text = fuzz_str(data, tlen);
	p = fuzz_load(text, fuzz_config());
	if (p) {
		policy_print(p, fuzz_null());
		inspect(p, nul ? nul + 1 : NULL, nul ? size - tlen - 1 : 0);
		policy_free(p);
	}
	free(text);
	return 0;
}
