/* test_config.c - lifeline.conf: every directive, every error with its line:col, defaults. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "kernel_probe.h"
#include "pkt.h"

static ll_ip ip(const char *s)
{
	ll_ip a;

	assert_int_equal(ll_ip_parse(s, &a), 0);
	return a;
}

static void assert_defaults(const struct config *c)
{
	assert_int_equal(c->nmanagers, 0);
	assert_int_equal(c->heartbeat_port, 4120);
	assert_int_equal(c->agent_port, 4118);
	assert_int_equal(c->heartbeat_interval, 60);
	assert_int_equal(c->missed_heartbeats, 2);
	assert_int_equal(c->ndns_servers, 0);
	assert_int_equal(c->nhosts, 0);
	assert_int_equal(c->queue_lo, 0);
	assert_int_equal(c->queue_hi, 0);
	assert_true(c->fail_open);
	assert_false(c->sanity_accept);
	assert_true(c->offload);
	assert_int_equal(c->max_flows, 1000000);
	assert_int_equal(c->stream_depth, 1048576);
	assert_string_equal(c->state_dir, "/var/lib/lifeline");
	assert_string_equal(c->control_socket, "/run/lifeline/control.sock");
	assert_string_equal(c->event_log, "/var/log/lifeline/events.json");
	assert_null(c->trusted_key);
	assert_int_equal(c->ntls_certs, 0);
	assert_int_equal(c->kernel_tcp_ao, CFG_KERNEL_AUTO);
	assert_int_equal(c->kernel_mip6, CFG_KERNEL_AUTO);
}

static void test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_defaults(&c);
	assert_null(c.path);
	config_free(&c);
}

static void test_missing_file(void **state)
{
	struct ll_errlist e = { 0 };
	struct config c;

	(void)state;
	assert_int_equal(config_load(&c, "/nonexistent/lifeline.conf", true, &e), 0);
	assert_int_equal(e.n, 0);
	assert_defaults(&c);
	config_free(&c);

	assert_int_equal(config_load(&c, "/nonexistent/lifeline.conf", false, &e), -ENOENT);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].loc.file, "/nonexistent/lifeline.conf");
	assert_non_null(strstr(e.v[0].msg, "No such file"));
	config_free(&c);
	ll_err_free(&e);
}

static const char full[] =
	"# every directive of SPEC section 3\n"
	"manager 203.0.113.10          # repeatable\n"
	"manager 2001:db8::10\n"
	"manager mgr.example.com.\n"
	"heartbeat-port 4121\n"
	"agent-port 4119\n"
	"heartbeat-interval 30\n"
	"missed-heartbeats 3\n"
	"dns-server 198.51.100.1\n"
	"dns-server 2001:db8::53\n"
	"host 198.51.100.2\n"
	"host 198.51.100.77/24\n"
	"host 2001:db8:1::5/64\n"
	"\tqueues 2-5\n"
	"fail-open no\n"
	"sanity-failure accept\n"
	"offload no\n"
	"max-flows 5000\n"
	"stream-depth 65536\n"
	"state-dir /tmp/ll-state\n"
	"control-socket /tmp/ll.sock\n"
	"event-log /tmp/ll-events.json\n"
	"trusted-key /etc/lifeline/manager.pub\n"
	"tls-cert /etc/lifeline/a.crt\n"
	"tls-cert /etc/lifeline/b.crt\r\n"
	"kernel-tcp-ao no\n"
	"kernel-mip6 yes\n"
	"\n"
	"   # indented comment\n";

static void test_every_directive(void **state)
{
	struct ll_errlist e = { 0 };
	struct config c;

	(void)state;
	assert_int_equal(config_load_string(&c, "full.conf", full, &e), 0);
	ll_err_print(&e, stderr);
	assert_int_equal(e.n, 0);
	assert_int_equal(c.nmanagers, 3);
	assert_true(c.managers[0].is_literal);
	assert_true(ll_ip_eq(c.managers[0].addr, ip("203.0.113.10")));
	assert_true(c.managers[1].is_literal);
	assert_true(ll_ip_eq(c.managers[1].addr, ip("2001:db8::10")));
	assert_false(c.managers[2].is_literal);
	assert_string_equal(c.managers[2].name, "mgr.example.com.");
	assert_int_equal(c.heartbeat_port, 4121);
	assert_int_equal(c.agent_port, 4119);
	assert_int_equal(c.heartbeat_interval, 30);
	assert_int_equal(c.missed_heartbeats, 3);
	assert_int_equal(c.ndns_servers, 2);
	assert_true(ll_ip_eq(c.dns_servers[0], ip("198.51.100.1")));
	assert_true(ll_ip_eq(c.dns_servers[1], ip("2001:db8::53")));
	assert_int_equal(c.nhosts, 3);
	assert_true(ll_ip_eq(c.hosts[0].lo, ip("198.51.100.2")));
	assert_true(ll_ip_eq(c.hosts[0].hi, ip("198.51.100.2")));
	/* host bits are masked off */
	assert_true(ll_ip_eq(c.hosts[1].lo, ip("198.51.100.0")));
	assert_true(ll_ip_eq(c.hosts[1].hi, ip("198.51.100.255")));
	assert_true(ll_ip_eq(c.hosts[2].lo, ip("2001:db8:1::")));
	assert_true(ll_ip_eq(c.hosts[2].hi, ip("2001:db8:1::ffff:ffff:ffff:ffff")));
	assert_int_equal(c.queue_lo, 2);
	assert_int_equal(c.queue_hi, 5);
	assert_false(c.fail_open);
	assert_true(c.sanity_accept);
	assert_false(c.offload);
	assert_int_equal(c.max_flows, 5000);
	assert_int_equal(c.stream_depth, 65536);
	assert_string_equal(c.state_dir, "/tmp/ll-state");
	assert_string_equal(c.control_socket, "/tmp/ll.sock");
	assert_string_equal(c.event_log, "/tmp/ll-events.json");
	assert_string_equal(c.trusted_key, "/etc/lifeline/manager.pub");
	assert_int_equal(c.ntls_certs, 2);
	assert_string_equal(c.tls_certs[0], "/etc/lifeline/a.crt");
	assert_string_equal(c.tls_certs[1], "/etc/lifeline/b.crt");
	assert_int_equal(c.kernel_tcp_ao, CFG_KERNEL_NO);
	assert_int_equal(c.kernel_mip6, CFG_KERNEL_YES);
	assert_string_equal(c.path, "full.conf");
	config_free(&c);
	ll_err_free(&e);
}

/*
 * What the stack's drops are judged for: replay never asks the machine
 * (auto is a distribution kernel's: TCP-AO and Mobile IPv6 present), and
 * a `yes` or `no` holds live and in replay.
 */
static void test_kernel_features(void **state)
{
	struct pkt_kernel was = pkt_kernel;
	struct ll_errlist e = { 0 };
	struct config c;
	char how[256];

	(void)state;
	config_defaults(&c);
	pkt_kernel.tcp_ao = pkt_kernel.mip6 = false;
	kernel_features(&c, false, how, sizeof(how));
	assert_true(pkt_kernel.tcp_ao);
	assert_true(pkt_kernel.mip6);
	assert_true(pkt_kernel.auth_parse);
	assert_string_equal(how, "kernel: TCP-AO yes (replay default), Mobile IPv6 yes (replay "
			    "default), authentication options parsed on every segment yes (6.7+)");
	assert_int_equal(config_load_string(&c, "k.conf", "kernel-tcp-ao no\nkernel-mip6 no\n", &e), 0);
	/* replay: a kernel before 6.7; live, the release decides the parse */
	kernel_features(&c, false, how, sizeof(how));
	assert_false(pkt_kernel.tcp_ao);
	assert_false(pkt_kernel.mip6);
	assert_false(pkt_kernel.auth_parse);
	assert_string_equal(how, "kernel: TCP-AO no (config), Mobile IPv6 no (config), "
			    "authentication options parsed on every segment no (6.7+)");
	kernel_features(&c, true, how, sizeof(how));
	assert_false(pkt_kernel.tcp_ao);
	assert_false(pkt_kernel.mip6);
	assert_int_equal(pkt_kernel.auth_parse, kernel_probe_auth_parse() != 0);
	config_free(&c);
	ll_err_free(&e);
	pkt_kernel = was;
}

static void test_queue_single_and_edges(void **state)
{
	struct ll_errlist e = { 0 };
	struct config c;

	(void)state;
	assert_int_equal(config_load_string(&c, "q", "queues 7\nheartbeat-port 65535\n"
						   "agent-port 1\nhost 0.0.0.0/0\n", &e), 0);
	assert_int_equal(c.queue_lo, 7);
	assert_int_equal(c.queue_hi, 7);
	assert_int_equal(c.heartbeat_port, 65535);
	assert_int_equal(c.agent_port, 1);
	assert_true(ll_ip_eq(c.hosts[0].lo, ip("0.0.0.0")));
	assert_true(ll_ip_eq(c.hosts[0].hi, ip("255.255.255.255")));
	config_free(&c);
	/* IPv4-mapped text is IPv4, its length too: this one address, not ::/32 (all of IPv4) */
	assert_int_equal(config_load_string(&c, "q", "host ::ffff:198.51.100.2/32\n", &e), 0);
	assert_true(ll_ip_eq(c.hosts[0].lo, ip("198.51.100.2")));
	assert_true(ll_ip_eq(c.hosts[0].hi, ip("198.51.100.2")));
	config_free(&c);
	assert_int_equal(config_load_string(&c, "q", "host ::/0\nqueues 3-3\n", &e), 0);
	assert_true(ll_ip_eq(c.hosts[0].lo, ip("::")));
	assert_int_equal(c.queue_lo, 3);
	assert_int_equal(c.queue_hi, 3);
	config_free(&c);
	assert_int_equal(e.n, 0);
}

/* One bad line per case, with the error expected at line:col. */
struct bad_case {
	const char *text;
	uint32_t line, col;
	const char *msg; /* the whole message, token quoted */
};

static const struct bad_case bad_cases[] = {
	{ "frobnicate 1\n", 1, 1, "unknown directive 'frobnicate'" },
	{ "\n\n  manager\n", 3, 3, "missing value for 'manager'" },
	{ "heartbeat-port 4120 4121\n", 1, 21, "unexpected extra value '4121'" },
	{ "heartbeat-port 0\n", 1, 16, "invalid port (expected 1-65535) '0'" },
	{ "heartbeat-port 65536\n", 1, 16, "invalid port (expected 1-65535) '65536'" },
	{ "agent-port http\n", 1, 12, "invalid port (expected 1-65535) 'http'" },
	{ "agent-port -1\n", 1, 12, "invalid port (expected 1-65535) '-1'" },
	{ "heartbeat-interval 0\n", 1, 20,
	  "invalid heartbeat interval in seconds (expected 1-86400) '0'" },
	{ "missed-heartbeats 1001\n", 1, 19, "invalid missed-heartbeat count (expected 1-1000) '1001'" },
	{ "max-flows 0\n", 1, 11, "invalid flow count (expected 1-100000000) '0'" },
	{ "max-flows 99999999999999999999999\n", 1, 11,
	  "invalid flow count (expected 1-100000000) '99999999999999999999999'" },
	{ "stream-depth 1k\n", 1, 14, "invalid stream depth in bytes (expected 1-1073741824) '1k'" },
	{ "queues 5-2\n", 1, 8, "queue range start is above its end '5-2'" },
	{ "queues 1-\n", 1, 8, "invalid queue range (expected N-M, 0-65535) '1-'" },
	{ "queues 65536\n", 1, 8, "invalid queue number (expected 0-65535) '65536'" },
	{ "queues 0-1000\n", 1, 8, "too many queues (at most 256) '0-1000'" },
	{ "fail-open true\n", 1, 11, "expected yes or no, got 'true'" },
	{ "offload YES\n", 1, 9, "expected yes or no, got 'YES'" },
	{ "sanity-failure reject\n", 1, 16, "expected drop or accept, got 'reject'" },
	{ "kernel-tcp-ao maybe\n", 1, 15, "expected auto, yes or no, got 'maybe'" },
	{ "kernel-mip6 on\n", 1, 13, "expected auto, yes or no, got 'on'" },
	{ "manager 203.0.113\n", 1, 9, "invalid manager address or host name '203.0.113'" },
	{ "manager 2001:db8::zz\n", 1, 9, "invalid manager address or host name '2001:db8::zz'" },
	{ "manager -bad.example\n", 1, 9, "invalid manager address or host name '-bad.example'" },
	{ "manager a..b\n", 1, 9, "invalid manager address or host name 'a..b'" },
	{ "manager under_score.example\n", 1, 9,
	  "invalid manager address or host name 'under_score.example'" },
	{ "manager 10.0.0.1\nmanager 10.0.0.1\n", 2, 9, "duplicate manager '10.0.0.1'" },
	{ "dns-server resolver.example\n", 1, 12, "invalid DNS server address 'resolver.example'" },
	{ "dns-server 10.0.0.300\n", 1, 12, "invalid DNS server address '10.0.0.300'" },
	{ "host 10.0.0.0/33\n", 1, 6, "invalid prefix length '10.0.0.0/33'" },
	{ "host 2001:db8::/129\n", 1, 6, "invalid prefix length '2001:db8::/129'" },
	{ "host ::ffff:198.51.100.0/120\n", 1, 6, "invalid prefix length '::ffff:198.51.100.0/120'" },
	{ "host somehost\n", 1, 6, "invalid host address or CIDR 'somehost'" },
	{ "state-dir var/lib/lifeline\n", 1, 11, "path must be absolute 'var/lib/lifeline'" },
	{ "event-log ./events.json\n", 1, 11, "path must be absolute './events.json'" },
	{ "trusted-key manager.pub\n", 1, 13, "path must be absolute 'manager.pub'" },
	{ "tls-cert agent.crt\n", 1, 10, "path must be absolute 'agent.crt'" },
	{ "control-socket /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	  1, 16,
	  "path too long '/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock'" },
	{ "agent-port 4118\n# c\nagent-port 4119\n", 3, 1,
	  "directive given twice (first on line 1) 'agent-port'" },
	{ "queues 1\nqueues 2\n", 2, 1, "directive given twice (first on line 1) 'queues'" },
	{ "Manager 10.0.0.1\n", 1, 1, "unknown directive 'Manager'" },
	{ "manager=10.0.0.1\n", 1, 1, "unknown directive 'manager=10.0.0.1'" },
};

static void test_each_error(void **state)
{
	(void)state;
	for (size_t i = 0; i < LL_ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct ll_errlist e = { 0 };
		struct config c;
		int rc = config_load_string(&c, "bad.conf", bc->text, &e);

		if (e.n != 1 || e.v[0].loc.line != bc->line || e.v[0].loc.col != bc->col ||
		    strcmp(e.v[0].msg, bc->msg)) {
			fprintf(stderr, "case %zu: %s", i, bc->text);
			ll_err_print(&e, stderr);
		}
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(e.n, 1);
		assert_string_equal(e.v[0].loc.file, "bad.conf");
		assert_int_equal(e.v[0].loc.line, bc->line);
		assert_int_equal(e.v[0].loc.col, bc->col);
		assert_string_equal(e.v[0].msg, bc->msg);
		config_free(&c);
		ll_err_free(&e);
	}
}

/* Every error is reported, in line order, and the good lines still apply. */
static void test_all_errors_reported(void **state)
{
	static const char text[] = "manager 10.0.0.1\n"
				   "bogus yes\n"
				   "heartbeat-port 99999 # too big\n"
				   "queues 4-1\n"
				   "agent-port 4000\n"
				   "fail-open maybe\n";
	struct ll_errlist e = { 0 };
	struct config c;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(config_load_string(&c, "multi.conf", text, &e), -EINVAL);
	assert_int_equal(e.n, 4);
	f = open_memstream(&out, &outlen);
	ll_err_print(&e, f);
	fclose(f);
	assert_string_equal(out, "multi.conf:2:1: unknown directive 'bogus'\n"
				 "multi.conf:3:16: invalid port (expected 1-65535) '99999'\n"
				 "multi.conf:4:8: queue range start is above its end '4-1'\n"
				 "multi.conf:6:11: expected yes or no, got 'maybe'\n");
	assert_int_equal(c.agent_port, 4000);
	assert_int_equal(c.nmanagers, 1);
	free(out);
	config_free(&c);
	ll_err_free(&e);
}

/* The error list outlives the config (file names are interned). */
static void test_errors_outlive_config(void **state)
{
	struct ll_errlist e = { 0 };
	struct config c;
	char name[64];

	(void)state;
	snprintf(name, sizeof(name), "tmp-%d.conf", (int)getpid());
	assert_int_equal(config_load_string(&c, name, "nope 1\n", &e), -EINVAL);
	config_free(&c);
	memset(name, 'x', sizeof(name) - 1);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.v[0].loc.file, ".conf"));
	ll_err_free(&e);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct ll_errlist e = { 0 };
	struct config c;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full, strlen(full)), (ssize_t)strlen(full));
	close(fd);
	assert_int_equal(config_load(&c, path, false, &e), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(c.nmanagers, 3);
	assert_string_equal(c.path, path);
	config_free(&c);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "offload no\nofload yes\n", 22), 22);
	close(fd);
	assert_int_equal(config_load(&c, path, true, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].loc.file, path);
	assert_int_equal(e.v[0].loc.line, 2);
	config_free(&c);
	ll_err_free(&e);

	/* a NUL byte: not a text file */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "offload no\n\0\n", 13), 13);
	close(fd);
	assert_int_equal(config_load(&c, path, false, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].msg, "cannot read config: contains a NUL byte");
	config_free(&c);
	ll_err_free(&e);
	unlink(path);
}

static void test_empty_and_comments(void **state)
{
	struct ll_errlist e = { 0 };
	struct config c;

	(void)state;
	assert_int_equal(config_load_string(&c, "e", "", &e), 0);
	assert_defaults(&c);
	config_free(&c);
	assert_int_equal(config_load_string(&c, "e", "# only\n\n\t \n#x y z\nagent-port 9#c\n",
					    &e), 0);
	assert_int_equal(c.agent_port, 9);
	config_free(&c);
	assert_int_equal(config_load_string(&c, "bom", "\xef\xbb\xbf" "agent-port 7\n", &e), 0);
	assert_int_equal(c.agent_port, 7);
	config_free(&c);
	assert_int_equal(e.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_every_directive),
		cmocka_unit_test(test_kernel_features),
		cmocka_unit_test(test_queue_single_and_edges),
		cmocka_unit_test(test_each_error),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_errors_outlive_config),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_empty_and_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
