/* test_pipeline.c - the spine: flows keep their decision, and are judged again, whole, after a new policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <hs/hs.h>
#include <stdlib.h>

#include "pipeline.h"
#include "helper_rand.h"
#include "policy.h"
#include "ips_rules.h"

static struct policy *load(const char *text)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts o = { 0 };
	struct policy *p = policy_load_string("t.pol", text, &o, &errs);

	assert_non_null(p);
	assert_int_equal(fw_compile(p), 0);
	ll_err_free(&errs);
	return p;
}

/* An IPv4 packet with its transport header, the rest zero. */
static void v4_pkt(struct pkt *p, uint8_t proto, uint8_t dir, const char *src, const char *dst)
{
	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->proto = proto;
	p->ttl = 64;
	p->dir = dir;
	p->l4_ok = 1;
	ll_ip_parse(src, &p->src);
	ll_ip_parse(dst, &p->dst);
}

/* An inbound TCP packet 192.0.2.66:40000 -> 198.51.100.2:22 on @ifname. */
static void tcp_in(struct pkt *p, uint8_t flags, const char *ifname)
{
	v4_pkt(p, 6, PKT_DIR_IN, "192.0.2.66", "198.51.100.2");
	p->tcp_flags = flags;
	p->sport = 40000;
	p->dport = 22;
	p->ifname = ifname;
}

/* The interface is part of the opening packet: a re-judged flow still has it. */
static void test_rejudge_keeps_interface(void **state)
{
	struct policy *a = load("deny priority 4 in tcp on eth1 id 1\n");
	struct policy *b = load("deny priority 4 in tcp on eth1 id 1\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	char name[16] = "eth1";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, 0x02, name);
	pipeline_judge(&pl, &p, 1, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	memset(name, 'x', sizeof(name) - 1); /* the packet's name buffer is gone */
	pipeline_set_policy(&pl, b);
	tcp_in(&p, 0x10, "eth1");
	pipeline_judge(&pl, &p, 2, &v);
	assert_false(v.accept);
	assert_int_equal(v.reason, R_DENY);
	assert_int_equal(v.rule, 1);
	pipeline_fini(&pl);
	policy_free(a);
	policy_free(b);
	config_free(&cfg);
}

/*
 * A packet the firewall dropped reached nobody: the host's own packets on
 * its tuple answer nothing. One spoofed datagram to a fixed-port UDP peer
 * (ntpd's 123 <-> 123) must not keep the host's own traffic on it dropped
 * while the host keeps trying, and a spoofed TCP segment must not keep the
 * host's SYN from that port out.
 */
static void test_denied_flow_squats_nothing(void **state)
{
	struct policy *a = load("allow out any id 1\nallow in tcp to any port 22 id 2\n");
	static const uint64_t s = 1000000;
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	v4_pkt(&p, 17, PKT_DIR_IN, "203.0.113.123", "198.51.100.2"); /* the spoofed one */
	p.sport = p.dport = 123;
	pipeline_judge(&pl, &p, 1 * s, &v);
	assert_false(v.accept);
	assert_int_equal(v.reason, R_NOT_ALLOWED);
	for (uint64_t t = 2; t <= 29; t += 9) { /* the host asks, and asks again: dropped, as the flow's */
		v4_pkt(&p, 17, PKT_DIR_OUT, "198.51.100.2", "203.0.113.123");
		p.sport = p.dport = 123;
		pipeline_judge(&pl, &p, t * s, &v);
		assert_false(v.accept);
		assert_int_equal(v.by, BY_FLOW);
	}
	/* 32 s after the spoofed datagram (UDP's 30 s): the host's own query opens its flow */
	pipeline_judge(&pl, &p, 33 * s, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	assert_int_equal(v.rule, 1);

	v4_pkt(&p, 6, PKT_DIR_IN, "203.0.113.50", "198.51.100.2"); /* a spoofed mid-stream ACK */
	p.sport = 443, p.dport = 40000, p.tcp_flags = 0x10;
	pipeline_judge(&pl, &p, 40 * s, &v);
	assert_false(v.accept);
	v4_pkt(&p, 6, PKT_DIR_OUT, "198.51.100.2", "203.0.113.50"); /* the host connects from that port */
	p.sport = 40000, p.dport = 443, p.tcp_flags = 0x02;
	pipeline_judge(&pl, &p, 41 * s, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	assert_int_equal(v.rule, 1);

	/* an echo request the other way is no part of a denied echo flow: the rules judge it */
	v4_pkt(&p, 1, PKT_DIR_IN, "203.0.113.9", "198.51.100.2");
	p.icmp_type = 8, p.sport = p.dport = 77;
	pipeline_judge(&pl, &p, 50 * s, &v);
	assert_false(v.accept);
	v4_pkt(&p, 1, PKT_DIR_OUT, "198.51.100.2", "203.0.113.9");
	p.icmp_type = 8, p.sport = p.dport = 77;
	pipeline_judge(&pl, &p, 51 * s, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * `deny in tcp flags SYN` holds for a SYN sent after a bare ACK on the same
 * tuple: the ACK opened an accepted flow (no rule sees it), and the SYN,
 * kept as that flow's, reached the listener (pf23: live, the ACK's flow was
 * offloaded, so the host's RST never closed it).
 */
static void test_syn_after_ack_judged(void **state)
{
	struct policy *a = load("deny in tcp flags SYN id 1\n");
	struct policy *b;
	static const uint64_t s = 1000000;
	uint64_t hits = 0;
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	v4_pkt(&p, 6, PKT_DIR_IN, "203.0.113.66", "198.51.100.2"); /* the bare ACK: no rule, default */
	p.sport = 51001, p.dport = 22, p.tcp_flags = 0x10;
	pipeline_judge(&pl, &p, 1 * s, &v);
	assert_true(v.accept);
	assert_int_equal(v.reason, R_DEFAULT);
	p.tcp_flags = 0x02; /* the SYN on its tuple: the rule's */
	pipeline_judge(&pl, &p, 1 * s + 10, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	assert_int_equal(v.reason, R_DENY);
	assert_int_equal(v.rule, 1);
	p.tcp_flags = 0x10; /* the flow itself is the ACK's, as before */
	pipeline_judge(&pl, &p, 2 * s, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	/* a new policy (the counts start again): the SYN is its rule's, one hit, not the flow's too */
	b = load("allow in tcp to any port 22 id 7\ndeny priority 4 in tcp flags SYN id 3\n");
	pipeline_set_policy(&pl, b);
	p.tcp_flags = 0x02;
	pipeline_judge(&pl, &p, 3 * s, &v);
	assert_false(v.accept);
	assert_int_equal(v.rule, 3);
	for (uint32_t i = 0; i < pl.nrule_hits; i++)
		hits += pl.rule_hits[i];
	assert_int_equal(hits, 1);
	pipeline_fini(&pl);
	policy_free(b);
	policy_free(a);
	config_free(&cfg);
}

/* An inbound ICMP error from router 192.0.2.1 quoting @proto @sport -> @dst:@dport sent by the host. */
static void error_about(struct pkt *p, uint8_t type, uint8_t code, uint8_t proto, uint16_t sport,
			const char *dst, uint16_t dport)
{
	v4_pkt(p, 1, PKT_DIR_IN, "192.0.2.1", "198.51.100.2");
	p->icmp_type = type;
	p->icmp_code = code;
	p->inner.present = 1;
	p->inner.family = 4;
	p->inner.proto = proto;
	p->inner.has_ports = 1;
	ll_ip_parse("198.51.100.2", &p->inner.src);
	ll_ip_parse(dst, &p->inner.dst);
	p->inner.sport = sport;
	p->inner.dport = dport;
}

/*
 * The lifeline makes no flows, so an ICMP error about its packets quoted
 * none and fell to the rules: under a policy with an inbound allow, the
 * host's connect() to an unreachable manager, and its resolver asking a
 * dead server, waited out their timeouts instead of trying the next.
 */
static void test_error_about_lifeline(void **state)
{
	struct policy *a = load("allow out any id 1\nallow in tcp to any port 22 id 2\n");
	struct ll_errlist e = { 0 };
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	(void)state;
	assert_int_equal(config_load_string(&cfg, "t.conf",
					    "manager 203.0.113.10\nhost 198.51.100.2\n"
					    "dns-server 198.51.100.1\n", &e), 0);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	error_about(&p, 3, 1, 6, 40100, "203.0.113.10", 4120); /* host unreachable: the manager */
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_LIFELINE);
	assert_int_equal(v.reason, R_HEARTBEAT);
	error_about(&p, 3, 3, 17, 5353, "198.51.100.1", 53); /* port unreachable: the resolver */
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	assert_int_equal(v.reason, R_DNS);
	/* not a lifeline packet: the roles swapped, another address, or not the host's */
	error_about(&p, 3, 1, 6, 4120, "203.0.113.10", 40100);
	pipeline_judge(&pl, &p, 3, &v);
	assert_false(v.accept);
	assert_int_equal(v.reason, R_NOT_ALLOWED);
	error_about(&p, 5, 1, 6, 40100, "203.0.113.10", 4120); /* a redirect: the rules' */
	pipeline_judge(&pl, &p, 3, &v);
	assert_false(v.accept);
	error_about(&p, 3, 3, 17, 5353, "198.51.100.9", 53);
	pipeline_judge(&pl, &p, 4, &v);
	assert_false(v.accept);
	error_about(&p, 3, 1, 6, 40100, "203.0.113.10", 4120);
	ll_ip_parse("198.51.100.3", &p.inner.src);
	pipeline_judge(&pl, &p, 5, &v);
	assert_false(v.accept);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
	ll_err_free(&e);
}

/* Later packets of a flow get the opening packet's decision in both directions. */
static void test_flow_both_directions(void **state)
{
	struct policy *a = load("allow in tcp to any port 22 id 5\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	ll_ip t;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, 0x02, NULL);
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	tcp_in(&p, 0x12, NULL); /* the reply */
	t = p.src, p.src = p.dst, p.dst = t;
	p.sport = 22, p.dport = 40000, p.dir = PKT_DIR_OUT;
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	assert_int_equal(v.reason, R_ALLOW);
	assert_int_equal(v.rule, 5);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * Offload (the live engine's connmark) is for flows whose decision is
 * final: not while an IPS rule may still match the flow, nor before a TCP
 * handshake is through.
 */
static void test_offload_only_when_ips_cannot_match(void **state)
{
	struct policy *a = load("allow in tcp id 1\n"
				"drop tcp any any -> any 80 (msg:\"x\"; flow:to_server; content:\"/etc/passwd\"; sid:7;)\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p, reply;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, 0x02, NULL);
	p.dport = 80; /* the IPS rule's port: every packet must come back to the engine */
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	assert_false(v.offload);
	p.tcp_flags = 0x10;
	pipeline_judge(&pl, &p, 2, &v);
	assert_int_equal(v.by, BY_FLOW);
	assert_false(v.offload);
	tcp_in(&p, 0x02, NULL); /* port 22: no IPS rule can match, the decision is final */
	pipeline_judge(&pl, &p, 3, &v);
	assert_true(v.accept);
	assert_false(v.offload); /* but the handshake is not through: the flow table sees it whole */
	reply = p;
	reply.src = p.dst, reply.dst = p.src, reply.sport = p.dport, reply.dport = p.sport;
	reply.dir = PKT_DIR_OUT;
	reply.tcp_flags = 0x12;
	reply.tcp_seq = 5000;
	reply.tcp_ack = p.tcp_seq + 1;
	pipeline_judge(&pl, &reply, 4, &v);
	assert_false(v.offload);
	p.tcp_flags = 0x10; /* the opener's ACK: established, handed to the kernel */
	p.tcp_seq++;
	p.tcp_ack = 5001;
	pipeline_judge(&pl, &p, 5, &v);
	assert_true(v.offload);
	assert_true(flow_lookup(pl.flows, &p, 6, &(int){ 0 })->offloaded); /* `flows` says so */
	assert_true(flow_lookup(pl.flows, &p, 6, &(int){ 0 })->tcp_bits & FLOW_HANDSHAKE);
	pipeline_fini(&pl);
	/* offload no: every packet comes back; no flow is marked offloaded */
	cfg.offload = false;
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	assert_false(v.offload);
	assert_false(flow_lookup(pl.flows, &p, 2, &(int){ 0 })->offloaded);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * A SYN on a flow offloaded under this policy opens a new flow, which the
 * rules judge and the IPS inspects, not the old one's `pass`: the kernel
 * queues such a SYN only on a new conntrack entry, the old connection's
 * end (in the kernel) unseen - a client reconnecting from its port (pf23),
 * or a SYN after a bare ACK the IPS passed was offloaded at once and the
 * host's RST ended its entry (@midstream: rev23).
 */
static void offloaded_then_syn(bool midstream)
{
	struct policy *a = load("allow in tcp id 1\n"
				"pass tcp any any -> any 8080 (msg:\"ok\"; content:\"HEALTH\"; sid:1;)\n"
				"drop tcp any any -> any 8080 (msg:\"x\"; content:\"EVIL\"; sid:2;)\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p, reply;

	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, midstream ? 0x18 : 0x02, NULL);
	p.dport = 8080;
	if (!midstream) { /* the handshake, then the pass rule's bytes */
		pipeline_judge(&pl, &p, 1, &v);
		reply = p;
		reply.src = p.dst, reply.dst = p.src, reply.sport = p.dport, reply.dport = p.sport;
		reply.dir = PKT_DIR_OUT;
		reply.tcp_flags = 0x12;
		reply.tcp_seq = 5000;
		reply.tcp_ack = p.tcp_seq + 1;
		pipeline_judge(&pl, &reply, 2, &v);
		p.tcp_flags = 0x10;
		p.tcp_seq++;
		p.tcp_ack = 5001;
		pipeline_judge(&pl, &p, 3, &v);
		assert_false(v.offload); /* the IPS still looks */
		p.tcp_flags = 0x18;
	} else { /* a bare ACK with them */
		p.tcp_seq = 1000;
		p.tcp_ack = 5000;
	}
	p.payload = (const uint8_t *)"HEALTH";
	p.paylen = 6;
	p.len = 46;
	pipeline_judge(&pl, &p, 4, &v);
	assert_true(v.accept);
	assert_true(v.offload); /* passed: handed to the kernel */
	tcp_in(&p, 0x02, NULL); /* later, a SYN on the same tuple */
	p.dport = 8080;
	p.tcp_seq = 777777;
	pipeline_judge(&pl, &p, 10, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL); /* a new flow: judged, and inspected */
	assert_false(v.offload);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

static void test_offloaded_reuse_is_new(void **state)
{
	(void)state;
	offloaded_then_syn(false);
	offloaded_then_syn(true);
}

/* The host's connection 198.51.100.2:40000 -> 192.0.2.66:80: @flags, from the server when @back. */
static void host_conn(struct pkt *p, bool back, uint8_t flags, uint32_t seq, uint32_t ack)
{
	if (back)
		v4_pkt(p, 6, PKT_DIR_IN, "192.0.2.66", "198.51.100.2");
	else
		v4_pkt(p, 6, PKT_DIR_OUT, "198.51.100.2", "192.0.2.66");
	p->sport = back ? 80 : 40000;
	p->dport = back ? 40000 : 80;
	p->tcp_flags = flags;
	p->tcp_seq = seq, p->tcp_ack = ack;
}

/*
 * A blind SYN from the server of the host's offloaded connection (conntrack
 * calls it INVALID and queues it) is dropped alone: it made the flow its
 * own, denied, and after the next policy load the server's bytes were
 * dropped by it (off26). One the rules accept still opens a new flow.
 */
static void test_offloaded_responder_syn_alone(void **state)
{
	static const char *rules = "allow out tcp id 1\nallow in tcp to any port 22 id 2\n";
	struct policy *a = load(rules), *b = load(rules);
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	host_conn(&p, false, 0x02, 1000, 0);
	pipeline_judge(&pl, &p, 1, &v);
	host_conn(&p, true, 0x12, 5000, 1001);
	pipeline_judge(&pl, &p, 2, &v);
	host_conn(&p, false, 0x10, 1001, 5001);
	pipeline_judge(&pl, &p, 3, &v);
	assert_true(v.offload);
	host_conn(&p, true, 0x02, 123456789, 0); /* the attacker's */
	pipeline_judge(&pl, &p, 4, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	assert_int_equal(v.reason, R_NOT_ALLOWED);
	pipeline_set_policy(&pl, b);
	host_conn(&p, true, 0x18, 5001, 1001);
	pipeline_judge(&pl, &p, 200000000, &v);
	assert_true(v.accept); /* the connection's rule, judged again */
	assert_int_equal(v.rule, 1);
	pipeline_fini(&pl);
	policy_free(a);
	policy_free(b);
	config_free(&cfg);
}

/*
 * A BIG TCP super-packet past 64 KiB, or an IPv4 packet of 65,532-65,535
 * bytes (a UDP datagram reassembled from fragments), arrives cut at the
 * queue's copy range, 65,531 bytes: in a flow the IPS inspects it is
 * dropped (ips-cut), for what follows the cut would pass unseen; the flow
 * stays accepted. In a flow nothing inspects, it is judged by its flow
 * like any packet.
 */
static void ips_cut_len(uint32_t len)
{
	struct policy *a = load("allow in tcp id 1\n"
				"drop tcp any any -> any 80 (msg:\"x\"; content:\"EVIL\"; sid:7;)\n");
	static const uint8_t data[8] = "....EVIL"; /* EVIL in what the queue did not copy */
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	for (int port = 80; port <= 22 + 80; port += 22) {
		bool inspected = port == 80;

		tcp_in(&p, 0x02, NULL);
		p.dport = (uint16_t)port;
		pipeline_judge(&pl, &p, 1, &v);
		assert_true(v.accept);
		p.tcp_flags = 0x10; /* @len bytes, 65,531 of them copied */
		p.len = len;
		p.caplen = 65531;
		p.payload = data;
		p.paylen = 4;
		pipeline_judge(&pl, &p, 2, &v);
		assert_int_equal(v.accept, !inspected);
		assert_string_equal(ll_reason_name(v.reason), inspected ? "ips-cut" : "allow");
		p.len = p.caplen = 100; /* the rest of the flow goes on */
		p.payload = (const uint8_t *)"hello";
		pipeline_judge(&pl, &p, 3, &v);
		assert_true(v.accept);
	}
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

static void test_ips_cut_super_packet(void **state)
{
	(void)state;
	ips_cut_len(150000);
	ips_cut_len(65535); /* the last 4 bytes never reached the engine */
	ips_cut_len(65532);
}

/*
 * A TCP segment of 2001:db8:3::66:40000 <-> 2001:db8:1::2:80, in or out,
 * built in @buf and parsed; @frag: in a first fragment (M=1) of @data's odd
 * length, which the kernel's defrag passes on unqueued.
 */
static void tcp6_seg(struct pkt *p, uint8_t *buf, bool in, uint8_t flags, uint32_t seq,
		     uint32_t ack, const char *data, bool frag)
{
	static const uint8_t c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 3, [15] = 0x66 };
	static const uint8_t h[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };
	uint32_t n = (uint32_t)strlen(data), fh = frag ? 8 : 0, plen = fh + 20 + n;
	uint8_t *t = buf + 40 + fh;
	enum ll_reason why;

	memset(buf, 0, 40 + plen);
	buf[0] = 0x60;
	buf[4] = (uint8_t)(plen >> 8), buf[5] = (uint8_t)plen;
	buf[6] = frag ? 44 : 6;
	buf[7] = 64;
	memcpy(buf + 8, in ? c : h, 16);
	memcpy(buf + 24, in ? h : c, 16);
	if (frag) {
		buf[40] = 6;
		buf[43] = 1; /* offset 0, M=1 */
		buf[47] = 77;
	}
	t[0] = in ? 40000 >> 8 : 0, t[1] = in ? 40000 & 0xff : 80;
	t[2] = in ? 0 : 40000 >> 8, t[3] = in ? 80 : 40000 & 0xff;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xfa, t[15] = 0xf0;
	memcpy(t + 20, data, n);
	memset(p, 0, sizeof(*p));
	p->dir = in ? PKT_DIR_IN : PKT_DIR_OUT;
	assert_int_equal(pkt_parse(p, buf, 40 + plen, &why), 0);
	assert_int_equal(p->is_frag, frag);
}

/*
 * Live, a fragment reaches the engine alone only where the kernel's defrag
 * gave up on it and the host drops it too: an IPv6 non-last fragment whose
 * length is no multiple of 8 (nf_ct_frag6_gather() passes it on, unqueued;
 * ip6_frag_queue() drops it). Its TCP segment, a decoy at the sequence
 * numbers of the real bytes, must not reach the IPS stream: the host reads
 * "GET EVIL", and so must the stream rule.
 */
static void test_lone_fragment_discarded(void **state)
{
	struct policy *a = load("allow in tcp to any port 80 id 1\nallow out any id 2\n"
				"drop tcp any any -> any 80 (msg:\"x\"; flow:to_server; "
				"content:\"GET EVIL\"; sid:7;)\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	uint8_t buf[128];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp6_seg(&p, buf, true, 0x02, 1000, 0, "", false);
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	tcp6_seg(&p, buf, false, 0x12, 5000, 1001, "", false);
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	tcp6_seg(&p, buf, true, 0x10, 1001, 5001, "", false);
	pipeline_judge(&pl, &p, 3, &v);
	tcp6_seg(&p, buf, true, 0x18, 1001, 5001, "GET ", false);
	pipeline_judge(&pl, &p, 4, &v);
	assert_true(v.accept);
	tcp6_seg(&p, buf, true, 0x18, 1005, 5001, "XXXXX", true); /* 25 bytes: no multiple of 8 */
	pipeline_judge(&pl, &p, 5, &v);
	assert_false(v.accept);
	assert_string_equal(ll_reason_name(v.reason), "bad-frag");
	tcp6_seg(&p, buf, true, 0x18, 1005, 5001, "EVIL", false); /* what the host reads */
	pipeline_judge(&pl, &p, 6, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_IPS);
	assert_int_equal(v.rule, 7);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/* Hyperscan's scratch allocator, out of memory. */
static void *no_memory(size_t n)
{
	(void)n;
	return NULL;
}

/*
 * An IPS that gets no memory for a new rule set's scratch does not pass
 * what it could not inspect: that packet is dropped (ips-nomem), the flow
 * stays accepted, and the next packet, with memory again, is inspected.
 * Before, the worker went on without scratch and nothing was inspected.
 */
static void test_ips_nomem_drops(void **state)
{
	struct policy *a = load("allow in tcp id 1\n");
	struct policy *b = load("allow in tcp id 1\n"
				"alert tcp any any -> any 80 (msg:\"x\"; content:\"EVIL\"; sid:7;)\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	assert_int_equal(hs_set_scratch_allocator(no_memory, free), HS_SUCCESS);
	pipeline_set_policy(&pl, b);
	tcp_in(&p, 0x18, NULL);
	p.dport = 80;
	p.payload = (const uint8_t *)"EVIL";
	p.paylen = 4;
	p.len = p.caplen = 44;
	pipeline_judge(&pl, &p, 1, &v);
	assert_int_equal(hs_set_scratch_allocator(NULL, NULL), HS_SUCCESS);
	assert_false(v.accept);
	assert_string_equal(ll_reason_name(v.reason), "ips-nomem");
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	assert_int_equal(v.nalerts, 1);
	assert_int_equal(v.alerts[0], 7);
	pipeline_fini(&pl);
	policy_free(b);
	policy_free(a);
	config_free(&cfg);
}

/* An echo request from the host, id 7, 198.51.100.2 -> 192.0.2.66 (type 0 turns it into the reply). */
static void echo_out(struct pkt *p, uint8_t type)
{
	v4_pkt(p, 1, PKT_DIR_OUT, "198.51.100.2", "192.0.2.66");
	p->icmp_type = type;
	p->sport = p->dport = 7;
}

static void turn(struct pkt *p)
{
	ll_ip t = p->src;

	p->src = p->dst, p->dst = t;
	p->dir = p->dir == PKT_DIR_IN ? PKT_DIR_OUT : PKT_DIR_IN;
}

/* An ICMP error (type 3, @code) from @src to @dst, going @dir, quoting @q (its ports, or echo id). */
static void icmp_error(struct pkt *err, uint8_t dir, const char *src, const char *dst, uint8_t code,
		       const struct pkt *q)
{
	v4_pkt(err, 1, dir, src, dst);
	err->icmp_type = 3, err->icmp_code = code;
	err->inner.present = err->inner.has_ports = 1;
	err->inner.family = 4, err->inner.proto = q->proto;
	err->inner.src = q->src, err->inner.dst = q->dst;
	err->inner.sport = q->sport, err->inner.dport = q->dport;
}

/* A segment of the host's connection 198.51.100.2:40000 -> 192.0.2.66:80 (@out: the host's), at @t s. */
static struct verdict client_seg(struct pipeline *pl, bool out, uint8_t fl, uint32_t seq,
				 uint32_t ack, const char *data, uint64_t t)
{
	struct verdict v;
	struct pkt p;

	tcp_in(&p, fl, NULL);
	p.sport = 80;
	p.dport = 40000;
	p.tcp_seq = seq, p.tcp_ack = ack, p.tcp_win = 65535;
	p.payload = (const uint8_t *)data, p.paylen = (uint32_t)strlen(data);
	p.l3hlen = 20, p.l4hlen = 20, p.len = 40 + p.paylen;
	if (out) {
		turn(&p);
		p.sport = 40000, p.dport = 80;
	}
	pipeline_judge(pl, &p, t * 1000000, &v);
	return v;
}

/*
 * The host's connection (client_seg()) under policy @a, its handshake
 * done at 1-3 s (offloaded or not, as @offload), and @b to load after.
 */
struct offl {
	struct policy *a, *b;
	struct config cfg;
	struct pipeline pl;
};

#define OFFL_RULES "allow out tcp id 1\nallow in tcp to any port 22 id 2\n"
#define OFFL_INSPECT OFFL_RULES "alert tcp any any -> any any (msg:\"x\"; content:\"EVIL\"; sid:7;)\n"

static void offl_open(struct offl *o, const char *a, const char *b, bool offload)
{
	o->a = load(a), o->b = load(b);
	config_defaults(&o->cfg);
	assert_int_equal(pipeline_init(&o->pl, &o->cfg, o->a), 0);
	assert_true(client_seg(&o->pl, true, 0x02, 1000, 0, "", 1).accept);
	assert_true(client_seg(&o->pl, false, 0x12, 5000, 1001, "", 2).accept);
	assert_int_equal(client_seg(&o->pl, true, 0x10, 1001, 5001, "", 3).offload, offload);
}

/* The connection's flow's state at @t s (FT_CLOSE: none), and all of it freed. */
static uint8_t offl_close(struct offl *o, uint64_t t)
{
	struct flow *f;
	struct pkt q;
	uint8_t st;

	tcp_in(&q, 0x10, NULL);
	q.sport = 80, q.dport = 40000;
	f = flow_lookup(o->pl.flows, &q, t * 1000000ull, &(int){ 0 });
	st = f ? f->tcp_state : FT_CLOSE;
	pipeline_fini(&o->pl);
	policy_free(o->a);
	policy_free(o->b);
	config_free(&o->cfg);
	return st;
}

/*
 * A flow the kernel passes (offloaded) sends the engine only what
 * conntrack calls INVALID (no conntrack entry, so no connmark: a RST or
 * FIN out of its window, a SYN from the responder) until the next policy
 * load brings its packets back. Its ends forgotten, such a blind RST or
 * FIN|ACK at any number closed the flow (FT_CLOSE 10 s, FIN_WAIT 120 s)
 * while the connection went on in the kernel, and after the next load the
 * server's bytes were a new flow opened from outside: dropped by an
 * outbound-only policy (off26). @blind: the flags of the attacker's
 * segment (0: none, the control). Whether the server's bytes after the
 * load passed.
 */
static bool offload_blind_end_holds(uint8_t blind)
{
	struct offl o;
	struct verdict v;

	offl_open(&o, OFFL_RULES, OFFL_RULES, true);
	/* the attacker's, a quarter of the sequence space off: INVALID to conntrack, queued */
	if (blind)
		client_seg(&o.pl, false, blind, 5001 + 0x40000000, 1001, "", 4);
	pipeline_set_policy(&o.pl, o.b); /* 200 s on, the same rules loaded again */
	v = client_seg(&o.pl, false, 0x18, 5001, 1001, "hello", 200);
	offl_close(&o, 200);
	return v.accept;
}

/*
 * The common case still closes: a new policy inspects the flow (it comes
 * back for good), the server sends its bytes, the host acknowledges them,
 * and the server's RST at their end ends the flow.
 */
static void test_offload_return_real_rst(void **state)
{
	struct offl o;

	(void)state;
	offl_open(&o, "allow out tcp id 1\n",
		  "allow out tcp id 1\nalert tcp any any -> any any (msg:\"x\"; content:\"EVIL\"; sid:7;)\n",
		  true);
	pipeline_set_policy(&o.pl, o.b);
	assert_false(client_seg(&o.pl, false, 0x18, 90001, 70001, "hello", 100).offload);
	client_seg(&o.pl, true, 0x10, 70001, 90006, "", 101);
	assert_true(client_seg(&o.pl, false, 0x14, 90006, 70001, "", 102).accept);
	assert_int_equal(offl_close(&o, 103), FT_CLOSE);
}

/*
 * As offload_blind_end_holds(), where the new policy inspects the flow
 * (it comes back for good) - @how 0: the host speaks first, then the
 * attacker's RST; 1: its FIN|ACK; 2: the attacker first, blind bytes and
 * a RST at their end, which the IPS stream, picked up at those bytes,
 * takes as the server's; 3: as 2, the bytes behind the server's next one,
 * and the host's segment between, whose ACK of that byte the IPS reads as
 * one of bytes never sent (it moves nothing). The flow's state after them.
 */
static uint8_t offload_inspected_blind_end(int how)
{
	uint32_t far = 5001 + 0x40000000;
	struct offl o;

	offl_open(&o, OFFL_RULES, OFFL_INSPECT, true);
	pipeline_set_policy(&o.pl, o.b);
	if (how >= 2) {
		if (how == 3) /* blind bytes behind the server's next byte, which the host then acks */
			far = 5001 - 100000;
		assert_false(client_seg(&o.pl, false, 0x18, far, 1001, "xxxxx", 100).offload);
		if (how == 3)
			client_seg(&o.pl, true, 0x18, 1001, 5001, "more", 101);
		client_seg(&o.pl, false, 0x14, far + 5, 1001, "", 102);
	} else {
		assert_false(client_seg(&o.pl, true, 0x18, 1001, 5001, "more", 100).offload);
		client_seg(&o.pl, false, how ? 0x11 : 0x14, far, 1005, "", 101);
	}
	return offl_close(&o, 103);
}

static void test_offload_inspected_blind_end(void **state)
{
	(void)state;
	for (int how = 0; how < 4; how++)
		assert_int_equal(offload_inspected_blind_end(how), FT_ESTABLISHED);
}

/*
 * A flow back from offload for good (a new policy inspects it), in step
 * again - the server's bytes, the host's ACK of them - then, when @blind,
 * an attacker's blind bytes a quarter of the sequence space ahead of the
 * server's (the host answers them with a duplicate ACK and goes on), then
 * the real close: the server's FIN, the host's ACK and FIN, the server's
 * last ACK. @offload: the flow was offloaded before the load (else the
 * inspecting policy held it from its SYN: the control). The flow's state
 * after them. The record holds the real FIN "ahead" (the blind bytes moved
 * the server's end), and the stream, which takes it, was not heard in a
 * flow back from offload: FIN_WAIT, 120 s, where the control closes, and
 * the client's next connection from the port rode the flow (rvw26d).
 */
static uint8_t offload_back_real_close(bool offload, bool blind)
{
	struct offl o;

	offl_open(&o, offload ? OFFL_RULES : OFFL_INSPECT, OFFL_INSPECT, offload);
	if (offload)
		pipeline_set_policy(&o.pl, o.b);
	assert_false(client_seg(&o.pl, false, 0x18, 5001, 1001, "hello", 100).offload);
	client_seg(&o.pl, true, 0x10, 1001, 5006, "", 101);
	if (blind) {
		client_seg(&o.pl, false, 0x18, 5006 + 0x40000000, 1001, "xxxxx", 102);
		client_seg(&o.pl, true, 0x10, 1001, 5006, "", 102); /* its duplicate ACK */
	}
	client_seg(&o.pl, false, 0x11, 5006, 1001, "", 103);
	client_seg(&o.pl, true, 0x10, 1001, 5007, "", 104);
	client_seg(&o.pl, true, 0x11, 1001, 5007, "", 104);
	client_seg(&o.pl, false, 0x10, 5007, 1002, "", 105);
	return offl_close(&o, 105);
}

static void test_offload_back_real_close(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(offload_back_real_close(i & 1, i & 2), FT_TIME_WAIT);
}

static void test_offload_blind_end_holds(void **state)
{
	(void)state;
	assert_true(offload_blind_end_holds(0));
	assert_true(offload_blind_end_holds(0x14)); /* RST|ACK */
	assert_true(offload_blind_end_holds(0x04)); /* RST */
	assert_true(offload_blind_end_holds(0x11)); /* FIN|ACK */
}

/* Scripts below leave struct seg's trailing fields out: zero, no options, not cut. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/*
 * A segment of a scripted connection 192.0.2.66:40000 -> 198.51.100.2:80;
 * @back: the server's. @opt: its TCP options (@optlen bytes, a multiple
 * of 4), when not NULL. @cut: the datagram was 65,535 bytes long, of
 * which the queue copied 65,531 (ips-cut).
 */
struct seg {
	uint8_t fl;
	uint32_t seq, ack;
	const char *data;
	bool back;
	const uint8_t *opt;
	uint8_t optlen;
	bool cut;
};

/* Allow the client in, drop "GET EVIL" in its established stream: what the evasion tests try to pass. */
#define EST_DROP                                                                                    \
	"allow in tcp id 1\n"                                                                       \
	"drop tcp any any -> any 80 (msg:\"x\"; flow:to_server,established; content:\"GET EVIL\"; " \
	"sid:7;)\n"
/* The same as a packet rule (dsize): a rule set with no stream to ask where the receiver's next byte is */
#define PKT_DROP                                                                                    \
	"allow in tcp id 1\n"                                                                       \
	"drop tcp any any -> any 80 (msg:\"x\"; flow:to_server,established; content:\"EVIL\"; " \
	"dsize:>0; sid:7;)\n"

/* After play_rules(): the flow's state and the IPS stream bytes it held at the end. */
static struct {
	int state; /* -1: no flow */
	uint64_t mem;
} played;

/*
 * Judge @n segments, segment i at 1000 + i us (the last at @last_us when
 * not 0), under @rules (NULL: allow them and alert on EVIL to port 80);
 * the first @accepted are accepted, the rest dropped. Their SYNs offer
 * SACK when @sack. The last one's verdict (and the flow's end: played).
 */
static struct verdict play_rules(const char *rules, const struct seg *s, size_t n, bool sack,
				 uint64_t last_us, size_t accepted)
{
	static const uint8_t opts[24] = { [12] = 0x60, [20] = 4, [21] = 2, [22] = 1, [23] = 1 };
	struct policy *a = load(rules ? rules : "allow in tcp id 1\n"
				"alert tcp any any -> any 80 (msg:\"x\"; content:\"EVIL\"; sid:7;)\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	uint8_t hdr[60] = { 0 };
	uint64_t mem0 = ips_stream_mem();

	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	for (size_t i = 0; i < n; i++) {
		tcp_in(&p, s[i].fl, NULL);
		p.dport = 80;
		p.tcp_seq = s[i].seq, p.tcp_ack = s[i].ack, p.tcp_win = 65535;
		p.payload = (const uint8_t *)s[i].data, p.paylen = (uint32_t)strlen(s[i].data);
		p.l3hlen = 20, p.l4hlen = 20, p.len = 40 + p.paylen;
		if (s[i].opt) {
			memcpy(hdr + 20, s[i].opt, s[i].optlen);
			p.l4 = hdr;
			p.l4hlen = (uint16_t)(20 + s[i].optlen);
			p.l4len = p.l4hlen + p.paylen;
			p.len = 20 + p.l4len;
		} else if (sack && (s[i].fl & 0x02)) {
			p.l4 = opts;
			p.l4hlen = p.l4len = 24, p.len = 44;
		}
		if (s[i].cut)
			p.len = 65535, p.caplen = 65531;
		if (s[i].back) {
			turn(&p);
			p.sport = 80, p.dport = 40000;
		}
		pipeline_judge(&pl, &p, last_us && i + 1 == n ? last_us : 1000 + i, &v);
		assert_int_equal(v.accept, i < accepted);
	}
	{
		uint64_t at = last_us ? last_us : 1000 + n;
		struct flow *f = flow_lookup(pl.flows, &p, at, &(int){ 0 });

		played.state = f ? f->tcp_state : -1;
		played.mem = ips_stream_mem() - mem0;
	}
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
	return v;
}

/* As play_rules() with its own rules, each segment accepted: how the last was judged. */
static enum ll_by play(const struct seg *s, size_t n, bool sack, uint64_t last_us)
{
	return play_rules(NULL, s, n, sack, last_us, n).by;
}

/*
 * The IPS stream knows the receiver's next byte; the flow table's record of
 * what the client sent does not (a segment far beyond the window, which
 * Linux drops, moved it on): the client's RST at the receiver's next byte,
 * which Linux takes, ends the flow, and the next SYN on the tuple opens a
 * connection of its own (judged by the rules, its stream inspected) rather
 * than a late SYN on a flow that looks established.
 */
static void test_ips_rst_ends_flow(void **state)
{
	static const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	   { 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false },   { 0x18, 1001, 7001, "hello", false },
		{ 0x10, 7001, 1006, "", true },	   { 0x18, 101001, 7001, "far away!!", false },
		{ 0x04, 1006, 0, "", false },	   { 0x02, 55555, 0, "", false },
	};

	(void)state;
	assert_int_equal(play(s, sizeof(s) / sizeof(s[0]), false, 0), BY_FIREWALL); /* the SYN: a new flow */
}

/*
 * A RST at the client's end past a hole (red24): Linux takes it only with
 * SACK negotiated and those bytes held (in its window); else it answers a
 * challenge ACK and the connection goes on, and so must the flow, or its
 * next bytes, 10 s on, were a new flow picked up mid-stream. @sack: the
 * SYNs offer SACK; @far: the bytes lie past the window. Returns whether
 * the flow ended (the next data segment then opened a flow of its own).
 */
static bool rst_past_hole_ends(bool sack, bool far)
{
	uint32_t hole = far ? 200000 : 100;
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	{ 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false }, { 0x18, 1001, 7001, "hello", false },
		{ 0x10, 7001, 1006, "", true },	{ 0x18, 1006 + hole, 7001, "zzzzzzzzzz", false },
		{ 0x04, 1016 + hole, 0, "", false }, { 0x18, 1006, 7001, "EVIL", false },
	};

	/* the last 20 s on: a flow the RST ended has expired by then */
	return play(s, sizeof(s) / sizeof(s[0]), sack, 20000000) == BY_FIREWALL;
}



/*
 * Past a hole, @n blocks of data (the highest first), a bare FIN past them
 * when @fin, a RST at @rst, and 20 s on the next bytes in order; SACK on.
 * Linux takes the RST only at the end of the highest of the four SACK
 * blocks it keeps (tcp_sack_new_ofo_skb(): a fifth, also a bare FIN queued
 * out of order, pushes the oldest out; tcp_validate_incoming()); taken
 * elsewhere, it ended the flow while the connection went on (rev24,
 * rev24b). Returns whether the flow ended.
 */
static bool rst_past_sack_ends(unsigned n, bool fin, uint32_t rst)
{
	static const uint32_t off[] = { 1000, 100, 200, 300, 400 };
	struct seg s[16] = {
		{ 0x02, 1000, 0, "", false },	{ 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false }, { 0x18, 1001, 7001, "hello", false },
		{ 0x10, 7001, 1006, "", true },
	};
	unsigned k = 5;

	for (unsigned i = 0; i < n; i++)
		s[k++] = (struct seg){ 0x18, 1006 + off[i], 7001, "zzzz", false };
	if (fin)
		s[k++] = (struct seg){ 0x11, 1006 + 1100, 7001, "", false };
	s[k++] = (struct seg){ 0x04, rst, 0, "", false };
	s[k++] = (struct seg){ 0x18, 1006, 7001, "EVIL", false };
	return play(s, k, true, 20000000) == BY_FIREWALL;
}

static void test_rst_past_sack_fin(void **state)
{
	(void)state;
	assert_false(rst_past_sack_ends(4, true, 2010)); /* the data block the FIN pushed out */
	assert_true(rst_past_sack_ends(4, true, 2107));	 /* the FIN's own block, the highest */
}

static void test_rst_past_sack_blocks(void **state)
{
	(void)state;
	assert_true(rst_past_sack_ends(1, false, 2010));  /* the highest block: Linux takes it */
	assert_true(rst_past_sack_ends(4, false, 2010));  /* still among the four it keeps */
	assert_false(rst_past_sack_ends(5, false, 2010)); /* forgotten: a challenge ACK */
}

static void test_rst_past_hole(void **state)
{
	(void)state;
	assert_true(rst_past_hole_ends(true, false));	/* Linux takes it: the highest SACK block's end */
	assert_false(rst_past_hole_ends(false, false)); /* no SACK: a challenge ACK */
	assert_false(rst_past_hole_ends(true, true));	/* bytes past the window: never held */
}

/*
 * The client's FIN at the receiver's next byte ends its side, though bytes
 * past a hole (@hole bytes on: in the window, or past it) moved the
 * client's known end beyond it: the IPS stream took the FIN, as Linux does
 * (red24). Kept open, the flow took the client's next connection from the
 * same port, its segments outside the old stream and matched one by one.
 * Returns whether that next SYN opened a flow of its own.
 */
static bool fin_behind_end_closes(uint32_t hole)
{
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	{ 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false }, { 0x18, 1001, 7001, "hello", false },
		{ 0x10, 7001, 1006, "", true },	{ 0x18, 1006 + hole, 7001, hole ? "zzzz" : "", false },
		{ 0x11, 1006, 7001, "", false }, { 0x11, 7001, 1007, "", true },
		{ 0x10, 1007, 7002, "", false }, { 0x02, 90000, 0, "", false },
	};

	return play(s, sizeof(s) / sizeof(s[0]), false, 0) == BY_FIREWALL;
}

static void test_fin_behind_bogus_end(void **state)
{
	(void)state;
	assert_true(fin_behind_end_closes(0));	    /* the control: no bytes past a hole */
	assert_true(fin_behind_end_closes(100));    /* in the window: Linux takes the FIN, drops them */
	assert_true(fin_behind_end_closes(200000)); /* past the window: never held */
}

/*
 * A FIN queued ahead of a hole, bytes queued from its number on, then the
 * hole filled: Linux takes the FIN and purges the bytes after it
 * (tcp_ofo_queue(), tcp_fin()). The stream took them too and missed the
 * FIN, so the flow never closed and the client's next connection from the
 * same port rode it, matched segment by segment (red24b; with @over false,
 * the control without those bytes). Returns whether that next SYN opened a
 * flow of its own.
 */
static bool fin_ahead_closes(bool over)
{
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	  { 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false },  { 0x18, 1001, 7001, "hello", false },
		{ 0x10, 7001, 1006, "", true },	  { 0x19, 1011, 7001, "aaaaa", false },
		{ 0x18, 1016, 7001, over ? "bbbbbbbbbb" : "", false },
		{ 0x18, 1006, 7001, "ccccc", false }, { 0x10, 7001, 1017, "", true },
		{ 0x11, 7001, 1017, "", true },	  { 0x10, 1017, 7002, "", false },
		{ 0x02, 90000, 0, "", false },
	};

	return play(s, sizeof(s) / sizeof(s[0]), false, 0) == BY_FIREWALL;
}

static void test_fin_ahead_purges(void **state)
{
	(void)state;
	assert_true(fin_ahead_closes(false));
	assert_true(fin_ahead_closes(true));
}

/*
 * A FIN on the segment the IPS drops reached nobody: the dropped flow
 * stands still for 30 min, past the client's retransmissions (backed off
 * to 120 s apart). Counted, the flow went to FIN_WAIT (120 s), and the
 * retransmitted bytes and FIN 121 s on were a new flow picked up
 * mid-stream, never established: past the flow:established drop rule
 * (rev24). @far: bytes past the window first (the FIN then comes from
 * the IPS stream, bfe3879); @ahead: the FIN first, 8 bytes ahead, and the
 * dropped bytes fill the hole before it (the stream takes the FIN on a
 * segment without one). Returns whether the retransmission was dropped.
 */
static bool dropped_fin_holds(bool far, bool ahead)
{
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	   { 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false },  { 0x18, 1001 + 200000, 7001, far ? "zzzz" : "", false },
		{ ahead ? 0x11 : 0x10, 1009, 7001, "", false },
		{ ahead ? 0x18 : 0x19, 1001, 7001, "GET EVIL", false },
		{ 0x19, 1001, 7001, "GET EVIL", false }, /* the bytes and the FIN again, 121 s on */
	};
	const size_t n = sizeof(s) / sizeof(s[0]);

	return !play_rules(EST_DROP, s, n, false, 1000 + n + 121 * 1000000ull, n - 2).accept;
}

/* The FIN in order on the segment the IPS drops: the flow's own record moved it (flow_update()). */
static bool dropped_fin_in_order_holds(void)
{
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	   { 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false },   { 0x19, 1001, 7001, "GET EVIL", false },
		{ 0x19, 1001, 7001, "GET EVIL", false }, /* again, 121 s on */
	};
	const size_t n = sizeof(s) / sizeof(s[0]);

	return !play_rules(EST_DROP, s, n, false, 1000 + n + 121 * 1000000ull, n - 2).accept;
}

static void test_dropped_fin_holds(void **state)
{
	(void)state;
	assert_true(dropped_fin_in_order_holds());
	assert_true(dropped_fin_holds(false, false)); /* the FIN on the dropped segment */
	assert_true(dropped_fin_holds(true, false));  /* ...behind bytes past the window */
	assert_true(dropped_fin_holds(false, true));  /* the dropped bytes fill the hole before it */
}

/* Options: a TCP MD5 signature (and two NOPs); timestamps, TSval then TSecr. */
static const uint8_t md5_opt[20] = { 19, 18, [18] = 1, [19] = 1 };
#define TS_OPT(val, ecr)                                                                    \
	{ 1, 1, 8, 10, (uint8_t)((val) >> 24), (uint8_t)((val) >> 16), (uint8_t)((val) >> 8), \
	  (uint8_t)(val), (uint8_t)((ecr) >> 24), (uint8_t)((ecr) >> 16),                    \
	  (uint8_t)((ecr) >> 8), (uint8_t)(ecr) }

/*
 * A segment the receiver drops moves nothing in the flow's record, which
 * flow_update() takes before the IPS says so: a RST (or a FIN|ACK) with a
 * TCP MD5 option at the receiver's next byte (Linux has no key: dropped
 * in tcp_inbound_hash()), or at the end of bytes it dropped - an ACK of
 * bytes never sent (tcp_ack()), a TSval PAWS refuses - where Linux answers
 * a challenge ACK (tcp_validate_incoming()) or queues the FIN past a hole.
 * Taken, the RST closed the flow (the FIN sent it to FIN_WAIT) while the
 * connection went on, and the client's bytes 20 s (121 s) on were a new
 * flow picked up mid-stream, never established: past the
 * flow:established drop rule (rev25, live; rev26 with packet rules only,
 * PKT_DROP, where no stream said so). @rules: the policy. @how: 0 the RST
 * or FIN itself signed, 1 after bytes acking 100,000 never sent, 2 after
 * bytes with an old TSval. Returns whether those bytes were dropped.
 */
static bool dropped_segment_ends_nothing(const char *rules, int how, bool fin)
{
	static const uint8_t syn_ts[12] = TS_OPT(100, 0), synack_ts[12] = TS_OPT(5000, 100),
			     c_ts[12] = TS_OPT(101, 5000), s_ts[12] = TS_OPT(5001, 101),
			     old_ts[12] = TS_OPT(1, 5001), c2_ts[12] = TS_OPT(102, 5001);
	const bool ts = how == 2;
	const uint8_t *t = ts ? c_ts : NULL, *t2 = ts ? c2_ts : NULL;
	const uint8_t n = ts ? 12 : 0;
	const uint8_t rfl = fin ? 0x11 : 0x04;
	const uint32_t rack = fin ? 7001 : 0;
	struct seg s[8] = {
		{ 0x02, 1000, 0, "", false, ts ? syn_ts : NULL, n },
		{ 0x12, 7000, 1001, "", true, ts ? synack_ts : NULL, n },
		{ 0x10, 1001, 7001, "", false, t, n },
		{ 0x18, 1001, 7001, "GET ", false, t, n },
		{ 0x10, 7001, 1005, "", true, ts ? s_ts : NULL, n },
	};
	size_t k = 5;

	if (how == 0) {
		s[k++] = (struct seg){ rfl, 1005, rack, "", false, md5_opt, 20 };
	} else {
		s[k++] = (struct seg){ 0x18, 1005, how == 1 ? 107001 : 7001, "zzzz", false,
					ts ? old_ts : NULL, n };
		s[k++] = (struct seg){ rfl, 1009, rack, "", false, t2, n };
	}
	s[k++] = (struct seg){ 0x18, 1005, 7001, "EVIL", false, t2, n };
	return !play_rules(rules, s, k, false, (fin ? 121 : 20) * 1000000ull, k - 1).accept;
}

/*
 * The host as a client: a SYN-ACK with a TCP MD5 option first (Linux has
 * no key and drops it, tcp_inbound_hash(): the host waits for the next),
 * at an ISN far from the real one's, then the real SYN-ACK. Taken, the
 * flow held the decoy's numbers, the real SYN-ACK was "again" to it, the
 * host's ACK of the real one acknowledged nothing it knew, and the
 * connection was never established: the server's reply passed the
 * flow:established,to_client drop rule (rev25). @decoy false: the
 * control. Returns whether the reply was dropped.
 */
static bool md5_synack_holds(bool decoy)
{
	struct seg s[6] = { { 0x02, 7000, 0, "", true } };
	size_t k = 1;

	if (decoy)
		s[k++] = (struct seg){ 0x12, 500000, 7001, "", false, md5_opt, 20 };
	s[k++] = (struct seg){ 0x12, 1000, 7001, "", false };
	s[k++] = (struct seg){ 0x10, 7001, 1001, "", true };
	s[k++] = (struct seg){ 0x18, 1001, 7001, "EVIL", false };
	return !play_rules("allow out tcp id 1\n"
			   "drop tcp any any -> any any (msg:\"x\"; flow:to_client,established; "
			   "content:\"EVIL\"; sid:7;)\n",
			   s, k, false, 0, k - 1).accept;
}

static void test_md5_synack_moves_nothing(void **state)
{
	(void)state;
	assert_true(md5_synack_holds(false));
	assert_true(md5_synack_holds(true));
}

/*
 * stream_size in a session whose every segment carries a TCP MD5 option,
 * the host holding the key (BGP): the opener's signed SYN counts one, as
 * Suricata counts it (its ISN). Skipped (rev26), the count started at the
 * opener's next segment, one less. @host_client: the host opened it
 * (else a remote client did); @sign: the options (else none, the
 * control). Whether the opener's "EVIL", 10 in its count, was dropped.
 */
static bool signed_count_from_syn(bool host_client, bool sign)
{
	static const char rules[] = "allow in tcp id 1\n"
				    "allow out tcp id 2\n"
				    "drop tcp any any -> any any (msg:\"x\"; stream_size:client,=,10; "
				    "content:\"EVIL\"; sid:7;)\n";
	const uint8_t *o = sign ? md5_opt : NULL, n = sign ? 20 : 0;
	bool h = host_client;
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", h, o, n },	       { 0x12, 7000, 1001, "", !h, o, n },
		{ 0x10, 1001, 7001, "", h, o, n },     { 0x18, 1001, 7001, "hello", h, o, n },
		{ 0x18, 1006, 7001, "EVIL", h, o, n },
	};

	return !play_rules(rules, s, 5, false, 0, 4).accept;
}

static void test_signed_syn_counts(void **state)
{
	(void)state;
	for (int h = 0; h < 2; h++) {
		assert_true(signed_count_from_syn(h, false));
		assert_true(signed_count_from_syn(h, true));
	}
}

/*
 * A remote client's SYN with a TCP MD5 option, which the host's listener
 * drops without a key for it (tcp_inbound_hash() runs before the listener
 * reads anything), at @decoy, then the real SYN at 1000 and its
 * handshake. Taken, the decoy's number stood in the flow's record as the
 * client's first and end (rev26): 1,000,000 ahead, the client's real FIN
 * (@rst: RST) was "behind" it, the flow never closed, and its next
 * connection from the same port rode it (packet rules only: no stream to
 * say where the FIN was); 1,000,000 behind, the client had "sent" a
 * million bytes and stream_size:client,<,10000 (ET's log4j rules) never
 * matched. @close: the client's FIN or RST, then its next SYN (how that
 * was judged: BY_FIREWALL, a flow of its own); else "GET EVIL" (BY_IPS:
 * dropped).
 */
static enum ll_by signed_syn_then(const char *rules, uint32_t decoy, bool close, bool rst)
{
	struct seg s[12] = {
		{ 0x02, decoy, 0, "", false, md5_opt, 20 }, { 0x02, 1000, 0, "", false },
		{ 0x12, 7000, 1001, "", true },		  { 0x10, 1001, 7001, "", false },
	};
	size_t k = 4;

	if (!close) {
		s[k++] = (struct seg){ 0x18, 1001, 7001, "GET EVIL", false };
		return play_rules(rules, s, k, false, 0, k - 1).by;
	}
	s[k++] = (struct seg){ 0x18, 1001, 7001, "hello", false };
	s[k++] = (struct seg){ 0x10, 7001, 1006, "", true };
	if (rst) {
		s[k++] = (struct seg){ 0x04, 1006, 0, "", false };
	} else {
		s[k++] = (struct seg){ 0x11, 1006, 7001, "", false };
		s[k++] = (struct seg){ 0x11, 7001, 1007, "", true };
		s[k++] = (struct seg){ 0x10, 1007, 7002, "", false };
	}
	s[k++] = (struct seg){ 0x02, 90000, 0, "", false };
	return play_rules(rules, s, k, false, 0, k).by;
}

static void test_signed_syn_to_listener(void **state)
{
	static const char small[] = "allow in tcp id 1\n"
				    "drop tcp any any -> any 80 (msg:\"x\"; flow:to_server,established; "
				    "stream_size:client,<,10000; content:\"EVIL\"; sid:7;)\n";

	(void)state;
	assert_int_equal(signed_syn_then(PKT_DROP, 1001000, true, false), BY_FIREWALL);
	assert_int_equal(signed_syn_then(PKT_DROP, 1001000, true, true), BY_FIREWALL);
	assert_int_equal(signed_syn_then(small, 1000u - 1000000u, false, false), BY_IPS);
	assert_int_equal(signed_syn_then(EST_DROP, 1001000, true, false), BY_FIREWALL);
}

/*
 * A BGP-style session with the host holding the peer's TCP MD5 key: every
 * segment, the host's own too, carries the option, and Linux takes them.
 * The engine cannot check a signature, but the host signs only with the
 * key. Left out of the flow's record (rev26 with packet rules only, rev25
 * with a stream), the peer's signed ACK never completed the handshake and
 * the flow sat in SYN_RECV; as a client, the peer's signed SYN-ACK left it
 * in SYN_SENT. @how: 0 the client's bytes; 1 the server's; 2 the
 * client's after 61 s idle (BGP's keepalive interval is 60 s; SYN_RECV's
 * timeout 60 s); 3 the host as the client, the server's bytes; 4 the
 * client's after an unsigned RST at its next byte, which Linux with the
 * key drops (what the signature stops). How the bytes (EVIL) were judged.
 */
static enum ll_by keyed_session(const char *rules, int how)
{
	struct seg s[8] = {
		{ 0x02, 1000, 0, "", false, md5_opt, 20 },
		{ 0x12, 7000, 1001, "", true, md5_opt, 20 },
		{ 0x10, 1001, 7001, "", false, md5_opt, 20 },
	};
	size_t k = 3;
	uint64_t last = 0;

	if (how == 3) {
		s[0] = (struct seg){ 0x02, 7000, 0, "", true, md5_opt, 20 };
		s[1] = (struct seg){ 0x12, 1000, 7001, "", false, md5_opt, 20 };
		s[2] = (struct seg){ 0x10, 7001, 1001, "", true, md5_opt, 20 };
		s[k++] = (struct seg){ 0x18, 1001, 7001, "EVIL", false, md5_opt, 20 };
	} else if (how == 1) {
		s[k++] = (struct seg){ 0x18, 7001, 1001, "EVIL", true, md5_opt, 20 };
	} else if (how == 4) {
		s[k++] = (struct seg){ 0x04, 1001, 0, "", false };
		s[k++] = (struct seg){ 0x18, 1001, 7001, "GET EVIL", false, md5_opt, 20 };
		last = 20 * 1000000ull;
	} else {
		s[k++] = (struct seg){ 0x18, 1001, 7001, "GET EVIL", false, md5_opt, 20 };
		last = how == 2 ? 61 * 1000000ull : 0;
	}
	return play_rules(rules, s, k, false, last, k - 1).by;
}

static void test_keyed_session_established(void **state)
{
	static const char to_client[] = "allow in tcp id 1\n"
					"drop tcp any 80 -> any any (msg:\"x\"; flow:to_client,established; "
					"content:\"EVIL\"; dsize:>0; sid:7;)\n",
			  client[] = "allow out tcp id 1\n"
				     "drop tcp any any -> any any (msg:\"x\"; flow:to_client,established; "
				     "content:\"EVIL\"; dsize:>0; sid:7;)\n";

	(void)state;
	for (int how = 0; how < 3; how += 2) {
		assert_int_equal(keyed_session(PKT_DROP, how), BY_IPS);
		assert_int_equal(keyed_session(EST_DROP, how), BY_IPS);
	}
	assert_int_equal(keyed_session(to_client, 1), BY_IPS);
	assert_int_equal(keyed_session(client, 3), BY_IPS);
	assert_int_equal(keyed_session(PKT_DROP, 4), BY_IPS);
	assert_int_equal(keyed_session(EST_DROP, 4), BY_IPS);
}

/*
 * A FIN on a segment the engine drops as ips-cut (65,532-65,535 bytes: an
 * IPv4 segment the kernel reassembled from fragments, which the queue
 * copies only 65,531 bytes of) never reached the host: it must not end
 * the flow either. Counted, the flow went to FIN_WAIT and expired 120 s
 * on, while the host still waited for those bytes; the client's request
 * then was a new flow picked up mid-stream, past the flow:established
 * drop rule (rev25). Returns whether that request was dropped.
 */
static bool cut_fin_holds(void)
{
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	{ 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false }, { 0x18, 1001, 7001, "GET ", false },
		{ 0x19, 1005, 7001, "xxxx", false, .cut = true }, /* ips-cut: dropped */
		{ 0x18, 1005, 7001, "EVIL", false }, /* 121 s on */
	};
	const size_t n = sizeof(s) / sizeof(s[0]);

	return !play_rules(EST_DROP, s, n, false, 121000000, n - 2).accept;
}

static void test_cut_fin_holds(void **state)
{
	(void)state;
	assert_true(cut_fin_holds());
}

static void test_dropped_segment_ends_nothing(void **state)
{
	(void)state;
	for (int how = 0; how < 3; how++) {
		assert_true(dropped_segment_ends_nothing(EST_DROP, how, false));
		assert_true(dropped_segment_ends_nothing(EST_DROP, how, true));
		assert_true(dropped_segment_ends_nothing(PKT_DROP, how, false));
		assert_true(dropped_segment_ends_nothing(PKT_DROP, how, true));
	}
}

/*
 * Bytes past a hole, then a FIN right after them: Linux queues both out of
 * order and takes the FIN only once the hole fills. Counted at once, the
 * FIN sent the flow to FIN_WAIT, which expired 120 s on while the
 * connection went on, and the bytes that filled the hole then were a new
 * flow picked up mid-stream: past the flow:established drop rule (rev25).
 * With @hole false (the control) the bytes and the FIN come in order: the
 * flow ends, and the bytes 121 s on open a flow of their own. How the
 * bytes 121 s on were judged.
 */
static enum ll_by fin_after_hole(bool hole)
{
	const uint32_t at = hole ? 1105 : 1005;
	const struct seg s[] = {
		{ 0x02, 1000, 0, "", false },	 { 0x12, 7000, 1001, "", true },
		{ 0x10, 1001, 7001, "", false }, { 0x18, 1001, 7001, "GET ", false },
		{ 0x10, 7001, 1005, "", true },	 { 0x18, at, 7001, "zzzz", false },
		{ 0x11, at + 4, 7001, "", false }, { 0x18, 1005, 7001, "EVIL", false }, /* 121 s on */
	};
	const size_t n = sizeof(s) / sizeof(s[0]);

	return play_rules(EST_DROP, s, n, false, 121000000, hole ? n - 1 : n).by;
}

static void test_fin_after_hole_holds(void **state)
{
	(void)state;
	assert_int_equal(fin_after_hole(true), BY_IPS);
	assert_int_equal(fin_after_hole(false), BY_FIREWALL);
}

/* A connection opened from 1000 to 7000, "GET " sent (1001-1004) and acknowledged: the resync tests' start. */
#define GET_OPENED                                                                                   \
	{ 0x02, 1000, 0, "", false }, { 0x12, 7000, 1001, "", true }, { 0x10, 1001, 7001, "", false }, \
		{ 0x18, 1001, 7001, "GET ", false }, { 0x10, 7001, 1005, "", true }

/*
 * 33 one-byte segments past a hole, each below the last: the stream's
 * queue holds 32, so the 33rd starts a new window there (resync()). The
 * receiver still waits for the hole: no SACK here, so it takes a RST only
 * at its rcv_nxt, and a FIN on that 33rd segment only once the hole fills.
 * Taken by the stream, the RST at the 33rd's end closed the flow (@fin: its
 * FIN sent it to FIN_WAIT) while the connection went on, and the bytes
 * that then filled the hole were a new flow picked up mid-stream, past a
 * flow:established drop rule (rev25). Returns whether they were dropped.
 */
static bool resync_end_holds(bool fin)
{
	struct seg s[48] = { GET_OPENED };
	size_t k = 5;

	for (unsigned i = 0; i < 33; i++)
		s[k++] = (struct seg){ i == 32 && fin ? 0x19 : 0x18, 1185 - 2 * i, 7001, "z", false };
	if (!fin)
		s[k++] = (struct seg){ 0x04, 1122, 0, "", false };
	s[k++] = (struct seg){ 0x18, 1005, 7001, "EVIL", false }; /* 20 s (121 s) on */
	return !play_rules("allow in tcp id 1\n"
			   "drop tcp any any -> any 80 (msg:\"x\"; flow:to_server,established; "
			   "content:\"EVIL\"; sid:7;)\n",
			   s, k, false, (fin ? 121 : 20) * 1000000ull, k - 1).accept;
}

/*
 * After the resync at 1200 (the stream at 1208), a FIN ending at 1200,
 * below the stream's window, which it never takes; the receiver queues it
 * (in the hole) and takes it when the hole fills, purging 1200-1207: its
 * ACK, 1200, is in the stream's window, but a RST at 1208 gets a challenge
 * ACK (CLOSE_WAIT, rcv_nxt 1200). Taken, it closed the flow while the host
 * went on (its replies a new flow picked up mid-stream). Returns whether
 * the flow's record stayed open.
 */
static bool resync_fin_below_holds(void)
{
	static char fill185[186]; /* the hole: 1005 to the FIN's 1190 */
	struct seg s[48] = { GET_OPENED };
	size_t k = 5;

	memset(fill185, 'x', sizeof(fill185) - 1);
	for (unsigned i = 0; i < 32; i++)
		s[k++] = (struct seg){ 0x18, 1105 + 2 * i, 7001, "z", false };
	s[k++] = (struct seg){ 0x18, 1200, 7001, "zzzzzzzz", false };
	s[k++] = (struct seg){ 0x19, 1190, 7001, "fffffffff", false };
	s[k++] = (struct seg){ 0x18, 1005, 7001, fill185, false };
	s[k++] = (struct seg){ 0x10, 7001, 1200, "", true };
	s[k++] = (struct seg){ 0x04, 1208, 0, "", false };
	play_rules(NULL, s, k, false, 0, k);
	return played.state != FT_CLOSE;
}

/*
 * An ordinary lossy transfer: 100 bytes lost, then @nooo one-byte segments
 * past them (33: one more than the stream queues, so the last starts a new
 * window there, resync()), the 100 bytes sent again, more bytes, the
 * server's ACK of all before them (those in flight), and the client's RST
 * at its end, which Linux takes once the bytes in flight arrive. The flow
 * table's record takes no RST past a hole the other side has not acked in
 * full (rst_plausible()); the stream, once resynced, took none either: the
 * flow stayed ESTABLISHED (432,000 s) holding a 4 KiB stream buffer. True
 * when the RST closed the flow and both streams gave their memory back.
 */
static bool resync_rst_ends(unsigned nooo)
{
	static const char again[] = "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
				    "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh";
	const uint32_t end = 1105 + nooo;
	struct seg s[48] = { GET_OPENED };
	size_t k = 5;

	for (unsigned i = 0; i < nooo; i++)
		s[k++] = (struct seg){ 0x18, 1105 + i, 7001, "z", false };
	s[k++] = (struct seg){ 0x18, 1005, 7001, again, false };
	s[k++] = (struct seg){ 0x18, end, 7001, "more", false };
	s[k++] = (struct seg){ 0x10, 7001, end, "", true };
	s[k++] = (struct seg){ 0x04, end + 4, 0, "", false };
	play_rules(NULL, s, k, false, 0, k);
	return played.state == FT_CLOSE && played.mem == 0;
}

/* The hole below 1121 in the next two, filled: 116 bytes from 1005. */
static const char fill[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/*
 * The receiver's ACK says where its next byte is again only past all the
 * stream let go: here the 33 segments come each below the last, so the
 * resync keeps the lowest, at 1121, and lets go of 32 that the receiver
 * holds up to 1185. The hole filled, it acks 1122, then the byte at 1122
 * brings it to 1124 (1123 was held): a RST at the stream's next byte, 1123,
 * gets a challenge ACK. Taken, it ended the flow while the connection went
 * on, and the next bytes were a new flow picked up mid-stream, past a
 * flow:established drop rule. Returns whether they were dropped.
 */
static bool resync_ack_below_held(void)
{
	struct seg s[48] = { GET_OPENED };
	size_t k = 5;

	for (unsigned i = 0; i < 33; i++)
		s[k++] = (struct seg){ 0x18, 1185 - 2 * i, 7001, "z", false };
	s[k++] = (struct seg){ 0x18, 1005, 7001, fill, false };
	s[k++] = (struct seg){ 0x10, 7001, 1122, "", true };
	s[k++] = (struct seg){ 0x18, 1122, 7001, "a", false };
	s[k++] = (struct seg){ 0x10, 7001, 1124, "", true };
	s[k++] = (struct seg){ 0x04, 1123, 0, "", false };
	s[k++] = (struct seg){ 0x18, 1124, 7001, "EVIL", false }; /* 20 s on */
	return !play_rules("allow in tcp id 1\n"
			   "drop tcp any any -> any 80 (msg:\"x\"; flow:to_server,established; "
			   "content:\"EVIL\"; sid:7;)\n",
			   s, k, false, 20 * 1000000ull, k - 1).accept;
}

/*
 * As above, the 32 it lets go in a row up to a FIN, which the receiver
 * takes when the hole fills, and drops the 40 bytes after it: its ACK (of
 * the FIN, after them) is behind the stream's next byte, where a RST gets a
 * challenge ACK (in CLOSE_WAIT the receiver takes one at its rcv_nxt only).
 * Returns whether the flow's record stayed open.
 */
static bool resync_past_fin_holds(void)
{
	struct seg s[48] = { GET_OPENED };
	size_t k = 5;

	for (unsigned i = 0; i < 33; i++)
		s[k++] = (struct seg){ i ? 0x18 : 0x19, 1153 - i, 7001, "z", false };
	s[k++] = (struct seg){ 0x18, 1005, 7001, fill, false };
	s[k++] = (struct seg){ 0x18, 1122, 7001, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", false };
	s[k++] = (struct seg){ 0x10, 7001, 1155, "", true };
	s[k++] = (struct seg){ 0x04, 1162, 0, "", false };
	play_rules(NULL, s, k, false, 0, k);
	return played.state != FT_CLOSE;
}

/* The hole below 1105 in the next two, filled: 100 bytes from 1005. */
static const char hole100[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/*
 * SACK on. After the resync at 1137, four blocks past the stream's next
 * byte, the highest (1300) first, then a byte in order for the stream -
 * out of order for the receiver, which still waits for the hole: its
 * block comes first and pushes 1300's out (tcp_sack_new_ofo_skb()). The
 * hole filled, the receiver acks 1139, all the stream has; its blocks are
 * 1200, 1210, 1220, and a RST at 1301 gets a challenge ACK. Taken, it
 * ended the flow while the connection went on, and the next bytes were a
 * new flow picked up mid-stream, past a flow:established drop rule.
 * Returns whether they were dropped.
 */
static bool resync_sack_rst_holds(void)
{
	static const uint32_t blk[] = { 1300, 1200, 1210, 1220 };
	struct seg s[56] = { GET_OPENED };
	size_t k = 5;

	for (unsigned i = 0; i < 33; i++)
		s[k++] = (struct seg){ 0x18, 1105 + i, 7001, "z", false };
	for (unsigned i = 0; i < 4; i++)
		s[k++] = (struct seg){ 0x18, blk[i], 7001, "b", false };
	s[k++] = (struct seg){ 0x18, 1138, 7001, "y", false };
	s[k++] = (struct seg){ 0x18, 1005, 7001, hole100, false };
	s[k++] = (struct seg){ 0x10, 7001, 1139, "", true };
	s[k++] = (struct seg){ 0x04, 1301, 0, "", false };
	s[k++] = (struct seg){ 0x18, 1139, 7001, "EVIL", false }; /* 20 s on */
	return !play_rules("allow in tcp id 1\n"
			   "drop tcp any any -> any 80 (msg:\"x\"; flow:to_server,established; "
			   "content:\"EVIL\"; sid:7;)\n",
			   s, k, true, 20 * 1000000ull, k - 1).accept;
}

static void test_resync_rst_ends(void **state)
{
	(void)state;
	assert_true(resync_rst_ends(5)); /* the control: the stream queued them */
	assert_true(resync_rst_ends(33));
	assert_true(resync_ack_below_held());
	assert_true(resync_past_fin_holds());
	assert_true(resync_sack_rst_holds());
}

static void test_resync_end_holds(void **state)
{
	(void)state;
	assert_true(resync_end_holds(false));
	assert_true(resync_end_holds(true));
	assert_true(resync_fin_below_holds());
}

/*
 * A flow the IPS dropped stays dropped: a RST the engine drops never
 * reached the server, so it does not end the flow, and a SYN on the same
 * tuple (or the client's retransmission) does not reopen it to the
 * firewall's allow while the server's connection still stands.
 */
static void test_ips_drop_outlives_rst(void **state)
{
	static const char get[] = "GET /etc/passwd";
	struct policy *a = load("allow in tcp id 1\n"
				"drop tcp any any -> any 80 (msg:\"x\"; content:\"/etc/passwd\"; sid:7;)\n");
	struct policy *b = load("deny in tcp id 2\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;
	const uint8_t fl[] = { 0x02, 0x12, 0x10, 0x18, 0x04, 0x02, 0x18 }; /* SYN .. data, RST, SYN, data */

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	for (unsigned i = 0; i < sizeof(fl); i++) {
		tcp_in(&p, fl[i], NULL);
		p.dport = 80;
		p.l3hlen = 20, p.l4hlen = 20, p.len = 40;
		p.tcp_seq = i == 5 ? 90000 : i == 0 ? 1000 : 1001;
		if (fl[i] == 0x18) {
			p.payload = (const uint8_t *)get, p.paylen = sizeof(get) - 1;
			p.len += p.paylen;
		}
		if (i == 1) { /* the server's SYN-ACK */
			turn(&p);
			p.sport = 80, p.dport = 40000, p.tcp_seq = 7000, p.tcp_ack = 1001;
		}
		pipeline_judge(&pl, &p, 1000 + i, &v);
		if (i < 3)
			assert_true(v.accept);
		else
			assert_false(v.accept);
	}
	assert_int_equal(v.by, BY_FLOW);
	/* the client retransmits for ~15 min: still dropped 10 min later */
	pipeline_judge(&pl, &p, 1006 + 600 * 1000000ull, &v);
	assert_false(v.accept);
	/* quiet for 30 min, the tuple is free again: not held for an established flow's 5 days */
	tcp_in(&p, 0x02, NULL);
	p.dport = 80;
	pipeline_judge(&pl, &p, 1006 + 2401 * 1000000ull, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	pipeline_fini(&pl);
	/* a denied stray ACK (mid-stream, never answered) holds its tuple 300 s, not 30 min */
	assert_int_equal(pipeline_init(&pl, &cfg, b), 0);
	tcp_in(&p, 0x10, NULL);
	pipeline_judge(&pl, &p, 1000, &v);
	assert_false(v.accept);
	pipeline_judge(&pl, &p, 1000 + 200 * 1000000ull, &v);
	assert_int_equal(v.by, BY_FLOW);
	pipeline_judge(&pl, &p, 1000 + 501 * 1000000ull, &v);
	assert_int_equal(v.by, BY_FIREWALL); /* the flow ended: judged afresh */
	pipeline_fini(&pl);
	policy_free(a);
	policy_free(b);
	config_free(&cfg);
}

/*
 * An echo reply that answers no request opens no flow (conntrack's
 * icmp_new() takes requests only): a spoofed one must not hold the id, so
 * that the host's own request on it still lets its real reply in.
 */
static void test_echo_reply_opens_nothing(void **state)
{
	struct policy *a = load("allow out any id 1\ndeny in any id 2\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	echo_out(&p, 0); /* a reply from the peer, unasked: denied */
	turn(&p);
	pipeline_judge(&pl, &p, 1, &v);
	assert_false(v.accept);
	echo_out(&p, 8); /* the host pings the peer with that id */
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	echo_out(&p, 0); /* its reply is the flow's */
	turn(&p);
	pipeline_judge(&pl, &p, 3, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * What belongs to a flow, as conntrack has it: an echo flow is requests one
 * way and replies the other; an ICMP error is related only when the packet
 * it quotes came from its destination. The rest is judged by the rules.
 */
static void test_related_as_conntrack(void **state)
{
	struct policy *a = load("allow out any id 1\nallow in tcp to any port 22 id 2\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p, err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	echo_out(&p, 8);
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	echo_out(&p, 0); /* the reply */
	turn(&p);
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	echo_out(&p, 8); /* a request from the peer, same id: its own, denied */
	turn(&p);
	pipeline_judge(&pl, &p, 3, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	assert_int_equal(v.reason, R_NOT_ALLOWED);
	/* an error about the host's TCP connection 198.51.100.2:40000 -> 192.0.2.66:443 */
	tcp_in(&p, 0x02, NULL);
	turn(&p);
	p.sport = 40000, p.dport = 443;
	pipeline_judge(&pl, &p, 4, &v);
	assert_true(v.accept);
	icmp_error(&err, PKT_DIR_IN, "203.0.113.9", "198.51.100.2", 1, &p); /* from a router on the way */
	pipeline_judge(&pl, &err, 5, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	/* the same quote sent to someone else, or the quote turned round: not related */
	ll_ip_parse("198.51.100.3", &err.dst);
	pipeline_judge(&pl, &err, 6, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	err.dst = p.src;
	err.inner.src = p.dst, err.inner.dst = p.src;
	err.inner.sport = 443, err.inner.dport = 40000;
	pipeline_judge(&pl, &err, 7, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	/*
	 * The host pings with id 0; an error quoting an ICMP message that is
	 * no echo (here an error of its own), or an echo cut before its id,
	 * has no id: not the ping's (conntrack cannot invert such a tuple)
	 */
	echo_out(&p, 8);
	p.sport = p.dport = 0;
	pipeline_judge(&pl, &p, 8, &v);
	assert_true(v.accept);
	icmp_error(&err, PKT_DIR_IN, "203.0.113.9", "198.51.100.2", 1, &p);
	err.inner.has_ports = 0, err.inner.icmp_type = 3;
	pipeline_judge(&pl, &err, 9, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FIREWALL);
	err.inner.icmp_type = 8, err.inner.has_ports = 1; /* the ping's own quote: related */
	pipeline_judge(&pl, &err, 10, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * An ICMP error joins the flow it quotes but is no packet of it (Suricata's
 * FlowUpdateSeenFlag() leaves the flow's first-packet flags alone for one):
 * a server that sends one ahead of its SYN-ACK must not use up the check of
 * the IP-only rules for its direction, or a header-only drop rule on its
 * port never met its packets.
 */
static void test_icmp_error_leaves_iponly(void **state)
{
	struct policy *a = load("allow out any id 1\n"
				"drop tcp any 4444 -> any any (msg:\"c2\"; sid:9;)\n");
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p, err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	v4_pkt(&p, 6, PKT_DIR_OUT, "198.51.100.2", "192.0.2.66"); /* the host connects */
	p.sport = 40000, p.dport = 4444, p.tcp_flags = 0x02, p.tcp_seq = 1000, p.tcp_win = 65535;
	p.l3hlen = 20, p.l4hlen = 20, p.len = 40;
	pipeline_judge(&pl, &p, 1000, &v);
	assert_true(v.accept);
	icmp_error(&err, PKT_DIR_IN, "192.0.2.66", "198.51.100.2", 1, &p); /* the server's, first */
	err.icmp_type = 4; /* a source quench: Linux ignores it, the connection goes on */
	pipeline_judge(&pl, &err, 1001, &v);
	v4_pkt(&p, 6, PKT_DIR_IN, "192.0.2.66", "198.51.100.2"); /* its SYN-ACK from port 4444 */
	p.sport = 4444, p.dport = 40000, p.tcp_flags = 0x12, p.tcp_seq = 5000, p.tcp_ack = 1001;
	p.tcp_win = 65535, p.l3hlen = 20, p.l4hlen = 20, p.len = 40;
	pipeline_judge(&pl, &p, 1002, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_IPS);
	assert_int_equal(v.rule, 9);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * An ICMP error goes the way its destination says: one from a router to
 * the host as the server, about its reply, travels toward the server
 * (to_server); the server's own error to the client travels to_client.
 */
static void test_icmp_error_direction(void **state)
{
	struct policy *a = load("allow in udp to any port 9999 id 3\nallow out any id 1\n"
				"alert ip any any -> any any (flow:to_client; content:\"MARK\"; sid:200;)\n"
				"alert ip any any -> any any (flow:to_server; content:\"MARK\"; sid:201;)\n");
	static const uint8_t mark[] = "..MARK..";
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p, err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	v4_pkt(&p, 17, PKT_DIR_IN, "192.0.2.10", "198.51.100.2");
	p.sport = 5555, p.dport = 9999;
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	turn(&p);
	p.sport = 9999, p.dport = 5555;
	pipeline_judge(&pl, &p, 2, &v);
	assert_true(v.accept);
	/* a router's error about the host's reply, to the host */
	icmp_error(&err, PKT_DIR_IN, "192.0.2.66", "198.51.100.2", 1, &p);
	err.payload = mark, err.paylen = 8, err.len = 36;
	pipeline_judge(&pl, &err, 3, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	assert_int_equal(v.nalerts, 1);
	assert_int_equal(v.alerts[0], 201);
	/* the host's own error to the client, about its datagram: to_client */
	turn(&p);
	p.sport = 5555, p.dport = 9999;
	icmp_error(&err, PKT_DIR_OUT, "198.51.100.2", "192.0.2.10", 3, &p);
	err.payload = mark, err.paylen = 8, err.len = 36;
	pipeline_judge(&pl, &err, 4, &v);
	assert_true(v.accept);
	assert_int_equal(v.nalerts, 1);
	assert_int_equal(v.alerts[0], 200);
	pipeline_fini(&pl);
	policy_free(a);
	config_free(&cfg);
}

/*
 * After an IPS reject, the kernel's answer (a RST toward the rejected
 * packet's sender) goes through the engine too: it passes; the rest of the
 * flow does not.
 */
static void test_reject_answer_passes(void **state)
{
	struct policy *a = load("allow in tcp id 1\n"
				"reject tcp any any -> any 80 (msg:\"x\"; content:\"EVIL\"; sid:9;)\n");
	static const uint8_t evil[] = "EVIL";
	struct policy *e;
	struct config cfg;
	struct pipeline pl;
	struct verdict v;
	struct pkt p, back;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(pipeline_init(&pl, &cfg, a), 0);
	tcp_in(&p, 0x02, NULL);
	p.dport = 80;
	pipeline_judge(&pl, &p, 1, &v);
	assert_true(v.accept);
	p.tcp_flags = 0x18;
	p.payload = evil;
	p.paylen = 4;
	p.len = 44;
	pipeline_judge(&pl, &p, 2, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_IPS);
	assert_int_equal(v.reason, R_IPS_REJECT);
	/* the RST the kernel sends back to 192.0.2.66 */
	back = p;
	back.src = p.dst, back.dst = p.src;
	back.sport = p.dport, back.dport = p.sport;
	back.dir = PKT_DIR_OUT;
	back.payload = NULL, back.paylen = 0;
	back.tcp_flags = 0x14;
	pipeline_judge(&pl, &back, 3, &v);
	assert_true(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	assert_int_equal(v.reason, R_IPS_REJECT);
	/* anything else of the flow stays dropped, either way, a RST from the sender too */
	back.tcp_flags = 0x10;
	pipeline_judge(&pl, &back, 4, &v);
	assert_false(v.accept);
	p.tcp_flags = 0x10;
	p.payload = NULL, p.paylen = 0;
	pipeline_judge(&pl, &p, 5, &v);
	assert_false(v.accept);
	p.tcp_flags = 0x14;
	pipeline_judge(&pl, &p, 6, &v);
	assert_false(v.accept);
	/* a reload (here of the same policy) does not revive the flow the IPS rejected */
	pipeline_set_policy(&pl, a);
	p.tcp_flags = 0x10;
	pipeline_judge(&pl, &p, 7, &v);
	assert_false(v.accept);
	assert_int_equal(v.by, BY_FLOW);
	assert_int_equal(v.reason, R_IPS_REJECT);
	assert_int_equal(v.rule, 9);
	/* ... but reset's empty policy accepts everything, that flow too */
	e = policy_empty();
	pipeline_set_policy(&pl, e);
	pipeline_judge(&pl, &p, 8, &v);
	assert_true(v.accept);
	assert_int_equal(v.reason, R_EMPTY_POLICY);
	pipeline_fini(&pl);
	policy_free(a);
	policy_free(e);
	config_free(&cfg);
}

/*
 * A packet drawn from few hosts and ports, so that flows repeat, turn
 * round, close, reopen and get evicted; some are ICMP errors quoting them.
 */
static void random_pkt(struct pkt *p)
{
	static const char *const hosts[] = { "192.0.2.1", "192.0.2.2", "198.51.100.7",
					     "203.0.113.9", "2001:db8::1", "2001:db8::2" };
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01 };
	static const uint16_t ports[] = { 22, 53, 80, 443, 40000, 40001 };
	int v6 = rnd(3) == 0;
	uint32_t kind = rnd(10);

	memset(p, 0, sizeof(*p));
	p->family = v6 ? 6 : 4;
	p->ttl = 64;
	p->dir = rnd(2) ? PKT_DIR_IN : PKT_DIR_OUT;
	p->l4_ok = 1;
	p->len = 40 + rnd(1400);
	ll_ip_parse(hosts[(v6 ? 4 : 0) + rnd(v6 ? 2 : 4)], &p->src);
	ll_ip_parse(hosts[(v6 ? 4 : 0) + rnd(v6 ? 2 : 4)], &p->dst);
	p->ifname = rnd(2) ? "eth0" : "eth1";
	if (kind < 5) {
		p->proto = 6;
		p->tcp_flags = flags[rnd(sizeof(flags))];
	} else if (kind < 8) {
		p->proto = 17;
	} else if (kind == 8) {
		p->proto = v6 ? 58 : 1;
		p->icmp_type = v6 ? (rnd(2) ? 128 : 129) : (rnd(2) ? 8 : 0);
		p->sport = p->dport = (uint16_t)rnd(3); /* echo id, both ways */
		return;
	} else {
		/* an error quoting a TCP or UDP packet between the same hosts, turned round */
		p->proto = v6 ? 58 : 1;
		p->icmp_type = v6 ? 1 : 3;
		p->icmp_code = (uint8_t)rnd(4);
		p->inner.present = 1;
		p->inner.family = p->family;
		p->inner.proto = rnd(2) ? 6 : 17;
		p->inner.has_ports = 1;
		p->inner.src = p->dst;
		p->inner.dst = p->src;
		p->inner.sport = ports[rnd(sizeof(ports) / sizeof(ports[0]))];
		p->inner.dport = ports[rnd(sizeof(ports) / sizeof(ports[0]))];
		return;
	}
	p->sport = ports[rnd(sizeof(ports) / sizeof(ports[0]))];
	p->dport = ports[rnd(sizeof(ports) / sizeof(ports[0]))];
}

static void assert_same_verdict(const struct verdict *a, const struct verdict *b)
{
	assert_int_equal(a->accept, b->accept);
	assert_int_equal(a->by, b->by);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->has_rule, b->has_rule);
	assert_int_equal(a->rule, b->rule);
	assert_int_equal(a->offload, b->offload);
	assert_int_equal(a->nolog, b->nolog);
	assert_int_equal(a->nlogged, b->nlogged);
	assert_memory_equal(a->logged, b->logged, a->nlogged * sizeof(a->logged[0]));
}

/*
 * pipeline_judge_batch() answers exactly as pipeline_judge() one by one:
 * 200,000 random packets in batches of random sizes through a table small
 * enough to evict, with policy changes and clock jumps between batches,
 * against a second pipeline fed the same packets singly.
 */
static void test_batch_equals_single(void **state)
{
	struct policy *pols[3] = {
		load("deny priority 2 in tcp to any port 22 id 3\n"
		     "allow in udp id 4\n"
		     "force-allow priority 3 out tcp to any port 443 id 5\n"
		     "log-only in tcp id 6\n"
		     "allow in icmp id 7\n"
		     "bypass priority 4 in tcp from 203.0.113.9 id 8\n"
		     "deny in tcp on eth1 to any port 80 id 9\n"),
		policy_empty(),
		load("deny out tcp id 1\ndeny out udp id 11\nallow in tcp id 2\nlog-only in udp id 10\n"),
	};
	struct config cfg;
	struct pipeline one, many;
	unsigned seen_new = 0, seen_flow = 0, seen_deny = 0;

	(void)state;
	rnd_state = 0x9e3779b97f4a7c15ULL;
	config_defaults(&cfg);
	cfg.max_flows = 40; /* evictions all the time */
	assert_int_equal(pipeline_init(&one, &cfg, pols[0]), 0);
	assert_int_equal(pipeline_init(&many, &cfg, pols[0]), 0);
	for (uint64_t now = 1000000, sent = 0; sent < 200000;) {
		struct pkt pk[PIPELINE_BATCH * 2], *pp[PIPELINE_BATCH * 2];
		uint64_t when[PIPELINE_BATCH * 2];
		struct verdict v1, vb[PIPELINE_BATCH * 2];
		unsigned n = 1 + rnd(PIPELINE_BATCH * 2);

		if (rnd(500) == 0) {
			struct policy *np = pols[rnd(3)];
			pipeline_set_policy(&one, np);
			pipeline_set_policy(&many, np);
		}
		if (rnd(1000) == 0)
			now += 700000000; /* past every timeout */
		for (unsigned i = 0; i < n; i++) {
			random_pkt(&pk[i]);
			pp[i] = &pk[i];
			when[i] = now += rnd(3000);
		}
		pipeline_judge_batch(&many, pp, n, when, vb);
		for (unsigned i = 0; i < n; i++) {
			pipeline_judge(&one, &pk[i], when[i], &v1);
			assert_same_verdict(&v1, &vb[i]);
			seen_new += v1.by == BY_FIREWALL;
			seen_flow += v1.by == BY_FLOW;
			seen_deny += !v1.accept;
		}
		sent += n;
	}
	assert_memory_equal(&one.ctr, &many.ctr, sizeof(one.ctr));
	assert_int_equal(one.nrule_hits, many.nrule_hits);
	assert_memory_equal(one.rule_hits, many.rule_hits, one.nrule_hits * sizeof(*one.rule_hits));
	/* the stream really mixed new flows, known flows and drops */
	assert_true(seen_new > 10000 && seen_flow > 10000 && seen_deny > 10000);
	pipeline_fini(&one);
	pipeline_fini(&many);
	for (int i = 0; i < 3; i++)
		policy_free(pols[i]);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejudge_keeps_interface),
		cmocka_unit_test(test_flow_both_directions),
		cmocka_unit_test(test_denied_flow_squats_nothing),
		cmocka_unit_test(test_lone_fragment_discarded),
		cmocka_unit_test(test_syn_after_ack_judged),
		cmocka_unit_test(test_offloaded_responder_syn_alone),
		cmocka_unit_test(test_offload_only_when_ips_cannot_match),
		cmocka_unit_test(test_ips_cut_super_packet),
		cmocka_unit_test(test_ips_nomem_drops),
		cmocka_unit_test(test_reject_answer_passes),
		cmocka_unit_test(test_related_as_conntrack), cmocka_unit_test(test_icmp_error_direction),
		cmocka_unit_test(test_icmp_error_leaves_iponly),
		cmocka_unit_test(test_echo_reply_opens_nothing),
		cmocka_unit_test(test_error_about_lifeline),
		cmocka_unit_test(test_batch_equals_single),
		cmocka_unit_test(test_offloaded_reuse_is_new),
		cmocka_unit_test(test_offload_blind_end_holds),
		cmocka_unit_test(test_offload_back_real_close),
		cmocka_unit_test(test_offload_return_real_rst),
		cmocka_unit_test(test_offload_inspected_blind_end),
		cmocka_unit_test(test_fin_ahead_purges),
		cmocka_unit_test(test_ips_drop_outlives_rst),
		cmocka_unit_test(test_ips_rst_ends_flow),
		cmocka_unit_test(test_rst_past_hole),
		cmocka_unit_test(test_fin_behind_bogus_end),
		cmocka_unit_test(test_dropped_fin_holds),
		cmocka_unit_test(test_dropped_segment_ends_nothing),
		cmocka_unit_test(test_cut_fin_holds),
		cmocka_unit_test(test_md5_synack_moves_nothing),
		cmocka_unit_test(test_signed_syn_to_listener),
		cmocka_unit_test(test_keyed_session_established),
		cmocka_unit_test(test_fin_after_hole_holds),
		cmocka_unit_test(test_resync_end_holds),
		cmocka_unit_test(test_resync_rst_ends),
		cmocka_unit_test(test_signed_syn_counts),
		cmocka_unit_test(test_rst_past_sack_blocks),
		cmocka_unit_test(test_rst_past_sack_fin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
