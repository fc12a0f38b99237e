/*
 * engine_dhcp_tap.c - the host's own DHCP requests, as they leave, so that
 * lifeline_learn() takes only the replies that answer them (a forged
 * DHCPACK to no request of the host's names no DNS server); and the
 * DHCPv4 replies that come in, as the host's client reads them.
 *
 * DHCP clients (dhclient, systemd-networkd, NetworkManager) send their
 * broadcasts through packet sockets, which netfilter never sees: no kernel
 * rule can copy them. A packet socket sees every frame a device sends; a
 * classic BPF filter in the kernel keeps only outgoing UDP 68 -> 67 (IPv4,
 * not a later fragment) and 546 -> 547 (IPv6, UDP right after the fixed
 * header, as every client sends it), so nothing else is ever copied to us.
 * A bridge port also sends its guests' requests: only frames a device
 * sends with its own hardware address count (own_frame()).
 *
 * The same clients read DHCPv4 replies from a packet socket too (dhclient
 * always; udhcpc and sd-dhcp-client until bound), not from the stack: an
 * ACK unicast to the address it offers (RFC 2131 4.1, dnsmasq's and
 * dhcpd's default for a client without the broadcast flag, dhclient's
 * case) reaches the client while the host does not own that address yet,
 * so the stack drops it before the input hook and no NFLOG copy is made;
 * and an ACK in IPv4 fragments is reassembled before the input hook while
 * those clients' filters drop fragments. So IPv4 replies are learned here,
 * from frames to the host's hardware address or broadcast (not another
 * host's, nor a fragment), with a right IPv4 header checksum, no IP
 * options (udhcpc drops them) and a UDP checksum the client takes.
 * DHCPv6 clients read replies from UDP sockets: those stay NFLOG's.
 */
#include <errno.h>
#include <stdio.h>
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
#include "pkt_int.h"

#define TAP_SNAP 4096 /* a DHCP request is far shorter; a longer frame is cut and ignored */
/*
 * Frames read a call: the control thread reads them holding the engine's
 * lock, and anyone on the link can send UDP to port 68; until the socket
 * ran dry, a flood of them held back loads, ticks and rollbacks. Poll
 * wakes again for the rest.
 */
#define TAP_BURST 64

int dhcp_tap_open(void)
{
	/* instruction indexes; a jump's offset counts from the next one (J()) */
	enum { V4 = 5, V6 = 14, IN = 18, ACCEPT = 32, DROP = 33 };
#define J(to, at) ((to) - (at) - 1)
	static const struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, J(IN, 1)),
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, J(V4, 3), 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, J(V6, 4), J(DROP, 4)),
		/* IPv4: UDP, not a later fragment, 68 -> 67 */
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, J(DROP, 6)),
		/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, J(DROP, 8), 0),
		/* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, 0, J(DROP, 11)),
		/* 12 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 67, J(ACCEPT, 13), J(DROP, 13)),
		/* IPv6: UDP next, 546 -> 547 */
		/* 14 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, J(DROP, 15)),
		/* 16 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 40),
		/* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 546u << 16 | 547u, J(ACCEPT, 17), J(DROP, 17)),
		/* in, to the host, broadcast or multicast (not another host's); not a VLAN's frame */
		/* on its parent device (read again on the VLAN's own; dhclient drops it there too, */
		/* a priority tag, VLAN 0, it takes): IPv4 only */
		/* 18 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, PACKET_MULTICAST, J(DROP, 18), 0),
		/* 19 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_VLAN_TAG),
		/* 20 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x0fff, J(DROP, 20), 0),
		/* 21 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 22 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, J(DROP, 22)),
		/* IPv4: UDP, no fragment at all (MF or an offset), 67 -> 68 */
		/* 23 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 24 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, J(DROP, 24)),
		/* 25 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		/* 26 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, J(DROP, 26), 0),
		/* 27 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 28 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		/* 29 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 67, 0, J(DROP, 29)),
		/* 30 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		/* 31 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, J(ACCEPT, 31), J(DROP, 31)),
		/* 32 */ BPF_STMT(BPF_RET | BPF_K, TAP_SNAP),
		/* 33 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
#undef J
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

/*
 * Is @ifindex a bridge port or a bond's slave? A reply through one is read
 * again on its master, where the host's request left: that copy counts.
 */
static bool enslaved(int ifindex)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];

	if (!if_indextoname((unsigned)ifindex, name))
		return false;
	snprintf(path, sizeof(path), "/sys/class/net/%s/brport", name);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/class/net/%s/bonding_slave", name);
	return access(path, F_OK) == 0;
}

/* An IPv4 reply as its client reads it: header checksum right, no options, UDP checksum taken. */
static bool reply_readable(const struct pkt *p)
{
	return p->family == 4 && !p->ipopts &&
	       pkt_csum_fold(pkt_csum_add(0, p->l3, p->l3hlen)) == 0xffff && pkt_l4_csum_taken(p);
}

int dhcp_tap_read(int fd, struct lifeline *l, uint64_t now_us)
{
	uint8_t buf[TAP_SNAP];
	int n = 0;

	for (int k = 0; k < TAP_BURST; k++) {
		struct sockaddr_ll from = { 0 };
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		enum ll_reason why;
		struct pkt p;
		bool out;

		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? n : -errno;
		out = from.sll_pkttype == PACKET_OUTGOING;
		if (out && !own_frame(fd, &from))
			continue; /* a guest's request a bridge port forwards: no transaction of ours */
		if (!out && enslaved(from.sll_ifindex))
			continue;
		memset(&p, 0, sizeof(p));
		p.dir = out ? PKT_DIR_OUT : PKT_DIR_IN;
		/* a request: the reply must come in on it; a reply: the device it came in on */
		p.ifindex = from.sll_ifindex;
		if (pkt_parse(&p, buf, (uint32_t)r, &why) != 0 || (!out && !reply_readable(&p)))
			continue;
		/* a request: its transaction is noted; a reply: learned when it answers one */
		if (lifeline_learn(l, &p, now_us) > 0)
			n++;
	}
	return n;
}
