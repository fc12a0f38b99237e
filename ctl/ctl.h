/* ctl.h - lifelinectl: shared state and the subcommands' entry points. */
#ifndef LL_CTL_H
#define LL_CTL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define CTL_DEFAULT_CONFIG "/etc/lifeline/lifeline.conf"

/* Exit codes; `status` follows the LSB: 3 not running, 4 cannot tell. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2, CTL_NOT_RUNNING = 3, CTL_UNKNOWN = 4 };

/* What main() parsed before the command name; commands may read, not free. */
struct ctl {
	const char *prog;        /* argv[0] as given, for messages */
	const char *config_path; /* -c CONFIG, or CTL_DEFAULT_CONFIG */
	bool config_given;       /* -c was on the command line */
	bool sent;               /* ctl_request(): the whole request reached the engine */
	bool busy;               /* ctl_request(): the engine answered "busy" (no slot free) */
	pid_t starting;          /* ctl_request(): no socket yet, this lifelined starting */
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

/* ctl_help() - the command's usage line on stdout (COMMAND --help); exit 0. */
int ctl_help(struct ctl *c, const char *name);
/* ctl_usage_error() - "prog NAME: msg" and the command's usage on stderr; returns CTL_USAGE. */
int ctl_usage_error(struct ctl *c, const char *name, const char *msg);

int cmd_check(struct ctl *c, int argc, char **argv);
int cmd_explain(struct ctl *c, int argc, char **argv);
int cmd_load(struct ctl *c, int argc, char **argv);
int cmd_confirm(struct ctl *c, int argc, char **argv);
int cmd_rollback(struct ctl *c, int argc, char **argv);
int cmd_reset(struct ctl *c, int argc, char **argv);
int cmd_status(struct ctl *c, int argc, char **argv);
int cmd_stats(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, int argc, char **argv);
int cmd_flows(struct ctl *c, int argc, char **argv);
int cmd_table(struct ctl *c, int argc, char **argv);
int cmd_doctor(struct ctl *c, int argc, char **argv);


/* ---- client.c: talking to the engine's control socket ---- */

struct config;
struct iovec;
struct pkt;

/*
 * ctl_engine_elsewhere() - the pid of the state directory's lifelined when it
 * runs in another network namespace than this command (its hooks are not
 * here to see or remove), else 0. cmd_doctor.c.
 */
pid_t ctl_engine_elsewhere(const struct config *cfg);
/*
 * ctl_last_engine_elsewhere() - the pid the state directory's pidfile
 * names when the engine that wrote it (alive or not) ran in another
 * network namespace than ours, that namespace ("net:[N]") in @ns; else 0.
 */
pid_t ctl_last_engine_elsewhere(const struct config *cfg, char *ns, size_t nslen);
/*
 * ctl_engine_other_state_dir() - the pid of a lifelined that runs (or is
 * stopped) in this network namespace with another state directory than
 * @cfg's (it was started with another config), that directory (the one
 * holding the lifelined.lock it keeps open) in @dir; else 0. Needs root
 * to read another process's fds. cmd_doctor.c.
 */
pid_t ctl_engine_other_state_dir(const struct config *cfg, char *dir, size_t len);
/*
 * ctl_engine_stopped() - the pid of the state directory's lifelined when it
 * runs in this network namespace and is stopped (SIGSTOP, ctrl-Z: *@state
 * 'T') or held by a tracer (gdb, strace: 't'), else 0. cmd_doctor.c.
 */
pid_t ctl_engine_stopped(const struct config *cfg, char *state);
/*
 * ctl_engine_lock_holder() - the lifelined that holds the state
 * directory's lifelined.lock (/proc/locks: nothing is locked to ask) and
 * has not been ready yet (its pid is not the pidfile's), else 0. With no
 * control socket, that engine is starting (compiling its start-up policy)
 * or failing to, not gone. cmd_doctor.c.
 */
pid_t ctl_engine_lock_holder(const struct config *cfg);
/*
 * ctl_netns_name() - the name `ip netns` knows namespace @ns ("net:[N]")
 * by (its file in /run/netns), in @name; "NAME" when none.
 */
const char *ctl_netns_name(const char *ns, char *name, size_t len);

/* Default answer deadlines, in milliseconds. */
#define CTL_TIMEOUT_MS 5000       /* reading requests: a hung engine is "not answering" */
#define CTL_TIMEOUT_LOAD_MS 120000 /* load: a 100,000-rule policy compiles in the engine */
#define CTL_TIMEOUT_RESET_MS 1000  /* reset: then it acts without the engine */
#define CTL_TIMEOUT_STOPPED_MS 1000 /* an engine seen stopped: it answers only once resumed */

/* A reply: its header word ("ok", "fail", "denied", ...) and its text. */
struct ctl_reply {
	bool sent;     /* the whole request was written: the engine may act on it unanswered */
	char *payload; /* owned */
	const char *status;
	const char *body;
	size_t bodylen;
};

/*
 * ctl_config() - load the config of -c (a missing default file means every
 * default). Errors are printed; returns 0 or CTL_FAIL. config_free() it.
 */
int ctl_config(struct ctl *c, struct config *cfg);

/*
 * ctl_call() - one request to the socket at @sock, the whole exchange
 * bounded by @timeout_ms. 0 with @r filled (ctl_reply_free() it), or
 * -errno: -ENOENT / -ECONNREFUSED (no engine), -ETIMEDOUT (hung or
 * stopped), -EACCES, -EPROTO (not our protocol).
 */
int ctl_call(const char *sock, const char *header, const struct iovec *iov, int niov,
	     int timeout_ms, struct ctl_reply *r);
/* ctl_reply_free() - free what ctl_call() filled; @r may be reused. */
void ctl_reply_free(struct ctl_reply *r);

/* ctl_call_error() - why the engine did not answer, as a phrase. */
const char *ctl_call_error(int err);

/*
 * ctl_request() - config, call, print: the body goes to stdout when the
 * reply is "ok", else to stderr. Returns the exit code: 0 ok, 1 failure,
 * @not_answering when the engine did not answer (1, or 3 for status).
 */
int ctl_request(struct ctl *c, const char *header, const struct iovec *iov, int niov,
		int timeout_ms, int not_answering);

/* ctl_explain_online() - explain @p with the running engine; the exit code. */
int ctl_explain_online(struct ctl *c, const struct pkt *p);

#endif
