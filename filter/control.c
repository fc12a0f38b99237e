/*
 * control.c - the control server: one thread polls the listening socket
 * and up to CONTROL_MAX_CLIENTS non-blocking connections, so a slow or
 * silent peer only ever holds its own slot until its deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control_int.h"

int control_read_timeout_ms = CONTROL_READ_TIMEOUT_MS;

/*
 * Each verb with the words it takes ("k=" an option with a value, else a
 * bare word), besides until= and resets=, which any request may carry.
 * Any other word is refused, not ignored: a newer lifelinectl's filter an
 * older engine skipped would widen what a request acts on (`flows port 22
 * --kill` killing every flow).
 */
static const struct {
	const char *verb;
	control_handler fn;
	bool root_only;
	const char *const words[12];
} handlers[] = {
	{ "STATUS", control_req_status, false, { "json" } },
	{ "STATS", control_req_stats, false, { "json", "prometheus" } },
	{ "SHOW", control_req_show, false, { "counters" } },
	/* kill: root, checked below */
	{ "FLOWS", control_req_flows, false,
	  { "kill", "dir=", "proto=", "a1=", "p1=", "a2=", "p2=", "port=" } },
	{ "EXPLAIN", control_req_explain, false,
	  { "dir=", "proto=", "src=", "dst=", "sport=", "dport=", "type=", "code=", "flags=",
	    "ttl=", "on=" } },
	{ "LOAD", control_req_load, true, { "name=", "siglen=", "confirm=", "skip-unsupported" } },
	{ "CONFIRM", control_req_confirm, true, { "sha256=" } },
	{ "ROLLBACK", control_req_rollback, true, { NULL } },
	{ "RESET", control_req_reset, true, { NULL } },
	{ "TABLE", control_req_table, true, { "name=", "op=" } },
};

/* The first word of @m that handler @h does not take, or NULL. */
static const char *unknown_word(const struct control_msg *m, size_t h)
{
	static const char *const any[] = { "until=", "resets=" };

	for (int i = 0; i < m->argc; i++) {
		const char *w = m->argv[i];
		size_t n = strcspn(w, "="), words = sizeof(handlers[h].words) / sizeof(char *);
		bool known = false;

		n += w[n] == '='; /* "k=" of "k=v" */
		for (size_t j = 0; !known && j < 2 + words; j++) {
			const char *k = j < 2 ? any[j] : handlers[h].words[j - 2];

			known = k && strlen(k) == n && strncmp(k, w, n) == 0;
		}
		if (!known)
			return w;
	}
	return NULL;
}

static void conn_close(struct control_conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->in);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* Queue @header + the text of @body as the reply and switch @k to writing. */
static void conn_reply(struct control_conn *k, const char *header, const char *body, size_t len)
{
	struct iovec iov = { (void *)body, len };

	free(k->in);
	k->in = NULL;
	if (control_frame_build(header, &iov, 1, &k->out, &k->outlen) < 0) {
		conn_close(k);
		return;
	}
	k->outoff = 0;
	k->deadline_ms = control_now_ms() + CONTROL_WRITE_TIMEOUT_MS;
}

static bool needs_root(const struct control_msg *m, bool root_only)
{
	return root_only || (strcmp(m->verb, "FLOWS") == 0 && control_msg_has(m, "kill"));
}

/*
 * A request that would change something, read after its client gave up
 * (until=, its deadline on the wall clock: a time namespace would move a
 * monotonic one), is not done: the client has told its user that the
 * engine did not answer, and a confirm or load acted on when a stopped
 * engine resumes would contradict that. Said in the log. One that only
 * reads is answered whatever the time: nobody is misled by it.
 */
static bool expired(struct control *c, const struct control_msg *m, bool changes)
{
	const char *until = control_msg_get(m, "until");
	long long t, late, now = (long long)(ll_wall_us() / 1000);
	char *end, msg[160];

	if (!until || !changes)
		return false;
	t = strtoll(until, &end, 10);
	if (*end || t >= now)
		return false;
	/* any peer may send it, root or not: a deadline far in the past must not overflow */
	late = t < 0 && now > LLONG_MAX + t ? LLONG_MAX : now - t;
	snprintf(msg, sizeof(msg), "a %.16s request came %lld ms after its client stopped waiting: "
		 "not done", m->verb, late);
	if (c->ops->log)
		c->ops->log(c->ctx, msg);
	return true;
}

/*
 * A change the console overtook: sent before `lifelinectl reset` acted
 * alone (the engine busy with a long load, stopped, hung) and read after
 * it, a load or rollback ran and was persisted over the empty policy the
 * reset had just persisted - the host's next start brought it back, and
 * the queue rule stayed out meanwhile. The client sends the count of such
 * resets it read (resets=); a later one has the console's later word.
 * A reset request itself is done whatever the count.
 */
static bool overtaken(struct control *c, const struct control_msg *m, bool changes)
{
	const char *sent = control_msg_get(m, "resets");
	unsigned long long was;
	int64_t now;
	char *end, msg[160];

	if (!sent || !changes || strcmp(m->verb, "RESET") == 0)
		return false;
	errno = 0;
	was = strtoull(sent, &end, 10);
	if (errno || *end || (now = state_resets_read(c->cfg->state_dir)) < 0 ||
	    (unsigned long long)now <= was)
		return false;
	snprintf(msg, sizeof(msg), "a %.16s request sent before `lifelinectl reset` acted alone "
		 "came after it: not done", m->verb);
	if (c->ops->log)
		c->ops->log(c->ctx, msg);
	return true;
}

/* Run the complete request in k->in. */
static void conn_dispatch(struct control *c, struct control_conn *k)
{
	struct control_msg m;
	const char *hdr = CTL_R_BAD;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out) {
		conn_close(k);
		return;
	}
	if (control_msg_parse(k->in + 4, k->total - 4, &m) < 0) {
		fputs("malformed request\n", out);
		goto reply;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		bool changes = needs_root(&m, handlers[i].root_only);
		const char *odd;

		if (strcmp(m.verb, handlers[i].verb) != 0)
			continue;
		if ((odd = unknown_word(&m, i))) {
			/* a whole word is printable ASCII without spaces (control_msg_parse()) */
			fprintf(out, "%s does not take '%.64s' (a lifelinectl newer than this "
				"lifelined? restart lifelined to run the one installed): nothing "
				"was done\n", m.verb, odd);
		} else if (expired(c, &m, changes)) {
			fputs("the request came after its client stopped waiting: nothing was done\n", out);
			hdr = CTL_R_FAIL;
		} else if (overtaken(c, &m, changes)) {
			fputs("not done: `lifelinectl reset` acted alone at the console after this "
			      "request was sent (the engine was busy or not answering), and the "
			      "console's reset has the later word; send it again if it is still "
			      "wanted\n", out);
			hdr = CTL_R_FAIL;
		} else if (changes && k->uid != 0) {
			fprintf(out, "permission denied: this request needs uid 0 (you are uid %u)\n",
				(unsigned)k->uid);
			hdr = CTL_R_DENIED;
		} else {
			hdr = handlers[i].fn(c, &m, out);
		}
		goto reply;
	}
	fprintf(out, "unknown request '%s'\n", m.verb);
reply:
	if (fclose(out) != 0) {
		free(text);
		conn_close(k);
		return;
	}
	conn_reply(k, hdr, text, len);
	free(text);
}

/* Take what the peer sent; dispatch once the frame is whole. */
static void conn_read(struct control *c, struct control_conn *k)
{
	size_t max = k->uid == 0 ? CONTROL_MAX_REQUEST : CONTROL_MAX_REQUEST_USER;
	size_t want = k->total ? k->total : 4;
	char msg[128];
	ssize_t n;
	int rc;

	if (k->inlen == k->incap) {
		/* grow with what arrives, never to the announced size at once */
		size_t cap = k->incap * 2 > 65536 ? k->incap * 2 : 65536;
		char *p;

		cap = cap < want ? cap : want;
		if (!(p = realloc(k->in, cap)))
			return conn_close(k);
		k->in = p;
		k->incap = cap;
	}
	n = recv(k->fd, k->in + k->inlen, k->incap - k->inlen, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return conn_close(k);
	if (n < 0)
		return;
	k->inlen += (size_t)n;
	if (!k->total && (rc = control_frame_len((uint8_t *)k->in, k->inlen, max - 4, &k->total)) < 0) {
		if (rc == -EAGAIN)
			return;
		k->total = 0;
		if (rc == -EMSGSIZE)
			snprintf(msg, sizeof(msg), "request too large: the limit is %zu bytes%s\n",
				 max, k->uid ? " for users other than root" : "");
		else
			snprintf(msg, sizeof(msg), "malformed request\n");
		return conn_reply(k, CTL_R_BAD, msg, strlen(msg));
	}
	if (k->total && k->inlen == k->total)
		conn_dispatch(c, k);
}

static void conn_write(struct control_conn *k)
{
	ssize_t n = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return conn_close(k);
	k->outoff += (size_t)n;
	if (k->outoff == k->outlen)
		conn_close(k);
}

/*
 * A free slot for a peer of @uid. Other users may not hold the last
 * CONTROL_ROOT_SLOTS, and when all are taken a root peer evicts the
 * non-root connection nearest its deadline: idle clients of other users
 * can never lock `lifelinectl reset` out.
 */
static struct control_conn *slot_for(struct control *c, uid_t uid)
{
	struct control_conn *victim = NULL;
	int used = 0;

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		used += c->conns[i].fd >= 0;
	if (uid != 0 && used >= CONTROL_MAX_CLIENTS - CONTROL_ROOT_SLOTS)
		return NULL;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_conn *k = &c->conns[i];
		if (k->fd < 0)
			return k;
		if (k->uid != 0 && (!victim || k->deadline_ms < victim->deadline_ms))
			victim = k;
	}
	if (uid != 0 || !victim)
		return NULL;
	conn_close(victim);
	return victim;
}

static void accept_one(struct control *c)
{
	static const char busy[] = "\0\0\0\x05" "busy\n";
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct control_conn *k = NULL;

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || !(k = slot_for(c, cr.uid))) {
		/* full: a best-effort "busy" so the client says why, then close */
		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			(void)0;
		close(fd);
		return;
	}
	k->fd = fd;
	k->uid = cr.uid;
	k->deadline_ms = control_now_ms() + control_read_timeout_ms;
}

/*
 * Poll timeout: the nearest connection or confirm deadline, and a second at
 * most: a `lifelinectl reset` that acted alone says nothing to the engine,
 * which sees its state.meta (control_state_check()) when it wakes, and
 * meanwhile ran the policy and the queue rule the reset took away.
 */
static int next_timeout(const struct control *c, int64_t now)
{
	int64_t t = now + 1000;

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].deadline_ms < t)
			t = c->conns[i].deadline_ms;
	if (c->confirm_ms && c->confirm_ms < t)
		t = c->confirm_ms;
	if (c->rehome_ms && c->rehome_ms < t)
		t = c->rehome_ms;
	return t <= now ? 0 : (int)(t - now);
}

static void expire(struct control *c)
{
	int64_t now = control_now_ms();

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->conns[i].fd >= 0 && c->conns[i].deadline_ms <= now)
			conn_close(&c->conns[i]); /* too slow to send, or to read the reply */
	if (c->confirm_ms && c->confirm_ms <= now)
		control_confirm_expired(c);
	if (c->rehome_ms && c->rehome_ms <= now) {
		c->rehome_ms = 0;
		control_rehome_current(c);
	}
}

static void *server_main(void *arg)
{
	struct control *c = arg;
	struct pollfd pf[CONTROL_MAX_CLIENTS + 2];
	int idx[CONTROL_MAX_CLIENTS + 2];

	for (;;) {
		int n = 0;

		pf[n++] = (struct pollfd){ .fd = c->wake_rd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			struct control_conn *k = &c->conns[i];
			if (k->fd < 0)
				continue;
			idx[n] = i;
			pf[n++] = (struct pollfd){ .fd = k->fd, .events = k->out ? POLLOUT : POLLIN };
		}
		if (poll(pf, (nfds_t)n, next_timeout(c, control_now_ms())) < 0 && errno != EINTR)
			break;
		control_state_check(c); /* before a confirm's deadline or a request acts on it */
		if (pf[0].revents) {
			char drain[16];

			while (read(c->wake_rd, drain, sizeof(drain)) > 0)
				;
			if (atomic_load(&c->stopping))
				break;
			if (atomic_exchange(&c->reload, false))
				control_reload_current(c); /* between requests, like every swap */
			/* a burst of address changes (a link up, containers) compiles once, after it */
			if (atomic_exchange(&c->rehome, false))
				c->rehome_ms = control_now_ms() + CONTROL_REHOME_QUIET_MS;
		}
		for (int j = 2; j < n; j++) {
			struct control_conn *k = &c->conns[idx[j]];
			if (!pf[j].revents || k->fd != pf[j].fd)
				continue;
			if (k->out)
				conn_write(k);
			else
				conn_read(c, k);
		}
		if (pf[1].revents & POLLIN)
			accept_one(c);
		expire(c);
	}
	return NULL;
}

/* Is a server answering at @path? Then it is not ours to replace. */
static bool socket_alive(const char *path)
{
	int fd = control_connect(path, control_now_ms() + 200);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* What lstat() says is at @path, for an error: "" when nothing or a socket is. */
static const char *not_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || S_ISSOCK(st.st_mode))
		return "";
	return S_ISREG(st.st_mode) ? "a regular file" : S_ISDIR(st.st_mode) ? "a directory" :
	       S_ISLNK(st.st_mode) ? "a symbolic link" : "a file that is no socket";
}

/*
 * Bind under a temporary name, set mode and group, then rename into place:
 * the socket is never reachable with looser permissions than 0660. Only a
 * socket (an earlier engine's) is replaced: rename(2) would take a regular
 * file's place just as well, and a typo in control-socket (the config, a
 * policy) cost that file without a word.
 */
static int bind_socket(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group *g = getgrnam("lifeline");
	char tmp[sizeof(sa.sun_path)];
	const char *what;
	struct stat st;
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.%d", c->path, (int)getpid()) >= (int)sizeof(tmp))
		return snprintf(err, errlen, "control-socket %s: path too long", c->path), -ENAMETOOLONG;
	if ((rc = mkdir_parent(c->path)) < 0)
		return snprintf(err, errlen, "control-socket %s: cannot create its directory: %s",
				c->path, strerror(-rc)), rc;
	if (socket_alive(c->path))
		return snprintf(err, errlen, "control-socket %s: another lifelined answers there",
				c->path), -EADDRINUSE;
	if (*(what = not_socket(c->path)))
		return snprintf(err, errlen, "control-socket %s: %s is there, and lifelined replaces "
				"only a socket (a typo in control-socket?): move it away", c->path,
				what), -EEXIST;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0)
		return -errno;
	memcpy(sa.sun_path, tmp, strlen(tmp));
	unlink(tmp);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(tmp, 0660) < 0 ||
	    chown(tmp, (uid_t)-1, g ? g->gr_gid : 0) < 0 || listen(c->lfd, 64) < 0 ||
	    rename(tmp, c->path) < 0) {
		rc = -errno;
		unlink(tmp);
		snprintf(err, errlen, "control-socket %s: %s", c->path, strerror(-rc));
		return rc;
	}
	if (stat(c->path, &st) == 0) {
		c->sock_dev = st.st_dev;
		c->sock_ino = st.st_ino;
	}
	return 0;
}

/* control_start() - see control.h. */
int control_start(struct control **out, const struct config *cfg, const struct control_ops *ops,
		  void *ctx, char *err, size_t errlen)
{
	struct control *c = calloc(1, sizeof(*c));
	int p[2], rc;

	if (!c)
		return -ENOMEM;
	*c = (struct control){ .cfg = cfg, .ops = ops, .ctx = ctx, .lfd = -1,
			       .wake_rd = -1, .wake_wr = -1, .state_lock = -1 };
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->conns[i].fd = -1;
	snprintf(err, errlen, "control-socket %s: path too long", cfg->control_socket);
	if (strlen(cfg->control_socket) >= sizeof(c->path) - 12) { /* room for the temp suffix */
		rc = -ENAMETOOLONG;
		goto fail;
	}
	snprintf(c->path, sizeof(c->path), "%s", cfg->control_socket);
	if ((rc = bind_socket(c, err, errlen)) < 0)
		goto fail;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	c->wake_rd = p[0];
	c->wake_wr = p[1];
	control_meta_sync(c);
	if ((rc = -pthread_create(&c->th, NULL, server_main, c)) < 0) {
		snprintf(err, errlen, "control server thread: %s", strerror(-rc));
		goto fail;
	}
	c->started = true;
	*out = c;
	return 0;
fail:
	control_stop(c);
	return rc;
}

/* Wake the server thread for @why (a flag of @c it reads between requests). */
static void wake_for(struct control *c, atomic_bool *why)
{
	atomic_store(why, true);
	if (write(c->wake_wr, "w", 1) < 0)
		(void)0; /* full: the server is being woken already */
}

/* control_reload_policy() - see control.h. */
void control_reload_policy(struct control *c)
{
	if (c && c->started)
		wake_for(c, &c->reload);
}

/* control_rehome() - see control.h. */
void control_rehome(struct control *c)
{
	if (c && c->started)
		wake_for(c, &c->rehome);
}

/* control_stop() - see control.h. */
void control_stop(struct control *c)
{
	if (!c)
		return;
	if (c->started) {
		atomic_store(&c->stopping, true);
		if (write(c->wake_wr, "x", 1) < 0)
			(void)0; /* full: the server is being woken already */
		pthread_join(c->th, NULL);
	}
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		conn_close(&c->conns[i]);
	if (c->lfd >= 0) {
		struct stat st;

		close(c->lfd);
		/* ours only: whatever took the path since (a new engine's socket, a file) stays */
		if (lstat(c->path, &st) == 0 && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
			unlink(c->path);
	}
	if (c->wake_rd >= 0)
		close(c->wake_rd);
	if (c->wake_wr >= 0)
		close(c->wake_wr);
	free(c);
}
