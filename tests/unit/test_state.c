/* test_state.c - the state directory: atomic writes, policies, metadata, DNS, corrupt files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ips.h"
#include "state.h"
#include "../../filter/engine_int.h" /* engine_persist_given() */

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ll-test-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* @name in the state dir (a static buffer: one at a time) */
static const char *in_dir(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* A start from the state dir: its first rule's id (0: no rule), and what it said, in a static buffer. */
static const char *start_runs(uint32_t id)
{
	static char why[512];
	struct policy *p;

	assert_non_null(p = state_load_current(dir, NULL, why, sizeof(why), NULL));
	assert_int_equal(p->nrules ? p->rules[0].id : 0, id);
	policy_free(p);
	return why;
}

static void put(const char *name, const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(in_dir(name), "w"));
	fwrite(text, 1, strlen(text), f);
	fclose(f);
}

/* lifelined -p @text: persisted once the engine runs (engine_persist_given()). */
static void start_given(const struct config *cfg, const char *text)
{
	struct ll_errlist errs = { 0 };
	struct policy *p = policy_load_string("given.pol", text, NULL, &errs);

	assert_non_null(p);
	engine_persist_given(cfg, p);
	policy_free(p);
	ll_err_free(&errs);
}

static void assert_holds(const char *name, const char *want)
{
	char *text = NULL;
	size_t len;

	assert_int_equal(state_read_file(dir, name, 1 << 16, &text, &len), 0);
	if (!strstr(text, want))
		fail_msg("%s holds '%s', not '%s'", name, text, want);
	free(text);
}

static bool exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* No temporary file is left behind, whatever happened. */
static void assert_no_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		assert_null(strstr(e->d_name, ".tmp"));
	closedir(d);
}

static void test_write_read(void **state)
{
	char *t = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(state_write_file(dir, "x", "hello", 5), 0);
	assert_int_equal(state_read_file(dir, "x", 100, &t, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(t, "hello");
	free(t);
	/* replacing keeps readers on the old or the new file, never a mix */
	assert_int_equal(state_write_file(dir, "x", "bye", 3), 0);
	assert_int_equal(state_read_file(dir, "x", 100, &t, &len), 0);
	assert_string_equal(t, "bye");
	free(t);
	assert_int_equal(state_read_file(dir, "x", 2, &t, &len), -EFBIG);
	assert_int_equal(state_read_file(dir, "none", 100, &t, &len), -ENOENT);
	assert_no_tmp();
}

static void test_write_fails_cleanly(void **state)
{
	char *t = NULL;
	size_t len;

	(void)state;
	assert_int_equal(state_write_file(dir, "y", "old", 3), 0);
	/* a directory where the file belongs: rename fails, the temp file goes */
	assert_int_equal(state_write_file(dir, "", "x", 1) < 0, 1);
	assert_int_equal(state_write_file("/proc/nonexistent/dir", "y", "x", 1) < 0, 1);
	assert_int_equal(state_read_file(dir, "y", 100, &t, &len), 0);
	assert_string_equal(t, "old");
	free(t);
	assert_no_tmp();
}

static void test_policy_slots(void **state)
{
	char *text = NULL;
	void *sig = NULL;
	size_t len, siglen;

	(void)state;
	assert_int_equal(state_save_policy(dir, STATE_CURRENT, "allow in any id 1\n", 18,
					   "SIGSIGSIG", 9), 0);
	assert_true(exists("current.pol.sig"));
	assert_int_equal(state_promote_last_good(dir), 0);
	assert_true(exists("last-good.pol"));
	assert_true(exists("last-good.pol.sig"));
	/* an unsigned replacement removes the old signature */
	assert_int_equal(state_save_policy(dir, STATE_CURRENT, "deny in any id 2\n", 17, NULL, 0), 0);
	assert_false(exists("current.pol.sig"));
	assert_int_equal(state_read_policy(dir, STATE_LAST_GOOD, &text, &len, &sig, &siglen), 0);
	assert_string_equal(text, "allow in any id 1\n");
	assert_int_equal(siglen, 9);
	assert_memory_equal(sig, "SIGSIGSIG", 9);
	free(text);
	free(sig);
}

static void test_load_policy(void **state)
{
	char why[512];
	struct policy *p;

	(void)state;
	put("current.pol", "allow in tcp to any port 22 id 7\n");
	assert_non_null(p = state_load_policy(dir, STATE_CURRENT, NULL, why, sizeof(why)));
	assert_int_equal(p->nrules, 1);
	assert_non_null(p->classifier); /* compiled: ready to run */
	policy_free(p);
	/* corrupt: invalid text, NUL bytes, unreadable */
	put("current.pol", "allow in tcp to any port 99999 id 7\n");
	assert_null(state_load_policy(dir, STATE_CURRENT, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "current.pol:1:"));
	assert_int_equal(state_write_file(dir, "current.pol", "allow\0in", 8), 0);
	assert_null(state_load_policy(dir, STATE_CURRENT, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "NUL"));
	/* absent: the empty policy, no complaint */
	{
		char path[256];
		snprintf(path, sizeof(path), "%s/last-good.pol", dir);
		unlink(path);
	}
	assert_non_null(p = state_load_policy(dir, STATE_LAST_GOOD, NULL, why, sizeof(why)));
	assert_int_equal(p->nrules, 0);
	assert_string_equal(why, "");
	policy_free(p);
}

static void test_meta(void **state)
{
	struct state_meta m = { .has_serial = true, .serial = 42, .loaded_at = 1764165000,
				.confirm_deadline = 0, .is_signed = true }, r;

	(void)state;
	memset(m.sha256, 'a', 64);
	assert_int_equal(state_meta_write(dir, &m), 0);
	assert_int_equal(state_meta_read(dir, &r), 0);
	assert_true(r.has_serial);
	assert_int_equal(r.serial, 42);
	assert_string_equal(r.sha256, m.sha256);
	assert_int_equal(r.loaded_at, 1764165000);
	assert_true(r.is_signed);
	put("state.meta", "serial banana\n");
	assert_int_equal(state_meta_read(dir, &r), -EINVAL);
	assert_false(r.has_serial);
}

/* The files a stopped engine left; what the next start runs (@why: what it says). */
static struct policy *restart_with(const char *last_good, const char *current,
				   const struct state_meta *m, char *why, size_t whylen)
{
	put("last-good.pol", last_good);
	put("current.pol", current);
	assert_int_equal(state_meta_write(dir, m), 0);
	return state_load_current(dir, NULL, why, whylen, NULL);
}

/* An engine that stops before `confirm` comes back with last-good, persisted. */
static void test_unconfirmed_rolls_back(void **state)
{
	struct state_meta m = { .confirm_deadline = 1 }, r;
	char why[512];
	struct policy *p;

	(void)state;
	assert_non_null(p = restart_with("allow in tcp to any port 22 id 1\n", "deny in any id 2\n",
					 &m, why, sizeof(why)));
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->rules[0].id, 1);
	assert_non_null(strstr(why, "never confirmed"));
	policy_free(p);
	assert_int_equal(state_meta_read(dir, &r), 0);
	assert_int_equal(r.confirm_deadline, 0);
	start_runs(1); /* current.pol itself was replaced */
}

/*
 * Last-good loaded with --skip-unsupported, then a --confirm load without
 * it, then a restart: last-good loads as it ran (skipping), not as the
 * pending load's flag says; and when last-good cannot load at all, the
 * unconfirmed policy does not come back at the start after either.
 */
static void test_unconfirmed_last_good_skipping(void **state)
{
	struct state_meta m = { .confirm_deadline = 1 };
	char why[512];
	struct policy *p;

	(void)state;
	assert_non_null(p = restart_with("allow in tcp to any port 22 id 1\n"
					 "alert tcp any any -> any any (lua:x.lua; sid:1;)\n",
					 "deny in any id 2\n", &m, why, sizeof(why)));
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->rules[0].id, 1);
	policy_free(p);
	assert_non_null(p = restart_with("allow in bogus\n", "deny in any id 2\n", &m, why, sizeof(why)));
	assert_int_equal(p->nrules, 0);
	assert_non_null(strstr(why, "started with the empty policy, now current"));
	policy_free(p);
	assert_non_null(p = state_load_current(dir, NULL, why, sizeof(why), NULL)); /* the start after */
	assert_int_equal(p->nrules, 0);
	policy_free(p);
}

/*
 * A corrupt current.pol gives way to last-good, restored as current (so that
 * the next load does not promote the broken file); the broken one is kept.
 */
static void test_corrupt_current_falls_back(void **state)
{
	struct state_meta m = { 0 };
	char why[512], path[256], *text;
	size_t len;
	struct policy *p;

	(void)state;
	assert_non_null(p = restart_with("allow in tcp to any port 22 id 1\n", "deny in bogus id 2\n",
					 &m, why, sizeof(why)));
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->rules[0].id, 1);
	assert_non_null(strstr(why, "current.pol:1:9: unknown protocol 'bogus'"));
	assert_non_null(strstr(why, "started with last-good (1 firewall rule, 0 sets), now current"));
	policy_free(p);
	assert_int_equal(state_read_file(dir, "current.pol.bad", 1 << 16, &text, &len), 0);
	assert_string_equal(text, "deny in bogus id 2\n");
	free(text);
	assert_non_null(p = state_load_current(dir, NULL, why, sizeof(why), NULL));
	assert_int_equal(p->rules[0].id, 1); /* current.pol itself was replaced */
	assert_string_equal(why, "");
	policy_free(p);
	/* last-good broken too: NULL, and the engine runs the empty policy */
	assert_null(restart_with("allow in nonsense\n", "deny in bogus id 2\n", &m, why, sizeof(why)));
	assert_non_null(strstr(why, "current.pol:1:9"));
	assert_non_null(strstr(why, "; last-good did not load either (")); /* the log says both */
	assert_non_null(strstr(why, "last-good.pol:1:10"));
	snprintf(path, sizeof(path), "%s/current.pol.bad", dir);
	unlink(path);
}

/*
 * A policy an earlier version ran, in the state directory, holding what
 * this one refuses in a load (an empty list, a negation of everything, an
 * unknown escape, a C1 control, IPS rules Suricata refuses): the upgraded engine starts with it, as it
 * ran, not with the empty policy (rev20: it started accepting everything).
 */
static void test_earlier_version_policy_runs(void **state)
{
	static const char text[] = "deny priority 4 in tcp to any port { } id 1\n"
				   "deny priority 4 in any from ! ::/0 id 2\n"
				   "deny priority 4 in any msg \"no \\d \xc2\x85\" id 3\n"
				   "deny priority 4 out any id 4\n"
				   /* what Suricata refuses: sid twice, rev 0, fast_pattern twice, a base without string */
				   "alert tcp any any -> any any (content:\"a\"; sid:5; sid:6;)\n"
				   "alert tcp any any -> any any (content:\"b\"; sid:7; rev:0;)\n"
				   "alert tcp any any -> any any (content:\"c\"; fast_pattern; content:\"d\"; "
				   "fast_pattern; sid:8;)\n"
				   "alert tcp any any -> any any (byte_test:2,=,16,0,hex; sid:9;)\n";
	struct state_meta m = { 0 };
	struct ll_errlist errs = { 0 };
	char why[512];
	struct policy *p;

	(void)state;
	assert_null(policy_load_string("load", text, NULL, &errs)); /* a load refuses it */
	assert_true(errs.n >= 8);
	ll_err_free(&errs);
	assert_non_null(p = restart_with("", text, &m, why, sizeof(why)));
	assert_int_equal(p->nrules, 4);
	assert_int_equal(ips_ruleset_count(p->ips, NULL), 4);
	assert_string_equal(why, "");
	policy_free(p);
	assert_non_null(p = state_load_policy(dir, STATE_CURRENT, NULL, why, sizeof(why)));
	assert_int_equal(p->nrules, 4);
	policy_free(p);
}

/*
 * lifelined -p while a --confirm load was pending (the engine stopped before
 * confirm): the given policy runs, and the unconfirmed one does not become
 * last-good - a rollback must not bring back what was never confirmed.
 */
static void test_given_keeps_last_good(void **state)
{
	struct state_meta m = { .confirm_deadline = 1 };
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	cfg.state_dir = dir;
	put("last-good.pol", "allow in tcp to any port 22 id 1\n");
	put("current.pol", "deny in any id 2\n");
	assert_int_equal(state_meta_write(dir, &m), 0);
	start_given(&cfg, "allow in tcp to any port 80 id 3\n");
	assert_holds("last-good.pol", "id 1\n");
	assert_holds("current.pol", "id 3");
	/* nor when state.meta cannot say (garbled): as the start without -p holds it */
	put("state.meta", "garbage\n");
	start_given(&cfg, "allow in tcp to any port 25 id 5\n");
	assert_holds("last-good.pol", "id 1\n");
	/* with nothing pending, the policy before a given one is last-good, as before */
	m.confirm_deadline = 0;
	assert_int_equal(state_meta_write(dir, &m), 0);
	start_given(&cfg, "allow in tcp to any port 443 id 4\n");
	assert_holds("last-good.pol", "id 5"); /* the one given before */
}

/*
 * A state.meta that cannot be read (garbled, or cut to nothing) cannot say
 * whether current.pol still awaited confirm: the start takes last-good, as
 * for a load never confirmed, says why, and the start after keeps it.
 */
static void test_meta_unreadable_rolls_back(void **state)
{
	static const char *const broken[] = { "sha256 \x01\x02 garbage\n", "" };
	struct state_meta m = { .confirm_deadline = 1 };
	char why[512];
	struct policy *p;

	(void)state;
	for (size_t i = 0; i < LL_ARRAY_SIZE(broken); i++) {
		put("last-good.pol", "allow in tcp to any port 22 id 1\n");
		put("current.pol", "deny in any id 2\n");
		assert_int_equal(state_meta_write(dir, &m), 0);
		put("state.meta", broken[i]);
		assert_non_null(p = state_load_current(dir, NULL, why, sizeof(why), NULL));
		assert_int_equal(p->rules[0].id, 1);
		assert_non_null(strstr(why, "state.meta: garbled: whether current.pol was confirmed "
					"cannot be told; rolled back to last-good; current.pol is kept as "));
		policy_free(p);
		assert_holds("current.pol.bad", "deny in any id 2\n"); /* it may have been confirmed */
		start_runs(1); /* current.pol itself was replaced */
	}
	/* garbled beside no current.pol at all: last-good runs, and no .bad is named */
	assert_int_equal(unlink(in_dir("current.pol.bad")), 0);
	assert_int_equal(unlink(in_dir("current.pol")), 0);
	put("state.meta", "garbage\n");
	assert_null(strstr(start_runs(1), ".bad"));
	assert_int_equal(access(in_dir("current.pol.bad"), F_OK), -1);
	/* a directory where state.meta was: last-good runs all the same, not persisted */
	assert_int_equal(unlink(in_dir("state.meta")), 0);
	assert_int_equal(mkdir(in_dir("state.meta"), 0700), 0);
	put("current.pol", "deny in any id 2\n");
	assert_non_null(strstr(start_runs(1), "rolled back to last-good, not persisted"));
	assert_holds("current.pol", "id 1\n"); /* written before state.meta failed */
	assert_int_equal(rmdir(in_dir("state.meta")), 0);
	put("state.meta", "garbage\n");
	/* none at all (deleted, or current.pol put there by hand): it runs, and the log says so */
	assert_int_equal(unlink(in_dir("state.meta")), 0);
	put("current.pol", "deny in any id 2\n");
	assert_non_null(strstr(start_runs(2),
				   "state.meta is missing: current.pol is taken as confirmed"));
}

/*
 * The fall-back keeps what last-good was loaded with (skip-unsupported, its
 * hash), so that the next start loads it again; a current.pol that cannot
 * be read (not broken) is left where it is, last-good running meanwhile.
 */
static void test_fall_back_keeps_meta(void **state)
{
	struct state_meta m = { .skip_unsupported = true }, r;
	char why[512], path[256];
	struct policy *p;

	(void)state;
	assert_non_null(p = restart_with("allow in tcp to any port 22 id 1\n"
					 "alert tcp any any -> any 80 (content:\"a\"; http_uri; sid:5;)\n",
					 "deny in bogus id 2\n", &m, why, sizeof(why)));
	assert_int_equal(p->nrules, 1);
	assert_int_equal(state_meta_read(dir, &r), 0);
	assert_true(r.skip_unsupported);
	assert_string_equal(r.sha256, p->hash);
	policy_free(p);
	assert_non_null(p = state_load_current(dir, NULL, why, sizeof(why), NULL)); /* the next start */
	assert_int_equal(p->nrules, 1);
	assert_string_equal(why, "");
	policy_free(p);
	/* unreadable, not broken: nothing renamed, nothing rewritten */
	snprintf(path, sizeof(path), "%s/current.pol.bad", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/current.pol", dir);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_non_null(p = state_load_current(dir, NULL, why, sizeof(why), NULL));
	assert_non_null(strstr(why, "unreadable"));
	assert_non_null(strstr(why, "for now, current.pol left as it is"));
	policy_free(p);
	snprintf(path, sizeof(path), "%s/current.pol.bad", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/current.pol", dir);
	assert_int_equal(rmdir(path), 0);
	m = (struct state_meta){ 0 };
	assert_int_equal(state_meta_write(dir, &m), 0);
}

static void test_dns(void **state)
{
	struct lifeline_dns d[4] = { 0 }, r[4];
	uint32_t bad;

	(void)state;
	ll_ip_parse("192.0.2.53", &d[0].addr);
	d[0].learned = 1;
	d[0].expires_us = 0;
	ll_ip_parse("2001:db8::53", &d[1].addr);
	d[1].learned = 1;
	d[1].v6 = 1;
	d[1].expires_us = 5000000;
	ll_ip_parse("198.51.100.1", &d[2].addr); /* configured: not persisted */
	assert_int_equal(state_save_dns(dir, d, 3), 0);
	assert_int_equal(state_load_dns(dir, r, 4, 1000000, &bad), 2);
	assert_int_equal(bad, 0);
	assert_true(ll_ip_eq(r[0].addr, d[0].addr));
	assert_true(r[1].v6);
	assert_int_equal(state_load_dns(dir, r, 4, 6000000, &bad), 1); /* the v6 lease ended */
	/* a bad line costs its own server only: the others still reach the lifeline */
	put("dns-learned", "192.0.2.53 0 0\nnot-an-address 0 0\n2001:db8::53 0 1\n");
	assert_int_equal(state_load_dns(dir, r, 4, 0, &bad), 2);
	assert_int_equal(bad, 1);
	assert_true(ll_ip_eq(r[0].addr, d[0].addr));
	assert_true(ll_ip_eq(r[1].addr, d[1].addr));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_write_fails_cleanly),
		cmocka_unit_test(test_policy_slots),
		cmocka_unit_test(test_load_policy),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_unconfirmed_rolls_back),
		cmocka_unit_test(test_unconfirmed_last_good_skipping),
		cmocka_unit_test(test_corrupt_current_falls_back),
		cmocka_unit_test(test_meta_unreadable_rolls_back),
		cmocka_unit_test(test_earlier_version_policy_runs),
		cmocka_unit_test(test_given_keeps_last_good),
		cmocka_unit_test(test_fall_back_keeps_meta),
		cmocka_unit_test(test_dns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
