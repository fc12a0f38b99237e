/*
 * control_proto.c - the control socket's wire format, shared by lifelined's
 * server and lifelinectl.
 *
 * One request and one reply per connection, each a frame:
 *
 *   u32 N (big endian) | N bytes: HEADER "\n" BODY
 *
 * HEADER is printable ASCII words separated by single spaces, at most
 * CONTROL_MAX_HEADER bytes with its newline and CONTROL_MAX_ARGS words
 * after the first; BODY is opaque bytes whose meaning depends on the verb.
 * Requests (the first word is the verb; "k=v" words are options):
 *
 *   STATUS [json]                 STATS [json|prometheus]
 *   SHOW [counters]               FLOWS [kill] [dir=] [proto=] [a1= p1= a2= p2=] [port=]
 *   EXPLAIN dir= proto= src= dst= [sport= dport= type= code= flags= ttl= on=]
 *   LOAD name=PATH siglen=N [confirm=S] [skip-unsupported]
 *        BODY: N signature bytes, then the policy text (no NUL)
 *   CONFIRM   ROLLBACK   RESET
 *   TABLE name=NAME op=add|delete|show|flush   BODY: addresses, one a line
 *
 * Any request may carry until=MS (the client's deadline, wall clock) and
 * resets=N (the console resets acting alone it had seen): a change read
 * after either is not done (control.c). A word the verb does not take is
 * refused ("bad-request"), never skipped.
 *
 * Replies: HEADER "ok" | "fail" | "denied" | "busy" | "bad-request",
 * BODY the text for the user (stdout for ok, stderr otherwise).
 *
 * Limits: a request is at most CONTROL_MAX_REQUEST bytes from uid 0 and
 * CONTROL_MAX_REQUEST_USER from anyone else, read within
 * CONTROL_READ_TIMEOUT_MS of the accept; anything longer, slower or
 * malformed gets "bad-request" (when the frame was readable) or a closed
 * socket. Only STATUS, STATS, SHOW, FLOWS without kill and EXPLAIN serve
 * peers other than uid 0 (SO_PEERCRED); the rest answer "denied".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"

/* control_now_ms() - see control.h. */
int64_t control_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* control_frame_len() - see control.h. */
int control_frame_len(const uint8_t *buf, size_t have, size_t max, size_t *total)
{
	uint32_t n;

	if (have < 4)
		return -EAGAIN;
	memcpy(&n, buf, 4);
	n = ntohl(n);
	if (n == 0)
		return -EBADMSG;
	if (n > max)
		return -EMSGSIZE;
	*total = (size_t)n + 4;
	return 0;
}

static bool header_char_ok(char ch)
{
	return ch >= 0x20 && ch < 0x7f;
}

/* control_msg_parse() - see control.h. */
int control_msg_parse(char *p, size_t len, struct control_msg *m)
{
	size_t lim = len < CONTROL_MAX_HEADER ? len : CONTROL_MAX_HEADER;
	char *nl = memchr(p, '\n', lim), *w, *save = NULL;

	memset(m, 0, sizeof(*m));
	if (!nl || nl == p)
		return -EBADMSG;
	for (char *q = p; q < nl; q++)
		if (!header_char_ok(*q) || (*q == ' ' && (q == p || q[-1] == ' ' || q + 1 == nl)))
			return -EBADMSG;
	*nl = '\0';
	m->body = nl + 1;
	m->bodylen = len - (size_t)(nl + 1 - p);
	m->verb = strtok_r(p, " ", &save);
	while ((w = strtok_r(NULL, " ", &save))) {
		if (m->argc == CONTROL_MAX_ARGS)
			return -EBADMSG;
		m->argv[m->argc++] = w;
	}
	return 0;
}

/* control_msg_get() - see control.h. */
const char *control_msg_get(const struct control_msg *m, const char *key)
{
	size_t kl = strlen(key);

	for (int i = 0; i < m->argc; i++)
		if (strncmp(m->argv[i], key, kl) == 0 && m->argv[i][kl] == '=')
			return m->argv[i] + kl + 1;
	return NULL;
}

/* control_msg_has() - see control.h. */
bool control_msg_has(const struct control_msg *m, const char *w)
{
	for (int i = 0; i < m->argc; i++)
		if (strcmp(m->argv[i], w) == 0)
			return true;
	return false;
}

/* control_frame_build() - see control.h. */
int control_frame_build(const char *header, const struct iovec *iov, int n, char **out,
			size_t *outlen)
{
	size_t hl = strlen(header), total = hl + 1;
	uint32_t be;
	char *buf, *p;

	if (hl == 0 || hl >= CONTROL_MAX_HEADER)
		return -EINVAL;
	for (size_t i = 0; i < hl; i++)
		if (!header_char_ok(header[i]))
			return -EINVAL;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (total > UINT32_MAX)
		return -EMSGSIZE;
	if (!(buf = malloc(total + 4)))
		return -ENOMEM;
	be = htonl((uint32_t)total);
	memcpy(buf, &be, 4);
	memcpy(buf + 4, header, hl);
	buf[4 + hl] = '\n';
	p = buf + 5 + hl;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len)
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	*out = buf;
	*outlen = total + 4;
	return 0;
}

/* Wait for @events on @fd until @deadline_ms: 0 ready, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline_ms - control_now_ms();
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* control_send_all() - see control.h. @fd must be non-blocking. */
int control_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	const char *p = buf;
	int rc;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((rc = wait_fd(fd, POLLOUT, deadline_ms)) < 0)
			return rc;
	}
	return 0;
}

/* Read exactly @len bytes into @p. */
static int recv_exact(int fd, char *p, size_t len, int64_t deadline_ms)
{
	int rc;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((rc = wait_fd(fd, POLLIN, deadline_ms)) < 0)
			return rc;
	}
	return 0;
}

/* control_recv_frame() - see control.h. @fd must be non-blocking. */
int control_recv_frame(int fd, size_t max, int64_t deadline_ms, char **payload, size_t *len)
{
	uint8_t pre[4];
	size_t total;
	char *buf;
	int rc;

	if ((rc = recv_exact(fd, (char *)pre, 4, deadline_ms)) < 0)
		return rc;
	if ((rc = control_frame_len(pre, 4, max, &total)) < 0)
		return rc;
	if (!(buf = malloc(total - 4 + 1)))
		return -ENOMEM;
	if ((rc = recv_exact(fd, buf, total - 4, deadline_ms)) < 0) {
		free(buf);
		return rc;
	}
	buf[total - 4] = '\0';
	*payload = buf;
	*len = total - 4;
	return 0;
}

/* control_connect() - see control.h. Returns a non-blocking socket. */
int control_connect(const char *path, int64_t deadline_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t sl = sizeof(sa);
	int fd, rc, err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a full backlog gives EAGAIN on a non-blocking UNIX socket: retry until the deadline */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		if (rc == -EINTR)
			continue;
		if (rc == -EINPROGRESS) {
			if ((rc = wait_fd(fd, POLLOUT, deadline_ms)) == 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
				return fd;
			rc = rc ? rc : -(err ? err : errno);
		} else if (rc == -EAGAIN && control_now_ms() < deadline_ms) {
			usleep(10000);
			continue;
		} else if (rc == -EAGAIN) {
			rc = -ETIMEDOUT;
		} else if (rc == -ECONNREFUSED) {
			struct stat st;

			/* something else in the socket's place: say what (a directory stops the engine too) */
			if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
				rc = S_ISDIR(st.st_mode) ? -EISDIR : -ENOTSOCK;
		}
		close(fd);
		return rc;
	}
	return fd;
}
