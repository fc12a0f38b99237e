/*
 * engine_state.c - the engine's start-up state: the lock, the pidfile, the
 * policy to start with (persisted as STATE_DIR/current.pol), the host's
 * resolvers and addresses, learned DNS servers, the log and the systemd
 * readiness notice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "engine_int.h"
#include "state.h"

uint64_t engine_now_us(void)
{
	return ll_wall_us();
}

uint64_t engine_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static atomic_bool log_syslog;

/* engine_log_errs() - see engine_int.h. */
void engine_log_errs(const struct ll_errlist *errs)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		ll_err_print(errs, stderr);
		return;
	}
	ll_err_print(errs, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		engine_log("%s", line);
	free(text);
}

/* engine_log_to_syslog() - see engine_int.h. */
void engine_log_to_syslog(void)
{
	openlog("lifelined", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_syslog, true);
}

void engine_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (atomic_load(&log_syslog)) {
		vsyslog(strncmp(fmt, "warning", 7) == 0 ? LOG_WARNING : LOG_INFO, fmt, ap);
		va_end(ap);
		return;
	}
	flockfile(stderr); /* one line, whole, whichever thread logs at the same time */
	fputs("lifelined: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

/* @p in canonical form (includes expanded): what a restart reads back. */
static int persist_started(const struct config *cfg, const struct policy *p)
{
	size_t len = 0;
	char *text = policy_text(p, &len);
	int err;

	if (!text)
		return -ENOMEM;
	struct state_meta m;
	int mrc;

	err = state_mkdir(cfg->state_dir);
	/*
	 * A current.pol still awaiting confirm (the engine stopped before it) is
	 * not good, nor one whose state.meta cannot say (state_load_current())
	 */
	mrc = err ? 0 : state_meta_read(cfg->state_dir, &m);
	if (!err && (mrc == -ENOENT || (mrc == 0 && !m.confirm_deadline)))
		err = state_promote_last_good(cfg->state_dir);
	if (!err)
		err = state_save_policy(cfg->state_dir, STATE_CURRENT, text, len, NULL, 0);
	free(text);
	return err;
}

static struct policy *load_given(const char *path, const struct policy_opts *po)
{
	struct ll_errlist errs = { 0 };
	struct policy *p = policy_load_file(path, po, &errs);

	if (p && fw_compile(p) < 0) {
		engine_log("%s: policy too large to compile", path);
		policy_free(p);
		p = NULL;
	} else if (!p && errs.n) {
		ll_err_print(&errs, stderr);
	} else if (!p) {
		engine_log("%s: %s", path, strerror(errno));
	}
	ll_err_free(&errs);
	return p;
}

/* engine_persist_given() - see engine_int.h. */
void engine_persist_given(const struct config *cfg, const struct policy *p)
{
	if (persist_started(cfg, p) < 0)
		engine_log("warning: cannot persist the policy in %s", cfg->state_dir);
}

/*
 * One engine a network namespace: the kernel rules are the namespace's, and
 * a second engine (another queue, state directory and socket) rewrites and
 * at its stop removes the first one's. An abstract socket's name lives in
 * the namespace and goes with the process that holds it; but any user may
 * bind any name, so a taken name refuses the start only when root listens
 * on it (SO_PEERCRED): a squatter must not keep the filter from starting.
 */
static int netns_lock_fd = -1;
/*
 * Its backlog: every start asking while this engine is not yet in its
 * event loop (a long compile) waits there, and a full one reads as
 * "someone else" after 2.5 s; SOMAXCONN (the kernel caps it at
 * net.core.somaxconn) keeps that from a start loop's handful.
 */
#define NETNS_LOCK_BACKLOG SOMAXCONN

static int netns_lock(void)
{
	static const char name[] = "\0lifelined-engine";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof(name) - 1);
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = -1;

	if (fd < 0)
		return 0; /* no way to tell: the state directory's lock still holds */
	memcpy(sa.sun_path, name, sizeof(name) - 1);
	if (bind(fd, (struct sockaddr *)&sa, len) == 0 && listen(fd, NETNS_LOCK_BACKLOG) == 0) {
		netns_lock_fd = fd; /* held until this process ends: the descriptor stays open */
		return 0;
	}
	close(fd);
	if (errno != EADDRINUSE)
		return 0;
	/*
	 * Ask the holder who it is. Its backlog may be full of earlier
	 * starts' connections until its event loop drains them
	 * (engine_lock_drain(); not while it starts): EAGAIN then says
	 * nothing yet, so ask again for 2.5 s before calling the holder
	 * someone else. (A full backlog once read as "not root's lifelined":
	 * the third start in a row ran beside the first engine and took its
	 * queue and rules.)
	 */
	for (int i = 0; i < 25 && rc < 0; i++) {
		int err;

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			break;
		rc = connect(fd, (struct sockaddr *)&sa, len);
		err = errno; /* close() below may change it */
		if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 && cr.uid == 0) {
			close(fd);
			engine_log("another lifelined (pid %d) runs in this network namespace: not "
				   "starting (its kernel rules, queues and policy are left as they are)",
				   (int)cr.pid);
			return -EBUSY;
		}
		close(fd);
		if (rc < 0 && err == EAGAIN)
			nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
		else
			rc = 0;
	}
	engine_log("warning: the name that tells a second engine in this network namespace is "
		   "held by a process that is not root's lifelined; starting without that check");
	return 0;
}

/* engine_lock_fd() - see engine_int.h. */
int engine_lock_fd(void)
{
	return netns_lock_fd;
}

/* engine_lock_drain() - see engine_int.h. */
void engine_lock_drain(void)
{
	int c;

	if (netns_lock_fd < 0)
		return;
	while ((c = accept4(netns_lock_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

/* engine_lock_owner() - see engine_int.h. */
void engine_lock_owner(void)
{
	/* listen() again: the credentials a second engine reads become this process's */
	if (netns_lock_fd >= 0)
		listen(netns_lock_fd, NETNS_LOCK_BACKLOG);
}

/* engine_lock() - see engine_int.h. */
int engine_lock(const struct config *cfg)
{
	char path[4096], *text = NULL;
	size_t len;
	int fd;

	if (netns_lock() < 0)
		return -EBUSY;

	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, STATE_LOCK_FILE);
	if (state_mkdir(cfg->state_dir) < 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		engine_log("warning: cannot take %s (%s): a second engine would not be refused",
			   path, strerror(errno));
		return 0;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		/* held until this process ends: the descriptor stays open */
		int n = state_clean_tmp(cfg->state_dir); /* what a kill -9 mid-write left */

		if (n > 0)
			engine_log("removed %d temporary file%s a killed writer left in %s", n,
				   n == 1 ? "" : "s", cfg->state_dir);
		return 0;
	}
	close(fd);
	if (state_read_file(cfg->state_dir, STATE_PID_FILE, 64, &text, &len) == 0)
		text[strcspn(text, "\n")] = '\0';
	engine_log("another lifelined%s%s%s runs with the state directory %s: not starting "
		   "(its kernel rules, queues and policy are left as they are)",
		   text ? " (pid " : "", text ? text : "", text ? ")" : "", cfg->state_dir);
	free(text);
	return -EBUSY;
}

/*
 * The policy to start with: -p POLICY when given (invalid: NULL, exit 1;
 * valid: engine_persist_given() once the engine is ready), else the
 * persisted current policy (state_load_current(): a load never confirmed
 * comes back as last-good; so does last-good when current.pol is corrupt
 * or invalid). A corrupt or invalid persisted file never stops the engine:
 * when last-good fails too it starts with the empty policy, and says so
 * loudly in *@why. @unconfirmed (65 bytes): the sha256 of a pending
 * --confirm load rolled back, else "" (state_load_current()).
 */
struct policy *engine_policy_start(const struct config *cfg, const char *policy_path,
				   bool skip_unsupported, char *why, size_t whylen,
				   char *unconfirmed)
{
	static struct ip_range home[CONFIG_MAX_HOME_NET]; /* start-up only, one thread */
	uint32_t nhome = engine_home_net(cfg, home, LL_ARRAY_SIZE(home));
	struct policy_opts po;
	struct policy *p;
	size_t n;

	config_policy_opts(cfg, &po, skip_unsupported);
	if (nhome) { /* $HOME_NET: the host's addresses, the interfaces' too */
		po.home_net = home;
		po.nhome_net = nhome;
	}
	why[0] = '\0';
	unconfirmed[0] = '\0';
	if (policy_path)
		return load_given(policy_path, &po);
	if ((p = state_load_current(cfg->state_dir, &po, why, whylen, unconfirmed)))
		return p;
	n = strlen(why);
	snprintf(why + n, whylen - n, "%sstarted with the empty policy (accepts everything)",
		 n ? ": " : "");
	return policy_empty();
}

/* READY=1 to $NOTIFY_SOCKET (sd_notify without libsystemd); '@' means abstract. */
void engine_notify_ready(void)
{
	engine_notify("READY=1");
}

/*
 * engine_watchdog_usec() - systemd's WatchdogSec for this process, in µs,
 * or 0 (no watchdog, or WATCHDOG_PID names another process).
 */
uint64_t engine_watchdog_usec(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");

	if (!us || (pid && strtol(pid, NULL, 10) != getpid()))
		return 0;
	return strtoull(us, NULL, 10);
}

/*
 * STATE_DIR/lifelined.pid, for doctor and reset: the pid, then the network
 * namespace (its /proc link, "net:[N]"), which a console in another one
 * is told of even after the engine died; best effort (the engine runs
 * without it).
 */
void engine_write_pid(const struct config *cfg)
{
	char buf[128], ns[64] = "";
	int n;

	if (readlink("/proc/self/ns/net", ns, sizeof(ns) - 1) < 0)
		ns[0] = '\0';
	n = snprintf(buf, sizeof(buf), "%d\n%s\n", getpid(), ns);

	if (state_mkdir(cfg->state_dir) == 0 &&
	    state_write_file(cfg->state_dir, STATE_PID_FILE, buf, (size_t)n) == 0)
		return;
	engine_log("warning: cannot write %s/%s", cfg->state_dir, STATE_PID_FILE);
}

/* engine_remove_pid() - see engine_int.h. */
void engine_remove_pid(const struct config *cfg)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, STATE_PID_FILE);
	unlink(path);
}

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET ('@': abstract). */
void engine_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		engine_log("warning: sd_notify: %s", strerror(errno));
	close(fd);
}

/* The resolvers the host already uses: it usually got its lease before we started. */
void engine_load_resolvers(struct lifeline *l)
{
	ll_ip a[LIFELINE_MAX_DNS];
	int n = resolv_host_servers(RESOLV_HOST_PATH, RESOLV_UPSTREAM_PATH, a,
				    LIFELINE_MAX_DNS);

	for (int i = 0; i < n; i++) {
		uint32_t before = l->ndns;

		lifeline_add_dns(l, a[i]);
		if (l->ndns > before) /* not one the config names too */
			l->dns[l->ndns - 1].host = 1;
	}
}

/* engine_home_net() - see engine_int.h. */
uint32_t engine_home_net(const struct config *cfg, struct ip_range *out, uint32_t max)
{
	ll_ip a[ENGINE_MAX_ADDRS];
	int na = addr_dump(a, ENGINE_MAX_ADDRS);
	uint32_t n = 0;

	for (uint32_t i = 0; i < cfg->nhosts && n < max; i++)
		out[n++] = cfg->hosts[i];
	for (int i = 0; i < na && n < max; i++)
		if (!ll_ip_is_loopback(a[i]) && !ll_ip_is_link_local(a[i]))
			out[n++] = (struct ip_range){ a[i], a[i] };
	return n;
}

/* Learned DNS servers survive a restart (SPEC 5), through state.c's atomic file. */
int engine_save_learned(const struct config *cfg, const struct lifeline *l)
{
	int err = state_mkdir(cfg->state_dir);

	return err ? err : state_save_dns(cfg->state_dir, l->dns, l->ndns);
}

void engine_load_learned(const struct config *cfg, struct lifeline *l, uint64_t now_us)
{
	struct lifeline_dns d[LIFELINE_MAX_DNS];
	uint32_t bad;
	int n = state_load_dns(cfg->state_dir, d, LIFELINE_MAX_DNS, now_us, &bad);

	if (bad)
		engine_log("warning: %s/%s: %u line%s that name%s no server passed over (the file "
			   "is corrupt); %d learned server%s kept", cfg->state_dir, STATE_DNS_FILE,
			   bad, bad == 1 ? "" : "s", bad == 1 ? "s" : "", n > 0 ? n : 0,
			   n == 1 ? "" : "s");
	for (int i = 0; i < n && l->ndns < LIFELINE_MAX_DNS; i++) {
		bool dup = false;

		for (uint32_t j = 0; j < l->ndns; j++)
			dup |= ll_ip_eq(l->dns[j].addr, d[i].addr);
		if (!dup) {
			l->dns[l->ndns++] = d[i];
			l->dns_changes++;
		}
	}
}

void engine_event(struct engine *e, enum ev_type type, const char *msg)
{
	struct event ev = { .type = type, .message = msg };

	if (e->evlog)
		event_emit(e->evlog, &ev);
}
