/* pkt.h - the packet descriptor: one bounds-checked parse of an IP packet. */
#ifndef LL_PKT_H
#define LL_PKT_H

#include "ll.h"
#include "reason.h"

enum {
	PKT_DIR_IN = 1,
	PKT_DIR_OUT = 2,
};

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

/* Transports whose header starts with the two ports: TCP, UDP, SCTP, DCCP, UDP-Lite. */
static inline bool pkt_proto_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == 132 || proto == 33 ||
	       proto == 136;
}

/* TCP flag bits as on the wire (byte 13). */
enum {
	TCPF_FIN = 0x01,
	TCPF_SYN = 0x02,
	TCPF_RST = 0x04,
	TCPF_PSH = 0x08,
	TCPF_ACK = 0x10,
	TCPF_URG = 0x20,
};

/* The transport header quoted inside an ICMP/ICMPv6 error. */
struct pkt_inner {
	uint8_t present;  /* 1 when an IP header was quoted and parsed */
	uint8_t family;   /* 4 or 6 */
	uint8_t proto;
	uint8_t has_ports; /* the quoted bytes reached the ports (or ICMP id) */
	ll_ip src, dst;
	uint16_t sport, dport; /* for quoted ICMP echo: id in sport, 0 in dport */
	uint8_t icmp_type, icmp_code;
};

/*
 * struct pkt - what every stage reads. Filled by pkt_parse() from an IP
 * packet (L3 start). Pointers point into the caller's buffer; nothing is
 * copied. Fields that do not apply are zero.
 */
struct pkt {
	const uint8_t *l3;
	uint32_t caplen;  /* bytes available from l3 */
	uint32_t len;     /* IP datagram length from the header */
	uint8_t family;   /* 4 or 6 */
	uint8_t proto;    /* upper-layer protocol after IPv6 extension headers */
	uint8_t ttl;      /* TTL or hop limit */
	uint8_t dir;      /* PKT_DIR_IN / PKT_DIR_OUT, set by the caller */
	bool dir_guessed; /* replay: both or neither address a host's, so dir is a guess */
	uint8_t is_frag;  /* a fragment (set by pkt_parse; defrag clears it). An IPv6 atomic
			   * fragment (offset 0, M=0) is not one: the kernel takes it whole;
			   * frag_hdr_off and frag_id are still set */
	uint8_t frag_first; /* first fragment (offset 0) */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t l4_ok;    /* the transport header is complete */
	bool v6_undelivered; /* a destination-options, routing or AH header the stack drops it for */
	bool csum_bad;    /* live: a checksum the kernel had not verified (TCP: NFQUEUE's
			   * CSUM_NOTVERIFIED; a DHCP reply's NFLOG copy), and wrong: the
			   * stack drops it */
	bool l2_group;    /* replay: came in a link-layer broadcast or multicast frame, which
			   * TCP discards (live, the kernel rules never queue TCP in one) */
	uint8_t ipopts;   /* IPv4 options present */
	uint16_t l4hlen;  /* the transport header: TCP with its options, UDP and ICMPv6 8, ICMPv4
			   * as Suricata's decoder sizes it (pkt_l4.c); where the payload starts */
	ll_ip src, dst;
	uint16_t sport, dport; /* TCP/UDP ports; ICMP echo: id in sport/dport */
	uint16_t frag_off;     /* in bytes */
	uint8_t frag_more;
	uint32_t frag_id;
	uint16_t l3hlen;       /* IPv4 header or IPv6 header + ext headers up to L4 */
	uint16_t frag_hdr_off; /* IPv6: offset of the fragment header, 0 if none */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint16_t tcp_urp;      /* the urgent pointer (meant only with TCPF_URG) */
	const uint8_t *l4;     /* transport header */
	uint32_t l4len;        /* bytes from l4 to the end of the datagram (capped by caplen) */
	const uint8_t *payload;
	uint32_t paylen;       /* payload bytes actually present */
	struct pkt_inner inner;
	int ifindex;           /* input (in) or output (out) interface, 0 unknown */
	const char *ifname;    /* NULL unknown */
};

/*
 * pkt_opt_next() - in a list of IPv4 or TCP options ending at @end, the
 * option after the one at @o (< @end): EOL ends the list (@end), NOP is one
 * byte, any other carries its length (>= 2). NULL when the one at @o is
 * malformed: its length byte is missing, below 2 or runs past @end.
 */
const uint8_t *pkt_opt_next(const uint8_t *o, const uint8_t *end);

/*
 * What the host's kernel was built with, where the stack's drops after the
 * input hook depend on it. Live, kernel_probe() sets it at engine start
 * (config `kernel-tcp-ao` / `kernel-mip6` auto); replay takes the config's
 * or, by default, a current distribution kernel's (both present). Set
 * before any packet is judged, only read after.
 */
struct pkt_kernel {
	bool tcp_ao; /* CONFIG_TCP_AO: a segment with a TCP-AO option is dropped without AO keys */
	bool mip6;   /* CONFIG_IPV6_MIP6: a type 2 routing header not for the home agent is dropped */
	/*
	 * Linux 6.7+ (tcp_do_parse_auth_options(), with CONFIG_TCP_MD5SIG or
	 * CONFIG_TCP_AO): a segment whose authentication options that parse
	 * fails on is dropped. Before 6.7, tcp_parse_md5sig_option() only
	 * found no signature in them, and the segment was taken.
	 */
	bool auth_parse;
};
extern struct pkt_kernel pkt_kernel;

/* The TCP options the flow table and the IPS read: window scale, timestamps, MD5, TCP-AO. */
struct pkt_tcp_opts {
	bool ws, ts, md5, tfo; /* tfo: Fast Open, a cookie or a request for one */
	bool sack;             /* SACK permitted (RFC 2018), which a SYN offers */
	bool ao;               /* a TCP-AO option (kind 29) where the kernel's auth parse reads it */
	bool auth_bad;         /* options the kernel's auth parse fails on (pkt_tcp_signed()) */
	uint8_t shift;         /* window scale, clamped to 14 as Linux does */
	uint32_t tsval, tsecr;
};

/* pkt_tcp_opts() - @p's, as tcp_parse_options() reads them: a list that breaks ends the walk. */
void pkt_tcp_opts(const struct pkt *p, struct pkt_tcp_opts *o);

/*
 * pkt_tcp_signed() - does a receiver without keys drop the segment whose
 * options are @o (tcp_inbound_hash())? A TCP MD5 signature; options the
 * kernel's authentication-option parse fails on (a kernel built with
 * CONFIG_TCP_MD5SIG, as distribution kernels are, or CONFIG_TCP_AO); a
 * TCP-AO option only on a kernel with TCP-AO (without it, kind 29 is an
 * unknown option, ignored).
 */
static inline bool pkt_tcp_signed(const struct pkt_tcp_opts *o)
{
	return o->md5 || o->auth_bad || (o->ao && pkt_kernel.tcp_ao);
}

/*
 * pkt_tcp_unread() - does TCP segment @p never reach TCP on the host? A
 * wrong checksum (live), IPv6 behind a header the stack drops after
 * netfilter's input hook, or a link-layer broadcast or multicast frame
 * (replay). Whatever its flags say, a RST's too, nothing happens there.
 */
static inline bool pkt_tcp_unread(const struct pkt *p)
{
	return p->csum_bad || p->v6_undelivered || p->l2_group;
}

/*
 * pkt_icmp_type_is_error() - is @type of protocol @proto (1 ICMP, 58
 * ICMPv6) an error (unreachable, source quench, redirect, time exceeded,
 * parameter problem, packet too big): one that quotes the packet it is
 * about? pkt_is_icmp_error() - is @p one?
 */
static inline bool pkt_icmp_type_is_error(uint8_t proto, uint8_t type)
{
	if (proto == 1)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return proto == 58 && type >= 1 && type <= 4;
}

static inline bool pkt_is_icmp_error(const struct pkt *p)
{
	return pkt_icmp_type_is_error(p->proto, p->icmp_type);
}

/* pkt_tcp_syn_fin() - a SYN|FIN without ACK: a listener drops it unread, conntrack calls it invalid. */
static inline bool pkt_tcp_syn_fin(const struct pkt *p)
{
	return (p->tcp_flags & (TCPF_SYN | TCPF_FIN | TCPF_ACK)) == (TCPF_SYN | TCPF_FIN);
}

/*
 * pkt_tcp_discarded() - does the host's stack discard TCP segment @p
 * whatever its connection's state? One it never reads, or a SYN|FIN.
 * Neither the flow's record nor the IPS stream may take it.
 */
static inline bool pkt_tcp_discarded(const struct pkt *p)
{
	return pkt_tcp_unread(p) || pkt_tcp_syn_fin(p);
}

/*
 * pkt_l4_csum_ok() - is @p's TCP or UDP checksum right? True when it
 * cannot tell (not all of the datagram captured, UDP's checksum 0 over
 * IPv4, another protocol): only a checksum seen to be wrong is false.
 */
bool pkt_l4_csum_ok(const struct pkt *p);
/*
 * pkt_l4_csum_taken() - the same where the kernel has not said whether it
 * verified the checksum (NFLOG): a field holding just the pseudo-header
 * sum, a local peer's unfilled one (CHECKSUM_PARTIAL over veth, or from a
 * VM), is taken too, as the receiving stack takes it.
 */
bool pkt_l4_csum_taken(const struct pkt *p);

/*
 * pkt_parse() - parse the IP packet at @data (@caplen bytes captured).
 * Returns 0, or -1 with *@why set to a sanity reason (R_TRUNCATED,
 * R_BAD_IHL, ...). Never reads past @caplen. Checksums are not checked.
 * @p->dir, ifindex and ifname are left as the caller set them.
 */
int pkt_parse(struct pkt *p, const uint8_t *data, uint32_t caplen, enum ll_reason *why);

/*
 * pkt_parse_wire() - pkt_parse() for a capture that may be cut by its snap
 * length: @wirelen is the packet's length on the wire from the IP header
 * (pcap's len minus the link header). An IP total/payload length above
 * @wirelen is R_BAD_LENGTH; above @caplen only, it is snaplen truncation and
 * the packet is judged on what is there (R_TRUNCATED when a header the engine
 * needs is missing). pkt_parse() is this with wirelen == caplen.
 */
int pkt_parse_wire(struct pkt *p, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
		   enum ll_reason *why);

#endif
