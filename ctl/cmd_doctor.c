/*
 * cmd_doctor.c - lifelinectl doctor: the checks an admin runs by hand when
 * a host shows offline (SPEC section 7, and the policy a restart would
 * start with), one line each:
 *   ok|warn|FAIL  CHECK  — detail, or the fix
 * Exit 0 when nothing failed, 1 otherwise.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "doctor.h"
#include "policy.h"
#include "sig.h"
#include "state.h"

/* doctor_line() - see doctor.h. */
void doctor_line(struct doctor *d, enum doctor_level lv, const char *check, const char *fmt, ...)
{
	static const char *const names[] = { "ok", "warn", "FAIL" };
	va_list ap;

	if (lv == DOC_FAIL)
		d->failed++;
	if (lv == DOC_WARN)
		d->warned++;
	printf("%-4s  %-24s — ", names[lv], check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The state of @pid (R, S, T, ... from /proc/PID/stat) when it is a live lifelined, else 0. */
static char lifelined_state(pid_t pid)
{
	static const char name[] = "lifelined";
	char path[64], buf[512], *open_, *paren;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	buf[0] = '\0';
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	/* "PID (comm) S ...": comm may hold anything, ") (" too, so the last ')' ends it */
	if (!(open_ = strchr(buf, '(')) || !(paren = strrchr(buf, ')')) || paren[1] != ' ' ||
	    paren - open_ - 1 != (int)strlen(name) || strncmp(open_ + 1, name, strlen(name)))
		return 0;
	return paren[2] == 'Z' || paren[2] == 'X' ? 0 : paren[2];
}

/* Is @ns ("net:[N]", as /proc/PID/ns/net links) another namespace than ours? */
static bool not_our_netns(const char *ns)
{
	char mine[64] = "";

	return readlink("/proc/self/ns/net", mine, sizeof(mine) - 1) >= 0 && strcmp(mine, ns) != 0;
}

/*
 * Is @pid in another network namespace (another namespace's engine filters
 * another host)? 1 yes, 0 no, -1 cannot tell: only root may look at a
 * root process's namespace.
 */
static int other_netns(pid_t pid)
{
	char path[64], theirs[64] = "";

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (readlink(path, theirs, sizeof(theirs) - 1) < 0)
		return -1;
	return not_our_netns(theirs);
}

/*
 * The state directory's pidfile (engine_write_pid()): the pid it names, 0
 * when none; in @ns (when given) the network namespace its second line
 * names, "" when none.
 */
static pid_t pidfile_read(const struct config *cfg, char *ns, size_t nslen)
{
	char *text = NULL, *nl;
	size_t len;
	pid_t pid = 0;

	if (ns)
		ns[0] = '\0';
	if (state_read_file(cfg->state_dir, STATE_PID_FILE, 256, &text, &len) == 0) {
		pid = (pid_t)atoi(text);
		if (ns && (nl = strchr(text, '\n')))
			snprintf(ns, nslen, "%.*s", (int)strcspn(nl + 1, "\n"), nl + 1);
	}
	free(text);
	return pid > 0 ? pid : 0;
}

static pid_t pidfile_pid(const struct config *cfg)
{
	return pidfile_read(cfg, NULL, 0);
}

/* ctl_last_engine_elsewhere() - see ctl.h. */
pid_t ctl_last_engine_elsewhere(const struct config *cfg, char *ns, size_t nslen)
{
	pid_t pid = pidfile_read(cfg, ns, nslen);

	return pid && ns[0] && not_our_netns(ns) ? pid : 0;
}

/* ctl_netns_name() - see ctl.h. */
const char *ctl_netns_name(const char *ns, char *name, size_t len)
{
	unsigned long long ino;
	struct dirent *d;
	struct stat st;
	char path[PATH_MAX];
	DIR *dir;

	snprintf(name, len, "NAME");
	if (sscanf(ns, "net:[%llu]", &ino) != 1 || !(dir = opendir("/run/netns")))
		return name;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "/run/netns/%s", d->d_name) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && st.st_ino == ino) {
			snprintf(name, len, "%s", d->d_name);
			break;
		}
	closedir(dir);
	return name;
}

/* ctl_engine_elsewhere() - see ctl.h. */
pid_t ctl_engine_elsewhere(const struct config *cfg)
{
	pid_t pid = pidfile_pid(cfg);

	return pid && lifelined_state(pid) && other_netns(pid) == 1 ? pid : 0;
}

/* ctl_engine_lock_holder() - see ctl.h. */
pid_t ctl_engine_lock_holder(const struct config *cfg)
{
	char path[PATH_MAX + 32], line[256];
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	pid_t pid = 0;
	FILE *f;
	int p;

	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, STATE_LOCK_FILE);
	/* flock() to ask would take the lock for a moment: an engine starting then is refused */
	if (stat(path, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!pid && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: FLOCK %*s WRITE %d %x:%x:%lu", &p, &maj, &min, &ino) == 4 &&
		    ino == st.st_ino && maj == major(st.st_dev) && min == minor(st.st_dev))
			pid = p;
	fclose(f);
	/*
	 * Starting, only when that pid is a live lifelined (not flock(1) or a
	 * backup tool; not the pid a daemonized engine's parent took it with,
	 * dead since, or reused) that has not written its pidfile, as it does
	 * once ready: one that has, with no socket, had it removed under it
	 * (a stray rm, a tmpfiles clean-up) and never answers again; waiting
	 * for it is the wrong advice.
	 */
	return pid > 0 && lifelined_state(pid) && pidfile_pid(cfg) != pid ? pid : 0;
}

/* ctl_engine_stopped() - see ctl.h. */
pid_t ctl_engine_stopped(const struct config *cfg, char *state)
{
	pid_t pid = pidfile_pid(cfg);

	*state = pid ? lifelined_state(pid) : 0;
	return (*state == 'T' || *state == 't') && other_netns(pid) == 0 ? pid : 0;
}

/*
 * Is @pid a live lifelined in this network namespace? Its state, or 0. A
 * lifelined whose namespace this user cannot see is @unsure's (the first).
 */
static char engine_state(pid_t pid, pid_t *unsure, char *unsure_state)
{
	char s = lifelined_state(pid);
	int other = s ? other_netns(pid) : 1;

	if (other < 0 && !*unsure) {
		*unsure = pid;
		*unsure_state = s;
	}
	return other == 0 ? s : 0;
}

/* Is @dir/lifelined.lock, as this process resolves it, the file @st? */
static bool lock_is(const char *dir, const struct stat *st)
{
	char path[PATH_MAX + 32];
	struct stat here;

	snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", STATE_LOCK_FILE);
	return stat(path, &here) == 0 && here.st_dev == st->st_dev && here.st_ino == st->st_ino;
}

/*
 * The state directory of lifelined @pid: where the lifelined.lock it holds
 * open lies, as this process reaches it. The fd link names the path in the
 * engine's mount namespace (a unit's PrivateTmp=, a container sharing the
 * host's network): the same path here may be another directory, another
 * namespace's engine's even. Then it is reached through /proc/PID/root;
 * when neither is that file, none.
 */
static bool engine_lock_dir(pid_t pid, char *dir, size_t len)
{
	char path[64], link[PATH_MAX], *slash, via[PATH_MAX + 64];
	struct dirent *e;
	struct stat st;
	bool found = false;
	DIR *fds;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(fds = opendir(path)))
		return false;
	while (!found && (e = readdir(fds))) {
		char fdpath[384];

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
		if ((n = readlink(fdpath, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (!(slash = strrchr(link, '/')) || strcmp(slash + 1, STATE_LOCK_FILE) != 0 ||
		    stat(fdpath, &st) < 0)
			continue;
		*slash = '\0';
		if (link[0] != '/')
			continue;
		snprintf(via, sizeof(via), "/proc/%d/root%s", (int)pid, link);
		if (lock_is(link[0] ? link : "/", &st)) {
			snprintf(dir, len, "%s", link[0] ? link : "/");
			found = true;
		} else if (lock_is(via, &st)) {
			snprintf(dir, len, "%s", via);
			found = true;
		}
	}
	closedir(fds);
	return found;
}

/* ctl_engine_other_state_dir() - see ctl.h. */
pid_t ctl_engine_other_state_dir(const struct config *cfg, char *dir, size_t len)
{
	char theirs[PATH_MAX + 64];
	pid_t pid = 0, maybe = 0;
	char maybe_state = 0;
	struct stat ours, st;
	bool have_ours = stat(cfg->state_dir, &ours) == 0; /* none yet: no engine's */
	struct dirent *e;
	DIR *d;

	if (!(d = opendir("/proc")))
		return 0;
	while (!pid && (e = readdir(d))) {
		pid_t p;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		p = (pid_t)atoi(e->d_name);
		if (p == getpid() || !engine_state(p, &maybe, &maybe_state) ||
		    !engine_lock_dir(p, theirs, sizeof(theirs)) || stat(theirs, &st) < 0)
			continue;
		/* the same directory (a symlink, a bind mount): this config's */
		if (!have_ours || st.st_dev != ours.st_dev || st.st_ino != ours.st_ino) {
			snprintf(dir, len, "%s", theirs);
			pid = p;
		}
	}
	closedir(d);
	return pid;
}

/*
 * Can lifelined @pid be an engine? One holds a lifelined.lock from before
 * its start-up compile to its exit; a replay (`lifelined -r`) holds none,
 * and was called the running engine when the engine was dead. A process
 * whose descriptors this user may not read may be one.
 */
static bool may_be_engine(pid_t pid)
{
	char path[64], dir[PATH_MAX + 64];
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(fds = opendir(path)))
		return true;
	closedir(fds);
	return engine_lock_dir(pid, dir, sizeof(dir));
}

/*
 * The engine's pid and state: the state dir's pidfile, else a /proc scan.
 * 0: none. *@unsure: the pid found is a lifelined whose namespace this
 * user may not see (not root), which may filter another host.
 */
static pid_t find_engine(const struct config *cfg, char *state, bool *unsure)
{
	pid_t pid = pidfile_pid(cfg), maybe = 0;
	char maybe_state = 0;
	DIR *dir;
	struct dirent *e;

	*unsure = false;
	if (pid && (*state = engine_state(pid, &maybe, &maybe_state)))
		return pid;
	if (!(dir = opendir("/proc")))
		return 0;
	pid = 0;
	while (!pid && (e = readdir(dir)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    (*state = engine_state(atoi(e->d_name), &maybe, &maybe_state)) &&
		    may_be_engine(atoi(e->d_name)))
			pid = atoi(e->d_name);
	closedir(dir);
	if (!pid && maybe) {
		*unsure = true;
		*state = maybe_state;
		pid = maybe;
	}
	return pid;
}

/* Is @pid the engine this config's control socket reaches (it says "pid N" in its status)? */
static bool socket_reaches(const struct config *cfg, pid_t pid)
{
	struct ctl_reply r;
	char want[32];
	const char *at;
	bool yes;

	if (ctl_call(cfg->control_socket, "STATUS", NULL, 0, 2000, &r) != 0)
		return false;
	snprintf(want, sizeof(want), "pid %d", (int)pid);
	at = strcmp(r.status, "ok") == 0 ? memmem(r.body, r.bodylen, want, strlen(want)) : NULL;
	yes = at && (at + strlen(want) == r.body + r.bodylen || !isdigit((unsigned char)at[strlen(want)]));
	ctl_reply_free(&r);
	return yes;
}

static void check_process(struct doctor *d)
{
	char state = 0, ns[64];
	bool unsure, own_cfg = d->cfg->path && strcmp(d->cfg->path, LL_DEFAULT_CONFIG) != 0;
	pid_t pid = find_engine(d->cfg, &state, &unsure);

	/* not root: the engine this config's socket reaches is ours all the same */
	if (pid && unsure && socket_reaches(d->cfg, pid))
		unsure = false;
	if (pid && unsure)
		doctor_line(d, DOC_WARN, "engine process", "lifelined pid %d runs, in a network "
			    "namespace only root may look at: it may filter another host (run "
			    "doctor as root to know)", (int)pid);
	else if (pid && state == 'T')
		doctor_line(d, DOC_FAIL, "engine process", "lifelined pid %d is stopped: it judges "
			    "nothing until `kill -CONT %d` (or `lifelinectl reset`)", (int)pid,
			    (int)(d->stopped = pid));
	else if (pid && state == 't') /* SIGCONT does not resume a traced process (ptrace(2)) */
		doctor_line(d, DOC_FAIL, "engine process", "lifelined pid %d is stopped by a "
			    "debugger (gdb, strace): it judges nothing until the tracer lets it go "
			    "(or `lifelinectl reset`)", (int)(d->stopped = pid));
	else if (pid)
		doctor_line(d, DOC_OK, "engine process", "lifelined runs, pid %d",
			    (int)(d->running = pid));
	else if ((pid = ctl_engine_elsewhere(d->cfg))) {
		d->elsewhere = true;
		doctor_line(d, DOC_FAIL, "engine process", "none in this network namespace: lifelined "
			    "pid %d runs in another one; run doctor there (nsenter -t %d -n "
			    "lifelinectl%s%s doctor)", (int)pid, (int)pid, own_cfg ? " -c " : "",
			    own_cfg ? d->cfg->path : "");
	} else if ((pid = ctl_last_engine_elsewhere(d->cfg, ns, sizeof(ns)))) {
		d->elsewhere = true;
		doctor_line(d, DOC_FAIL, "engine process", "no lifelined process; the last one (pid "
			    "%d) ran in another network namespace (%s): its host is there",
			    (int)pid, ns);
	} else
		doctor_line(d, DOC_FAIL, "engine process", "no lifelined process: start it "
			    "(systemctl start lifelined, or lifelined -c %s)",
			    d->cfg->path ? d->cfg->path : LL_DEFAULT_CONFIG);
}

static void check_socket(struct doctor *d)
{
	struct ctl_reply r;
	int rc = ctl_call(d->cfg->control_socket, "STATUS", NULL, 0, 2000, &r);

	if (rc == 0 && strcmp(r.status, "ok") == 0) {
		d->status = strndup(r.body, r.bodylen);
		doctor_line(d, DOC_OK, "control socket", "%s answers", d->cfg->control_socket);
	} else if (rc == -EACCES || rc == -EPERM) {
		/* nothing is known to be wrong: this user may not ask */
		d->no_engine = "no access to the engine";
		doctor_line(d, DOC_WARN, "control socket", "%s: %s: run doctor as root or as a "
			    "member of group lifeline", d->cfg->control_socket, ctl_call_error(rc));
	} else {
		d->no_engine = "the engine does not answer (see control socket)";
		d->unanswered = true;
		/*
		 * whether the host is cut off is the kernel rules' line: after a
		 * reset it is not. A stopped engine needs no restart: the fix is
		 * the engine process line's.
		 */
		pid_t holder = rc == -ENOENT || rc == -ECONNREFUSED ? ctl_engine_lock_holder(d->cfg) : 0;

		if (holder) /* "restart lifelined" there started a long compile over */
			doctor_line(d, DOC_FAIL, "control socket", "%s: no answer yet: lifelined "
				    "pid %d holds %s/%s: it is starting (compiling its start-up "
				    "policy?) or stopping; wait for it to answer rather than restart it",
				    d->cfg->control_socket, (int)holder, d->cfg->state_dir,
				    STATE_LOCK_FILE);
		else
			doctor_line(d, DOC_FAIL, "control socket", "%s: %s: %s",
				    d->cfg->control_socket,
				    rc < 0 ? ctl_call_error(rc) : "the engine answered with an error",
				    d->stopped ? "the engine is stopped: see the engine process line" :
						 "restart lifelined");
	}
	if (rc == 0)
		ctl_reply_free(&r);
}

/* The value after "KEY: " in the status text, up to the newline, or NULL. */
static const char *status_field(const struct doctor *d, const char *key, char *buf, size_t len)
{
	const char *p = d->status;
	size_t kl = strlen(key);

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
			snprintf(buf, len, "%.*s", (int)strcspn(p + kl + 2, "\n"), p + kl + 2);
			return buf;
		}
	return NULL;
}

static void check_heartbeat(struct doctor *d)
{
	char buf[256];
	const char *hb = status_field(d, "heartbeat", buf, sizeof(buf));

	if (d->no_engine)
		doctor_line(d, DOC_WARN, "last heartbeat", "not checked: %s", d->no_engine);
	else if (!hb)
		doctor_line(d, DOC_FAIL, "last heartbeat", "unknown: the engine's status has none");
	else if (strstr(hb, "never seen") && d->cfg->nmanagers == 0)
		doctor_line(d, DOC_WARN, "last heartbeat", "%s; no manager configured", hb);
	else if (strstr(hb, "never seen") && !strstr(hb, "offline"))
		/* a fresh engine: management has missed-heartbeats intervals before it is offline */
		doctor_line(d, DOC_WARN, "last heartbeat", "%s: none yet since the engine started; "
			    "run doctor again after a heartbeat-interval", hb);
	else if (strstr(hb, "never seen") || strstr(hb, "offline"))
		doctor_line(d, DOC_FAIL, "last heartbeat", "%s: check the checks above (manager "
			    "reachable, agent port, policy)", hb);
	else
		doctor_line(d, DOC_OK, "last heartbeat", "%s", hb);
}

static void check_dns(struct doctor *d)
{
	char buf[1024];
	const char *dns = status_field(d, "dns", buf, sizeof(buf));
	struct lifeline_dns learned[LIFELINE_MAX_DNS];
	ll_ip host[LIFELINE_MAX_DNS];
	uint32_t bad;
	int n, nh;

	if (dns && strcmp(dns, "none") != 0) {
		doctor_line(d, DOC_OK, "dns servers", "%s", dns);
		return;
	}
	/* on the leases' clock, as a start reads them: ended ones are left out */
	n = state_load_dns(d->cfg->state_dir, learned, LIFELINE_MAX_DNS, ll_wall_us(), &bad);
	/* a starting engine also takes the host's resolvers (engine_load_resolvers()) */
	nh = resolv_host_servers(RESOLV_HOST_PATH, RESOLV_UPSTREAM_PATH, host,
				 LIFELINE_MAX_DNS);
	if (!dns && (d->cfg->ndns_servers || n > 0 || nh > 0))
		doctor_line(d, DOC_OK, "dns servers", "%u configured, %d learned (persisted), %d in "
			    "the host's resolv.conf", d->cfg->ndns_servers, n > 0 ? n : 0,
			    nh > 0 ? nh : 0);
	else
		doctor_line(d, DOC_FAIL, "dns servers", "none known: add `dns-server ADDR` to the "
			    "config, or renew the DHCP lease so the engine learns them");
}

/*
 * Can the engine persist anything in @dir? It creates the directory itself
 * (not its parents). Without it, loads run but are not kept, a restart
 * runs the empty policy and a --confirm has no last-good to go back to.
 */
static bool state_dir_usable(struct doctor *d, const char *dir)
{
	char parent[4096], fixbuf[4200], whybuf[96], *slash;
	const char *fix = NULL;
	struct statvfs vfs;
	struct stat st;
	const char *why;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			why = "is not a directory";
		} else if (geteuid() == 0 && access(dir, W_OK | X_OK) < 0) {
			bool ro = errno == EROFS;

			why = ro ? "is on a read-only file system" : "is not writable";
			if (ro)
				fix = "remount that file system read-write (mount -o remount,rw), or move "
				      "state-dir";
		} else if (statvfs(dir, &vfs) == 0) {
			/* room for a new current.pol beside the old one, and state.meta (the
			 * engine runs as root: the blocks reserved for root count) */
			struct stat cur;
			unsigned long long avail = (unsigned long long)vfs.f_bfree * vfs.f_frsize;
			unsigned long long need = 8192;

			snprintf(parent, sizeof(parent), "%s/%s", dir, STATE_CURRENT_FILE);
			if (stat(parent, &cur) == 0)
				need += (unsigned long long)cur.st_size;
			if (avail >= need && (vfs.f_files == 0 || vfs.f_ffree > 4))
				return true;
			snprintf(whybuf, sizeof(whybuf), "is full (%llu bytes, %llu inodes free)", avail,
				 (unsigned long long)vfs.f_ffree);
			why = whybuf;
			fix = "free space there, then load the policy again";
		} else {
			return true;
		}
	} else {
		int err = errno;

		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		if (err == ENOENT && slash && stat(parent, &st) == 0 && S_ISDIR(st.st_mode))
			return true; /* the engine makes it */
		why = err == ENOENT ? "does not exist, nor does its parent" : strerror(err);
	}
	snprintf(parent, sizeof(parent), "%s/%s", dir, STATE_CURRENT_FILE);
	if (!fix) {
		snprintf(fixbuf, sizeof(fixbuf), "mkdir -p -m 0750 %s, or fix state-dir", dir);
		fix = fixbuf;
	}
	doctor_line(d, DOC_FAIL, "persisted policy", "state dir %s %s: loads are not kept, a "
		    "restart runs %s and --confirm has nothing to roll back to (%s)", dir,
		    why, access(parent, R_OK) == 0 ? "the policy persisted there before" :
		    "the empty policy", fix);
	return false;
}

/*
 * Last-good as a start falling back on it loads it, or NULL with @why
 * when it is absent, does not load or holds no rule: a restart runs the
 * empty policy then.
 */
static struct policy *last_good(const char *dir, struct policy_opts *po, char *why, size_t len)
{
	struct policy *p;
	struct stat st;

	snprintf(why, len, "%s/%s", dir, STATE_LAST_GOOD_FILE);
	if (stat(why, &st) < 0) {
		snprintf(why, len, "there is no last-good");
		return NULL;
	}
	po->skip_unsupported = true; /* as a start loads it: it ran once */
	p = state_load_policy(dir, STATE_LAST_GOOD, po, why, len);
	if (p && !p->nrules && !p->ips) { /* what a restart runs is then the empty policy */
		policy_free(p);
		snprintf(why, len, "last-good is empty");
		return NULL;
	}
	return p;
}

/*
 * A state.meta there but unreadable (garbled, empty) cannot say whether
 * current.pol was confirmed: a start runs last-good, whatever current.pol
 * holds (state_load_current()). A missing one is not that: current.pol is
 * taken as confirmed. Until a load writes state.meta again, a restart
 * would go back.
 */
static void meta_unreadable(struct doctor *d, struct policy_opts *po, int rc)
{
	const char *dir = d->cfg->state_dir;
	const char *how = rc == -EINVAL ? "garbled" : strerror(-rc);
	char lwhy[512], path[4200];
	struct policy *lg = last_good(dir, po, lwhy, sizeof(lwhy));
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_META_FILE);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		doctor_line(d, DOC_FAIL, "persisted policy", "%s is not a file: no load can be "
			    "recorded, and a restart runs %s; remove it, then `lifelinectl load` the "
			    "policy again", path, lg ? "last-good" : "the empty policy");
	else if (lg)
		doctor_line(d, DOC_WARN, "persisted policy", "%s/%s: %s: a restart would run "
			    "last-good, not current.pol; `lifelinectl load` the policy again to "
			    "rewrite state.meta", dir, STATE_META_FILE, how);
	else
		doctor_line(d, DOC_FAIL, "persisted policy", "%s/%s: %s, and %s: a restart would "
			    "run the empty policy; `lifelinectl load` the policy again to rewrite "
			    "state.meta", dir, STATE_META_FILE, how, lwhy);
	policy_free(lg);
}

/*
 * The policy a restart would start with (state.c: state_load_current()):
 * the last-good one when a --confirm load is pending, state.meta does not
 * read or current.pol is broken (kept then as current.pol.bad, which is
 * worth a line too).
 */
static void check_persisted(struct doctor *d)
{
	const char *dir = d->cfg->state_dir;
	struct policy_opts po;
	struct state_meta m = { 0 };
	struct policy *p, *lg;
	struct stat st;
	char why[512], lwhy[512], path[4200], buf[512];
	const char *run;
	int mrc;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_CURRENT_FILE);
	if (geteuid() != 0 && access(path, R_OK) < 0 && errno == EACCES) {
		doctor_line(d, DOC_WARN, "persisted policy", "not checked: reading %s needs root",
			    dir);
		return;
	}
	if (!state_dir_usable(d, dir))
		return;
	mrc = state_meta_read(dir, &m);
	if (mrc == -EACCES && geteuid() != 0) {
		doctor_line(d, DOC_WARN, "persisted policy", "not checked: reading %s/%s needs "
			    "root", dir, STATE_META_FILE);
		return;
	}
	config_policy_opts(d->cfg, &po, mrc == 0 && m.skip_unsupported);
	snprintf(lwhy, sizeof(lwhy), "%s/%s", dir, STATE_LAST_GOOD_FILE);
	/* with neither policy file, a start runs the empty policy either way (below) */
	if (mrc < 0 && mrc != -ENOENT && (stat(path, &st) == 0 || stat(lwhy, &st) == 0)) {
		meta_unreadable(d, &po, mrc);
		return;
	}
	if (m.confirm_deadline) {
		/* the engine's own deadline first: "a restart rolls back" read as "only a restart" */
		const char *left = status_field(d, "confirm", buf, sizeof(buf));
		long secs = -1;

		if (left && (left = strstr(left, "rolls back in ")))
			secs = strtol(left + 14, NULL, 10);
		if (secs >= 0)
			doctor_line(d, DOC_WARN, "persisted policy", "a load with --confirm awaits "
				    "`lifelinectl confirm`: the engine rolls back to last-good by itself "
				    "in %ld s, and a restart now would too", secs);
		else
			doctor_line(d, DOC_WARN, "persisted policy", "a load with --confirm awaits "
				    "`lifelinectl confirm`: a restart now rolls back to last-good");
		return;
	}
	if (stat(path, &st) < 0 && errno == ENOENT) {
		struct policy *none = policy_empty();

		if (none && (run = status_field(d, "policy", buf, sizeof(buf))) &&
		    (run = strstr(run, "sha256 ")) && strncmp(run + 7, none->hash, 64) != 0)
			doctor_line(d, DOC_WARN, "persisted policy", "nothing persisted, but a policy "
				    "runs (sha256 %.16s): a restart would run the empty policy; free the "
				    "state dir, then load the policy again", run + 7);
		else
			doctor_line(d, DOC_OK, "persisted policy", "none yet: a restart runs the "
				    "empty policy");
		policy_free(none);
		return;
	}
	p = state_load_policy(dir, STATE_CURRENT, &po, why, sizeof(why));
	snprintf(path, sizeof(path), "%s/%s.bad", dir, STATE_CURRENT_FILE);
	if (!p) {
		lg = last_good(dir, &po, lwhy, sizeof(lwhy));
		if (lg)
			doctor_line(d, DOC_WARN, "persisted policy", "%s: a restart would run "
				    "last-good instead; `lifelinectl load` a good policy", why);
		else
			doctor_line(d, DOC_FAIL, "persisted policy", "%s, and %s: a restart would run "
				    "the empty policy; `lifelinectl load` a good policy", why, lwhy);
		policy_free(lg);
	} else if (stat(path, &st) == 0) {
		/* state.meta unreadable, current.pol may have been fine (state_load_current()) */
		doctor_line(d, DOC_WARN, "persisted policy", "%s exists: an engine started with "
			    "last-good, as current.pol was broken or state.meta unreadable (the "
			    "log says which; `lifelinectl check` the file and load it if it is the "
			    "policy wanted; remove it once read)", path);
	} else if ((run = status_field(d, "policy", buf, sizeof(buf))) &&
		   (run = strstr(run, "sha256 ")) && strncmp(run + 7, p->hash, 64) != 0) {
		/* the last load or reset ran but could not be written (disk full, read-only) */
		doctor_line(d, DOC_WARN, "persisted policy", "current.pol (sha256 %.16s) is not the "
			    "policy that runs (sha256 %.16s): a restart would run current.pol; free "
			    "the state dir, then load the policy again", p->hash, run + 7);
	} else {
		char counts[160] = "";
		FILE *cf = fmemopen(counts, sizeof(counts) - 1, "w"); /* check's words: IPS rules too */

		if (cf) {
			policy_print_counts(p, cf);
			fclose(cf);
		}
		doctor_line(d, DOC_OK, "persisted policy", "current.pol loads (%s)", counts);
	}
	policy_free(p);
}

/* With trusted-key, every load and table change needs it: a bad key refuses them all. */
static void check_trusted_key(struct doctor *d)
{
	char err[512];

	if (!d->cfg->trusted_key)
		return;
	if (sig_key_check(d->cfg->trusted_key, err, sizeof(err)) < 0)
		doctor_line(d, DOC_FAIL, "trusted-key", "%s: every load is refused until it is "
			    "fixed (reset still works)", err);
	else
		doctor_line(d, DOC_OK, "trusted-key", "%s: an Ed25519 public key",
			    d->cfg->trusted_key);
}

/*
 * The config first: a broken one is why a restart fails, but its valid
 * lines still say where the socket, state and managers are, so the other
 * checks run on them (config_load() keeps them) rather than not at all.
 */
static void check_config(const struct ctl *c, struct doctor *d, struct config *cfg)
{
	struct ll_errlist errs = { 0 };
	char *first, more[64] = "";
	bool unread;

	if (config_load(cfg, c->config_path, !c->config_given, &errs) == 0) {
		doctor_line(d, DOC_OK, "config", "%s: %s", c->config_path,
			    cfg->path ? "no errors" : "none, the defaults");
		ll_err_free(&errs);
		return;
	}
	if (errs.n > 1)
		ll_err_print(&errs, stderr);
	first = errs.n ? ll_err_string(&errs.v[0]) : NULL;
	unread = !errs.n || !errs.v[0].loc.line; /* the file, not a line of it */
	if (errs.n > 1)
		snprintf(more, sizeof(more), " (and %zu more, above)", errs.n - 1);
	doctor_line(d, DOC_FAIL, "config", "%s%s: lifelined will not start with it, nor take it "
		    "on SIGHUP; the checks below use %s", first ? first : c->config_path, more,
		    unread ? "the defaults" : "its valid lines");
	free(first);
	ll_err_free(&errs);
}

/*
 * cmd_doctor() - `doctor`: every check of SPEC section 7. Exit 0 when none
 * failed (warnings allowed), 1 otherwise, 2 usage.
 */
int cmd_doctor(struct ctl *c, int argc, char **argv)
{
	struct config cfg;
	struct doctor d = { .cfg = &cfg };

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return printf("usage: %s doctor\nexit: 0 nothing failed, 1 a check failed\n",
			      c->prog) < 0;
	if (argc != 1)
		return ctl_usage_error(c, "doctor", "takes no arguments");
	check_config(c, &d, &cfg);
	check_process(&d);
	check_socket(&d);
	doctor_check_hooks(&d);
	doctor_check_managers(&d);
	doctor_check_agent_port(&d);
	doctor_check_policy(&d);
	doctor_check_mld(&d);
	check_heartbeat(&d);
	doctor_check_certs(&d);
	check_dns(&d);
	check_persisted(&d);
	check_trusted_key(&d);
	/* a warning may be a check not run (not root, no engine): "all passed" would mislead */
	if (d.failed)
		printf("some checks FAILED\n");
	else if (d.warned)
		printf("no check failed; %d warning%s above\n", d.warned, d.warned == 1 ? "" : "s");
	else
		printf("all checks passed\n");
	free(d.status);
	config_free(&cfg);
	fflush(stdout);
	return d.failed ? CTL_FAIL : CTL_OK;
}
