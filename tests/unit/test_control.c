/*
 * test_control.c - the control socket: framing (truncated, oversized,
 * garbage), the server against slow and surplus clients, load / confirm
 * timer / rollback / reset through the real server with a fake engine.
 * `test_control --fake-engine CONFIG [--hooks] [--read-timeout MS]` runs
 * that fake engine as a daemon for tests/ctl/run.sh.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../filter/control_int.h"
#include "hooks.h"
#include "state.h"
#include "control_fake.c"

/* ---- framing ---- */

static void test_frame_len(void **state)
{
	uint8_t b[8] = { 0, 0, 0, 5 };
	size_t total = 0;

	(void)state;
	assert_int_equal(control_frame_len(b, 3, 100, &total), -EAGAIN);
	assert_int_equal(control_frame_len(b, 4, 100, &total), 0);
	assert_int_equal(total, 9);
	assert_int_equal(control_frame_len(b, 4, 4, &total), -EMSGSIZE);
	b[3] = 0;
	assert_int_equal(control_frame_len(b, 4, 100, &total), -EBADMSG);
	memset(b, 0xff, 4);
	assert_int_equal(control_frame_len(b, 4, CONTROL_MAX_REQUEST, &total), -EMSGSIZE);
}

static int parse(const char *s, struct control_msg *m, char *buf)
{
	strcpy(buf, s);
	return control_msg_parse(buf, strlen(s), m);
}

static void test_msg_parse(void **state)
{
	struct control_msg m;
	char buf[8192], big[8192];

	(void)state;
	assert_int_equal(parse("LOAD siglen=0 confirm=30 skip-unsupported\nbody\n", &m, buf), 0);
	assert_string_equal(m.verb, "LOAD");
	assert_int_equal(m.argc, 3);
	assert_string_equal(control_msg_get(&m, "confirm"), "30");
	assert_null(control_msg_get(&m, "conf"));
	assert_true(control_msg_has(&m, "skip-unsupported"));
	assert_int_equal(m.bodylen, 5);
	assert_memory_equal(m.body, "body\n", 5);
	/* garbage */
	assert_int_equal(parse("no newline at all", &m, buf), -EBADMSG);
	assert_int_equal(parse("\nempty verb", &m, buf), -EBADMSG);
	assert_int_equal(parse("TWO  SPACES\n", &m, buf), -EBADMSG);
	assert_int_equal(parse(" LEADING\n", &m, buf), -EBADMSG);
	assert_int_equal(parse("TRAILING \n", &m, buf), -EBADMSG);
	assert_int_equal(parse("CTRL\x01\n", &m, buf), -EBADMSG);
	assert_int_equal(parse("HIGH\xc3\xa9\n", &m, buf), -EBADMSG);
	strcpy(big, "V");
	for (int i = 0; i < CONTROL_MAX_ARGS + 1; i++)
		strcat(big, " a");
	strcat(big, "\n");
	assert_int_equal(parse(big, &m, buf), -EBADMSG);
	/* a header longer than CONTROL_MAX_HEADER */
	memset(big, 'A', CONTROL_MAX_HEADER + 10);
	big[CONTROL_MAX_HEADER + 10] = '\n';
	big[CONTROL_MAX_HEADER + 11] = '\0';
	assert_int_equal(parse(big, &m, buf), -EBADMSG);
}

static void test_frame_build(void **state)
{
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	struct control_msg m;
	char *f = NULL;
	size_t len = 0, total;

	(void)state;
	assert_int_equal(control_frame_build("VERB x=1", iov, 2, &f, &len), 0);
	assert_int_equal(len, 4 + 9 + 4);
	assert_int_equal(control_frame_len((uint8_t *)f, len, 100, &total), 0);
	assert_int_equal(total, len);
	assert_int_equal(control_msg_parse(f + 4, len - 4, &m), 0);
	assert_string_equal(control_msg_get(&m, "x"), "1");
	assert_memory_equal(m.body, "abcd", 4);
	free(f);
	assert_int_equal(control_frame_build("bad\nheader", NULL, 0, &f, &len), -EINVAL);
	assert_int_equal(control_frame_build("", NULL, 0, &f, &len), -EINVAL);
}

/* ---- the server, with the fake engine ---- */

struct srv {
	char dir[64], sock[128];
	struct config cfg;
	struct fake_engine fe;
	struct control *c;
};

/*
 * A control server on the fake engine, in a fresh state dir, running @pol
 * loaded as the engine loads -p POLICY --skip-unsupported (NULL: the empty
 * policy).
 */
static struct srv *srv_new(const char *pol)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct ll_errlist errs = { 0 };
	struct policy_opts po;
	struct policy *p;
	char text[512], err[256];

	snprintf(s->dir, sizeof(s->dir), "/tmp/ll-test-ctl-XXXXXX");
	if (!mkdtemp(s->dir) || chmod(s->dir, 0755) < 0) /* other users connect too */
		return NULL;
	snprintf(s->sock, sizeof(s->sock), "%s/run/c.sock", s->dir);
	snprintf(text, sizeof(text), "state-dir %s/state\ncontrol-socket %s\ndns-server 198.51.100.1\n",
		 s->dir, s->sock);
	if (config_load_string(&s->cfg, "test.conf", text, &errs) < 0)
		return NULL;
	config_policy_opts(&s->cfg, &po, true);
	p = pol ? policy_load_string("given.pol", pol, &po, &errs) : policy_empty();
	ll_err_free(&errs);
	if (!p || fw_compile(p) < 0)
		return NULL;
	fake_engine_init(&s->fe, &s->cfg, p);
	control_read_timeout_ms = 400;
	if (control_start(&s->c, &s->cfg, &fake_ops, &s->fe, err, sizeof(err)) < 0) {
		fprintf(stderr, "control_start: %s\n", err);
		return NULL;
	}
	return s;
}

static int srv_setup(void **state)
{
	return (*state = srv_new(NULL)) ? 0 : -1;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;
	char cmd[128];

	control_stop(s->c);
	fake_engine_fini(&s->fe);
	config_free(&s->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		return -1;
	free(s);
	return 0;
}

/* One request; *@status and *@text malloc'd. 0 or -errno. */
static int call(struct srv *s, const char *hdr, const char *body, size_t blen, char **status,
		char **text)
{
	int64_t dl = control_now_ms() + 5000;
	struct iovec iov = { (void *)body, blen };
	struct control_msg m;
	char *f, *p;
	size_t fl, pl;
	int fd = control_connect(s->sock, dl), rc;

	if (fd < 0)
		return fd;
	if ((rc = control_frame_build(hdr, &iov, 1, &f, &fl)) == 0) {
		rc = control_send_all(fd, f, fl, dl);
		free(f);
	}
	if (rc == 0)
		rc = control_recv_frame(fd, CONTROL_MAX_REPLY, dl, &p, &pl);
	close(fd);
	if (rc < 0)
		return rc;
	assert_int_equal(control_msg_parse(p, pl, &m), 0);
	*status = strdup(m.verb);
	*text = strndup(m.body, m.bodylen);
	free(p);
	return 0;
}

/* expect(), and @absent nowhere in the reply */
static void expect_without(struct srv *s, const char *hdr, const char *body, const char *status,
			   const char *needle, const char *absent)
{
	char *st = NULL, *text = NULL;

	assert_int_equal(call(s, hdr, body, body ? strlen(body) : 0, &st, &text), 0);
	if (strcmp(st, status) != 0 || (needle && !strstr(text, needle)))
		fail_msg("%s: got %s '%s', want %s '%s'", hdr, st, text, status, needle);
	if (absent && strstr(text, absent))
		fail_msg("%s: got '%s', which says '%s'", hdr, text, absent);
	free(st);
	free(text);
}

static void expect(struct srv *s, const char *hdr, const char *body, const char *status,
		   const char *needle)
{
	expect_without(s, hdr, body, status, needle, NULL);
}

static int raw_connect(struct srv *s)
{
	int fd = control_connect(s->sock, control_now_ms() + 1000);

	assert_true(fd >= 0);
	return fd;
}

/* Read the reply frame from a raw socket: its header word, or "closed". */
static void raw_expect(int fd, const char *status)
{
	char *p = NULL;
	size_t len;
	struct control_msg m;
	int rc = control_recv_frame(fd, 1 << 20, control_now_ms() + 2000, &p, &len);

	if (strcmp(status, "closed") == 0) {
		assert_int_equal(rc, -ECONNRESET);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(control_msg_parse(p, len, &m), 0);
	assert_string_equal(m.verb, status);
	free(p);
}

static void test_status(void **state)
{
	struct srv *s = *state;

	expect(s, "STATUS", NULL, "ok", "engine: running");
	expect(s, "STATUS json", NULL, "ok", "\"engine\":{\"running\":true");
	expect(s, "NOSUCH", NULL, "bad-request", "unknown request");
	expect(s, "STATUS prometheus", NULL, "bad-request", "STATUS does not take 'prometheus'");
	expect(s, "STATS json until=99999999999999 resets=0", NULL, "ok", "{");
}

/* The text of file @path ("" when unreadable), in @buf. */
static const char *file_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

/*
 * lifelined replaces only a socket at control-socket: a typo naming a file
 * (the config itself, current.pol) cost that file, at start (rename) and at
 * stop (unlink) - ops23 F6. A stop leaves a path that is no longer its socket.
 */
static void test_socket_path_kept(void **state)
{
	struct srv *s = *state;
	struct ll_errlist errs = { 0 };
	struct control *c2 = NULL;
	struct config cfg;
	char path[128], text[512], err[256], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/precious.txt", s->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("important\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "state-dir %s/state2\ncontrol-socket %s\n", s->dir, path);
	assert_int_equal(config_load_string(&cfg, "t.conf", text, &errs), 0);
	assert_int_equal(control_start(&c2, &cfg, &fake_ops, &s->fe, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "a regular file is there, and lifelined replaces only a socket"));
	assert_string_equal(file_text(path, buf, sizeof(buf)), "important\n");
	/* a socket there is an earlier engine's: replaced; at stop, a file put in its place stays */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(control_start(&c2, &cfg, &fake_ops, &s->fe, err, sizeof(err)), 0);
	assert_int_equal(unlink(path), 0);
	assert_non_null(f = fopen(path, "w"));
	fputs("later\n", f);
	fclose(f);
	control_stop(c2);
	assert_string_equal(file_text(path, buf, sizeof(buf)), "later\n");
	config_free(&cfg);
	ll_err_free(&errs);
}

static void test_truncated_and_garbage(void **state)
{
	struct srv *s = *state;
	int fd = raw_connect(s);

	(void)!write(fd, "\0\0", 2); /* half a length, then gone */
	close(fd);
	fd = raw_connect(s);
	(void)!write(fd, "\0\0\0\x05" "ab", 6); /* promised 5 bytes, sent 2, then gone */
	close(fd);
	fd = raw_connect(s);
	(void)!write(fd, "\0\0\0\x04\x01\x02\x03\x04", 8); /* no header line */
	raw_expect(fd, "bad-request");
	close(fd);
	fd = raw_connect(s);
	(void)!write(fd, "\0\0\0\0", 4); /* empty frame */
	raw_expect(fd, "bad-request");
	close(fd);
	expect(s, "STATUS", NULL, "ok", "engine");
}

static void test_oversized(void **state)
{
	struct srv *s = *state;
	int fd = raw_connect(s);

	(void)!write(fd, "\x7f\xff\xff\xff", 4);
	raw_expect(fd, "bad-request");
	close(fd);
	expect(s, "STATUS", NULL, "ok", "engine");
}

/* A silent client neither blocks others nor lives past the read deadline. */
static void test_slow_client(void **state)
{
	struct srv *s = *state;
	int fd = raw_connect(s);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	(void)!write(fd, "\0\0\0\x64" "STAT", 8); /* 100 promised, 4 sent */
	expect(s, "STATUS", NULL, "ok", "engine");
	/* answered while the silent client still had its connection: nothing waited for it */
	assert_int_equal(poll(&pfd, 1, 0), 0);
	raw_expect(fd, "closed"); /* then cut at its read deadline */
	close(fd);
}

static void test_too_many_clients(void **state)
{
	struct srv *s = *state;
	int fds[CONTROL_MAX_CLIENTS], extra;

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		fds[i] = raw_connect(s);
	usleep(100000); /* let the server accept them all */
	extra = raw_connect(s);
	raw_expect(extra, "busy");
	close(extra);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	usleep(100000);
	expect(s, "STATUS", NULL, "ok", "engine");
}

/* Other users cannot take the slots root needs: reset must always get in. */
static void test_root_slots(void **state)
{
	struct srv *s = *state;
	int fds[CONTROL_MAX_CLIENTS], pipefd[2], st;
	pid_t pid;
	char ch;

	assert_int_equal(pipe(pipefd), 0);
	if ((pid = fork()) == 0) {
		char busy = 0, buf[16];
		if (setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			fds[i] = control_connect(s->sock, control_now_ms() + 1000);
		usleep(200000);
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			busy += fds[i] >= 0 && recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) == 9 &&
				memcmp(buf + 4, "busy", 4) == 0;
		(void)!write(pipefd[1], &busy, 1);
		sleep(2);
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], &ch, 1), 1);
	assert_int_equal(ch, CONTROL_ROOT_SLOTS); /* the rest got a slot */
	usleep(100000);
	/* every slot but root's is held by uid 65534; root still gets answers */
	for (int i = 0; i < CONTROL_ROOT_SLOTS + 2; i++)
		fds[i] = raw_connect(s);
	usleep(100000);
	expect(s, "STATUS", NULL, "ok", "engine");
	for (int i = 0; i < CONTROL_ROOT_SLOTS + 2; i++)
		close(fds[i]);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_load_invalid(void **state)
{
	struct srv *s = *state;
	int swaps = s->fe.swaps;

	expect(s, "LOAD siglen=0 name=bad.pol", "allow in tcp to any port 70000 id 1\n", "fail",
	       "bad.pol:1:");
	expect(s, "LOAD siglen=0 name=nul.pol", "allow\0", "fail", NULL);
	expect(s, "LOAD siglen=99 name=x", "short", "fail", "signature longer");
	expect(s, "LOAD siglen=0 confirm=0 name=x", "", "fail", "--confirm");
	assert_int_equal(s->fe.swaps, swaps);
}

static void test_load_diff(void **state)
{
	struct srv *s = *state;

	expect(s, "LOAD siglen=0 name=a.pol", "allow in tcp to any port 22 id 1\n"
	       "deny in tcp to any port 23 id 2\n", "ok", "rules: 2 added, 0 removed, 0 changed");
	expect(s, "LOAD siglen=0 name=b.pol", "allow in tcp to any port 2222 id 1\n"
	       "allow in udp to any port 53 id 3\n", "ok", "rules: 1 added, 1 removed, 1 changed");
	assert_int_equal(s->fe.pol->nrules, 2);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_LOAD);
	expect(s, "SHOW", NULL, "ok", "allow in udp to any port 53 id 3");
	expect(s, "SHOW counters", NULL, "ok", "id 3  # 103 packets");
	expect(s, "STATS prometheus", NULL, "ok", "lifeline_rule_packets_total{id=\"3\"} 103");
	/* IPS rules by text: the same count with one rule changed is one out, one in */
	expect(s, "LOAD siglen=0 name=c.pol", "allow in udp to any port 53 id 3\n"
	       "drop tcp any any -> any 80 (content:\"/etc/passwd\"; sid:7;)\n", "ok",
	       "IPS rules: 1 added, 0 removed (0 -> 1 loaded)");
	expect(s, "LOAD siglen=0 name=d.pol", "allow in udp to any port 53 id 3\n"
	       "pass tcp any any -> any 80 (content:\"/etc/shadow\"; sid:7;)\n", "ok",
	       "  + pass tcp any any -> any 80 (content:\"/etc/shadow\"; sid:7;)");
	expect(s, "LOAD siglen=0 name=d2.pol", "allow in udp to any port 53 id 3\n"
	       "drop tcp any any -> any 80 (content:\"/etc/passwd\"; sid:7;)\n", "ok",
	       "IPS rules: 1 added, 1 removed (1 -> 1 loaded)");
}

static void test_confirm_timer(void **state)
{
	struct srv *s = *state;
	char hash[65], hash_short[32], bad[65], bad_short[128];
	int swaps;

	expect(s, "LOAD siglen=0 name=good.pol", "allow in tcp to any port 22 id 1\n", "ok", NULL);
	memcpy(hash, s->fe.pol->hash, sizeof(hash));
	snprintf(hash_short, sizeof(hash_short), "sha256 %.16s", hash);
	expect(s, "LOAD siglen=0 confirm=1 name=bad.pol", "deny in any id 9\n", "ok", "confirm");
	memcpy(bad, s->fe.pol->hash, sizeof(bad));
	expect(s, "STATUS", NULL, "ok", "confirm: pending");
	/* the 1 s timer rolls back by itself: wait for it (10 s at most, a slow machine) */
	for (int i = 0; i < 200 && __atomic_load_n(&s->fe.last_why, __ATOMIC_ACQUIRE) !=
				   CONTROL_SWAP_TIMEOUT; i++)
		usleep(50000);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_TIMEOUT);
	assert_string_equal(s->fe.pol->hash, hash);
	/* status tells the rollback from a load: the unconfirmed policy, and when */
	snprintf(bad_short, sizeof(bad_short), "policy sha256 %.16s was not confirmed", bad);
	expect(s, "STATUS", NULL, "ok", bad_short);
	snprintf(bad_short, sizeof(bad_short), "\"unconfirmed_sha256\":\"%s\"", bad);
	expect(s, "STATUS json", NULL, "ok", bad_short);
	/* too late: it says what happened instead, naming the policy that came back */
	expect(s, "CONFIRM", NULL, "fail", "too late: the confirm deadline passed at ");
	expect(s, "CONFIRM", NULL, "fail", hash_short);
	/* once another policy runs, that story is over */
	expect(s, "RESET", NULL, "ok", NULL);
	expect(s, "CONFIRM", NULL, "fail", "nothing to confirm");
	expect(s, "STATUS", NULL, "ok", "confirm: none pending\n");
	expect(s, "LOAD siglen=0 name=good.pol", "allow in tcp to any port 22 id 1\n", "ok", NULL);
	/* confirmed in time: it stays */
	expect(s, "LOAD siglen=0 confirm=1 name=new.pol", "deny in any id 9\n", "ok", NULL);
	expect(s, "CONFIRM", NULL, "ok", "confirmed");
	usleep(1300000);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_LOAD);
	assert_int_equal(s->fe.pol->rules[0].id, 9);
	/* rollback: the one before */
	expect(s, "ROLLBACK", NULL, "ok", "rolled back");
	assert_string_equal(s->fe.pol->hash, hash);
	/* again: it says so, and swaps nothing */
	swaps = s->fe.swaps;
	expect(s, "ROLLBACK", NULL, "ok", "already runs: nothing to roll back");
	assert_int_equal(s->fe.swaps, swaps);
	/*
	 * A deadline that brought back the empty policy: a reset, which runs
	 * the same one, ends that story too (lifelinectl(8): "until the next
	 * load or reset"); status and confirm went on telling of the rollback.
	 */
	expect(s, "RESET", NULL, "ok", NULL);
	expect(s, "LOAD siglen=0 confirm=1 name=bad.pol", "deny in any id 9\n", "ok", "confirm");
	for (int i = 0; i < 200 && __atomic_load_n(&s->fe.last_why, __ATOMIC_ACQUIRE) !=
				   CONTROL_SWAP_TIMEOUT; i++)
		usleep(50000);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_TIMEOUT);
	expect(s, "STATUS", NULL, "ok", "was not confirmed");
	expect(s, "RESET", NULL, "ok", NULL);
	expect(s, "STATUS", NULL, "ok", "confirm: none pending\n");
	expect(s, "CONFIRM", NULL, "fail", "nothing to confirm");
}

/* A request read after its client's deadline (until=) is not done: the client said so. */
static void test_until_passed(void **state)
{
	struct srv *s = *state;
	char hdr[96];
	int swaps;

	expect(s, "LOAD siglen=0 confirm=30 name=new.pol", "deny in any id 9\n", "ok", "confirm");
	swaps = s->fe.swaps;
	snprintf(hdr, sizeof(hdr), "CONFIRM until=%lld", (long long)(ll_wall_us() / 1000) - 1);
	expect(s, hdr, NULL, "fail", "came after its client stopped waiting: nothing was done");
	/* one that only reads is answered anyway */
	snprintf(hdr, sizeof(hdr), "STATUS until=%lld", (long long)(ll_wall_us() / 1000) - 1);
	expect(s, hdr, NULL, "ok", "confirm: pending");
	snprintf(hdr, sizeof(hdr), "RESET until=%lld", (long long)(ll_wall_us() / 1000) - 1);
	expect(s, hdr, NULL, "fail", "nothing was done");
	assert_int_equal(s->fe.swaps, swaps);
	assert_int_equal(s->fe.pol->rules[0].id, 9);
	/* a deadline as far in the past as it goes (any peer may send it): late, no overflow */
	expect(s, "CONFIRM until=-9223372036854775808", NULL, "fail",
	       "came after its client stopped waiting: nothing was done");
	/* in time, it is done */
	snprintf(hdr, sizeof(hdr), "CONFIRM until=%lld", (long long)(ll_wall_us() / 1000) + 5000);
	expect(s, hdr, NULL, "ok", "confirmed");
}

static void test_reset_and_table(void **state)
{
	struct srv *s = *state;
	char *text = NULL;
	size_t len;

	expect(s, "LOAD siglen=0 name=t.pol", "define mgmt = { 192.0.2.0/24 }\n"
	       "allow in tcp from $mgmt to any port 22 id 1\n", "ok", NULL);
	expect(s, "TABLE name=mgmt op=add", "203.0.113.7\n198.51.100.0/25\n", "ok", NULL);
	expect(s, "TABLE name=mgmt op=show", NULL, "ok", "203.0.113.7\n");
	{
		/* persisted in canonical form: current.pol is what `show` prints, byte for byte */
		char *shown = policy_text(s->fe.pol, &len);

		assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 1 << 20, &text,
						 &len), 0);
		assert_non_null(shown);
		assert_string_equal(text, shown);
		free(shown);
		free(text);
		text = NULL;
	}
	expect(s, "TABLE name=mgmt op=delete", "192.0.2.128/25\n", "ok", NULL);
	expect(s, "TABLE name=mgmt op=show", NULL, "ok", "192.0.2.0/25\n");
	expect(s, "TABLE name=mgmt op=add", "not-an-address\n", "fail", "not an address");
	expect(s, "TABLE name=nosuch op=show", NULL, "fail", "no address set");
	expect(s, "TABLE name=mgmt op=flush", NULL, "ok", "mgmt = { }");
	expect(s, "TABLE name=mgmt op=add", "10.0.0.0/8\n", "ok", NULL);
	/* one item prints bare, and so it is persisted */
	{
		char *shown = policy_text(s->fe.pol, &len);

		assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 1 << 20, &text,
						 &len), 0);
		assert_non_null(shown);
		assert_non_null(strstr(shown, "define mgmt = 10.0.0.0/8\n"));
		assert_string_equal(text, shown);
		free(shown);
		free(text);
		text = NULL;
	}
	/* 60,000 deletions out of a /8, last first: one sweep (they recursed as deep, then crashed) */
	{
		size_t cap = 60000 * 16, used = 0;
		char *body = malloc(cap);

		assert_non_null(body);
		for (uint32_t i = 60000; i >= 1; i--)
			used += (size_t)snprintf(body + used, cap - used, "10.%u.%u.%u\n", i >> 16,
						 (i >> 8) & 255, i & 255);
		expect(s, "TABLE name=mgmt op=delete", body, "ok", NULL);
		free(body);
	}
	expect(s, "TABLE name=mgmt op=show", NULL, "ok", "10.0.0.0\n10.0.234.97-10.255.255.255\n");
	expect(s, "TABLE name=mgmt op=delete", "10.0.0.5\n", "fail", "is not in the set");
	expect(s, "TABLE name=mgmt op=delete", "10.0.0.0\n10.0.234.96-10.0.234.98\n", "ok", NULL);
	expect(s, "TABLE name=mgmt op=show", NULL, "ok", "10.0.234.99-10.255.255.255\n");
	/* a define that is any holds every address already: no table change (it would narrow it) */
	expect(s, "LOAD siglen=0 name=t.pol", "define ext = any\nallow in tcp from $ext id 1\n", "ok",
	       NULL);
	expect(s, "TABLE name=ext op=delete", "10.0.0.1\n", "fail", "'ext' is any (define ext = any)");
	expect(s, "TABLE name=ext op=show", NULL, "ok", NULL);
	expect(s, "RESET", NULL, "ok", "empty policy");
	assert_int_equal(s->fe.pol->nrules, 0);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_RESET);
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
}

/* The verdict of the running policy for an inbound TCP packet to port 22 from @src. */
static enum ll_reason ssh_from(struct srv *s, const char *src)
{
	struct fw_key k = { .dir = FW_DIR_IN, .proto = 6, .sport = 40000, .dport = 22,
			    .icmp_type = -1, .icmp_code = -1 };
	struct fw_result lin, cls;

	assert_int_equal(ll_ip_parse(src, &k.src), 0);
	assert_int_equal(ll_ip_parse(ll_ip_is_v4(k.src) ? "192.0.2.1" : "2001:db8::1", &k.dst), 0);
	k.family = ll_ip_is_v4(k.src) ? 4 : 6;
	fw_eval_linear(s->fe.pol, &k, &lin);
	fw_classify(s->fe.pol, &k, &cls);
	assert_int_equal(lin.reason, cls.reason);
	return lin.reason;
}

/*
 * A table change does what its words say and no more: adding an IPv4
 * address to the (empty) set behind `from ! $bad` must not stop the rule
 * matching IPv6 (it did: the negation took the set's new family).
 */
static void test_table_keeps_negation_family(void **state)
{
	struct srv *s = *state;

	expect(s, "LOAD siglen=0 name=t.pol", "define bad = { }\n"
	       "allow in tcp from ! $bad to any port 22 id 1\n", "ok", NULL);
	assert_int_equal(ssh_from(s, "2001:db8::7"), R_ALLOW);
	expect(s, "TABLE name=bad op=add", "192.0.2.66\n", "fail", "rule id 1");
	assert_int_equal(ssh_from(s, "2001:db8::7"), R_ALLOW);
	assert_int_equal(ssh_from(s, "198.51.100.7"), R_ALLOW);
	/* a change within the family it has is taken */
	expect(s, "LOAD siglen=0 name=u.pol", "define bad = { 192.0.2.1 }\n"
	       "allow in tcp from ! $bad to any port 22 id 1\n", "ok", NULL);
	expect(s, "TABLE name=bad op=add", "192.0.2.66\n", "ok", NULL);
	assert_int_equal(ssh_from(s, "192.0.2.66"), R_NOT_ALLOWED);
	/* and one that would widen the IPv4-only negation to IPv6 is not */
	expect(s, "TABLE name=bad op=add", "2001:db8::66\n", "fail", "both IPv4 and IPv6");
	assert_int_equal(ssh_from(s, "2001:db8::7"), R_NOT_ALLOWED);
}

/*
 * A define built on another (`define ssh_ok = { $admins, ... }`) follows it
 * through table changes of either: revoking an admin in $admins must take
 * them out of $ssh_ok too, also after $ssh_ok itself was changed.
 */
static void test_table_keeps_nested_define(void **state)
{
	struct srv *s = *state;

	expect(s, "LOAD siglen=0 name=t.pol", "define admins = { 203.0.113.7 }\n"
	       "define ssh_ok = { $admins, 198.51.100.0/24 }\n"
	       "allow in tcp from $ssh_ok to any port 22 id 1\n", "ok", NULL);
	expect(s, "TABLE name=ssh_ok op=add", "192.0.2.50\n", "ok", NULL);
	expect(s, "TABLE name=admins op=delete", "203.0.113.7\n", "ok", NULL);
	assert_int_equal(ssh_from(s, "192.0.2.50"), R_ALLOW);
	assert_int_equal(ssh_from(s, "203.0.113.7"), R_NOT_ALLOWED);
	/* which item a deleted address came from cannot be told: refused, nothing changes */
	expect(s, "TABLE name=ssh_ok op=delete", "198.51.100.9\n", "fail", "built on other sets");
	assert_int_equal(ssh_from(s, "198.51.100.9"), R_ALLOW);
	expect(s, "TABLE name=ssh_ok op=show", NULL, "ok", "192.0.2.50\n");
}

/* State file @name becomes a directory with something in it: no file can replace it. */
static void unreplaceable(struct srv *s, const char *name)
{
	char path[4096], sub[4200];

	snprintf(path, sizeof(path), "%s/%s", s->cfg.state_dir, name);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/x", path);
	assert_int_equal(mkdir(sub, 0700), 0);
}

static void replaceable(struct srv *s, const char *name)
{
	char path[4096], sub[4200];

	snprintf(path, sizeof(path), "%s/%s", s->cfg.state_dir, name);
	snprintf(sub, sizeof(sub), "%s/x", path);
	rmdir(sub);
	rmdir(path);
}

/* A load that runs but cannot be saved says so, and state.meta keeps describing current.pol. */
static void test_load_not_persisted(void **state)
{
	struct srv *s = *state;
	char *before = NULL, *after = NULL;
	size_t lb, la;

	expect(s, "LOAD siglen=0 name=a.pol", "deny in any id 5\n", "ok", NULL);
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_META_FILE, 4096, &before, &lb), 0);
	unreplaceable(s, STATE_CURRENT_FILE);
	expect(s, "LOAD siglen=0 name=b.pol", "deny in any id 6\n", "ok", "running, but not persisted");
	assert_int_equal(s->fe.pol->rules[0].id, 6);
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_META_FILE, 4096, &after, &la), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(after, before, la);
	replaceable(s, STATE_CURRENT_FILE);
	free(before);
	free(after);
}

/*
 * A load awaiting confirm whose deadline cannot be recorded is not
 * persisted: a restart must bring the previous policy back, never the
 * unconfirmed one without a deadline (state.meta is written first).
 */
static void test_confirm_load_meta_unwritable(void **state)
{
	struct srv *s = *state;
	char *text = NULL;
	size_t len;

	expect(s, "LOAD siglen=0 name=a.pol", "deny in any id 5\n", "ok", NULL);
	unreplaceable(s, STATE_META_FILE);
	expect(s, "LOAD siglen=0 confirm=60 name=b.pol", "deny in any id 6\n", "ok",
	       "running, but not persisted");
	assert_int_equal(s->fe.pol->rules[0].id, 6); /* it runs, awaiting confirm */
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 4096, &text, &len), 0);
	assert_non_null(strstr(text, "id 5"));
	assert_null(strstr(text, "id 6"));
	free(text);
	replaceable(s, STATE_META_FILE);
}

/* @text persisted as current, behind the engine's back (once), after a swap of @why. */
static void lands(struct fake_engine *f, const char *text)
{
	struct ll_errlist errs = { 0 };
	struct policy *p = policy_load_string("x", text, NULL, &errs);
	struct state_meta m;

	assert_non_null(p);
	f->after_swap = NULL;
	state_meta_of(&m, p, false, false);
	policy_free(p);
	assert_int_equal(state_save_policy(f->cfg->state_dir, STATE_CURRENT, text, strlen(text), NULL,
					   0), 0);
	assert_int_equal(state_meta_write(f->cfg->state_dir, &m), 0);
}

/* `lifelinectl reset` acting alone (persist_empty()) while the engine swaps a load in. */
static void reset_lands(struct fake_engine *f, enum control_swap_why why)
{
	if (why == CONTROL_SWAP_LOAD || why == CONTROL_SWAP_TABLE || why == CONTROL_SWAP_ROLLBACK ||
	    why == CONTROL_SWAP_TIMEOUT)
		lands(f, "");
}

/* state.meta deleted by hand while a load swaps in. */
static void meta_gone(struct fake_engine *f, enum control_swap_why why)
{
	char path[4096];

	if (why != CONTROL_SWAP_LOAD)
		return;
	f->after_swap = NULL;
	snprintf(path, sizeof(path), "%s/%s", f->cfg->state_dir, STATE_META_FILE);
	assert_int_equal(unlink(path), 0);
}

/* A policy put in the state directory by hand (a restored backup) during the engine's reset. */
static void other_lands(struct fake_engine *f, enum control_swap_why why)
{
	if (why == CONTROL_SWAP_RESET)
		lands(f, "deny in any id 77\n");
}

/*
 * A reset that acted alone while a load was under way (the engine, busy
 * with it, did not answer) has the later word: the load's writes do not
 * land on it, the engine runs the empty policy it persisted, no confirm
 * stays pending, and the client is told. Before, the load overwrote both
 * files and a restart brought back the policy the console had removed -
 * with --confirm, without its deadline.
 */
static void test_lone_reset_during_load(void **state)
{
	struct srv *s = *state;
	struct state_meta m;
	char *text = NULL;
	size_t len;

	expect(s, "LOAD siglen=0 name=a.pol", "deny in any id 5\n", "ok", "loaded a.pol: 1 ");
	s->fe.after_swap = reset_lands;
	/* no "loaded" line: a script reading it would take b.pol for kept */
	expect_without(s, "LOAD siglen=0 confirm=60 name=b.pol", "deny in any id 6\n", "fail",
		       "not kept: state.meta changed while this request ran (`lifelinectl reset` "
		       "acting alone", "loaded");
	assert_int_equal(s->fe.pol->nrules, 0);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_RESET_ALONE);
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
	assert_int_equal(state_meta_read(s->cfg.state_dir, &m), 0);
	assert_int_equal(m.confirm_deadline, 0);
	assert_string_equal(m.sha256, s->fe.pol->hash);
	expect(s, "CONFIRM", NULL, "fail", "nothing to confirm");
	/* a table change is no different */
	expect(s, "LOAD siglen=0 name=c.pol", "define b = { 192.0.2.1 }\ndeny in any from $b id 7\n",
	       "ok", NULL);
	s->fe.after_swap = reset_lands;
	expect(s, "TABLE name=b op=add", "192.0.2.2\n", "fail", "not kept");
	assert_int_equal(s->fe.pol->nrules, 0);
	/* a rollback, and the confirm deadline's */
	expect(s, "LOAD siglen=0 name=d.pol", "deny in any id 8\n", "ok", NULL);
	expect(s, "LOAD siglen=0 name=d2.pol", "deny in any id 12\n", "ok", NULL);
	s->fe.after_swap = reset_lands;
	expect(s, "ROLLBACK", NULL, "fail", "not kept");
	assert_int_equal(s->fe.pol->nrules, 0);
	expect(s, "LOAD siglen=0 name=e.pol", "deny in any id 9\n", "ok", NULL);
	expect(s, "LOAD siglen=0 confirm=1 name=f.pol", "deny in any id 10\n", "ok", NULL);
	s->fe.after_swap = reset_lands;
	for (int i = 0; i < 100 && __atomic_load_n(&s->fe.last_why, __ATOMIC_ACQUIRE) !=
				   CONTROL_SWAP_RESET_ALONE; i++)
		usleep(50000);
	assert_int_equal(s->fe.last_why, CONTROL_SWAP_RESET_ALONE);
	assert_int_equal(s->fe.pol->nrules, 0);
	/* the same policy as the reset's, but awaiting confirm: the reset's word has none pending */
	expect(s, "LOAD siglen=0 name=h.pol", "deny in any id 13\n", "ok", NULL);
	s->fe.after_swap = reset_lands;
	expect(s, "LOAD siglen=0 confirm=60 name=empty.pol", "", "fail", "not kept");
	expect(s, "CONFIRM", NULL, "fail", "nothing to confirm");
	/*
	 * A reset that gave up waiting for the lock can leave its state.meta over
	 * the engine's current.pol: adopting it writes current.pol to match.
	 */
	expect(s, "LOAD siglen=0 name=i.pol", "deny in any id 14\n", "ok", NULL);
	{
		struct policy *e = policy_empty();

		state_meta_of(&m, e, false, false);
		policy_free(e);
	}
	assert_int_equal(state_meta_write(s->cfg.state_dir, &m), 0);
	for (int i = 0; i < 100 && s->fe.pol->nrules; i++)
		usleep(50000); /* the engine looks within a second */
	assert_int_equal(s->fe.pol->nrules, 0);
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
	/*
	 * state.meta gone (by hand) names nothing to give way to: the load
	 * --confirm stands with its deadline (the last review: it was "not kept"
	 * while the unconfirmed policy ran with no rollback to come)
	 */
	expect(s, "LOAD siglen=0 name=j.pol", "deny in any id 15\n", "ok", NULL);
	s->fe.after_swap = meta_gone;
	expect(s, "LOAD siglen=0 confirm=60 name=k.pol", "deny in any id 16\n", "ok",
	       "run `lifelinectl confirm");
	expect(s, "CONFIRM", NULL, "ok", "confirmed");
	/* the engine's own reset does not say "empty" when another policy won */
	expect(s, "LOAD siglen=0 name=g.pol", "deny in any id 11\n", "ok", NULL);
	s->fe.after_swap = other_lands;
	expect(s, "RESET", NULL, "fail", "not kept");
	assert_int_equal(s->fe.pol->rules[0].id, 77);
}

/*
 * A change sent before the console's `lifelinectl reset` acted alone and
 * read after it (queued behind a long load, or the engine stopped) is not
 * done: the reset's empty policy stays, on disk too. The client says how
 * many such resets it had seen (resets=); one sent after the reset, an old
 * client's without the word, and a reset itself are done.
 */
static void test_overtaken_by_lone_reset(void **state)
{
	struct srv *s = *state;
	char *text = NULL;
	size_t len;

	expect(s, "LOAD siglen=0 resets=0 name=a.pol", "deny in any id 5\n", "ok", "loaded a.pol");
	lands(&s->fe, ""); /* persist_empty(), as the console's reset does it */
	assert_int_equal(state_resets_bump(s->cfg.state_dir), 0);
	expect_without(s, "LOAD siglen=0 resets=0 name=b.pol", "deny in any id 6\n", "fail",
		       "not done: `lifelinectl reset` acted alone at the console after this "
		       "request was sent", "loaded");
	expect(s, "ROLLBACK resets=0", NULL, "fail", "not done");
	expect(s, "TABLE name=x op=flush resets=0", NULL, "fail", "not done");
	assert_int_equal(state_read_file(s->cfg.state_dir, STATE_CURRENT_FILE, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
	expect(s, "RESET resets=0", NULL, "ok", NULL);
	expect(s, "LOAD siglen=0 resets=1 name=c.pol", "deny in any id 7\n", "ok", "loaded c.pol");
	expect(s, "LOAD siglen=0 name=d.pol", "deny in any id 8\n", "ok", "loaded d.pol");
	assert_int_equal(s->fe.pol->rules[0].id, 8);
	assert_int_equal(state_resets_read(s->cfg.state_dir), 1);
}

/*
 * load --confirm with the running policy not kept as last-good (a full
 * state directory): the deadline would run an older last-good.pol, and a
 * confirm could not be recorded there either. Refused, nothing swapped
 * (ops23 F1); a plain load still goes on, and so does --confirm once
 * last-good.pol holds the running policy.
 */
static void test_confirm_load_last_good_unwritable(void **state)
{
	struct srv *s = *state;
	char path[4096];
	int swaps;

	expect(s, "LOAD siglen=0 name=old.pol", "deny in any id 4\n", "ok", NULL);
	expect(s, "LOAD siglen=0 name=good.pol", "deny in any id 5\n", "ok", NULL);
	/* last-good.pol: old.pol; running: good.pol */
	unreplaceable(s, STATE_LAST_GOOD_FILE);
	swaps = s->fe.swaps;
	expect(s, "LOAD siglen=0 confirm=60 name=bad.pol", "deny in any id 6\n", "fail",
	       "not loaded: --confirm could not bring back the running policy");
	assert_int_equal(s->fe.swaps, swaps);
	assert_int_equal(s->fe.pol->rules[0].id, 5);
	expect(s, "STATUS", NULL, "ok", "confirm: none pending");
	/* without --confirm it loads, with the warning */
	expect(s, "LOAD siglen=0 name=bad.pol", "deny in any id 6\n", "ok",
	       "cannot keep the previous policy as last-good");
	assert_int_equal(s->fe.pol->rules[0].id, 6);
	replaceable(s, STATE_LAST_GOOD_FILE);
	expect(s, "LOAD siglen=0 confirm=60 name=c.pol", "deny in any id 7\n", "ok", "confirm");
	expect(s, "CONFIRM", NULL, "ok", "confirmed");
	/* the state directory wiped under the engine: the rollback would run the empty policy */
	snprintf(path, sizeof(path), "%s/%s", s->cfg.state_dir, STATE_CURRENT_FILE);
	assert_int_equal(unlink(path), 0);
	swaps = s->fe.swaps;
	expect(s, "LOAD siglen=0 confirm=60 name=d.pol", "deny in any id 8\n", "fail",
	       "current.pol holds sha256 e3b0c44298fc1c14");
	assert_int_equal(s->fe.swaps, swaps);
	/* a table change persists the running policy: --confirm is taken after it */
	expect(s, "LOAD siglen=0 name=t.pol", "define mgmt = { 192.0.2.0/24 }\n"
	       "allow in tcp from $mgmt to any port 22 id 1\n", "ok", NULL);
	expect(s, "TABLE name=mgmt op=add", "203.0.113.7\n", "ok", NULL);
	expect(s, "LOAD siglen=0 confirm=60 name=e.pol", "deny in any id 9\n", "ok", "confirm");
}

/*
 * A load that could not keep the policy it replaced as last-good (state dir
 * full or read-only) leaves last-good.pol older than it: rollback, also after
 * a reset, would run that older policy, not the one before. Refused, named.
 */
static void test_rollback_last_good_stale(void **state)
{
	struct srv *s = *state;
	char tmp[4200];
	int swaps;

	expect(s, "LOAD siglen=0 name=old.pol", "deny in any id 4\n", "ok", NULL);
	expect(s, "LOAD siglen=0 name=good.pol", "deny in any id 5\n", "ok", NULL);
	/* last-good.pol: old.pol, and it cannot be replaced (its temporary file cannot be made) */
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", s->cfg.state_dir, STATE_LAST_GOOD_FILE,
		 (int)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	expect(s, "LOAD siglen=0 name=bad.pol", "deny in any id 6\n", "ok",
	       "cannot keep the previous policy as last-good");
	expect(s, "RESET", NULL, "ok", NULL);
	swaps = s->fe.swaps;
	expect(s, "ROLLBACK", NULL, "fail", "not rolled back: last-good.pol holds sha256");
	assert_int_equal(s->fe.swaps, swaps);
	/* once a load keeps last-good again, rollback goes there */
	assert_int_equal(rmdir(tmp), 0);
	expect(s, "LOAD siglen=0 name=good.pol", "deny in any id 5\n", "ok", NULL);
	expect(s, "ROLLBACK", NULL, "ok", "rolled back to the last-good policy");
}

/*
 * As test_rollback_last_good_stale, but the engine refuses the new policy:
 * the running one stays, and last-good.pol still holds the one before it,
 * so rollback goes there. It was refused, naming a replaced policy that
 * still ran.
 */
static void test_rollback_after_refused_load(void **state)
{
	struct srv *s = *state;
	char tmp[4200];

	expect(s, "LOAD siglen=0 name=old.pol", "deny in any id 4\n", "ok", NULL);
	expect(s, "LOAD siglen=0 name=good.pol", "deny in any id 5\n", "ok", NULL);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", s->cfg.state_dir, STATE_LAST_GOOD_FILE,
		 (int)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	s->fe.refuse = 1;
	expect(s, "LOAD siglen=0 name=bad.pol", "deny in any id 6\n", "fail", "engine refused");
	s->fe.refuse = 0;
	expect(s, "ROLLBACK", NULL, "ok", "rolled back to the last-good policy");
	assert_int_equal(rmdir(tmp), 0);
}

/*
 * current.pol edited by hand and not (or not successfully) reloaded: state.meta
 * still names the running policy, but the deadline of a --confirm load would
 * roll back to the edit (last-good is made of current.pol) - to the empty
 * policy when the edit does not parse. Refused, as when the file is gone.
 */
static void test_confirm_load_current_edited(void **state)
{
	struct srv *s = *state;
	char path[4096];
	FILE *f;
	int swaps;

	expect(s, "LOAD siglen=0 name=good.pol", "allow in tcp to any port 22 id 1\n"
	       "deny in any id 2\n", "ok", NULL);
	snprintf(path, sizeof(path), "%s/%s", s->cfg.state_dir, STATE_CURRENT_FILE);
	assert_non_null(f = fopen(path, "w"));
	fputs("allow in tcp to any port 99999 id 1\n", f); /* a typo SIGUSR2 refused */
	assert_int_equal(fclose(f), 0);
	swaps = s->fe.swaps;
	expect(s, "LOAD siglen=0 confirm=60 name=new.pol", "deny in any id 3\n", "fail",
	       "not loaded: --confirm could not bring back the running policy");
	assert_int_equal(s->fe.swaps, swaps);
	assert_int_equal(s->fe.pol->rules[0].id, 1);
	/* a valid edit that never ran is no way back either */
	assert_non_null(f = fopen(path, "w"));
	fputs("allow in any id 9\n", f);
	assert_int_equal(fclose(f), 0);
	expect(s, "LOAD siglen=0 confirm=60 name=new.pol", "deny in any id 3\n", "fail",
	       "current.pol holds sha256");
	assert_int_equal(s->fe.swaps, swaps);
}

/* A confirm that cannot be recorded says a restart rolls back, and fails. */
static void test_confirm_unwritable(void **state)
{
	struct srv *s = *state;

	expect(s, "LOAD siglen=0 confirm=60 name=a.pol", "deny in any id 5\n", "ok", NULL);
	unreplaceable(s, STATE_META_FILE);
	expect(s, "CONFIRM", NULL, "fail", "not confirmed: it cannot be recorded, and a restart "
	       "would roll it back; the deadline stands");
	replaceable(s, STATE_META_FILE);
	/* nothing changed: once the state directory takes writes, confirm again */
	expect(s, "CONFIRM", NULL, "ok", "confirmed: policy sha256");
}

static void test_flows_explain(void **state)
{
	struct srv *s = *state;

	expect(s, "FLOWS", NULL, "ok", "3 flows");
	expect(s, "FLOWS proto=6 p1=80", NULL, "ok", "1 flow\n");
	expect(s, "FLOWS a1=198.51.100.2 a2=203.0.113.10", NULL, "ok", "1 flow\n");
	/* an operator can tell a frozen or outdated entry from a live one */
	expect(s, "FLOWS p1=80", NULL, "ok", "accept allow packets 3/2");
	s->fe.flows[1].offloaded = 1;
	s->fe.flows[0].generation = s->fe.generation + 1;
	expect(s, "FLOWS p1=80", NULL, "ok", "192.0.2.80:80 accept allow offloaded packets 3/2");
	expect(s, "FLOWS p1=4120", NULL, "ok", ":4120 accept allow earlier-policy packets 3/2");
	/* port=: either side's port, with the ends (tcpdump's `host X and port N`; ops22 F3) */
	expect(s, "FLOWS a1=198.51.100.2 port=80", NULL, "ok", "192.0.2.80:80 accept");
	expect(s, "FLOWS a1=198.51.100.2 port=80", NULL, "ok", "\n1 flow\n");
	expect(s, "FLOWS port=40002", NULL, "ok", "192.0.2.53:53 accept");
	expect(s, "FLOWS a1=192.0.2.80 port=4120", NULL, "ok", "0 flows");
	expect(s, "FLOWS port=65536", NULL, "bad-request", "bad flow filter");
	/* a prefix, as conntrack -D -s NET: 192.0.2.80 and .53, not 203.0.113.10 */
	expect(s, "FLOWS a1=192.0.2.0/24", NULL, "ok", "\n2 flows\n");
	expect(s, "FLOWS a1=192.0.2.0/26 p1=53", NULL, "ok", "192.0.2.53:53 accept");
	expect(s, "FLOWS a1=192.0.2.64/26", NULL, "ok", "\n1 flow\n");
	expect(s, "FLOWS a1=198.51.100.2/32 a2=192.0.2.0/24", NULL, "ok", "\n2 flows\n");
	/* an IPv6 prefix never covers IPv4 flows, as in the policy language */
	expect(s, "FLOWS a1=::/0", NULL, "ok", "0 flows");
	expect(s, "FLOWS a1=192.0.2.0/33", NULL, "bad-request", "bad flow filter");
	expect(s, "FLOWS a1=192.0.2.0/", NULL, "bad-request", "bad flow filter");
	/*
	 * A word FLOWS does not take (a newer lifelinectl's filter) is refused,
	 * not skipped: skipped, this kill would drop all three flows.
	 */
	expect(s, "FLOWS kill proto=17 vlan=7", NULL, "bad-request",
	       "FLOWS does not take 'vlan=7' (a lifelinectl newer than this lifelined?");
	expect(s, "FLOWS kill proto", NULL, "bad-request", "does not take 'proto'");
	assert_int_equal(s->fe.nflows, 3);
	expect(s, "FLOWS kill proto=17", NULL, "ok", "1 flow dropped");
	assert_int_equal(s->fe.nflows, 2);
	/*
	 * A kill cuts no connection, and the output says so; the offloaded flows
	 * the kernel keeps passing without the engine are named (ops22 F1).
	 */
	expect(s, "FLOWS kill a1=192.0.2.0/24", NULL, "ok",
	       "1 flow dropped\nnote: the connections are not cut: each one's next packet is "
	       "judged again by the running policy, which may accept it; to block them, deny the "
	       "addresses first (lifelinectl table NAME add ADDR, or a new policy)\nnote: 1 of "
	       "them offloaded: the kernel passes their packets without the engine");
	assert_int_equal(s->fe.nflows, 1);
	/* offloaded under an earlier policy: the kernel queues it again, so not named */
	s->fe.flows[0].offloaded = 1;
	expect_without(s, "FLOWS kill", NULL, "ok", "1 flow dropped\nnote: the connections are not cut",
		       "of them offloaded");
	expect(s, "FLOWS", NULL, "ok", "0 flows\n");
	expect(s, "EXPLAIN dir=in proto=6 src=192.0.2.1 dst=198.51.100.2 sport=1000 dport=22 ttl=64",
	       NULL, "ok", "verdict: accept");
	expect(s, "EXPLAIN dir=sideways proto=6 src=192.0.2.1 dst=198.51.100.2", NULL,
	       "bad-request", NULL);
}

/*
 * An engine started with `-p POLICY --skip-unsupported` (or on a current.pol
 * that state.meta does not describe) runs a policy that loads only with
 * unsupported rules skipped: state.meta must say so, or the next start
 * refused current.pol and ran the empty policy, and every `table` change
 * and SIGUSR2 reload failed on the skipped rule.
 */
static void test_start_skip_unsupported(void **state)
{
	struct srv *s = srv_new("define bad = { 203.0.113.7 }\n"
				"deny in any from $bad id 1\n"
				"alert tcp any any -> any 80 (msg:\"u\"; http.uri; content:\"x\"; sid:5;)\n");
	struct state_meta m;

	assert_non_null(s);
	*state = s; /* srv_teardown() ends it */
	assert_int_equal(state_meta_read(s->cfg.state_dir, &m), 0);
	assert_true(m.skip_unsupported);
	expect(s, "TABLE name=bad op=add", "203.0.113.8\n", "ok", NULL);
}

static int fake_main(int argc, char **argv);

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_len),
		cmocka_unit_test(test_msg_parse),
		cmocka_unit_test(test_frame_build),
		cmocka_unit_test_setup_teardown(test_status, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_garbage, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_socket_path_kept, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_oversized, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_slow_client, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_root_slots, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_load_invalid, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_load_diff, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_confirm_timer, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_until_passed, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_confirm_load_meta_unwritable, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_lone_reset_during_load, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_overtaken_by_lone_reset, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_confirm_unwritable, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_confirm_load_last_good_unwritable, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_rollback_last_good_stale, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_rollback_after_refused_load, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_confirm_load_current_edited, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_table, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_table_keeps_negation_family, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_table_keeps_nested_define, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_load_not_persisted, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_flows_explain, srv_setup, srv_teardown),
		cmocka_unit_test_teardown(test_start_skip_unsupported, srv_teardown),
	};

	if (argc > 1 && strcmp(argv[1], "--fake-engine") == 0)
		return fake_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ---- --fake-engine: the real server and state code, a fake packet path ---- */

static int fake_hooks(const struct config *cfg, struct hooks *h)
{
	static ll_ip mgr[LIFELINE_MAX_MANAGERS], dns[LIFELINE_MAX_DNS]; /* the spec points here */
	struct hooks_spec spec;
	int rc;

	hooks_spec_from_config(&spec, cfg, mgr, dns, LIFELINE_MAX_MANAGERS);
	spec.queue = true;
	spec.gen = 1;
	rc = hooks_install(h, HOOKS_AUTO, &spec);
	if (rc < 0)
		fprintf(stderr, "fake engine: hooks: %s: %s\n", strerror(-rc), h->err);
	return rc;
}

static void write_pid(const struct config *cfg)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	state_write_file(cfg->state_dir, STATE_PID_FILE, pid, (size_t)n);
}

/* test_control --fake-engine CONFIG [--hooks] [--read-timeout MS]; stops on SIGTERM. */
static int fake_main(int argc, char **argv)
{
	struct ll_errlist errs = { 0 };
	struct hooks h = { 0 };
	struct fake_engine fe;
	struct control *c = NULL;
	struct config cfg;
	struct policy *p;
	char why[512], err[512], unconfirmed[65];
	sigset_t set;
	int sig;

	if (argc < 3 || config_load(&cfg, argv[2], false, &errs) < 0) {
		ll_err_print(&errs, stderr);
		return 1;
	}
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "--read-timeout") == 0 && i + 1 < argc)
			control_read_timeout_ms = atoi(argv[++i]);
	p = state_load_current(cfg.state_dir, NULL, why, sizeof(why), unconfirmed);
	if (why[0])
		fprintf(stderr, "fake engine: %s\n", why);
	fake_engine_init(&fe, &cfg, p ? p : policy_empty());
	memcpy(fe.unconfirmed, unconfirmed, sizeof(fe.unconfirmed));
	fe.unconfirmed_at = unconfirmed[0] ? (uint64_t)time(NULL) : 0;
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "--hooks") == 0 && fake_hooks(&cfg, &h) < 0)
			return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server thread: it inherits */
	if (control_start(&c, &cfg, &fake_ops, &fe, err, sizeof(err)) < 0) {
		fprintf(stderr, "fake engine: %s\n", err);
		return 1;
	}
	write_pid(&cfg);
	printf("ready\n");
	fflush(stdout);
	/* SIGUSR2, as lifelined: current.pol again, on the server thread */
	while (sigwait(&set, &sig) == 0 && sig == SIGUSR2)
		control_reload_policy(c);
	control_stop(c);
	if (h.installed)
		hooks_remove(&h);
	fake_engine_fini(&fe);
	config_free(&cfg);
	return 0;
}
