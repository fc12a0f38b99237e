/*
 * control.h - the control plane: lifelinectl talks to lifelined over a UNIX
 * stream socket (config `control-socket`). The server (filter/control*.c)
 * runs in its own thread, validates and compiles policies, owns the confirm
 * timer, persists state, and calls the engine only through struct
 * control_ops. The wire format is described at the top of control_proto.c.
 */
#ifndef LL_CONTROL_H
#define LL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "config.h"
#include "flow.h"
#include "lifeline.h"
#include "pipeline.h"
#include "policy.h"

struct state_stamp;

/* Limits, explicit so that no peer can make the server stall or balloon. */
#define CONTROL_MAX_REQUEST (POLICY_MAX_BYTES + (64u << 10)) /* uid 0: the largest policy, its signature and header */
#define CONTROL_MAX_REQUEST_USER (64u << 10) /* other peers only ask to read */
#define CONTROL_MAX_REPLY (256u << 20)       /* the client refuses longer replies */
#define CONTROL_MAX_HEADER 4096              /* the header line, newline included */
#define CONTROL_MAX_ARGS 32
#define CONTROL_MAX_CLIENTS 16               /* more are answered `busy` and closed */
#define CONTROL_ROOT_SLOTS 4                 /* of those, kept for uid 0 (reset must get in) */
#define CONTROL_READ_TIMEOUT_MS 10000        /* a whole request, from accept */
#define CONTROL_WRITE_TIMEOUT_MS 10000       /* a whole reply */

/* ---- wire format (control_proto.c), shared by server and client ---- */

/* A parsed frame: the header line split in words, and the body after it. */
struct control_msg {
	char *verb;                     /* first word ("LOAD", or "ok" in a reply) */
	int argc;                       /* words after the verb */
	char *argv[CONTROL_MAX_ARGS];
	const char *body;               /* bytes after the header line */
	size_t bodylen;
};

/*
 * control_frame_len() - with @have bytes of a frame buffered at @buf:
 * 0 and *@total (prefix included) when the length is known and within
 * @max, -EAGAIN when fewer than 4 bytes are there, -EMSGSIZE when the
 * frame is larger than @max, -EBADMSG when empty.
 */
int control_frame_len(const uint8_t *buf, size_t have, size_t max, size_t *total);

/*
 * control_msg_parse() - split the payload @p/@len (after the length
 * prefix) in place: the header line must end in '\n' within
 * CONTROL_MAX_HEADER, hold printable ASCII words separated by one space,
 * at most CONTROL_MAX_ARGS after the verb. 0 or -EBADMSG. @m points into @p.
 */
int control_msg_parse(char *p, size_t len, struct control_msg *m);

/* control_msg_get() - the value of a "key=value" word, or NULL. */
const char *control_msg_get(const struct control_msg *m, const char *key);
/* control_msg_has() - is the bare word @w among the arguments? */
bool control_msg_has(const struct control_msg *m, const char *w);

/*
 * control_frame_build() - one frame: length prefix, @header (no newline;
 * printable ASCII), '\n', then the @n buffers of @iov. malloc'd into *@out.
 * 0, -EINVAL (bad header), -EMSGSIZE (over UINT32_MAX) or -ENOMEM.
 */
int control_frame_build(const char *header, const struct iovec *iov, int n, char **out,
			size_t *outlen);

/* control_now_ms() - CLOCK_MONOTONIC in milliseconds (deadlines). */
int64_t control_now_ms(void);

/*
 * control_send_all() / control_recv_frame() - blocking I/O on @fd bounded
 * by the absolute @deadline_ms (control_now_ms() clock). recv returns the
 * payload (prefix stripped, NUL-terminated, malloc'd) of at most @max
 * bytes. 0, -ETIMEDOUT, -EMSGSIZE, -ECONNRESET (peer closed early), -errno.
 */
int control_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms);
int control_recv_frame(int fd, size_t max, int64_t deadline_ms, char **payload, size_t *len);

/*
 * control_connect() - connect to the socket at @path within @deadline_ms.
 * fd, or -ENOENT (no socket), -ECONNREFUSED (nobody listens), -EACCES,
 * -ETIMEDOUT, -errno.
 */
int control_connect(const char *path, int64_t deadline_ms);

/* ---- what the engine implements ---- */

/* Why the server swaps the policy (the engine logs an EV_POLICY event with it). */
enum control_swap_why {
	CONTROL_SWAP_LOAD,     /* lifelinectl load */
	CONTROL_SWAP_ROLLBACK, /* lifelinectl rollback */
	CONTROL_SWAP_TIMEOUT,  /* load --confirm S expired without confirm: rollback */
	CONTROL_SWAP_RESET,    /* lifelinectl reset: the empty policy */
	CONTROL_SWAP_RESET_ALONE, /* a reset that acted alone persisted it, queue rule out */
	CONTROL_SWAP_TABLE,    /* lifelinectl table: the same policy with one set changed */
	CONTROL_SWAP_RELOAD,   /* SIGUSR2: STATE_DIR/current.pol read again */
	CONTROL_SWAP_HOSTS,    /* the same policy compiled again: $HOME_NET's addresses changed */
};

/* Filled by ops->status(); leave unknown fields zero. */
struct control_status {
	int pid;
	uint64_t started_us;          /* Unix time */
	bool heartbeat_seen;
	uint64_t heartbeat_last_us;   /* Unix time of the last heartbeat packet */
	uint32_t heartbeat_missed;    /* intervals missed since */
	bool online;
	ll_ip managers[LIFELINE_MAX_MANAGERS]; /* as resolved now */
	uint32_t nmanagers;
	struct lifeline_dns dns[LIFELINE_MAX_DNS]; /* configured, resolv.conf and learned */
	uint32_t ndns;
	uint32_t nworkers;
	const char *hooks_backend;    /* "nft", "iptables"; NULL: none installed */
	bool hooks_queue;             /* the queue rule is installed (or that cannot be told) */
	bool hooks_gone;              /* our kernel rules are not there at all */
	struct flow_stats flows;
	struct pipeline_counters ctr; /* summed over workers */
};

struct control_rule_hits {
	uint32_t id;
	uint64_t packets;
};

#define CONTROL_MAX_QUEUES 64
struct control_queue_stats {
	uint16_t queue;
	uint64_t packets, verdict_errors;
	uint64_t undelivered; /* nfqueue_undelivered() */
};

/* Filled by ops->stats(); kernel queue drops are read by the server itself. */
struct control_stats {
	struct pipeline_counters ctr;
	struct flow_stats flows;
	uint64_t max_flows;   /* the table's bound, over every worker */
	uint64_t events_lost; /* event lines not written (disk full, a pipe nobody empties) */
	uint64_t ips_mem, ips_memcap; /* IPS reassembly bytes in use, and the bound (0: no IPS) */
	uint64_t ips_memcap_hits;     /* streams cut short by that bound */
	uint64_t ips_slid;            /* streams past half of it kept to a window */
	struct control_queue_stats queues[CONTROL_MAX_QUEUES];
	uint32_t nqueues;
	struct control_rule_hits *rules; /* malloc'd by the engine, freed by the server; may be NULL */
	uint32_t nrules;
};

/*
 * The engine's side. Every op is called from the control thread only, one
 * at a time, never from a packet worker; any may be NULL (the request then
 * gets "not supported by this engine"). Ops return 0 or -errno.
 */
struct control_ops {
	/*
	 * policy() - the running policy, borrowed. Policies change only through
	 * swap_policy() (called from this same thread), so the pointer stays
	 * valid until the next swap_policy() call. Required.
	 */
	const struct policy *(*policy)(void *ctx);
	/*
	 * swap_policy() - run @p from now on: compiled (fw_compile), checked and
	 * persisted by the server. Ownership of @p passes to the engine in
	 * every case (on error it frees it and keeps the old one). The old
	 * policy is freed once no worker reads it. @msg is a sentence for the
	 * EV_POLICY event. Must return promptly (reset waits for it). Required.
	 */
	int (*swap_policy)(void *ctx, struct policy *p, enum control_swap_why why,
			   const char *msg);
	int (*status)(void *ctx, struct control_status *st);
	int (*stats)(void *ctx, struct control_stats *st);
	/*
	 * flows() - call @visit for every live flow (from this thread; the
	 * engine pauses or locks workers as it needs); remove the flow when
	 * @visit returns true (flows --kill). @stale: decided under an earlier
	 * policy, judged again on its next packet. Returns 0 or -errno.
	 */
	int (*flows)(void *ctx, bool (*visit)(void *arg, const struct flow *f, bool stale), void *arg);
	/*
	 * explain() - the verdict @p would get now: running policy, lifeline
	 * state (managers, learned DNS), no flow created, nothing counted.
	 */
	int (*explain)(void *ctx, struct pkt *p, struct verdict *v);
	/* log() - one line for the operator (the engine's log). Optional. */
	void (*log)(void *ctx, const char *msg);
	/*
	 * hosts() - the host's addresses now (config `host` and, live, the
	 * interfaces'), at most @max of them: $HOME_NET's default for the
	 * policies this server compiles. Optional (none: the config's).
	 */
	uint32_t (*hosts)(void *ctx, struct ip_range *out, uint32_t max);
	/*
	 * start_state() - state.meta's stamp before the engine read its
	 * start-up policy, into @before; returns whether that policy was given
	 * with -p. Optional (NULL: nothing written behind the engine at start
	 * is looked for).
	 */
	bool (*start_state)(void *ctx, struct state_stamp *before);
	/*
	 * persist_given() - make the -p policy the persisted current one. Called
	 * once, at start, before any request is served, unless the state
	 * directory changed while the engine started (the later writer wins).
	 */
	void (*persist_given)(void *ctx);
	/*
	 * start_unconfirmed() - the sha256 of the policy a `load --confirm`
	 * left pending when the engine stopped, which its start rolled back
	 * (state_load_current()), and in *@at when (Unix seconds); "" or
	 * NULL: none. Status and a late `confirm` say so, as after a deadline.
	 * Optional.
	 */
	const char *(*start_unconfirmed)(void *ctx, uint64_t *at);
};

struct control;

/*
 * control_start() - bind @cfg->control_socket (its directory created
 * 0755; the socket mode 0660, group `lifeline` when that group exists),
 * refuse (-EADDRINUSE) when another server answers there, and start the
 * server thread. @cfg and @ctx must outlive the server. Call after the
 * engine runs its first policy: this calls ops->policy() once from the
 * caller's thread to bring state.meta in line with it (and to resume a
 * confirm deadline persisted for that same policy). 0 and *@out, or
 * -errno with @err set.
 */
int control_start(struct control **out, const struct config *cfg, const struct control_ops *ops,
		  void *ctx, char *err, size_t errlen);

/*
 * control_reload_policy() - ask the server thread to read STATE_DIR/
 * current.pol again and run it (SIGUSR2), between requests: policies
 * change only on that thread, so a request never reads a freed policy.
 * Returns at once; safe from any thread.
 */
void control_reload_policy(struct control *c);
/*
 * control_rehome() - the host's addresses changed: ask the server thread
 * to compile the running policy again when its IPS rules read $HOME_NET's
 * default, between requests. Returns at once; safe from any thread.
 */
void control_rehome(struct control *c);
/*
 * control_stop() - stop the thread (in-flight requests are cut), close
 * and unlink the socket, free @c. A pending confirm deadline stays
 * persisted: the next start rolls back (state_load_current()). NULL is fine.
 */
void control_stop(struct control *c);

#endif
