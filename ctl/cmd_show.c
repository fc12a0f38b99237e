/* cmd_show.c - lifelinectl show: the running policy in canonical form, with hit counters. */
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"

/* cmd_show() - `show [--counters]`. Exit 0, 1 (or no engine), 2 usage. */
int cmd_show(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "counters", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool counters = false;
	int o;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (o == 'C')
			counters = true;
		else if (o == 'h')
			return printf("usage: %s show [--counters]\n", c->prog) < 0;
		else
			return ctl_usage_error(c, "show", NULL);
	}
	if (optind != argc)
		return ctl_usage_error(c, "show", "takes no arguments");
	return ctl_request(c, counters ? "SHOW counters" : "SHOW", NULL, 0, CTL_TIMEOUT_MS,
			   CTL_FAIL);
}
