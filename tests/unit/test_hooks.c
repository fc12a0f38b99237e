/* test_hooks.c - reading our kernel rules back: is the queue rule there (status, doctor, a policy swap)? */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing_queues),
		cmocka_unit_test(test_no_listing_is_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
