/*
 * cmd_reset.c - lifelinectl reset: the console's way out of a lock-out.
 * It asks the engine for the empty policy (1 s for connect and answer);
 * when the engine does not answer, it removes the kernel queue hooks
 * itself (the kernel lifeline stays) and persists the empty policy, so
 * that a restarted engine does not bring the bad policy back.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "hooks.h"
#include "state.h"

/*
 * 0: the engine swapped to the empty policy (and persisted it); -EPERM:
 * it refused this user; else it did not (or could not) do it.
 */
static int ask_engine(const struct config *cfg, char *why, size_t len)
{
	struct ctl_reply r;
	int rc = ctl_call(cfg->control_socket, "RESET", NULL, 0, CTL_TIMEOUT_RESET_MS, &r);

	if (rc < 0) {
		snprintf(why, len, "%s", ctl_call_error(rc));
		return rc;
	}
	snprintf(why, len, "%.*s", (int)(r.bodylen && r.body[r.bodylen - 1] == '\n' ?
					 r.bodylen - 1 : r.bodylen), r.body);
	if (!why[0]) /* "busy" and the like come without a text: the status word says it */
		snprintf(why, len, "the engine answered '%s'%s", r.status,
			 strcmp(r.status, "busy") == 0 ? " (every client slot taken)" : "");
	rc = strcmp(r.status, "ok") == 0 ? 0 : strcmp(r.status, "denied") == 0 ? -EPERM : -EIO;
	ctl_reply_free(&r);
	return rc;
}

/* The empty policy as current, nothing awaiting confirm. */
static int persist_empty(const struct config *cfg)
{
	struct state_meta m = { .loaded_at = (uint64_t)time(NULL) };
	struct policy *p = policy_empty();
	/*
	 * Not between an engine's read of state.meta and its write (a starting
	 * engine's): that write would undo this one. A holder that does not
	 * let go in 5 s is hung; the reset goes on without the lock.
	 */
	int lock = state_lock(cfg->state_dir, 5000), rc;

	if (p)
		memcpy(m.sha256, p->hash, sizeof(m.sha256));
	policy_free(p);
	if ((rc = state_save_policy(cfg->state_dir, STATE_CURRENT, "", 0, NULL, 0)) >= 0)
		rc = state_meta_write(cfg->state_dir, &m);
	/* a change sent before this, still waiting for the engine, is not done (control.c) */
	if (rc >= 0 && state_resets_bump(cfg->state_dir) < 0)
		fprintf(stderr, "warning: cannot count this reset in %s/%s: a load sent before it "
			"and read by the engine after it would still run\n", cfg->state_dir,
			STATE_RESETS_FILE);
	state_unlock(lock);
	return rc;
}

/* Remove the queue hooks; prints what happened. true: the host is not blocked by us. */
static bool remove_hooks(struct ctl *c, const struct config *cfg)
{
	char err[512] = "", ns[64], name[256];
	int had = hooks_queue_installed(); /* 0: our rules without the queue rule */
	int rc = hooks_remove_queue(cfg, err, sizeof(err)); /* as root: cmd_reset() saw to that */
	pid_t pid;

	if (rc == 0 && had == 0) {
		printf("the kernel queue hooks were out already (an earlier reset): traffic flows "
		       "without the engine (the kernel lifeline rules stay)\n");
		return true;
	}
	if (rc == 0) {
		printf("removed the kernel queue hooks: traffic now flows without the engine "
		       "(the kernel lifeline rules stay)\n");
		return true;
	}
	if (rc == -ENOENT && (pid = ctl_engine_elsewhere(cfg))) {
		/* another namespace's engine: its host is still blocked, say where to go */
		fprintf(stderr, "%s reset: no kernel queue hooks in this network namespace, but "
			"lifelined (pid %d) runs in another one: run the reset there "
			"(nsenter -t %d -n %s%s%s reset, or ip netns exec NAME ...)\n", c->prog,
			(int)pid, (int)pid, c->prog, c->config_given ? " -c " : "",
			c->config_given ? c->config_path : "");
		return false;
	}
	if (rc == -ENOENT && (pid = ctl_last_engine_elsewhere(cfg, ns, sizeof(ns)))) {
		/* the engine died there, fail-open no: its rules may still block that host */
		fprintf(stderr, "%s reset: no kernel queue hooks in this network namespace, but "
			"the last lifelined (pid %d, not running) ran in another one (%s): run the "
			"reset there (ip netns exec %s %s%s%s reset)\n", c->prog, (int)pid, ns,
			ctl_netns_name(ns, name, sizeof(name)), c->prog, c->config_given ? " -c " : "",
			c->config_given ? c->config_path : "");
		return false;
	}
	if (rc == -ENOENT) {
		printf("no kernel queue hooks installed: nothing to remove\n");
		return true;
	}
	fprintf(stderr, "%s reset: FAILED to remove the kernel queue hooks: %s%s%s\n", c->prog,
		strerror(-rc), err[0] ? ": " : "", err);
	return false;
}

static int reset_full(struct ctl *c, const struct config *cfg)
{
	char why[512], dir[PATH_MAX];
	struct config other;
	bool unblocked;
	pid_t pid;
	int rc;

	rc = ask_engine(cfg, why, sizeof(why));
	if (rc == 0) {
		printf("engine answered: %s\n", why);
		/*
		 * It runs the empty policy but could not write its state dir (a
		 * unit's ReadWritePaths=, a full disk): this process may, and a
		 * restart must not bring the old policy back.
		 */
		if (!strstr(why, "; persisted in ")) {
			if ((rc = persist_empty(cfg)) < 0)
				fprintf(stderr, "%s reset: WARNING: the empty policy is not persisted in "
					"%s (%s) either: a restarted engine would bring the old policy "
					"back\n", c->prog, cfg->state_dir, strerror(-rc));
			else
				printf("persisted the empty policy as %s/%s: a restarted engine "
				       "starts with it\n", cfg->state_dir, STATE_CURRENT_FILE);
		}
		return CTL_OK;
	}
	if (rc == -EPERM) {
		fprintf(stderr, "%s reset: the engine refused: %s\n", c->prog, why);
		return CTL_FAIL;
	}
	printf("engine did not reset: %s (control socket %s)\n", why, cfg->control_socket);
	unblocked = remove_hooks(c, cfg);
	/*
	 * An engine runs here with another config (a unit's `lifelined -c X`,
	 * a bare `lifelinectl -r` at the console): this config's state
	 * directory is no engine's, and the empty policy persisted there would
	 * not stop a restart from bringing the bad one back. Persist it in the
	 * engine's own, which it watches: it runs the empty policy now too.
	 */
	if ((pid = ctl_engine_other_state_dir(cfg, dir, sizeof(dir)))) {
		printf("lifelined (pid %d) runs in this network namespace with state directory %s, "
		       "not this config's %s (it was started with another config: name it with -c "
		       "next time): resetting that one\n", (int)pid, dir, cfg->state_dir);
		other = *cfg;
		other.state_dir = dir;
		cfg = &other;
	}
	if ((rc = persist_empty(cfg)) < 0)
		fprintf(stderr, "%s reset: FAILED to persist the empty policy in %s: %s "
			"(a restarted engine would bring the old policy back)\n", c->prog,
			cfg->state_dir, strerror(-rc));
	else
		printf("persisted the empty policy as %s/%s: a restarted engine starts with it\n",
		       cfg->state_dir, STATE_CURRENT_FILE);
	return unblocked ? CTL_OK : CTL_FAIL;
}

/*
 * cmd_reset() - `reset [--hooks-only]` (alias -r). Exit 0 when the host is
 * unblocked (engine reset, or queue hooks removed / none installed), 1
 * when the hooks could not be removed, 2 usage.
 */
int cmd_reset(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hooks-only", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool hooks_only = false;
	struct ll_errlist errs = { 0 };
	struct config cfg;
	int o, rc;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (o == 'H') {
			hooks_only = true;
		} else if (o == 'h') {
			printf("usage: %s reset [--hooks-only]   (alias: %s -r)\n"
			       "exit: 0 host unblocked, 1 failed, 2 usage\n", c->prog, c->prog);
			return CTL_OK;
		} else {
			return ctl_usage_error(c, "reset", NULL);
		}
	}
	if (optind != argc)
		return ctl_usage_error(c, "reset", "takes no arguments");
	/* the engine refuses other users, and the hooks and state dir are root's: say so once */
	if (geteuid() != 0) {
		fprintf(stderr, "%s reset: refused: needs root (sudo %s reset); nothing was changed\n",
			c->prog, c->prog);
		return CTL_FAIL;
	}
	if (config_load(&cfg, c->config_path, !c->config_given, &errs) < 0) {
		/*
		 * A broken config must not keep the console locked out. Its valid
		 * lines (config_load() keeps them, as doctor uses them) still name
		 * the engine's socket and state dir; the defaults would miss an
		 * engine that runs with other ones.
		 */
		bool unread = !errs.n || !errs.v[0].loc.line; /* the file, not a line of it */

		ll_err_print(&errs, stderr);
		fprintf(stderr, "%s reset: warning: %s has errors; going on with %s: control "
			"socket %s, state dir %s\n", c->prog, c->config_path,
			unread ? "the defaults" : "its valid lines", cfg.control_socket, cfg.state_dir);
	}
	ll_err_free(&errs);
	if (hooks_only)
		rc = remove_hooks(c, &cfg) ? CTL_OK : CTL_FAIL;
	else
		rc = reset_full(c, &cfg);
	config_free(&cfg);
	fflush(stdout);
	return rc;
}
