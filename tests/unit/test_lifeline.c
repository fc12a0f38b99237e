/* test_lifeline.c - SPEC section 5: every lifeline kind, what is not one, DHCP learning. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sys/socket.h>

#include "../../filter/engine_int.h" /* dhcp_tap_read() */
#include "heartbeat.h"
#include "helper_pcap.h"
#include "lifeline.h"

#define SEC 1000000ULL
#define T0 (1700000000ULL * SEC)

static ll_ip ip(const char *s)
{
	ll_ip a;

	assert_int_equal(ll_ip_parse(s, &a), 0);
	return a;
}

/* The host's addresses in these tests: what they send goes out. */
static bool from_host(const char *src)
{
	static const char *const host[] = { "198.51.100.2", "2001:db8::2", "fe80::2", "0.0.0.0" };

	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		if (!strcmp(src, host[i]))
			return true;
	return false;
}

static struct pkt tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pkt p = { 0 };

	p.dir = from_host(src) ? PKT_DIR_OUT : PKT_DIR_IN;
	p.src = ip(src);
	p.dst = ip(dst);
	p.family = ll_ip_is_v4(p.src) ? 4 : 6;
	p.proto = IPPROTO_TCP_;
	p.ttl = 64;
	p.sport = sport;
	p.dport = dport;
	p.l4_ok = 1;
	return p;
}

static struct pkt udp(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pkt p = tcp(src, sport, dst, dport);

	p.proto = IPPROTO_UDP_;
	return p;
}

static struct pkt icmp(const char *src, const char *dst, uint8_t type, uint8_t code, uint8_t ttl)
{
	struct pkt p = tcp(src, 0, dst, 0);

	p.proto = p.family == 4 ? IPPROTO_ICMP_ : IPPROTO_ICMPV6_;
	p.icmp_type = type;
	p.icmp_code = code;
	p.ttl = ttl;
	return p;
}

static void asked(struct lifeline *l, uint64_t now);
static int learn_again(struct lifeline *l, const struct pkt *p, uint64_t now);
struct msg;
static void reply6(struct msg *m, uint8_t type, uint32_t valid1, uint32_t valid2, bool dns);
static struct pkt v6reply(const struct msg *m);

/* A lifeline from config text (which must be valid). */
static void ll_bare(struct lifeline *l, const char *conf)
{
	struct ll_errlist e = { 0 };
	struct config c;

	assert_int_equal(config_load_string(&c, "t.conf", conf, &e), 0);
	lifeline_init(l, &c);
	config_free(&c);
}

/* The same, having sent the requests the tests' DHCP replies answer (at T0). */
static void ll_from(struct lifeline *l, const char *conf)
{
	ll_bare(l, conf);
	asked(l, T0);
}

#define HOST "198.51.100.2"
#define MGR "203.0.113.10"
#define OTHER "203.0.113.99"

static void test_heartbeat_with_manager(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "manager " MGR "\nmanager 2001:db8::10\n");
	/* the host connects out to the manager's 4120, both directions */
	p = tcp(HOST, 40112, MGR, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(MGR, 4120, HOST, 40112);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	/* the manager connects in to the host's 4118, both directions */
	p = tcp(MGR, 50000, HOST, 4118);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(HOST, 4118, MGR, 50000);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp("2001:db8::2", 40000, "2001:db8::10", 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	/* roles swapped: a manager connecting in to the host's 4120 ... */
	p = tcp(MGR, 50000, HOST, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = tcp(HOST, 4120, MGR, 50000);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* ... or the host connecting out to the manager's 4118 */
	p = tcp(HOST, 40000, MGR, 4118);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = tcp(MGR, 4118, HOST, 40000);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* an address that is not a manager's */
	p = tcp(HOST, 40112, OTHER, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = tcp(OTHER, 50000, HOST, 4118);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* UDP to the heartbeat port is not a heartbeat */
	p = udp(HOST, 40112, MGR, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* a fragment never matches */
	p = tcp(HOST, 40112, MGR, 4120);
	p.is_frag = 1;
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* nor a TCP header the parser did not complete */
	p = tcp(HOST, 40112, MGR, 4120);
	p.l4_ok = 0;
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
}

static void test_heartbeat_ports_from_config(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "manager " MGR "\nheartbeat-port 443\nagent-port 8443\n");
	p = tcp(HOST, 40112, MGR, 443);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(MGR, 1, HOST, 8443);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(HOST, 40112, MGR, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
}

static void test_heartbeat_any_manager(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	assert_true(l.any_manager);
	p = tcp(HOST, 40112, OTHER, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(OTHER, 4120, HOST, 40112);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(OTHER, 50000, HOST, 4118);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(HOST, 4118, OTHER, 50000);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	p = tcp(HOST, 40112, OTHER, 4119);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* every address is a manager, but the roles stay (SPEC 5): the host is never the peer */
	p = tcp(OTHER, 4118, HOST, 22); /* from "a manager's agent port" to any host port */
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = tcp(OTHER, 50000, HOST, 4120); /* in to the host's heartbeat port */
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = tcp(HOST, 50000, OTHER, 4118); /* out to an agent port */
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* replay that cannot tell the direction lets either side hold the ports */
	p = tcp(OTHER, 4118, HOST, 22);
	p.dir_guessed = true;
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
}

/* The host's own resolver as a DNS server: its port 53 is no lifeline for anyone else. */
static void test_dns_own_address(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "dns-server " HOST "\n");
	p = tcp(OTHER, 40000, HOST, 53);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = udp(HOST, 53, OTHER, 40000);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
}

static void test_heartbeat_named_manager(void **state)
{
	struct lifeline l;
	ll_ip m[2] = { ip(MGR), ip(OTHER) };
	struct pkt p;

	(void)state;
	ll_from(&l, "manager mgr.example.com\n");
	/* a name not yet resolved matches nothing, it does not open the ports to all */
	assert_false(l.any_manager);
	p = tcp(HOST, 40112, OTHER, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	lifeline_set_managers(&l, m, 2);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
	lifeline_set_managers(&l, m, 1);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = tcp(HOST, 40112, MGR, 4120);
	assert_int_equal(lifeline_match(&l, &p, T0), R_HEARTBEAT);
}

/* UDP datagrams that are no DHCP client traffic (a TCP one too, @tcp). */
static const struct {
	bool tcp;
	const char *src, *dst;
	uint16_t sport, dport;
} not_dhcp[] = {
	{ false, "10.0.0.1", "10.0.0.2", 67, 67 },
	{ false, "10.0.0.1", "10.0.0.2", 68, 68 },
	{ false, "fe80::1", "fe80::2", 547, 547 },
	{ true, "10.0.0.1", "10.0.0.2", 68, 67 },
	{ false, "10.0.0.1", "10.0.0.2", 12345, 67 },
	/* each family's own ports (SPEC 5): not DHCPv4's over IPv6, nor DHCPv6's over IPv4 */
	{ false, "2001:db8::2", "2001:db8::1", 68, 67 },
	{ false, "2001:db8::1", "2001:db8::2", 67, 68 },
	{ false, "198.51.100.2", "198.51.100.1", 546, 547 },
	{ false, "198.51.100.1", "198.51.100.2", 547, 546 },
};

static void test_dhcp(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "manager " MGR "\n");
	p = udp("0.0.0.0", 68, "255.255.255.255", 67);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DHCP);
	p = udp("192.168.1.1", 67, "255.255.255.255", 68);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DHCP);
	p = udp("192.168.1.1", 67, "192.168.1.4", 68);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DHCP);
	p = udp("fe80::1", 546, "ff02::1:2", 547);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DHCP);
	p = udp("fe80::2", 547, "fe80::1", 546);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DHCP);
	for (size_t i = 0; i < sizeof(not_dhcp) / sizeof(not_dhcp[0]); i++) {
		p = (not_dhcp[i].tcp ? tcp : udp)(not_dhcp[i].src, not_dhcp[i].sport, not_dhcp[i].dst,
						  not_dhcp[i].dport);
		assert_int_equal(lifeline_match(&l, &p, T0), -1);
	}
	p = udp("0.0.0.0", 68, "255.255.255.255", 67);
	p.is_frag = 1;
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
}

static void test_dns_configured(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "dns-server 198.51.100.1\ndns-server 2001:db8::53\n");
	/* the server's answer before any query: ordinary (it reached ssh, snmp, any port) */
	p = udp("198.51.100.1", 53, HOST, 33333);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = udp(HOST, 33333, "198.51.100.1", 53);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DNS);
	lifeline_note_query(&l, &p, T0);
	p = udp("198.51.100.1", 53, HOST, 33333);
	assert_int_equal(lifeline_match(&l, &p, T0 + SEC), R_DNS);
	assert_int_equal(lifeline_match(&l, &p, T0 - SEC), R_DNS); /* a capture's clock stepped back */
	/* a little: stepped back past the 120 s an answer has, not */
	assert_int_equal(lifeline_match(&l, &p, T0 - 120 * SEC), -1);
	assert_int_equal(lifeline_match(&l, &p, T0 - 3600 * SEC), -1);
	/* to another port, or TCP to that port, or once the query is 120 s old: ordinary */
	p = udp("198.51.100.1", 53, HOST, 161);
	assert_int_equal(lifeline_match(&l, &p, T0 + SEC), -1);
	p = tcp("198.51.100.1", 53, HOST, 33333);
	assert_int_equal(lifeline_match(&l, &p, T0 + SEC), -1);
	p = udp("198.51.100.1", 53, HOST, 33333);
	assert_int_equal(lifeline_match(&l, &p, T0 + 120 * SEC), -1);
	/* an answer notes nothing: it does not open the port */
	lifeline_note_query(&l, &p, T0 + 120 * SEC);
	assert_int_equal(lifeline_match(&l, &p, T0 + 121 * SEC), -1);
	p = tcp(HOST, 33333, "198.51.100.1", 53);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DNS);
	lifeline_note_query(&l, &p, T0 + 1000000 * SEC);
	p = tcp("198.51.100.1", 53, HOST, 33333);
	/* configured servers never expire */
	assert_int_equal(lifeline_match(&l, &p, T0 + 1000000 * SEC), R_DNS);
	p = udp("2001:db8::2", 33333, "2001:db8::53", 53);
	assert_int_equal(lifeline_match(&l, &p, T0), R_DNS);
	/* DNS to any other server is ordinary traffic */
	p = udp(HOST, 33333, "8.8.8.8", 53);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = udp("8.8.8.8", 53, HOST, 33333);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* the server, but not port 53 */
	p = udp(HOST, 33333, "198.51.100.1", 5353);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* the server's address as the client of a port-53 exchange: the server port decides */
	p = udp("198.51.100.1", 33333, "8.8.8.8", 53);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* a config read again (SIGHUP) keeps the queries under way */
	p = tcp("198.51.100.1", 53, HOST, 33333);
	lifeline_reinit(&l, &(struct config){ 0 });
	lifeline_add_dns(&l, ll_ip_from_v4(0xc6336401)); /* 198.51.100.1 */
	assert_int_equal(lifeline_match(&l, &p, T0 + 1000000 * SEC), R_DNS);
	/* the ring full, and full many times over: its count stays past its size, the newest match */
	for (uint32_t i = 0; i < 3 * LIFELINE_MAX_QUERIES; i++) {
		p = udp(HOST, (uint16_t)(30000 + i % 2048), "198.51.100.1", 53);
		lifeline_note_query(&l, &p, T0 + 1000600 * SEC);
		assert_true(l.nqueries < 2 * LIFELINE_MAX_QUERIES);
	}
	assert_true(l.nqueries >= LIFELINE_MAX_QUERIES);
	p = udp("198.51.100.1", 53, HOST, 30000 + (3 * LIFELINE_MAX_QUERIES - 1) % 2048);
	assert_int_equal(lifeline_match(&l, &p, T0 + 1000601 * SEC), R_DNS);
}

static void test_icmp(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	p = icmp("192.0.2.1", HOST, 3, 4, 60);
	assert_int_equal(lifeline_match(&l, &p, T0), R_ICMP_PMTU);
	p = icmp("192.0.2.1", HOST, 3, 3, 60);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = icmp("192.0.2.1", HOST, 8, 0, 64);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = icmp("2001:db8::1", "2001:db8::2", 2, 0, 60);
	assert_int_equal(lifeline_match(&l, &p, T0), R_ICMP6_PMTU);
	/* ICMPv4 type 2 is not packet-too-big */
	p = icmp("192.0.2.1", HOST, 2, 0, 60);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* an ICMPv6 type 3/4 is not the IPv4 twin */
	p = icmp("2001:db8::1", "2001:db8::2", 3, 4, 60);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = icmp("192.0.2.1", HOST, 3, 4, 60);
	p.is_frag = 1;
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
}

static void test_ndp(void **state)
{
	struct lifeline l;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	for (uint8_t t = 133; t <= 136; t++) {
		p = icmp("fe80::1", "ff02::1", t, 0, 255);
		assert_int_equal(lifeline_match(&l, &p, T0), R_NDP);
		p = icmp("fe80::1", "ff02::1", t, 0, 254);
		assert_int_equal(lifeline_match(&l, &p, T0), -1);
		p = icmp("fe80::1", "ff02::1", t, 0, 1);
		assert_int_equal(lifeline_match(&l, &p, T0), -1);
	}
	p = icmp("fe80::1", "ff02::1", 137, 0, 255); /* redirect */
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = icmp("fe80::1", "ff02::1", 132, 0, 255);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	p = icmp("fe80::1", "ff02::1", 128, 0, 255);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
	/* ICMPv4 135 with TTL 255 is nothing */
	p = icmp("192.0.2.1", HOST, 135, 0, 255);
	assert_int_equal(lifeline_match(&l, &p, T0), -1);
}

/* ---- DHCPv4 messages made by hand ---- */

struct msg {
	uint8_t b[1500];
	size_t len;
};

/* A BOOTREPLY with the magic cookie; options are appended with opt(). */
static void bootp(struct msg *m, uint8_t op)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = op;
	m->b[1] = 1;
	m->b[2] = 6;
	m->b[236] = 99;
	m->b[237] = 130;
	m->b[238] = 83;
	m->b[239] = 99;
	m->len = 240;
}

static void opt(struct msg *m, uint8_t code, const void *v, uint8_t len)
{
	m->b[m->len++] = code;
	m->b[m->len++] = len;
	memcpy(m->b + m->len, v, len);
	m->len += len;
}

static void opt_end(struct msg *m)
{
	m->b[m->len++] = 255;
}

static void ack(struct msg *m, uint8_t type, uint32_t lease, const char *dns)
{
	uint8_t lt[4] = { (uint8_t)(lease >> 24), (uint8_t)(lease >> 16), (uint8_t)(lease >> 8),
			  (uint8_t)lease };

	bootp(m, 2);
	opt(m, 53, &type, 1);
	if (lease)
		opt(m, 51, lt, 4);
	if (dns)
		opt(m, 6, dns, (uint8_t)strlen(dns));
	opt_end(m);
}

static struct pkt udp_msg(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			  const struct msg *m)
{
	struct pkt p = udp(src, sport, dst, dport);

	p.payload = m->b;
	p.paylen = (uint32_t)m->len;
	return p;
}

static struct pkt v4reply(const struct msg *m)
{
	return udp_msg("192.168.1.1", 67, "255.255.255.255", 68, m);
}

#define DNS_A "\xc0\xa8\x01\x01"  /* 192.168.1.1 */
#define DNS_B "\x08\x08\x08\x08"  /* 8.8.8.8 */
#define DNS_C "\x01\x01\x01\x01"  /* 1.1.1.1 */

static int dns_lookup(const struct lifeline *l, const char *addr, uint64_t now)
{
	struct pkt p = udp(HOST, 33333, addr, 53);

	return lifeline_match(l, &p, now);
}

static void test_learn_ack(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;
	uint64_t changes;

	(void)state;
	ll_from(&l, "");
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), -1);
	/* an OFFER teaches nothing */
	ack(&m, 2, 3600, DNS_A DNS_B);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), -1);
	/* a NAK neither */
	ack(&m, 6, 0, DNS_A);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* the ACK does, both servers, until the lease ends */
	changes = l.dns_changes;
	ack(&m, 5, 3600, DNS_A DNS_B);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 2);
	assert_true(l.dns_changes > changes);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0 + 3599 * SEC), R_DNS);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0 + 3600 * SEC), -1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 7200 * SEC), -1);
	/* an ACK the host sends is its own DHCP server's, not its lease */
	p = v4reply(&m);
	p.dir = PKT_DIR_OUT;
	assert_int_equal(learn_again(&l, &p, T0), 0);
	p.dir = PKT_DIR_IN;
	assert_int_equal(learn_again(&l, &p, T0), 2);
	/* the same ACK from the client's side (68 -> 67) is a request, not a lease */
	p = udp_msg("192.168.1.4", 68, "192.168.1.1", 67, &m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* a BOOTREQUEST carrying type 5 is no ACK */
	bootp(&m, 1);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, DNS_C, 4);
	opt_end(&m);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* a later ACK replaces the learned servers */
	ack(&m, 5, 0xffffffffu, DNS_C);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0 + 10 * SEC), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 11 * SEC), -1);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0 + 11 * SEC), -1);
	/* an infinite lease never expires */
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + 100000000 * SEC), R_DNS);
	/* an ACK without option 6 leaves them alone */
	ack(&m, 5, 60, NULL);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0 + 20 * SEC), 0);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + 100000000 * SEC), R_DNS);
}

static void test_learn_no_lease_time(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	/* an ACK to an INFORM carries no lease time: kept until replaced */
	ack(&m, 5, 0, DNS_A);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(l.dns[0].expires_us, 0);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 1000000 * SEC), R_DNS);
}

static void test_learn_keeps_configured(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "dns-server 8.8.8.8\n");
	ack(&m, 5, 60, DNS_A DNS_B);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 2);
	ack(&m, 5, 60, DNS_C);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 1);
	/* 8.8.8.8 is configured: not replaced, never expires */
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0 + 100000 * SEC), R_DNS);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), -1);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + 61 * SEC), -1);
	/* a static server added later (resolv.conf) makes a learned one static */
	lifeline_add_dns(&l, ip("1.1.1.1"));
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + 61 * SEC), R_DNS);
}

static void test_learn_overload(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	/* option 52 = 3: options go on in `file` (first) and then `sname` */
	ll_from(&l, "");
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 52, "\x03", 1);
	opt_end(&m);
	memcpy(m.b + 108, "\x06\x04" DNS_A "\xff", 7);          /* file */
	memcpy(m.b + 44, "\x33\x04\x00\x00\x0e\x10\xff", 7);    /* sname: lease 3600 */
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 3599 * SEC), R_DNS);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 3600 * SEC), -1);

	/* without option 52 the same bytes in `file` are a boot file name */
	ll_from(&l, "");
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt_end(&m);
	memcpy(m.b + 108, "\x06\x04" DNS_A "\xff", 7);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);

	/* option 52 = 2 (sname only): `file` stays a file name */
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 52, "\x02", 1);
	opt_end(&m);
	memcpy(m.b + 108, "\x06\x04" DNS_B "\xff", 7);
	memcpy(m.b + 44, "\x06\x04" DNS_C "\xff", 7);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0), -1);

	/* option 52 in the overloaded area itself is not honoured */
	ll_from(&l, "");
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 52, "\x01", 1);
	opt_end(&m);
	memcpy(m.b + 108, "\x34\x01\x02\x06\x04" DNS_A "\xff", 9);
	memcpy(m.b + 44, "\x06\x04" DNS_C "\xff", 7);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), -1);
}

/* RFC 3396: an option split into several instances is their concatenation. */
static void test_learn_split_option(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, DNS_A "\x08\x08", 6);
	m.b[m.len++] = 0; /* a pad between the parts */
	opt(&m, 6, "\x08\x08" DNS_C, 6);
	opt_end(&m);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 3);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), R_DNS);
}

/*
 * Option 53 as the clients read it: ISC dhclient joins the instances (RFC
 * 3396), busybox udhcpc reads the first one, sd-dhcp-client refuses any
 * length but 1. [2 5] then [5] is an OFFER to the first two: the client,
 * REQUESTING, ignores it, so it neither teaches nor closes the request.
 */
static void test_learn_msgtype_as_clients_read(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	bootp(&m, 2);
	opt(&m, 53, "\x02\x05", 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, DNS_C, 4);
	opt_end(&m);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), -1);
	/* [5 5]: an ACK to two clients, no message to the third */
	bootp(&m, 2);
	opt(&m, 53, "\x05\x05", 2);
	opt(&m, 6, DNS_C, 4);
	opt_end(&m);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	/* [5] then [6]: sd-dhcp-client takes the NAK */
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 53, "\x06", 1);
	opt(&m, 6, DNS_C, 4);
	opt_end(&m);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), -1);
	/* none closed the request: the real ACK, [5] twice, is learned */
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, DNS_A, 4);
	opt_end(&m);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
}

static void test_learn_malformed(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	/* option 6 says 8 bytes, the message ends after 4 */
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	m.b[m.len++] = 6;
	m.b[m.len++] = 8;
	memcpy(m.b + m.len, DNS_A, 4);
	m.len += 4;
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* a length byte as the very last byte */
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, DNS_A, 4);
	m.b[m.len++] = 12;
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* shorter than the BOOTP header, and no cookie */
	ack(&m, 5, 60, DNS_A);
	p = v4reply(&m);
	p.paylen = 239;
	assert_int_equal(learn_again(&l, &p, T0), 0);
	m.b[236] = 0;
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* no payload at all */
	p.payload = NULL;
	p.paylen = 0;
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* an option 6 that is no multiple of 4: the whole addresses count */
	ack(&m, 5, 60, DNS_A "\x01\x02");
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 1);
	/* an END-less area padded to its end is accepted */
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, DNS_C, 4);
	m.len += 20;
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 1);
	assert_int_equal(l.ndns, 1);
}

/*
 * Every length of a well-formed ACK cut short is handled without reading
 * past it, and teaches no server the ACK does not name; whole, it teaches
 * all three.
 */
static void test_learn_truncations(void **state)
{
	struct lifeline l;
	struct msg m;
	uint8_t *copy;
	ll_ip named[3];

	(void)state;
	ll_ip_parse("192.168.1.1", &named[0]);
	ll_ip_parse("8.8.8.8", &named[1]);
	ll_ip_parse("1.1.1.1", &named[2]);
	ack(&m, 5, 60, DNS_A DNS_B DNS_C);
	for (size_t n = 0; n <= m.len; n++) {
		struct pkt p;

		ll_from(&l, "");
		copy = malloc(n ? n : 1); /* exact size: ASan flags any overread */
		assert_non_null(copy);
		memcpy(copy, m.b, n);
		p = udp("192.168.1.1", 67, "192.168.1.4", 68);
		p.payload = copy;
		p.paylen = (uint32_t)n;
		lifeline_learn(&l, &p, T0);
		free(copy);
		for (uint32_t i = 0; i < l.ndns; i++)
			assert_true(ll_ip_eq(l.dns[i].addr, named[0]) || ll_ip_eq(l.dns[i].addr, named[1]) ||
				    ll_ip_eq(l.dns[i].addr, named[2]));
	}
	assert_int_equal(l.ndns, 3);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), R_DNS);
}

static void test_learn_bounded(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;
	uint8_t many[252];

	(void)state;
	ll_from(&l, "dns-server 10.255.255.1\n");
	for (int i = 0; i < 63; i++) {
		many[4 * i] = 10;
		many[4 * i + 1] = 0;
		many[4 * i + 2] = (uint8_t)(i >> 8);
		many[4 * i + 3] = (uint8_t)(i + 1);
	}
	bootp(&m, 2);
	opt(&m, 53, "\x05", 1);
	opt(&m, 6, many, 252);
	opt(&m, 6, many, 252); /* the same again: duplicates collapse */
	opt_end(&m);
	p = v4reply(&m);
	/* half the room a family: a DHCPv6 Reply still finds room for its servers */
	assert_int_equal(lifeline_learn(&l, &p, T0), LIFELINE_MAX_DNS / 2);
	assert_int_equal(l.ndns, 1 + LIFELINE_MAX_DNS / 2);
	reply6(&m, 7, 3600, 3600, true);
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 2);
	assert_int_equal(dns_lookup(&l, "2001:db8::54", T0), R_DNS);
	/* full: more static servers are dropped, nothing overflows */
	for (int i = 0; i < 100; i++)
		lifeline_add_dns(&l, ll_ip_from_v4(0x0b000000u + (uint32_t)i));
	assert_int_equal(l.ndns, LIFELINE_MAX_DNS);
}

/* ---- DHCPv6 ---- */

static void put16(struct msg *m, uint16_t v)
{
	m->b[m->len++] = (uint8_t)(v >> 8);
	m->b[m->len++] = (uint8_t)v;
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void put_ip6(struct msg *m, const char *s)
{
	uint8_t b[16];

	ll_ip_to_bytes(ip(s), b);
	memcpy(m->b + m->len, b, 16);
	m->len += 16;
}

/* A Reply (or @type) with an IA_NA of two addresses and option 23. */
static void reply6(struct msg *m, uint8_t type, uint32_t valid1, uint32_t valid2, bool dns)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = type;
	m->b[1] = 0x12;
	m->b[2] = 0x34;
	m->b[3] = 0x56;
	m->len = 4;
	put16(m, 2);		/* Server Identifier: DUID-LL */
	put16(m, 10);
	put32(m, 0x00030001);
	put32(m, 0x02000000);
	put16(m, 0x0001);
	put16(m, 3);		/* IA_NA */
	put16(m, 12 + 2 * 28);
	put32(m, 1);
	put32(m, 0);
	put32(m, 0);
	put16(m, 5);		/* IAADDR */
	put16(m, 24);
	put_ip6(m, "2001:db8::100");
	put32(m, valid1 / 2);
	put32(m, valid1);
	put16(m, 5);
	put16(m, 24);
	put_ip6(m, "2001:db8::101");
	put32(m, valid2 / 2);
	put32(m, valid2);
	if (dns) {
		put16(m, 23);
		put16(m, 32);
		put_ip6(m, "2001:db8::53");
		put_ip6(m, "2001:db8::54");
	}
}

static struct pkt v6reply(const struct msg *m)
{
	return udp_msg("fe80::1", 547, "fe80::2", 546, m);
}

/* What the Reply @m teaches at T0: lifeline_learn()'s count. */
static int learn6(struct lifeline *l, const struct msg *m)
{
	struct pkt p = v6reply(m);

	return lifeline_learn(l, &p, T0);
}

/* The host's DHCPREQUEST (xid @xid) out of interface @ifindex (0: unknown). */
static void request4(struct lifeline *l, uint32_t xid, int ifindex, uint64_t now)
{
	struct msg m;
	struct pkt p;

	bootp(&m, 1);
	m.b[4] = (uint8_t)(xid >> 24);
	m.b[5] = (uint8_t)(xid >> 16);
	m.b[6] = (uint8_t)(xid >> 8);
	m.b[7] = (uint8_t)xid;
	opt(&m, 53, "\x03", 1);
	opt_end(&m);
	p = udp_msg("0.0.0.0", 68, "255.255.255.255", 67, &m);
	p.dir = PKT_DIR_OUT;
	p.ifindex = ifindex;
	assert_int_equal(lifeline_learn(l, &p, now), 0);
}

/* The host's DHCPREQUEST (xid @xid) and DHCPv6 Request (transaction id @txid). */
static void request(struct lifeline *l, uint32_t xid, uint32_t txid, uint64_t now)
{
	struct msg m;
	struct pkt p;

	request4(l, xid, 0, now);
	memset(&m, 0, sizeof(m));
	m.b[0] = 3; /* Request */
	m.b[1] = (uint8_t)(txid >> 16);
	m.b[2] = (uint8_t)(txid >> 8);
	m.b[3] = (uint8_t)txid;
	m.len = 4;
	p = udp_msg("fe80::2", 546, "ff02::1:2", 547, &m);
	p.dir = PKT_DIR_OUT;
	assert_int_equal(lifeline_learn(l, &p, now), 0);
}

/* bootp() leaves the xid 0; reply6() writes 0x123456. */
static void asked(struct lifeline *l, uint64_t now)
{
	request(l, 0, 0x123456, now);
}

/* A reply to a request of its own (the host asked again, as for a renewal): one reply a transaction is learned. */
static int learn_again(struct lifeline *l, const struct pkt *p, uint64_t now)
{
	asked(l, now);
	return lifeline_learn(l, p, now);
}

/* Option 1 (Client Identifier): a DUID-LL of hardware address ..:@last. */
static void put_duid(struct msg *m, uint8_t last)
{
	static const uint8_t duid[10] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 0 };

	put16(m, 1);
	put16(m, sizeof(duid));
	memcpy(m->b + m->len, duid, sizeof(duid));
	m->b[m->len + sizeof(duid) - 1] = last;
	m->len += sizeof(duid);
}

/* A DHCPv6 Reply is the answer to a Request that named a client only when it names the same one. */
static void test_learn_v6_client_id(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	memset(&m, 0, sizeof(m));
	m.b[0] = 3; /* Request, transaction 0x123456, client ..:01 */
	m.b[1] = 0x12, m.b[2] = 0x34, m.b[3] = 0x56;
	m.len = 4;
	put_duid(&m, 1);
	p = udp_msg("fe80::2", 546, "ff02::1:2", 547, &m);
	p.dir = PKT_DIR_OUT;
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	reply6(&m, 7, 3600, 3600, true);
	put_duid(&m, 2); /* for another client: dropped by this one */
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), -1);
	reply6(&m, 7, 3600, 3600, true);
	put_duid(&m, 1);
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 2);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), R_DNS);
}

/*
 * A second ACK in a transaction the client already closed (it bound on the
 * first and ignores the rest) teaches nothing: anyone who saw the broadcast
 * request knows its xid.
 */
static void test_learn_one_reply_per_request(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	ack(&m, 5, 0xffffffffu, DNS_C);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + SEC), 0);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + SEC), R_DNS);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + SEC), -1);
	/* the next request (a renewal) is answered again */
	assert_int_equal(learn_again(&l, &p, T0 + 2 * SEC), 1);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + 2 * SEC), R_DNS);
	/* the client takes an ACK without DNS servers as well: one after it teaches nothing */
	ack(&m, 5, 3600, NULL);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0 + 3 * SEC), 0);
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 4 * SEC), 0);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 4 * SEC), -1);
	/*
	 * A reply the client drops does not close its request: one for another
	 * chaddr, or (live) with a wrong UDP checksum; the real one after it is
	 * learned (rev19: a spoofed one cost the host its DNS lifeline)
	 */
	asked(&l, T0 + 4 * SEC);
	ack(&m, 5, 3600, DNS_C);
	m.b[28] = 0x02; /* another chaddr */
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 4 * SEC), 0);
	ack(&m, 5, 3600, DNS_C);
	p = v4reply(&m);
	p.csum_bad = true;
	assert_int_equal(lifeline_learn(&l, &p, T0 + 4 * SEC), 0);
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 4 * SEC), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 4 * SEC), R_DNS);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0 + 4 * SEC), -1);
	/* DHCPv6: a Reply without option 23 closes its transaction too */
	{
		struct msg m6;
		struct pkt q;

		reply6(&m6, 7, 3600, 3600, false);
		q = v6reply(&m6);
		assert_int_equal(learn_again(&l, &q, T0 + 5 * SEC), 0);
		reply6(&m6, 7, 3600, 3600, true);
		q = v6reply(&m6);
		assert_int_equal(lifeline_learn(&l, &q, T0 + 6 * SEC), 0);
		assert_int_equal(learn_again(&l, &q, T0 + 7 * SEC), 2);
		/*
		 * A Reply behind a header the stack drops after the input hook
		 * (an unknown "discard" destination option): the client never
		 * reads it, so it neither teaches nor closes the transaction;
		 * the real one after it is learned.
		 */
		reply6(&m6, 7, 3600, 3600, true);
		q = v6reply(&m6);
		q.v6_undelivered = true;
		assert_int_equal(learn_again(&l, &q, T0 + 8 * SEC), 0);
		q.v6_undelivered = false;
		assert_int_equal(lifeline_learn(&l, &q, T0 + 8 * SEC), 2);
	}
}

/*
 * A Reply without a Server Identifier: every client discards it (RFC 8415
 * 16.10; ISC dhclient: "Response without a server identifier received"), so
 * it teaches nothing and leaves its transaction open for the real one.
 */
static void test_learn_v6_reply_needs_server_id(void **state)
{
	struct lifeline l;
	struct msg m;

	(void)state;
	ll_from(&l, "");
	reply6(&m, 7, 3600, 3600, true);
	memmove(m.b + 4, m.b + 18, m.len - 18); /* without its 14-byte Server Identifier */
	m.len -= 14;
	assert_int_equal(learn6(&l, &m), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), -1);
	reply6(&m, 7, 3600, 3600, true);
	assert_int_equal(learn6(&l, &m), 2);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), R_DNS);
}

/*
 * What a client takes no configuration from teaches nothing (v6hunt20 F7):
 * a Reply with a message-level Status Code other than Success, option 23
 * inside an IA (RFC 3646 places it in the message), and a Reply to the
 * host's Release. The first two leave the transaction open for the real one.
 */
static void test_learn_v6_only_what_the_client_takes(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	reply6(&m, 7, 3600, 3600, true);
	put16(&m, 13); /* Status Code: UnspecFail */
	put16(&m, 2);
	put16(&m, 1);
	assert_int_equal(learn6(&l, &m), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), -1);
	/* Success (0) is a Reply like any other: the transaction was still open */
	m.b[m.len - 1] = 0;
	assert_int_equal(learn6(&l, &m), 2);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), R_DNS);

	ll_from(&l, "");
	reply6(&m, 7, 3600, 3600, false);
	assert_int_equal(m.b[18] << 8 | m.b[19], 3); /* the IA_NA, after the Server Identifier */
	m.b[21] = (uint8_t)(m.b[21] + 20);            /* option 23 inside it, at its end */
	put16(&m, 23);
	put16(&m, 16);
	put_ip6(&m, "2001:db8::66");
	assert_int_equal(learn6(&l, &m), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::66", T0), -1);

	/* the host's Release (8), then a Reply with its xid: no request of the host's */
	ll_bare(&l, "");
	memset(&m, 0, sizeof(m));
	m.b[0] = 8;
	m.b[1] = 0x12, m.b[2] = 0x34, m.b[3] = 0x56;
	m.len = 4;
	p = udp_msg("fe80::2", 546, "ff02::1:2", 547, &m);
	p.dir = PKT_DIR_OUT;
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	reply6(&m, 7, 3600, 3600, true);
	assert_int_equal(learn6(&l, &m), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), -1);
}

/* A host with DHCP on two interfaces keeps both leases' servers; each lease replaces its own. */
static void test_learn_per_interface(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	p.ifindex = 2;
	assert_int_equal(learn_again(&l, &p, T0), 1);
	ack(&m, 5, 3600, DNS_B);
	p = v4reply(&m);
	p.ifindex = 3;
	assert_int_equal(learn_again(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0), R_DNS);
	/* interface 2's renewal names another server: 3's stays */
	ack(&m, 5, 3600, DNS_C);
	p = v4reply(&m);
	p.ifindex = 2;
	assert_int_equal(learn_again(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), -1);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0), R_DNS);
	/* a lease whose interface is unknown replaces the family's, as before */
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "1.1.1.1", T0), -1);
	assert_int_equal(dns_lookup(&l, "8.8.8.8", T0), -1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
}

/*
 * Anyone can send UDP 67 -> 68 (the kernel lifeline accepts it): a reply
 * teaches only when it answers a request the host made, recently.
 */
static void test_learn_needs_request(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_bare(&l, "");
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	/* no request at all: a forged ACK names no server */
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), -1);
	assert_int_equal(l.unasked, 1);
	reply6(&m, 7, 3600, 3600, true);
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), -1);
	/* another transaction's id: nothing; a v4 request does not vouch for a v6 reply */
	request(&l, 0x0badf00d, 0x000001, T0);
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + SEC), 0);
	request(&l, 0x123456, 0x000002, T0);
	reply6(&m, 7, 3600, 3600, true);
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + SEC), 0);
	/* the answer to the host's request teaches, within LIFELINE_ASKED_US */
	request(&l, 0, 0x123456, T0 + 10 * SEC);
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 10 * SEC + LIFELINE_ASKED_US + 1), 0);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 10 * SEC + LIFELINE_ASKED_US), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + 200 * SEC), R_DNS);
	reply6(&m, 7, 3600, 3600, true);
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 11 * SEC), 2);
	/* a retransmitted request keeps its transaction open */
	request(&l, 0, 0x123456, T0 + 100 * SEC);
	ack(&m, 5, 3600, DNS_B);
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 200 * SEC), 1);
	/* sixteen later transactions push the old one out */
	for (uint32_t i = 1; i <= LIFELINE_MAX_ASKED; i++)
		request(&l, i, i, T0 + 200 * SEC);
	assert_int_equal(lifeline_learn(&l, &p, T0 + 201 * SEC), 0);
}

/* A reply answers the request only on the device the request left by: another device's is forged. */
static void test_learn_reply_on_request_device(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_bare(&l, "");
	request4(&l, 0, 2, T0);
	ack(&m, 5, 3600, DNS_A);
	p = v4reply(&m);
	p.ifindex = 3; /* same xid, another network */
	assert_int_equal(lifeline_learn(&l, &p, T0 + SEC), 0);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + SEC), -1);
	p.ifindex = 2;
	assert_int_equal(lifeline_learn(&l, &p, T0 + SEC), 1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0 + SEC), R_DNS);
}

/* An IAADDR outside any IA is no address of the host's: its lifetime ends no lease. */
static void test_learn_iaaddr_outside_ia(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	memset(&m, 0, sizeof(m));
	m.b[0] = 7; /* Reply */
	m.b[1] = 0x12;
	m.b[2] = 0x34;
	m.b[3] = 0x56;
	m.len = 4;
	put16(&m, 2); /* Server Identifier: DUID-LL */
	put16(&m, 10);
	put32(&m, 0x00030001);
	put32(&m, 0x02000000);
	put16(&m, 0x0001);
	put16(&m, 5); /* IAADDR at the top level, valid 10 s */
	put16(&m, 24);
	put_ip6(&m, "2001:db8::100");
	put32(&m, 5);
	put32(&m, 10);
	put16(&m, 23);
	put16(&m, 16);
	put_ip6(&m, "2001:db8::53");
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0 + 60 * SEC), R_DNS);
}

/*
 * The heartbeat watch behind status's "online": an exchange needs both
 * directions; management is offline once max-missed whole intervals pass
 * without one (not one later), stays offline while only the host keeps
 * trying, and is online again at the manager's first answer.
 */
static void test_heartbeat_watch(void **state)
{
	struct hb_watch h;
	ll_ip host, mgr;

	(void)state;
	assert_int_equal(ll_ip_parse("198.51.100.2", &host), 0);
	assert_int_equal(ll_ip_parse("203.0.113.10", &mgr), 0);
	hb_init(&h, T0);
	hb_seen(&h, host, mgr, true, T0 + 1 * SEC);
	hb_seen(&h, mgr, host, false, T0 + 1 * SEC + 100);
	assert_int_equal(hb_tick(&h, T0 + 15 * SEC, 5, 3), HB_SAME); /* 2 whole intervals */
	assert_true(h.online);
	assert_int_equal(hb_tick(&h, T0 + 16 * SEC, 5, 3), HB_OFFLINE);
	assert_int_equal(h.missed, 3);
	for (uint64_t t = 20; t < 100; t += 5) /* the host retries, the manager is silent */
		hb_seen(&h, host, mgr, true, T0 + t * SEC);
	assert_int_equal(hb_tick(&h, T0 + 100 * SEC, 5, 3), HB_SAME);
	assert_false(h.online);
	assert_int_equal(h.missed, 19);
	hb_seen(&h, mgr, host, false, T0 + 101 * SEC);
	assert_int_equal(hb_tick(&h, T0 + 102 * SEC, 5, 3), HB_ONLINE);
	assert_int_equal(hb_exchange_us(&h.peers[0]), T0 + 95 * SEC);
}

static void test_learn_dhcpv6(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	/* an Advertise teaches nothing */
	reply6(&m, 2, 7200, 3600, true);
	p = v6reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	/* a Reply does; the shortest valid lifetime bounds it */
	reply6(&m, 7, 7200, 3600, true);
	p = v6reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 2);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0 + 3599 * SEC), R_DNS);
	assert_int_equal(dns_lookup(&l, "2001:db8::54", T0 + 3600 * SEC), -1);
	/* a v4 ACK does not replace the v6 servers */
	{
		struct msg m4;
		struct pkt p4;

		ack(&m4, 5, 60, DNS_A);
		p4 = v4reply(&m4);
		assert_int_equal(lifeline_learn(&l, &p4, T0), 1);
	}
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
	/* a zero lifetime (address withdrawn) is ignored; infinite means no expiry */
	reply6(&m, 7, 0, 0xffffffffu, true);
	p = v6reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 2);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0 + 100000000 * SEC), R_DNS);
	/* a v6 Reply does not replace the v4 servers */
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
	/* a Reply without option 23 changes nothing */
	reply6(&m, 7, 60, 60, false);
	p = v6reply(&m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
	assert_int_equal(dns_lookup(&l, "2001:db8::54", T0), R_DNS);
	/* client to server is not a Reply */
	reply6(&m, 7, 60, 60, true);
	p = udp_msg("fe80::2", 546, "ff02::1:2", 547, &m);
	assert_int_equal(learn_again(&l, &p, T0), 0);
}

/*
 * A Reply's option 23 names IPv6 servers: a v4-mapped address there would
 * put an IPv4 address in the DNS lifeline (and its kernel set) through
 * DHCPv6; a multicast one, of either family, names no server.
 */
static void test_learn_no_foreign_servers(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	reply6(&m, 7, 3600, 3600, false);
	put16(&m, 23);
	put16(&m, 48);
	put_ip6(&m, "::ffff:192.0.2.53");
	put_ip6(&m, "ff02::fb");
	put_ip6(&m, "2001:db8::53");
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "2001:db8::53", T0), R_DNS);
	assert_int_equal(dns_lookup(&l, "192.0.2.53", T0), -1);
	assert_int_equal(dns_lookup(&l, "ff02::fb", T0), -1);

	ack(&m, 5, 3600, "\xef\xff\xff\xfa" DNS_A); /* 239.255.255.250 */
	p = v4reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 1);
	assert_int_equal(dns_lookup(&l, "239.255.255.250", T0), -1);
	assert_int_equal(dns_lookup(&l, "192.168.1.1", T0), R_DNS);
}

static void test_learn_dhcpv6_malformed(void **state)
{
	struct lifeline l;
	struct msg m;
	struct pkt p;

	(void)state;
	ll_from(&l, "");
	reply6(&m, 7, 60, 60, true);
	/* every cut of the message, each in an exact-size buffer */
	for (size_t n = 0; n < m.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, m.b, n);
		p = v6reply(&m);
		p.payload = copy;
		p.paylen = (uint32_t)n;
		assert_int_equal(lifeline_learn(&l, &p, T0), 0);
		free(copy);
	}
	/* an IAADDR too short for its lifetimes */
	reply6(&m, 7, 60, 60, true);
	m.b[4 + 4 + 12 + 3] = 8; /* first IAADDR length */
	p = v6reply(&m);
	assert_int_equal(lifeline_learn(&l, &p, T0), 0);
	assert_int_equal(l.ndns, 0);
}

/* Mutated replies (a fixed seed, so failures repeat) never read out of bounds. */
static void test_learn_mutations(void **state)
{
	struct lifeline l;
	struct msg base4, base6;
	unsigned seed = 12345;

	(void)state;
	ll_from(&l, "");
	bootp(&base4, 2);
	opt(&base4, 53, "\x05", 1);
	opt(&base4, 52, "\x03", 1);
	opt(&base4, 6, DNS_A DNS_B, 8);
	opt_end(&base4);
	memcpy(base4.b + 108, "\x06\x04" DNS_C "\xff", 7);
	reply6(&base6, 7, 60, 120, true);
	for (int i = 0; i < 20000; i++) {
		const struct msg *b = i & 1 ? &base6 : &base4;
		size_t len = (size_t)rand_r(&seed) % (b->len + 8);
		uint8_t *buf = malloc(len ? len : 1);
		struct pkt p;

		assert_non_null(buf);
		for (size_t k = 0; k < len; k++)
			buf[k] = k < b->len ? b->b[k] : (uint8_t)rand_r(&seed);
		for (int k = 0; len && k < 4; k++)
			buf[(size_t)rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		p = i & 1 ? v6reply(b) : v4reply(b);
		p.payload = buf;
		p.paylen = (uint32_t)len;
		assert_true(lifeline_learn(&l, &p, T0) <= LIFELINE_MAX_DNS);
		assert_true(l.ndns <= LIFELINE_MAX_DNS);
		free(buf);
	}
}

/* ---- real captures ---- */

struct cap {
	struct lifeline l;
	int learned[32];   /* lifeline_learn() per frame */
	int match[32];     /* lifeline_match() per frame */
	uint64_t ts[32];
	uint32_t nframes;
};

static int cap_frame(void *arg, const struct hp_frame *f)
{
	struct cap *c = arg;
	enum ll_reason why;
	struct pkt p = { 0 };

	if (f->n > LL_ARRAY_SIZE(c->learned))
		return 1;
	c->nframes = f->n;
	c->ts[f->n - 1] = f->ts_us;
	c->match[f->n - 1] = -2;
	if (!f->l3 || pkt_parse(&p, f->l3, f->caplen, &why))
		return 0;
	c->match[f->n - 1] = lifeline_match(&c->l, &p, f->ts_us);
	c->learned[f->n - 1] = lifeline_learn(&c->l, &p, f->ts_us);
	return 0;
}

/* Run a corpus capture; the test is skipped (cmocka's skip()) when the corpus is absent. */
static bool run_capture(struct cap *c, const char *rel)
{
	const char *path = hp_path(rel);

	memset(c, 0, sizeof(*c));
	ll_from(&c->l, "");
	if (!path) {
		fprintf(stderr, "skip: no shared corpus ($LL_SHARED or $LL_ROOT/../shared) for %s\n",
			rel);
		skip(); /* counted as skipped, not passed */
		return false;
	}
	assert_true(hp_each(path, cap_frame, c) > 0);
	for (uint32_t i = 0; i < c->nframes; i++)
		assert_int_equal(c->match[i], R_DHCP); /* every frame is DHCP traffic */
	return true;
}

static void skip_without_corpus(void)
{
	if (!hp_corpus()) {
		fprintf(stderr, "skip: shared corpus not found ($LL_SHARED, else $LL_ROOT/../shared)\n");
		skip();
	}
}

static void assert_only_learned_at(const struct cap *c, const int *want, uint32_t n)
{
	assert_int_equal(c->nframes, n);
	for (uint32_t i = 0; i < n; i++) {
		if (c->learned[i] != want[i])
			fprintf(stderr, "frame %u: learned %d, want %d\n", i + 1, c->learned[i],
				want[i]);
		assert_int_equal(c->learned[i], want[i]);
	}
}

static void test_cap_rfc3004(void **state)
{
	static const int want[] = { 0, 0, 0, 1 }; /* the OFFER (2) is not a lease */
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/td__dhcp-rfc3004.pcap"));
	assert_only_learned_at(&c, want, 4);
	assert_int_equal(dns_lookup(&c.l, "192.168.1.1", c.ts[3]), R_DNS);
	assert_int_equal(c.l.ndns, 1);
	assert_int_equal(c.l.dns[0].expires_us, c.ts[3] + 86400 * SEC); /* option 51 */
}

static void test_cap_rfc5859(void **state)
{
	static const int want[] = { 0, 0, 0, 0 }; /* the ACK has no option 6 */
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/td__dhcp-rfc5859.pcap"));
	assert_only_learned_at(&c, want, 4);
	assert_int_equal(c.l.ndns, 0);
}

static void test_cap_zeek_dhcp(void **state)
{
	static const int want[] = { 0, 0, 0, 0, 0, 2, 0, 0, 0 }; /* NAK (4) teaches nothing */
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/zk__dhcp.pcap"));
	assert_only_learned_at(&c, want, 9);
	assert_int_equal(dns_lookup(&c.l, "128.2.1.11", c.ts[5]), R_DNS);
	assert_int_equal(dns_lookup(&c.l, "128.2.1.10", c.ts[5]), R_DNS);
	assert_int_equal(dns_lookup(&c.l, "128.2.6.152", c.ts[5]), -1);
	assert_int_equal(dns_lookup(&c.l, "128.2.1.10", c.ts[5] + 900 * SEC), -1); /* lease 900 s */
}

static void test_cap_zeek_nameserver(void **state)
{
	static const int want[] = { 0, 1 };
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/zk__dhcp_time_and_nameserver.pcap"));
	assert_only_learned_at(&c, want, 2);
	assert_int_equal(dns_lookup(&c.l, "192.168.15.101", c.ts[1]), R_DNS);
}

static void test_cap_zeek_discover(void **state)
{
	static const int want[] = { 0 };
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/zk__dhcp_discover_param_req_and_client_id.pcap"));
	assert_only_learned_at(&c, want, 1);
	assert_int_equal(c.l.ndns, 0);
}

/*
 * Every message twice, the two ACKs of one REQUEST's transaction told apart
 * by their options: the first (frame 7, option 6 in the overloaded sname)
 * is the one a client takes; bound, it ignores the second.
 */
static void test_cap_overload(void **state)
{
	static const int want[] = { 0, 0, 0, 0, 0, 0, 1, 0 };
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/sv__dhcp-option-52-overload.pcap"));
	assert_only_learned_at(&c, want, 8);
	assert_int_equal(c.l.ndns, 1);
	assert_int_equal(dns_lookup(&c.l, "10.100.0.2", c.ts[7]), R_DNS);
	assert_int_equal(dns_lookup(&c.l, "10.100.0.1", c.ts[7]), -1);
}

/*
 * The engine's control thread reads the DHCP packet socket holding its
 * lock: a flood of frames (anyone on the link can send UDP to port 68)
 * must not keep it there. One call reads at most 64; poll brings it back.
 */
static void test_dhcp_tap_read_bounded(void **state)
{
	struct lifeline l;
	int sv[2], left = 0;
	char junk[60] = "not a frame";

	(void)state;
	ll_bare(&l, "");
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(send(sv[1], junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	assert_int_equal(dhcp_tap_read(sv[0], &l, T0), 0);
	while (recv(sv[0], junk, sizeof(junk), MSG_DONTWAIT) > 0)
		left++;
	assert_int_equal(left, 100 - 64);
	close(sv[0]);
	close(sv[1]);
}

/* Frames up to 7 only: stop before frame 8. */
static int first_frames(void *arg, const struct hp_frame *f)
{
	if (f->n == 8)
		return 1;
	return cap_frame(arg, f);
}

static void test_cap_overload_frame7(void **state)
{
	struct cap c;

	(void)state;
	skip_without_corpus();
	memset(&c, 0, sizeof(c));
	ll_from(&c.l, "");
	assert_true(hp_each(hp_path("dhcp/sv__dhcp-option-52-overload.pcap"), first_frames, &c) > 0);
	assert_int_equal(c.learned[6], 1);
	assert_int_equal(dns_lookup(&c.l, "10.100.0.2", c.ts[6]), R_DNS);
	assert_int_equal(dns_lookup(&c.l, "10.100.0.1", c.ts[6]), -1);
	/* option 51 of that ACK: 300 s */
	assert_int_equal(c.l.ndns, 1);
	assert_int_equal(c.l.dns[0].expires_us, c.ts[6] + 300 * SEC);
}

/* DHCPv6 Replies (frames 5 and 13) and a DHCPv4 ACK (frame 9) in one capture. */
static void test_cap_dhcpv4v6(void **state)
{
	static const int want[] = { 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
	struct cap c;

	(void)state;
	skip_without_corpus();
	assert_true(run_capture(&c, "dhcp/td__dhcpv4v6-rfc5970-rfc8572.pcap"));
	assert_only_learned_at(&c, want, 14);
	/* frame 13's Reply came days after the v4 lease (28800 s) ran out: purged */
	assert_int_equal(c.l.ndns, 1);
	assert_true(c.l.dns[0].v6);
	assert_int_equal(dns_lookup(&c.l, "1234:5678::2", c.ts[12]), R_DNS);
	assert_int_equal(dns_lookup(&c.l, "10.10.0.1", c.ts[12]), -1);
	/* the Reply's IA_ADDR valid lifetime is 28800 s; frame 14 is past it */
	assert_int_equal(c.l.dns[0].expires_us, c.ts[12] + 28800 * SEC);
	assert_int_equal(dns_lookup(&c.l, "1234:5678::2", c.ts[13]), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat_with_manager),
		cmocka_unit_test(test_heartbeat_ports_from_config),
		cmocka_unit_test(test_heartbeat_any_manager),
		cmocka_unit_test(test_heartbeat_named_manager),
		cmocka_unit_test(test_dns_own_address),
		cmocka_unit_test(test_dhcp),
		cmocka_unit_test(test_dns_configured),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_ndp),
		cmocka_unit_test(test_learn_ack),
		cmocka_unit_test(test_learn_no_lease_time),
		cmocka_unit_test(test_learn_keeps_configured),
		cmocka_unit_test(test_learn_overload),
		cmocka_unit_test(test_learn_split_option),
		cmocka_unit_test(test_learn_msgtype_as_clients_read),
		cmocka_unit_test(test_learn_malformed),
		cmocka_unit_test(test_learn_truncations),
		cmocka_unit_test(test_learn_bounded),
		cmocka_unit_test(test_learn_mutations),
		cmocka_unit_test(test_learn_dhcpv6),
		cmocka_unit_test(test_learn_reply_on_request_device),
		cmocka_unit_test(test_learn_iaaddr_outside_ia),
		cmocka_unit_test(test_heartbeat_watch),
		cmocka_unit_test(test_learn_needs_request),
		cmocka_unit_test(test_learn_per_interface),
		cmocka_unit_test(test_learn_one_reply_per_request), cmocka_unit_test(test_learn_v6_client_id),
		cmocka_unit_test(test_learn_dhcpv6_malformed),
		cmocka_unit_test(test_learn_v6_reply_needs_server_id),
		cmocka_unit_test(test_learn_v6_only_what_the_client_takes),
		cmocka_unit_test(test_learn_no_foreign_servers),
		cmocka_unit_test(test_cap_rfc3004),
		cmocka_unit_test(test_cap_rfc5859),
		cmocka_unit_test(test_cap_zeek_dhcp),
		cmocka_unit_test(test_cap_zeek_nameserver),
		cmocka_unit_test(test_cap_zeek_discover),
		cmocka_unit_test(test_cap_overload),
		cmocka_unit_test(test_dhcp_tap_read_bounded),
		cmocka_unit_test(test_cap_overload_frame7),
		cmocka_unit_test(test_cap_dhcpv4v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
