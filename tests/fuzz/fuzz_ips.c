/*
 * fuzz_ips.c - IPS rule lines (Suricata syntax) through the policy parser
 * and the IPS compiler; a valid rule set then inspects a few packets, so
 * the compiled matcher runs too.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"

/* An IPv4 TCP (6) or UDP (17) packet 192.0.2.7 -> 198.51.100.2 with @pay. */
static size_t mkpkt(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags,
		    const char *pay)
{
	size_t l4 = proto == 6 ? 20 : 8, plen = strlen(pay), len = 20 + l4 + plen;

	memset(b, 0, 20 + l4);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, (uint8_t[]){ 192, 0, 2, 7, 198, 51, 100, 2 }, 8);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	if (proto == 6) {
		b[32] = 0x50;
		b[33] = flags;
	} else {
		b[24] = (uint8_t)((8 + plen) >> 8);
		b[25] = (uint8_t)(8 + plen);
	}
	memcpy(b + 20 + l4, pay, plen);
	return len;
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

static void inspect(struct policy *pol)
{
	struct pipeline pl;
	uint8_t b[512];

	if (pipeline_init(&pl, fuzz_config(), pol) == 0) {
		judge(&pl, b, mkpkt(b, 6, 40000, 80, 0x02, ""), 1);
		judge(&pl, b, mkpkt(b, 6, 40000, 80, 0x18,
				    "GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"), 2);
		judge(&pl, b, mkpkt(b, 6, 40000, 80, 0x18, "\x18\x03\x00\x01\x02\x40\x00 x"), 3);
		judge(&pl, b, mkpkt(b, 17, 5353, 53, 0, "\x12\x34\x01\x00\x00\x01\x00\x00"), 4);
	}
	pipeline_fini(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct policy *p;

	if (size > 64 * 1024)
		return 0;
	text = fuzz_str(data, size);
	p = fuzz_load(text, fuzz_config());
	if (p) {
		policy_print(p, fuzz_null());
		inspect(p);
		policy_free(p);
	}
	free(text);
	return 0;
}
