/* engine_int.h - what the engine_*.c files share: snapshots, workers, the engine. */
#ifndef LL_ENGINE_INT_H
#define LL_ENGINE_INT_H

#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>

#include "engine.h"
#include "event.h"
#include "heartbeat.h"
#include "hooks.h"
#include "lifeline.h"
#include "nfq.h"
#include "pipeline.h"
#include "state.h"
#include "policy.h"

#define ENGINE_MAX_ADDRS (CONFIG_MAX_HOME_NET - CONFIG_MAX_HOSTS) /* interface addresses read */
#define ENGINE_QUEUE_MAXLEN 4096 /* packets each kernel queue holds for a worker */
#define ENGINE_IFCACHE 32

/*
 * struct snap - what workers read, immutable once published. The control
 * thread builds a new one and swaps the pointer; a worker adopts it between
 * batches (never inside one), and the old one is freed only after every
 * worker has said it adopted the new one: RCU with the batch boundary as
 * the quiescent state, and no lock on the packet path.
 */
struct snap {
	const struct config *cfg;
	struct policy *policy;
	uint32_t gen;                       /* offload generation, 1..HOOKS_GEN_MAX */
	ll_ip managers[LIFELINE_MAX_MANAGERS];
	uint32_t nmanagers;
	struct lifeline_dns dns[LIFELINE_MAX_DNS];
	uint32_t ndns;
	uint32_t links_gen;                 /* bumped on link events: interface names may change */
};

struct ifcache {
	int ifindex;
	char name[16];
};

struct worker {
	struct engine *eng;
	pthread_t th;
	bool started;
	struct nfqueue_sock *q;
	int wake_fd;                        /* eventfd: a new snapshot, or stop */
	struct pipeline pl;
	const struct snap *cur;
	_Atomic(const struct snap *) adopted;
	uint32_t mark_gen;
	uint32_t told_gen;                  /* the generation the kernel was found not to pass, logged */
	uint64_t gen_since_ms;              /* when mark_gen was adopted (engine_mono_ms()) */
	struct ifcache ifc[ENGINE_IFCACHE];
	uint32_t ifc_gen;
	/* packets received and parsed, judged together when the batch fills or the receive ends */
	struct held {
		struct nfqueue_pkt np;  /* data points into the receive buffer, valid until the next receive */
		struct pkt p;
		struct verdict v;
		bool judged;            /* not IP or not parsable: v is final */
		char ifname[IF_NAMESIZE];
	} held[PIPELINE_BATCH];
	unsigned nheld;
	/*
	 * lock: held by the worker around each batch and each adoption, by the
	 * control thread to read the flow table and hit counters (flows, stats).
	 * Uncontended but for those requests.
	 */
	pthread_mutex_t lock;
	/* counters, read by the control thread (relaxed) */
	_Atomic uint64_t packets, batches, repeats, verdict_errors;
	_Atomic uint64_t alive_ms;          /* monotonic: the worker's loop last went round */
	_Atomic bool exited;
};

/* engine_resolve.c: the manager-name resolver thread's side of the engine. */
struct resolver {
	pthread_t tid;
	int fd;                 /* eventfd: a round ended (the event loop polls it) */
	pthread_cond_t cond;    /* with engine.lock: stop, or resolve now */
	_Atomic bool stop;
	bool now, started;
	/* the last round's answer, under engine.lock */
	ll_ip addrs[LIFELINE_MAX_MANAGERS];
	uint32_t n;
	uint32_t failed;        /* names that did not resolve (they kept their last addresses) */
	uint32_t gen;           /* bumped by each reload: rounds begun before are dropped */
	bool fresh;             /* not adopted yet */
	bool warned;            /* the event loop said names fail (until they resolve again) */
};

struct engine {
	const struct config *cfg;           /* current config: main's, or cfg_own after SIGHUP */
	struct config *cfg_own;             /* the config SIGHUP loaded, freed when replaced */
	const char *config_path;
	_Atomic(struct snap *) snap;
	struct worker *workers;
	uint32_t nworkers;
	_Atomic bool stop;
	struct hooks hooks;
	struct lifeline master;             /* learns DNS servers from NFLOG copies */
	struct nflog *nflog;
	int dhcp_tap;           /* engine_dhcp_tap.c, or -1 */
	struct addr_watch *aw;
	struct ev_log *evlog;               /* NULL when the event log cannot be opened */
	uint64_t dns_changes_seen;
	uint64_t unasked_said_us;           /* when the log last told of an unanswered DHCP reply */
	uint64_t evicted_said;              /* flows evicted when the log last told of a full table */
	uint64_t evicted_said_us;           /* and when */
	int64_t queue_asked_ms;     /* control thread: when status last asked the kernel (queue_now()) */
	uint8_t queue_seen;        /* and what hooks_queue_state() said */
	bool warned_conntrack;     /* conntrack(8) missing: said once */
	bool gen_unapplied;        /* the kernel rules name an older generation: the tick retries */
	_Atomic int tick_fd;       /* the event loop's tick timer (kick_tick()), or -1 */
	/*
	 * The offload generation the kernel rules pass, or are being rewritten
	 * to pass: set before the rewrite starts (it takes tens of ms, one
	 * family after the other) and before the snapshot naming it is
	 * published, so a worker still on the one before knows the swap is in
	 * flight (engine_worker.c).
	 */
	_Atomic uint32_t rules_gen;
	/*
	 * lock: serialises changes of the snapshot, the master lifeline and the
	 * heartbeat watch between the event loop and the control server thread.
	 * Packet workers never take it.
	 */
	pthread_mutex_t lock;
	struct hb_watch hb;
	struct resolver res;
	struct control *ctl;
	struct state_stamp meta_before;     /* state.meta before the start-up policy was read */
	bool policy_given;                  /* started with -p: persisted at control start */
	char unconfirmed[65];               /* the pending --confirm policy this start rolled back */
	uint64_t unconfirmed_at;            /* Unix seconds it did, 0: none */
	uint64_t started_us;
	uint64_t watchdog_us;               /* systemd WatchdogSec, 0: none */
};

/* engine.c */
/* What a policy swap does to the kernel rules (engine_set_policy()). */
enum set_kernel {
	KERNEL_NOW,       /* the new offload generation before the swap returns */
	KERNEL_LATER,     /* reset: the tick moves it, after the answer */
	KERNEL_QUEUE_OUT, /* a reset that acted alone: its queue rule stays out */
};
int engine_set_policy(struct engine *e, struct policy *p, enum set_kernel how);
/*
 * engine_heartbeat_check() - under engine.lock: the missed count and
 * online/offline now (logged and an event when it changes); the tick
 * runs it, and so does status, which must not show a count 5 s old.
 */
void engine_heartbeat_check(struct engine *e);

/* engine_control.c: the control server, wired to this engine. 0 or -errno (logged). */
int engine_control_start(struct engine *e);
/* engine_flows_evicted() - flows the workers' full tables pushed out so far, all workers. */
uint64_t engine_flows_evicted(struct engine *e);
void engine_control_stop(struct engine *e);

/*
 * engine_caps.c: engine_caps_drop() - every thread of the process keeps
 * CAP_NET_ADMIN (and CAP_NET_RAW when @raw: the iptables backend's `-m set`)
 * and nothing else, ambient too so that the nft/ipset/iptables children get
 * them; no_new_privs. Call once the hooks, queues and control socket are set
 * up. 0, or -errno (-EAGAIN: a thread did not drop).
 */
int engine_caps_drop(bool raw);
/* engine_has_cap() - is @cap (CAP_*) in the calling thread's effective set? */
bool engine_has_cap(int cap);

/* engine_worker.c */
int worker_start(struct worker *w);
void worker_stop_join(struct worker *w);
/* engine_publish() - swap in @s, wait until every worker adopted it, free the old one. */
void engine_publish(struct engine *e, struct snap *s);
struct snap *snap_clone(const struct snap *s);
void snap_free(struct snap *s, bool with_policy);

/*
 * engine_dhcp_tap.c: the host's own DHCP requests as they leave, and the
 * DHCPv4 replies as they come in (a packet socket, as clients read them;
 * clients send past netfilter, and an ACK to an address the host does not
 * own yet never reaches the input hook). dhcp_tap_open() returns the
 * socket or -errno; dhcp_tap_read() feeds what waits (64 frames at most a call) to lifeline_learn(),
 * which notes the requests' transactions and learns from the replies, and
 * returns how many replies taught DNS servers, or -errno.
 */
int dhcp_tap_open(void);
int dhcp_tap_read(int fd, struct lifeline *l, uint64_t now_us);

/* engine_nflog.c: NFLOG copies of DHCP replies and heartbeats accepted by the kernel lifeline. */
struct nflog;
int nflog_open(struct nflog **out, uint16_t group);
void nflog_close(struct nflog *n);
int nflog_fd(const struct nflog *n);
/*
 * nflog_read() - feed every waiting copy to lifeline_learn() (DHCP replies)
 * or to the heartbeat watch (heartbeat copies); >0 when DNS servers changed.
 */
int nflog_read(struct nflog *n, struct lifeline *l, struct hb_watch *hb, uint64_t now_us);

/* engine_state.c */
uint64_t engine_now_us(void);
uint64_t engine_mono_ms(void);
void engine_notify(const char *msg);
uint64_t engine_watchdog_usec(void);
void engine_write_pid(const struct config *cfg);
/* engine_remove_pid() - at a clean stop that removed the hooks: no pidfile to mislead reset. */
void engine_remove_pid(const struct config *cfg);
struct policy *engine_policy_start(const struct config *cfg, const char *policy_path,
				   bool skip_unsupported, char *why, size_t whylen,
				   char *unconfirmed);
void engine_notify_ready(void);
/*
 * engine_persist_given() - save the -p policy as current (the one before
 * as last-good): only once the engine runs, so that a start that fails
 * leaves the persisted policy as it was.
 */
void engine_persist_given(const struct config *cfg, const struct policy *p);
/*
 * engine_lock() - before anything else, for the life of the process: the
 * network namespace (an abstract socket) and STATE_DIR/lifelined.lock. A
 * second engine in the namespace, or with the same state directory, stops
 * there (-EBUSY, logged, with the first one's pid when known) and touches
 * neither the kernel rules nor the persisted policy. 0 when taken, or when
 * the lock file cannot be made (warned: the engine runs without it).
 */
int engine_lock(const struct config *cfg);
/* engine_lock_owner() - after daemonising: a second engine learns the daemon's pid. */
void engine_lock_owner(void);
/*
 * engine_lock_fd() - the namespace lock's listening socket (-1: none);
 * engine_lock_drain() - when it is readable: close the connections second
 * engines made to ask who holds the namespace, so that its backlog never
 * stays full.
 */
int engine_lock_fd(void);
void engine_lock_drain(void);
/*
 * engine_resolve.c: resolver_start() / resolver_stop() - the thread that
 * resolves the config's manager names every heartbeat-interval (the first
 * round at once) and posts each round to res.fd; resolver_kick() - under
 * engine.lock, a round now (a reload). engine_managers() - under
 * engine.lock, the manager list to adopt: see engine_resolve.c.
 */
int resolver_start(struct engine *e);
void resolver_stop(struct engine *e);
void resolver_kick(struct engine *e);
uint32_t engine_managers(const struct engine *e, ll_ip *out);
void engine_load_resolvers(struct lifeline *l);
int engine_save_learned(const struct config *cfg, const struct lifeline *l);
void engine_load_learned(const struct config *cfg, struct lifeline *l, uint64_t now_us);
/*
 * engine_home_net() - $HOME_NET's default: every `host` line and the
 * interfaces' addresses (up to ENGINE_MAX_ADDRS) but link-local and
 * loopback ones, which come with every veth of a container and are no
 * network a rule means. At most @max.
 */
uint32_t engine_home_net(const struct config *cfg, struct ip_range *out, uint32_t max);
void engine_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* engine_log_to_syslog() - a daemon's stderr is /dev/null: engine_log() goes to syslog from now on. */
void engine_log_to_syslog(void);
/* engine_log_errs() - each line of @errs through engine_log() (syslog too, in a daemon). */
void engine_log_errs(const struct ll_errlist *errs);
/* engine_event() - a lifeline/policy/ready event with a message, when the log is open. */
void engine_event(struct engine *e, enum ev_type type, const char *msg);

#endif
