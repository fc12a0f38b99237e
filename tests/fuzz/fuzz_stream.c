/*
 * fuzz_stream.c - one TCP connection of segments the fuzzer chooses, both
 * ways, through pipeline_judge(): the flow state machine and the IPS
 * stream (out of order, overlaps, retransmits, SYN and FIN data, urgent
 * bytes, sequence numbers that wrap), which fuzz_ips (in order, one split)
 * and fuzz_pkt (one packet) never reach. Input: IPS rule text (empty: the
 * lab policy), a NUL, a mode byte (bit 0: IPv6, bit 1: port 22, not 80,
 * bit 2: the kernel has not checked the checksums, as NFQUEUE's
 * CSUM_NOTVERIFIED says, and a segment whose urgent pointer byte is 0xff
 * has a wrong one, the others a right one; bit 3: a segment of 12 payload
 * bytes or more starts with 12 bytes of TCP options), then segments of 8 header bytes (direction and clock step, TCP flags,
 * sequence and acknowledgement offsets from the sides' initial numbers,
 * urgent pointer, payload length) and the payload.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"
#include "pkt_int.h"

/* The client's and the server's initial sequence numbers: the server's wraps. */
static const uint32_t isn[2] = { 1000, 0xffffff00u };

static size_t mkseg(uint8_t *b, int v6, int rev, uint16_t dport, uint8_t flags, uint32_t seq,
		    uint32_t ack, uint16_t urp, const uint8_t *pay, size_t plen, int opts, int csum)
{
	static const uint8_t a4[4] = { 192, 0, 2, 7 }, h4[4] = { 198, 51, 100, 2 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 7 };
	static const uint8_t h6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };
	size_t l3 = v6 ? 40 : 20, len = l3 + 20 + plen;
	uint16_t sport = rev ? dport : 40001, dp = rev ? 40001 : dport;
	uint8_t *t = b + l3;

	memset(b, 0, l3 + 20);
	if (v6) {
		b[0] = 0x60;
		b[4] = (uint8_t)((20 + plen) >> 8);
		b[5] = (uint8_t)(20 + plen);
		b[6] = 6;
		b[7] = 64;
		memcpy(b + 8, rev ? h6 : a6, 16);
		memcpy(b + 24, rev ? a6 : h6, 16);
	} else {
		b[0] = 0x45;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		b[8] = 64;
		b[9] = 6;
		memcpy(b + 12, rev ? h4 : a4, 4);
		memcpy(b + 16, rev ? a4 : h4, 4);
	}
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dp >> 8);
	t[3] = (uint8_t)dp;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = opts && plen >= 12 ? 0x80 : 0x50;
	t[13] = flags;
	t[14] = 0xff;
	t[18] = (uint8_t)(urp >> 8);
	t[19] = (uint8_t)urp;
	if (plen)
		memcpy(t + 20, pay, plen);
	if (csum) { /* right, or one off */
		uint64_t sum = v6 ? pkt_csum_add(0, b + 8, 32) : pkt_csum_add(0, b + 12, 8);
		uint16_t c = (uint16_t)~pkt_csum_fold(pkt_csum_add(sum + 6 + 20 + plen, t, 20 + plen));

		c = (uint16_t)(c + (csum < 0));
		t[16] = (uint8_t)(c >> 8);
		t[17] = (uint8_t)c;
	}
	return len;
}

static void run(struct pipeline *pl, const uint8_t *d, size_t n)
{
	static uint8_t b[40 + 20 + 255];
	uint64_t now = 1000000;
	int v6, port22, unchecked, opts;

	if (n < 1)
		return;
	v6 = d[0] & 1;
	port22 = d[0] & 2;
	unchecked = d[0] & 4;
	opts = d[0] & 8;
	d++, n--;
	for (int i = 0; n >= 8 && i < 256; i++) {
		int rev = d[0] & 1;
		size_t plen = d[7] <= n - 8 ? d[7] : n - 8;
		struct pkt p;
		struct verdict v;
		enum ll_reason why;
		size_t len;

		now += (uint64_t)(d[0] >> 1) * 100000; /* up to 12.7 s a step: timeouts */
		len = mkseg(b, v6, rev, port22 ? 22 : 80, d[1],
			    isn[rev] + (uint32_t)(d[2] << 8 | d[3]),
			    isn[!rev] + (uint32_t)(d[4] << 8 | d[5]), d[6], d + 8, plen, opts,
			    unchecked ? (d[6] == 0xff ? -1 : 1) : 0);
		memset(&p, 0, sizeof(p));
		if (pkt_parse(&p, b, (uint32_t)len, &why) == 0) {
			/* as engine_worker.c judges NFQUEUE's CSUM_NOTVERIFIED */
			p.csum_bad = unchecked && !pkt_l4_csum_ok(&p);
			pipeline_set_dir(pl, &p);
			pipeline_judge(pl, &p, now, &v);
		}
		d += 8 + plen;
		n -= 8 + plen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	struct policy *p = NULL;
	struct pipeline pl;
	char *text;

	if (size > 64 * 1024 || !nul)
		return 0;
	if (nul > data) {
		text = fuzz_str(data, (size_t)(nul - data));
		p = fuzz_load(text, fuzz_config());
		free(text);
		if (!p)
			return 0;
	}
	if (pipeline_init(&pl, fuzz_config(), p ? p : fuzz_policy()) == 0)
		run(&pl, nul + 1, size - (size_t)(nul - data) - 1);
	pipeline_fini(&pl);
	if (p)
		policy_free(p);
	return 0;
}
