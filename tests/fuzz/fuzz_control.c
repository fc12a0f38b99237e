/*
 * fuzz_control.c - the control socket's request parser: the frame length,
 * control_msg_parse(), then the request handlers as the server dispatches
 * them for uid 0, behind the fake engine of the unit tests. Input: one
 * frame as a client sends it (4-byte length, header line, body); a length
 * that does not match the input is checked, then ignored.
 */
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

static const char start_policy[] =
	"define mgmt = { 203.0.113.0/24 }\n"
	"define blocked = { 192.0.2.66 }\n"
	"deny priority 4 in any from $blocked id 1\n"
	"force-allow priority 2 in tcp from $mgmt to any port 22 id 2\n"
	"allow in tcp to any port { 80 443 } id 3\n";

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

	if (!out)
		abort();
	if (control_msg_parse(payload, len, &m) == 0)
		for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
			if (strcmp(m.verb, handlers[i].verb) == 0)
				handlers[i].fn(c, &m, out);
	fclose(out);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_engine f;
	struct control c;
	char *payload;
	size_t total;

	if (size < 4 || size > 256 * 1024)
		return 0;
	control_frame_len(data, size, CONTROL_MAX_REQUEST - 4, &total);
	/* an exact-size copy: the body is not NUL-terminated on the wire either */
	if (!(payload = malloc(size - 4 ? size - 4 : 1)))
		return 0;
	memcpy(payload, data + 4, size - 4);
	clear_state(fuzz_tmpdir());
	fake_engine_init(&f, control_config(), fuzz_load(start_policy, control_config()));
	memset(&c, 0, sizeof(c));
	c.cfg = control_config();
	c.ops = &fake_ops;
	c.ctx = &f;
	c.lfd = c.wake_rd = c.wake_wr = c.state_lock = -1;
	control_meta_sync(&c);
	dispatch(&c, payload, size - 4);
	if (c.confirm_ms)
		control_confirm_expired(&c);
	fake_engine_fini(&f);
	free(payload);
	return 0;
}
