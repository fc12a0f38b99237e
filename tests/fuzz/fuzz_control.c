/*
 * fuzz_control.c - the control socket's request parser: the frame length,
 * control_msg_parse(), then the request handlers as the server dispatches
 * them for uid 0, behind the fake engine of the unit tests. Input: up to
 * four frames as a client sends them (4-byte length, header line, body),
 * handled in turn with the server's between-request check, so that a
 * CONFIRM, ROLLBACK or TABLE acts on what an earlier LOAD left; a length
 * past the input's end makes the rest one last frame. Every input starts
 * from the same running policy (firewall rules, IPv4 and IPv6 sets, IPS
 * rules: compiled once) and an empty state directory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/control_fake.h"
#include "control_int.h"
#include "fuzz.h"

static const struct {
	const char *verb;
	control_handler fn;
} handlers[] = {
	{ "STATUS", control_req_status }, { "STATS", control_req_stats },
	{ "SHOW", control_req_show },     { "FLOWS", control_req_flows },
	{ "EXPLAIN", control_req_explain }, { "LOAD", control_req_load },
	{ "CONFIRM", control_req_confirm }, { "ROLLBACK", control_req_rollback },
	{ "RESET", control_req_reset },   { "TABLE", control_req_table },
};

#define MAX_FRAMES 4

static const char start_policy[] =
	"serial 7\n"
	"define mgmt = { 203.0.113.0/24 2001:db8:2::/64 }\n"
	"define blocked = { 192.0.2.66 192.0.2.100-192.0.2.120 2001:db8::/48 }\n"
	"define web = { 80 443 8000-8100 }\n"
	"deny priority 4 in any from $blocked id 1\n"
	"force-allow priority 2 in tcp from $mgmt to any port 22 id 2\n"
	"allow in tcp to any port $web id 3\n"
	"log-only in icmp type echo-request id 14\n"
	"deny priority 1 in icmp6 type packet-too-big id 18\n"
	"drop tcp any any -> $HOME_NET 80 (msg:\"passwd\"; flow:to_server,established; "
	"content:\"/etc/passwd\"; nocase; sid:1000001; rev:1;)\n"
	"alert tcp any any -> any any (msg:\"syn\"; flags:S; sid:1000010; rev:1;)\n"
	"alert icmp any any -> any any (msg:\"echo\"; itype:8; icode:0; ttl:<100; sid:1000005; rev:1;)\n"
	"alert udp any any -> any 53 (msg:\"dsize\"; dsize:0; sid:1000014; rev:1;)\n";

/* The state directory starts empty for every input. */
static void clear_state(const char *dir)
{
	static const char *files[] = { "current.pol", "current.pol.sig", "last-good.pol",
				       "last-good.pol.sig", "state.meta", "dns-learned" };
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
}

static const struct config *control_config(void)
{
	static struct config cfg;
	static int done;

	if (!done) {
		done = 1;
		cfg = *fuzz_config();
		cfg.state_dir = (char *)fuzz_tmpdir();
	}
	return &cfg;
}

static void dispatch(struct control *c, char *payload, size_t len)
{
	struct control_msg m;
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);
	bool parsed;

	if (!out)
		abort();
	parsed = control_msg_parse(payload, len, &m) == 0;
	for (size_t i = 0; parsed && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(m.verb, handlers[i].verb) == 0)
			handlers[i].fn(c, &m, out);
	fclose(out);
	if (getenv("FUZZ_PRINT")) /* reproducing: what each request answered */
		fprintf(stderr, "> %s\n%s", parsed ? m.verb : "(not a request)", text ? text : "");
	free(text);
}

/* The running policy every input starts from; the requests never change it (they swap). */
static struct policy *start(void)
{
	static struct policy *p;

	if (!p && !(p = fuzz_load(start_policy, control_config()))) {
		fputs("fuzz_control: the start policy does not load\n", stderr);
		abort();
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_engine f;
	struct control c;

	if (size < 4 || size > 256 * 1024)
		return 0;
	clear_state(fuzz_tmpdir());
	fake_engine_init(&f, control_config(), start());
	f.borrowed = start();
	memset(&c, 0, sizeof(c));
	c.cfg = control_config();
	c.ops = &fake_ops;
	c.ctx = &f;
	c.lfd = c.wake_rd = c.wake_wr = c.state_lock = -1;
	control_meta_sync(&c);
	for (int i = 0; i < MAX_FRAMES && size >= 4; i++) {
		size_t total;
		char *payload;

		if (control_frame_len(data, size, CONTROL_MAX_REQUEST - 4, &total) < 0 || total > size)
			total = size;
		/* an exact-size copy: the body is not NUL-terminated on the wire either */
		if (!(payload = malloc(total > 4 ? total - 4 : 1)))
			abort();
		memcpy(payload, data + 4, total - 4);
		control_state_check(&c);
		dispatch(&c, payload, total - 4);
		free(payload);
		data += total;
		size -= total;
	}
	if (c.confirm_ms)
		control_confirm_expired(&c);
	fake_engine_fini(&f);
	return 0;
}
