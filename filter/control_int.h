/* control_int.h - what the control server's files share: the server and its request handlers. */
#ifndef LL_CONTROL_INT_H
#define LL_CONTROL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/types.h>

#include "control.h"
#include "state.h"

struct control_conn {
	int fd;                 /* -1: slot free */
	uid_t uid;              /* SO_PEERCRED at accept */
	int64_t deadline_ms;    /* read deadline, then write deadline */
	char *in;
	size_t inlen, incap, total; /* total: frame length once known, else 0 */
	char *out;
	size_t outlen, outoff;  /* writing when out != NULL */
};

#define CONTROL_REHOME_QUIET_MS 1000 /* addresses unchanged that long before $HOME_NET follows */

struct control {
	const struct config *cfg;
	const struct control_ops *ops;
	void *ctx;
	int lfd, wake_rd, wake_wr;
	atomic_bool stopping, reload, rehome; /* why the wake pipe was written */
	int64_t rehome_ms;           /* when to compile for the host's addresses; 0: not due */
	pthread_t th;
	bool started;
	char path[108];
	dev_t sock_dev;              /* the socket bound at path (control_stop() unlinks only it) */
	ino_t sock_ino;
	struct control_conn conns[CONTROL_MAX_CLIENTS];
	struct state_meta meta;      /* persisted copy of what runs */
	struct state_stamp stamp;    /* state.meta on disk as this engine last wrote or read it */
	int state_lock;              /* state_lock()'s fd while this thread holds it; else -1 */
	int lock_wait_ms;            /* how long this request waits for state.lock; 0: the default */
	bool lock_missed;            /* it did not get it: its writes went on without it */
	int64_t confirm_ms;          /* monotonic deadline of a pending confirm; 0: none */
	uint64_t expired_at;         /* Unix seconds the last deadline passed (or a start with
	                              * a confirm pending rolled back), until the next load */
	char expired_to[65];         /* the sha256 it rolled back to */
	char expired_from[65];       /* the sha256 left unconfirmed (status names it) */
	bool expired_restart;        /* no deadline: the engine stopped before a confirm, and
	                              * its start (expired_at) rolled back */
	char lost_good[65];          /* a load's replaced policy that last-good.pol could not
	                              * take (state dir full, read-only); "": none */
	struct ip_range home[CONFIG_MAX_HOME_NET]; /* control_policy_opts(): $HOME_NET's default */
};

/* Read deadline of a request (CONTROL_READ_TIMEOUT_MS); tests shorten it. */
extern int control_read_timeout_ms;

/* Reply headers. */
#define CTL_R_OK "ok"
#define CTL_R_FAIL "fail"
#define CTL_R_DENIED "denied"
#define CTL_R_BAD "bad-request"

/*
 * A request handler: reads @m, writes the user's text to @out, returns the
 * reply header (CTL_R_*). Runs in the server thread.
 */
typedef const char *(*control_handler)(struct control *c, const struct control_msg *m, FILE *out);

/* control_req.c: STATE_DIR/current.pol again, on this thread (control_reload_policy()). */
void control_reload_current(struct control *c);
/* control_req.c: the running policy compiled with the host's addresses now (control_rehome()). */
void control_rehome_current(struct control *c);
/*
 * control_req.c: config_policy_opts() with $HOME_NET's default taken from
 * ops->hosts() (into c->home) when the engine gives them.
 */
void control_policy_opts(struct control *c, struct policy_opts *po, bool skip_unsupported);
/* control_req.c: requests that change the policy (uid 0 only). */
const char *control_req_load(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_confirm(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_rollback(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_reset(struct control *c, const struct control_msg *m, FILE *out);
/* control_confirm_expired() - the confirm deadline passed: roll back (logged via the engine). */
void control_confirm_expired(struct control *c);
/*
 * control_meta_sync() - at start: make state.meta describe the running
 * policy; persist a -p policy (ops->persist_given); or, when state.meta
 * changed while the engine started and names another policy, run
 * current.pol as it is now instead (a reset that acted alone).
 */
void control_meta_sync(struct control *c);
/*
 * control_unqueued() - why the kernel queues no packet to the engine now
 * (the queue rule taken out by a reset, or every rule gone), NULL when it
 * does or cannot tell: a verdict the engine gives then decides nothing.
 */
const char *control_unqueued(struct control *c);
/*
 * control_state_check() - between requests: state.meta changed since this
 * engine last wrote it and names another policy than the one that runs (a
 * reset acted alone while the engine did not answer): run current.pol as
 * it is now, and drop a pending confirm.
 */
void control_state_check(struct control *c);
/*
 * control_meta_write() - write c->meta as state.meta and note its stamp. 0,
 * -ESTALE when state.meta changed since this engine last wrote or read it
 * (nothing written), or -errno.
 */
int control_meta_write(struct control *c);
/* What control_persist() did. */
enum persisted {
	PERSIST_DONE,
	PERSIST_FAILED,   /* the policy runs unpersisted (warned in @out and the log) */
	PERSIST_GAVE_WAY, /* a reset acted alone meanwhile: the engine runs its policy now (said) */
};
/*
 * control_persist() - after a swap: @text/@sig as current.pol and c->meta
 * as state.meta (@text NULL: state.meta alone, a confirm). Warnings go to
 * @out; the swap stands either way.
 */
enum persisted control_persist(struct control *c, const char *text, size_t len, const void *sig,
			       size_t siglen, FILE *out);

/* control_table.c */
const char *control_req_table(struct control *c, const struct control_msg *m, FILE *out);
/* control_diff() - rules added, removed, changed between @old and @new, as text. */
void control_diff(const struct policy *old, const struct policy *new, FILE *out);

/* control_fmt.c, control_stats.c: reading requests (any peer). */
const char *control_req_status(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_stats(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_show(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_flows(struct control *c, const struct control_msg *m, FILE *out);
const char *control_req_explain(struct control *c, const struct control_msg *m, FILE *out);

/* control_iso_time() - "2026-11-26T14:00:00Z" for Unix seconds @t. */
const char *control_iso_time(uint64_t t, char *buf, size_t len);

#endif
