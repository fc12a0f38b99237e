/* cmd_status.c - lifelinectl status and stats: the engine's state and counters. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

/*
 * cmd_status() - `status [--json]`. Exit 0 the engine answered, 3 it did
 * not (LSB: not running), 4 the socket refused us or the config is
 * unusable (LSB: unknown), 1 it answered with an error, 2 usage.
 */
int cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct config cfg;
	bool json = false;
	pid_t stopped = 0;
	char state;
	int o, rc;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (o == 'j') {
			json = true;
		} else if (o == 'h') {
			printf("usage: %s status [--json]\n"
			       "exit: 0 engine answers, 3 engine not answering, 4 unknown (permission denied,\n"
			       "      unusable config), 1 error, 2 usage\n",
			       c->prog);
			return CTL_OK;
		} else {
			return ctl_usage_error(c, "status", NULL);
		}
	}
	if (optind != argc)
		return ctl_usage_error(c, "status", "takes no arguments");
	if (ctl_config(c, &cfg) != 0) { /* no socket to ask: whether an engine runs is not known */
		rc = CTL_UNKNOWN;
	} else {
		rc = ctl_request(c, json ? "STATUS json" : "STATUS", NULL, 0, CTL_TIMEOUT_MS,
				 CTL_NOT_RUNNING);
		/*
		 * Every slot taken: an overloaded engine, not an answer, so 3
		 * (README: hung, stopped or overloaded); 1 is LSB's "dead, pidfile
		 * left", which paged someone for a slow reader.
		 */
		if (rc == CTL_FAIL && c->busy)
			rc = CTL_NOT_RUNNING;
		else if (rc == CTL_NOT_RUNNING)
			stopped = ctl_engine_stopped(&cfg, &state);
		config_free(&cfg);
	}
	/* a monitor reading JSON gets JSON either way: not answering, or not known */
	if (json && rc == CTL_NOT_RUNNING && c->busy) /* there, but every slot taken: no restart either */
		printf("{\"engine\":{\"running\":null,\"busy\":true}}\n");
	else if (json && stopped) /* not judging, but there: kill -CONT, not a restart */
		printf("{\"engine\":{\"running\":false,\"stopped\":true,\"pid\":%d}}\n", (int)stopped);
	else if (json && rc == CTL_NOT_RUNNING && c->starting) /* a restart starts its compile over */
		printf("{\"engine\":{\"running\":false,\"starting\":true,\"pid\":%d}}\n",
		       (int)c->starting);
	else if (json && (rc == CTL_NOT_RUNNING || rc == CTL_UNKNOWN))
		printf("{\"engine\":{\"running\":%s}}\n", rc == CTL_NOT_RUNNING ? "false" : "null");
	return rc;
}

/* cmd_stats() - `stats [--json | --prometheus]`. Exit 0, 1 (or no engine), 2. */
int cmd_stats(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *hdr = "STATS";
	int o;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if ((o == 'j' || o == 'P') && strcmp(hdr, "STATS") != 0)
			return ctl_usage_error(c, "stats", "--json and --prometheus exclude each other");
		if (o == 'j')
			hdr = "STATS json";
		else if (o == 'P')
			hdr = "STATS prometheus";
		else if (o == 'h')
			return printf("usage: %s stats [--json | --prometheus]\n", c->prog) < 0;
		else
			return ctl_usage_error(c, "stats", NULL);
	}
	if (optind != argc)
		return ctl_usage_error(c, "stats", "takes no arguments");
	return ctl_request(c, hdr, NULL, 0, CTL_TIMEOUT_MS, CTL_FAIL);
}
