/* engine.h - lifelined's live mode: NFQUEUE workers, kernel hooks, daemon life. */
#ifndef LL_ENGINE_H
#define LL_ENGINE_H

#include "config.h"

struct engine_opts {
	bool foreground;       /* -f: stay attached, log to stderr */
	bool skip_unsupported; /* --skip-unsupported for the policy */
};

/*
 * engine_run() - run live until SIGTERM/SIGINT: validate @policy_path (or
 * load the persisted STATE_DIR/current.pol, or the empty policy), install
 * the kernel hooks, one worker per queue, log `ready`, notify systemd.
 * SIGHUP reloads @config_path (NULL: keep @cfg) and reopens the log.
 * Prints its own errors (it is main()'s delegate). Returns the exit status:
 * 0 clean stop, 1 bad config/policy or start-up failure (nothing left installed).
 */
int engine_run(const struct config *cfg, const char *config_path, const char *policy_path,
	       const struct engine_opts *o);

/* netlink_addr.c: the host's addresses, as they come and go (rtnetlink). */
struct addr_watch;

/*
 * addr_watch_open() - subscribe to IPv4/IPv6 address and link events.
 * 0 and *@out, or -errno.
 */
int addr_watch_open(struct addr_watch **out);
void addr_watch_close(struct addr_watch *w);
int addr_watch_fd(const struct addr_watch *w);
/*
 * addr_watch_read() - drain pending events. Returns a mask: 1 addresses
 * changed, 2 links changed (renames), 0 nothing; or -errno.
 */
int addr_watch_read(struct addr_watch *w);
/*
 * addr_dump() - every address of every interface in this network namespace
 * (one-shot RTM_GETADDR dump), at most @max into @out. Count or -errno.
 */
int addr_dump(ll_ip *out, int max);

#endif
