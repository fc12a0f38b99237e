/*
 * gen_flows.c - a raw-IP capture of N packets, each one a new UDP flow
 * (distinct source address/port pairs in 198.51.100.0/24 -> 192.0.2.0/24
 * space, wrapped over ports): the flow table's worst case for memory.
 * Usage: gen_flows N OUT.pcap
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINKTYPE_RAW 101

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
}

int main(int argc, char **argv)
{
	uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, LINKTYPE_RAW };
	uint8_t pkt[28];
	uint64_t n;
	FILE *f;

	if (argc != 3 || !(n = strtoull(argv[1], NULL, 10)) || !(f = fopen(argv[2], "wb"))) {
		fprintf(stderr, "usage: gen_flows N OUT.pcap\n");
		return 2;
	}
	fwrite(hdr, sizeof(hdr), 1, f);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t rec[4] = { (uint32_t)(1700000000 + i / 1000000), (uint32_t)(i % 1000000),
				    sizeof(pkt), sizeof(pkt) };
		uint32_t src = 0xc6336400u | (uint32_t)(i & 0xff);        /* 198.51.100.x */
		uint32_t dst = 0xc0000200u | (uint32_t)((i >> 8) & 0xff); /* 192.0.2.x */
		uint16_t sport = (uint16_t)(1024 + (i >> 16) % 60000), dport = 53 + (i >> 32);

		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0x45, pkt[3] = sizeof(pkt), pkt[8] = 64, pkt[9] = 17;
		put32(pkt + 12, src);
		put32(pkt + 16, dst);
		pkt[20] = (uint8_t)(sport >> 8), pkt[21] = (uint8_t)sport;
		pkt[22] = (uint8_t)(dport >> 8), pkt[23] = (uint8_t)dport;
		pkt[25] = 8;
		fwrite(rec, sizeof(rec), 1, f);
		fwrite(pkt, sizeof(pkt), 1, f);
	}
	return fclose(f) != 0;
}
