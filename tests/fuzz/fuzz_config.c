/*
 * fuzz_config.c - the config parser: config_load_string(), then what is
 * built from a config: policy options, the kernel hooks it would print,
 * and the lifeline judging a heartbeat.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hooks.h"
#include "pipeline.h"

/* TCP 198.51.100.2:40000 -> 203.0.113.10:4120, SYN: the lab's heartbeat. */
static const uint8_t heartbeat[40] = {
	0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 2, 203, 0, 113, 10,
	0x9c, 0x40, 0x10, 0x18, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
};

static void judge(const struct config *cfg)
{
	struct pipeline pl;
	struct pkt p;
	struct verdict v;
	enum ll_reason why;

	memset(&p, 0, sizeof(p));
	if (pipeline_init(&pl, cfg, NULL) == 0 &&
	    pkt_parse(&p, heartbeat, sizeof(heartbeat), &why) == 0) {
		pipeline_set_dir(&pl, &p);
		pipeline_judge(&pl, &p, 1, &v);
	}
	pipeline_fini(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct ll_errlist errs = { 0 };
	struct policy_opts o;
	char *text;

	if (size > 256 * 1024)
		return 0;
	text = fuzz_str(data, size);
	if (config_load_string(&cfg, "fuzz.conf", text, &errs) == 0) {
		config_policy_opts(&cfg, &o, false);
		hooks_print(&cfg, HOOKS_BOTH, fuzz_null());
		judge(&cfg);
	} else {
		ll_err_print(&errs, fuzz_null());
	}
	config_free(&cfg);
	ll_err_free(&errs);
	free(text);
	return 0;
}
