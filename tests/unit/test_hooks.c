/* test_hooks.c - reading our kernel rules back: is the queue rule there (status, doctor, a policy swap)? */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>

#include "helper_file.h"
#include "hooks.h"

/* As nft and iptables print our rules, with and without the queue rule. */
static void test_listing_queues(void **state)
{
	(void)state;
	assert_true(hooks_listing_queues(HOOKS_NFT,
		"table inet lifeline {\n\tchain input {\n\t\ttcp sport 4120 accept\n"
		"\t\tqueue flags bypass to 0-1\n\t}\n}\n"));
	assert_true(hooks_listing_queues(HOOKS_NFT, "\t\tmeta l4proto tcp queue to 0\n"));
	/* lifeline rules only, as `reset` leaves them; a set named like the word is no statement */
	assert_false(hooks_listing_queues(HOOKS_NFT,
		"table inet lifeline {\n\tset queued4 {\n\t\ttype ipv4_addr\n\t}\n"
		"\tchain input {\n\t\ttcp sport 4120 accept\n\t}\n}\n"));
	assert_true(hooks_listing_queues(HOOKS_IPTABLES,
		"-N LIFELINE-IN\n-A LIFELINE-IN -p tcp -m tcp --sport 4120 -j ACCEPT\n"
		"-A LIFELINE-IN -j NFQUEUE --queue-balance 0:1 --queue-bypass\n"));
	assert_false(hooks_listing_queues(HOOKS_IPTABLES,
		"-N LIFELINE-IN\n-A LIFELINE-IN -p tcp -m tcp --sport 4120 -j ACCEPT\n"));
}

/*
 * When neither tool can list (no rules of ours, a lock, a failed fork, no
 * such program), nothing is known: the engine must not take that for "reset
 * took the queue rule out" and stop queueing.
 */
static void test_no_listing_is_unknown(void **state)
{
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	(void)state;
	setenv("PATH", "/nonexistent", 1);
	assert_true(hooks_queue_installed() < 0);
	if (path)
		setenv("PATH", path, 1);
	free(path);
}

/* A tool named @name in @dir (put first on the PATH) that runs the shell commands @body. */
static void fake_tool(const char *dir, const char *name, const char *body)
{
	char text[512];

	snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	hf_write(dir, name, text, 0755);
}

/*
 * The raw table's LIFELINE-CLEAR is best effort, as the security backstop:
 * a kernel (or a container that cannot load iptable_raw) without the raw
 * table must still get the chains, the queue rule and the kernel lifeline.
 * The main iptables-restore text must hold no *raw section.
 */
static void test_install_without_raw_table(void **state)
{
	char dir[] = "/tmp/llhooks-raw.XXXXXX", path[512];
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	struct hooks h = { 0 };
	struct hooks_spec s = { .queue_lo = 0, .queue_hi = 0, .fail_open = true, .offload = true,
				.queue = true, .gen = 1, .heartbeat_port = 4120, .agent_port = 4118,
				.any_manager = true, .nflog_group = 4118 };
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fake_tool(dir, "ipset", "cat >/dev/null; exit 0");
	fake_tool(dir, "iptables", "exit 1");
	fake_tool(dir, "ip6tables", "exit 1");
	fake_tool(dir, "iptables-restore",
		  "if grep -q '^\\*raw'; then echo \"can't initialize iptables table 'raw'\"; exit 2; fi; exit 0");
	fake_tool(dir, "ip6tables-restore",
		  "if grep -q '^\\*raw'; then echo \"can't initialize ip6tables table 'raw'\"; exit 2; fi; exit 0");
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", path, 1);
	rc = hooks_install(&h, HOOKS_IPTABLES, &s);
	if (old)
		setenv("PATH", old, 1);
	free(old);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
	if (rc)
		print_error("hooks_install: %d, %s\n", rc, h.err);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing_queues),
		cmocka_unit_test(test_no_listing_is_unknown),
		cmocka_unit_test(test_install_without_raw_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
