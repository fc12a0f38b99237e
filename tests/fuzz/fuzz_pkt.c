/*
 * fuzz_pkt.c - one packet through the whole pipeline: pkt_parse_wire(),
 * then pipeline_judge() twice (the second time as a later packet of the
 * flow the first opened), then its --verdicts line. Input: one flags byte
 * (bit 0: the wire length is longer than the capture, by the other bits;
 * when bit 0 is clear, bit 1: the kernel has not checked the transport
 * checksum, NFQUEUE's CSUM_NOTVERIFIED), then the IP packet.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"
#include "verdict_json.h"

static void judge(struct pipeline *pl, const uint8_t *ip, uint32_t caplen, uint32_t wirelen,
		  bool unchecked, uint64_t now)
{
	struct pkt p;
	struct verdict v;
	enum ll_reason why;

	memset(&p, 0, sizeof(p));
	if (pkt_parse_wire(&p, ip, caplen, wirelen, &why) < 0) {
		pipeline_sanity(pl, why, &v);
		verdict_json_write(fuzz_null(), 1, now, p.family ? &p : NULL, &v);
		return;
	}
	pipeline_set_dir(pl, &p);
	p.ifname = (caplen & 1) ? "eth1" : NULL;
	/* as engine_worker.c judges NFQUEUE's CSUM_NOTVERIFIED */
	p.csum_bad = unchecked && p.proto == 6 && !pkt_l4_csum_ok(&p);
	if (p.is_frag)
		return; /* fragments wait for reassembly: fuzz_replay covers them */
	pipeline_judge(pl, &p, now, &v);
	verdict_json_write(fuzz_null(), 1, now, &p, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline pl;
	uint8_t *ip;
	uint32_t caplen, wirelen;
	bool unchecked;

	if (size < 1 || size > 65536 + 1)
		return 0;
	caplen = (uint32_t)size - 1;
	wirelen = caplen + ((data[0] & 1) ? (uint32_t)(data[0] >> 1) : 0);
	unchecked = (data[0] & 3) == 2;
	/* an exact-size copy, so that a read past the capture is caught */
	ip = malloc(caplen ? caplen : 1);
	if (!ip)
		return 0;
	memcpy(ip, data + 1, caplen);
	if (pipeline_init(&pl, fuzz_config(), fuzz_policy()) == 0) {
		judge(&pl, ip, caplen, wirelen, unchecked, 1000000);
		judge(&pl, ip, caplen, wirelen, unchecked, 2000000);
	}
	pipeline_fini(&pl);
	free(ip);
	return 0;
}
