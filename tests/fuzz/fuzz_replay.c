/*
 * fuzz_replay.c - a fuzzed capture file (pcap or pcapng) replayed with
 * replay_run(): link layers, pcapng interface names, reassembly, flows,
 * verdict lines and the -w / --dropped captures.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "replay.h"

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = size && fwrite(data, 1, size, f) != size ? -1 : 0;
	return fclose(f) == 0 ? rc : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cap[128], acc[128], drop[128], err[512];
	struct replay_opts o = { .pcap = cap, .accepted = acc, .dropped = drop };
	struct pipeline pl;

	if (size > 1 << 20)
		return 0;
	snprintf(cap, sizeof(cap), "%s/capture", fuzz_tmpdir());
	snprintf(acc, sizeof(acc), "%s/accepted", fuzz_tmpdir());
	snprintf(drop, sizeof(drop), "%s/dropped", fuzz_tmpdir());
	if (write_file(cap, data, size) < 0)
		abort();
	o.verdicts = fuzz_null();
	o.summary = fuzz_null();
	if (pipeline_init(&pl, fuzz_config(), fuzz_policy()) == 0)
		replay_run(&pl, &o, err, sizeof(err));
	pipeline_fini(&pl);
	return 0;
}
