/* main.c - lifelinectl: global options, then one subcommand from the table. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ll.h"

/* Add a command here: its name, its function and its one-line usage. */
static const struct ctl_cmd cmds[] = {
	{ "check", cmd_check,
	  "[--print] [--skip-unsupported] POLICY  parse and validate only (--print: canonical form)" },
	{ "explain", cmd_explain,
	  "[-p POLICY] DIR PROTO SRC[:PORT] DST[:PORT] [type T [code C]] [flags F] [on IFACE]  "
	  "verdict, by, reason and deciding rule" },
	{ "load", cmd_load,
	  "[--confirm SECONDS] [--skip-unsupported] POLICY  validate, swap atomically, persist; "
	  "prints what changed" },
	{ "confirm", cmd_confirm, "[SHA256]  keep the policy loaded with --confirm (with SHA256: only that one)" },
	{ "rollback", cmd_rollback, " go back to the last-good policy now" },
	{ "reset", cmd_reset,
	  "[--hooks-only]  empty policy now (alias -r); --hooks-only: remove the queue hooks only" },
	{ "status", cmd_status, "[--json]  engine, policy, heartbeat, queues, flows (exit 3: not answering, 4: unknown)" },
	{ "stats", cmd_stats, "[--json | --prometheus]  counters by reason, rule, queue" },
	{ "show", cmd_show, "[--counters]  the running policy in canonical form" },
	{ "flows", cmd_flows, "[FILTER] [--kill]  list (or drop) tracked flows" },
	{ "table", cmd_table, "NAME add|delete|show|flush [ADDR...]  change an address set in place" },
	{ "doctor", cmd_doctor, " run the lifeline checklist" },
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out, "usage: %s [-c CONFIG] COMMAND [ARGS...]\n"
		     "       %s --help | --version\n\ncommands:\n", prog, prog);
	for (size_t i = 0; i < LL_ARRAY_SIZE(cmds); i++)
		fprintf(out, "  %s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(out, "\n-c, --config CONFIG  the config (default %s)\n"
		     "exit status: 0 ok, 1 failure, 2 usage error, 3 (status) engine not answering,\n"
		     "4 (status) unknown: the socket refuses this user, or the config is unusable\n",
		CTL_DEFAULT_CONFIG);
}

static const struct ctl_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < LL_ARRAY_SIZE(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* ctl_usage_error() - see ctl.h. */
int ctl_help(struct ctl *c, const char *name)
{
	const struct ctl_cmd *cmd = find_cmd(name);

	if (cmd)
		printf("usage: %s %s %s\n", c->prog, name, cmd->usage);
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}

int ctl_usage_error(struct ctl *c, const char *name, const char *msg)
{
	const struct ctl_cmd *cmd = find_cmd(name);

	if (msg)
		fprintf(stderr, "%s %s: %s\n", c->prog, name, msg);
	if (cmd)
		fprintf(stderr, "usage: %s %s %s\n", c->prog, name, cmd->usage);
	return CTL_USAGE;
}

/* `-r` is dsa_control's reset: it maps to the reset command when one exists. */
static const char *alias_of(const char *opt)
{
	return strcmp(opt, "-r") == 0 ? "reset" : NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ctl c = { .prog = argv[0], .config_path = CTL_DEFAULT_CONFIG };
	const struct ctl_cmd *cmd;
	const char *name;
	int o, first;

	while (optind < argc && !alias_of(argv[optind]) &&
	       (o = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			c.config_path = optarg;
			c.config_given = true;
			break;
		case 'h':
			usage(stdout, c.prog);
			return CTL_OK;
		case 'V':
			printf("lifelinectl %s\n", LL_VERSION);
			return CTL_OK;
		default: /* getopt said what was wrong */
			fprintf(stderr, "Try '%s --help' for the commands and options.\n", c.prog);
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, c.prog);
		return CTL_USAGE;
	}
	name = alias_of(argv[optind]) ? alias_of(argv[optind]) : argv[optind];
	if (!(cmd = find_cmd(name))) {
		fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help' for the commands.\n",
			c.prog, argv[optind], c.prog);
		return CTL_USAGE;
	}
	first = optind;
	argv[first] = (char *)cmd->name;
	optind = 0; /* commands run getopt on their own argv; 0 resets glibc fully */
	return cmd->fn(&c, argc - first, argv + first);
}
