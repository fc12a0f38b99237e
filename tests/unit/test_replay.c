/* test_replay.c - replay's link layers: where IP starts, and which frames were broadcast or multicast. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "replay.h"

/* An Ethernet frame to @dst (6 bytes), with @vlan 802.1Q tags, then @type. */
static uint32_t ether(uint8_t *f, const char *dst, int vlan, uint16_t type)
{
	uint32_t n = 12;

	memcpy(f, dst, 6);
	memset(f + 6, 0x02, 6);
	for (int i = 0; i < vlan; i++, n += 4)
		f[n] = 0x81, f[n + 1] = 0x00, f[n + 2] = 0, f[n + 3] = 100;
	f[n] = (uint8_t)(type >> 8), f[n + 1] = (uint8_t)type;
	return n + 2 + 20; /* and an IP header's worth */
}

/*
 * Linux TCP takes only PACKET_HOST: a frame to a group address (the I/G
 * bit: broadcast, 01:00:5e IPv4 and 33:33 IPv6 multicast) is marked so
 * that neither the flow's record nor the IPS stream takes its TCP.
 */
static void test_ether_group(void **state)
{
	static const struct {
		const char *dst;
		int vlan;
		uint16_t type;
		bool group;
	} c[] = {
		{ "\x02\x00\x00\x00\x00\x01", 0, 0x0800, false },
		{ "\xff\xff\xff\xff\xff\xff", 0, 0x0800, true },
		{ "\x01\x00\x5e\x00\x00\x01", 1, 0x0800, true },
		{ "\x33\x33\x00\x00\x00\x01", 0, 0x86dd, true },
		{ "\x00\x11\x22\x33\x44\x55", 2, 0x86dd, false },
		/* made-up or anonymised MACs with the I/G bit (suricata-verify's bug-docs-5030-01) */
		{ "\xbf\x12\x34\x56\x78\x9a", 0, 0x0800, false },
		{ "\x01\x00\x5e\x80\x00\x01", 0, 0x0800, false },
	};
	uint8_t f[64] = { 0 };
	bool group;
	int ifindex;

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint32_t n = ether(f, c[i].dst, c[i].vlan, c[i].type);

		assert_int_equal(replay_l3_offset(DLT_EN10MB, f, n, &ifindex, &group),
				 14 + 4 * c[i].vlan);
		assert_int_equal(group, c[i].group);
	}
}

/*
 * Cooked captures say it in their packet type: 1 broadcast, 2 multicast.
 * Not 3, another host's (a mirror port's capture keeps its connections),
 * nor 4, the host's own.
 */
static void test_sll_group(void **state)
{
	uint8_t f[64] = { 0 };
	bool group;
	int ifindex;

	(void)state;
	for (uint8_t type = 0; type <= 4; type++) {
		memset(f, 0, sizeof(f));
		f[1] = type, f[14] = 0x08; /* SLL: packet type first, protocol at 14 */
		assert_int_equal(replay_l3_offset(DLT_LINUX_SLL, f, 36, &ifindex, &group), 16);
		assert_int_equal(group, type == 1 || type == 2);
		memset(f, 0, sizeof(f));
		f[0] = 0x86, f[1] = 0xdd, f[7] = 3, f[10] = type; /* SLL2: protocol first, type at 10 */
		assert_int_equal(replay_l3_offset(DLT_LINUX_SLL2, f, 60, &ifindex, &group), 20);
		assert_int_equal(group, type == 1 || type == 2);
		assert_int_equal(ifindex, 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ether_group),
		cmocka_unit_test(test_sll_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
