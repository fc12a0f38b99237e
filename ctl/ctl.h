/* ctl.h - lifelinectl: shared state and the subcommands' entry points. */
#ifndef LL_CTL_H
#define LL_CTL_H

#include <stdbool.h>
#include <stdio.h>

#define CTL_DEFAULT_CONFIG "/etc/lifeline/lifeline.conf"

/* Exit codes shared by every command (status also uses 3: engine not answering). */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* What main() parsed before the command name; commands may read, not free. */
struct ctl {
	const char *prog;        /* argv[0] as given, for messages */
	const char *config_path; /* -c CONFIG, or CTL_DEFAULT_CONFIG */
	bool config_given;       /* -c was on the command line */
};

/*
 * A subcommand: argv[0] is the command's name, options follow; returns the
 * process exit code. Commands print their own results and errors.
 */
typedef int (*ctl_cmd_fn)(struct ctl *c, int argc, char **argv);

struct ctl_cmd {
	const char *name;
	ctl_cmd_fn fn;
	const char *usage; /* the arguments after the name, then two spaces and a summary */
};

/* ctl_usage_error() - "prog NAME: msg" and the command's usage on stderr; returns CTL_USAGE. */
int ctl_usage_error(struct ctl *c, const char *name, const char *msg);

int cmd_check(struct ctl *c, int argc, char **argv);
int cmd_explain(struct ctl *c, int argc, char **argv);

#endif
