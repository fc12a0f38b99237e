/*
 * engine_dhcp_tap.c - the host's own DHCP requests, as they leave, so that
 * lifeline_learn() takes only the replies that answer them (a forged
 * DHCPACK to no request of the host's names no DNS server).
 *
 * DHCP clients (dhclient, systemd-networkd, NetworkManager) send their
 * broadcasts through packet sockets, which netfilter never sees: no kernel
 * rule can copy them. A packet socket sees every frame a device sends; a
 * classic BPF filter in the kernel keeps only outgoing UDP 68 -> 67 (IPv4,
 * not a later fragment) and 546 -> 547 (IPv6, UDP right after the fixed
 * header, as every client sends it), so nothing else is ever copied to us.
 * A bridge port also sends its guests' requests: only frames a device
 * sends with its own hardware address count (own_frame()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "engine_int.h"

#define TAP_SNAP 4096 /* a DHCP request is far shorter; a longer frame is cut and ignored */

int dhcp_tap_open(void)
{
	enum { ACCEPT = 18, DROP = 19 }; /* jumps: forward only, relative to the next one */
	static const struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, DROP - 2),
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 5 - 4, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 14 - 5, DROP - 5),
		/* IPv4: UDP, not a later fragment, 68 -> 67 */
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, DROP - 7),
		/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, DROP - 9, 0),
		/* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, 0, DROP - 12),
		/* 12 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 67, ACCEPT - 14, DROP - 14),
		/* IPv6: UDP next, 546 -> 547 */
		/* 14 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, DROP - 16),
		/* 16 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 40),
		/* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 546u << 16 | 547u, ACCEPT - 18, DROP - 18),
		/* 18 */ BPF_STMT(BPF_RET | BPF_K, TAP_SNAP),
		/* 19 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]),
				  .filter = (struct sock_filter *)code };
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	/* the filter before the bind: not one frame is queued unfiltered */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Did the device that sent @from's frame send it as itself? A bridge or
 * macvlan port also sends its guests' and containers' frames, with their
 * own addresses: their requests are not the host's (the host's own leave
 * from the bridge, with its address). Without a hardware address, yes.
 */
static bool own_frame(int fd, const struct sockaddr_ll *from)
{
	struct ifreq ifr = { 0 };

	if (from->sll_halen != ETH_ALEN || !if_indextoname((unsigned)from->sll_ifindex, ifr.ifr_name) ||
	    ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return true;
	return memcmp(ifr.ifr_hwaddr.sa_data, from->sll_addr, ETH_ALEN) == 0;
}

int dhcp_tap_read(int fd, struct lifeline *l, uint64_t now_us)
{
	uint8_t buf[TAP_SNAP];
	int n = 0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		enum ll_reason why;
		struct pkt p;

		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? n : -errno;
		if (!own_frame(fd, &from))
			continue; /* a guest's request a bridge port forwards: no transaction of ours */
		memset(&p, 0, sizeof(p));
		p.dir = PKT_DIR_OUT;
		p.ifindex = from.sll_ifindex; /* the reply must come in on it (lifeline_learn()) */
		if (pkt_parse(&p, buf, (uint32_t)r, &why) == 0) {
			lifeline_learn(l, &p, now_us); /* a request: its transaction is noted */
			n++;
		}
	}
}
