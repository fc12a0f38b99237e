/* client.c - lifelinectl's side of the control socket: connect, one request, one reply. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "config.h"
#include "control.h"
#include "ctl.h"
#include "pkt.h"
#include "state.h"

/* ctl_config() - see ctl.h. */
int ctl_config(struct ctl *c, struct config *cfg)
{
	struct ll_errlist errs = { 0 };
	int rc = config_load(cfg, c->config_path, !c->config_given, &errs);

	if (rc < 0) {
		if (errs.n)
			ll_err_print(&errs, stderr);
		else
			fprintf(stderr, "%s: %s: %s\n", c->prog, c->config_path, strerror(-rc));
		ll_err_free(&errs);
		config_free(cfg);
		return CTL_FAIL;
	}
	ll_err_free(&errs);
	return 0;
}

/* ctl_call() - see ctl.h. */
int ctl_call(const char *sock, const char *header, const struct iovec *iov, int niov,
	     int timeout_ms, struct ctl_reply *r)
{
	int64_t deadline = control_now_ms() + timeout_ms;
	struct control_msg m;
	char *frame = NULL, *hdr;
	size_t flen, plen;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	/* the server does not act on it once this client has stopped waiting */
	if (asprintf(&hdr, "%s until=%lld", header, (long long)(ll_wall_us() / 1000 + (uint64_t)timeout_ms)) < 0)
		return -ENOMEM;
	rc = control_frame_build(hdr, iov, niov, &frame, &flen);
	free(hdr);
	if (rc < 0)
		return rc;
	if ((fd = control_connect(sock, deadline)) < 0) {
		free(frame);
		return fd;
	}
	rc = control_send_all(fd, frame, flen, deadline);
	r->sent = rc == 0;
	free(frame);
	/* the server may answer (busy, too large) before reading it all: read anyway */
	if (rc == 0 || rc == -EPIPE || rc == -ECONNRESET)
		rc = control_recv_frame(fd, CONTROL_MAX_REPLY, deadline, &r->payload, &plen);
	close(fd);
	if (rc < 0)
		return rc == -ECONNRESET || rc == -EMSGSIZE || rc == -EBADMSG ? -EPROTO : rc;
	if (control_msg_parse(r->payload, plen, &m) < 0) {
		ctl_reply_free(r);
		return -EPROTO;
	}
	r->status = m.verb;
	r->body = m.body;
	r->bodylen = m.bodylen;
	return 0;
}

/* ctl_reply_free() - see ctl.h. */
void ctl_reply_free(struct ctl_reply *r)
{
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

/* ctl_call_error() - see ctl.h. */
const char *ctl_call_error(int err)
{
	switch (-err) {
	case ENOENT:
		return "no control socket (engine not running?)";
	case ECONNREFUSED:
		return "nobody listens on the control socket (engine not running?)";
	case EISDIR:
		return "a directory is in the control socket's place, and lifelined cannot start "
		       "there: remove it, then start lifelined";
	case ENOTSOCK:
		return "a file that is no socket is in the control socket's place: no engine "
		       "listens there, and lifelined will not start over it (a typo in "
		       "control-socket?): move it away, then start lifelined";
	case ETIMEDOUT:
		return "the engine did not answer in time (hung, stopped, or busy with a long load?)";
	case EACCES:
	case EPERM:
		return "permission denied on the control socket (root or group lifeline)";
	case EPROTO:
		return "the engine closed the connection or sent garbage";
	default:
		return strerror(-err);
	}
}

/* Does the engine answer a status request within @ms? 0 or ctl_call()'s error. */
static int ping(const char *sock, int ms)
{
	struct ctl_reply r;
	int rc = ctl_call(sock, "STATUS", NULL, 0, ms, &r);

	if (rc == 0)
		ctl_reply_free(&r);
	return rc;
}

/* ctl_request() - see ctl.h. */
int ctl_request(struct ctl *c, const char *header, const struct iovec *iov, int niov,
		int timeout_ms, int not_answering)
{
	struct config cfg;
	struct ctl_reply r;
	char *hdr = NULL, state;
	int64_t resets;
	pid_t stopped, holder;
	int rc, wait_ms;

	if (ctl_config(c, &cfg) != 0)
		return CTL_FAIL;
	/*
	 * A stopped engine answers nothing until resumed: ask it (the request
	 * may be read once it is, and its until= must say this short wait),
	 * but do not keep the operator waiting 5 s to say so.
	 */
	stopped = ctl_engine_stopped(&cfg, &state);
	wait_ms = stopped ? CTL_TIMEOUT_STOPPED_MS : CTL_TIMEOUT_MS;
	/*
	 * The console resets acting alone so far, as the user gives the
	 * command: one that comes before the engine reads it wins (control.c).
	 */
	if ((resets = state_resets_read(cfg.state_dir)) >= 0 &&
	    asprintf(&hdr, "%s resets=%" PRId64, header, resets) < 0)
		hdr = NULL;
	/* a request that may rightly take long: a hung engine is told in seconds, not minutes */
	rc = timeout_ms > CTL_TIMEOUT_MS ? ping(cfg.control_socket, wait_ms) : 0;
	memset(&r, 0, sizeof(r));
	if (rc == 0)
		rc = ctl_call(cfg.control_socket, hdr ? hdr : header, iov, niov,
			      timeout_ms > wait_ms && timeout_ms <= CTL_TIMEOUT_MS ? wait_ms : timeout_ms,
			      &r);
	free(hdr);
	c->sent = r.sent;
	c->busy = false;
	c->starting = 0;
	if (rc == -ETIMEDOUT && stopped && state == 't') /* SIGCONT does not resume it (ptrace(2)) */
		fprintf(stderr, "%s: %s: the engine did not answer: lifelined pid %d is stopped by a "
			"debugger (gdb, strace): it answers and judges nothing until the tracer lets "
			"it go\n", c->prog, cfg.control_socket, (int)stopped);
	else if (rc == -ETIMEDOUT && stopped)
		fprintf(stderr, "%s: %s: the engine did not answer: lifelined pid %d is stopped: it "
			"answers and judges nothing until `kill -CONT %d`\n", c->prog,
			cfg.control_socket, (int)stopped, (int)stopped);
	else if ((rc == -ENOENT || rc == -ECONNREFUSED) &&
		 (c->starting = holder = ctl_engine_lock_holder(&cfg)))
		fprintf(stderr, "%s: %s: no answer yet: lifelined pid %d holds %s/%s: it is "
			"starting (compiling its start-up policy?) or stopping, and answers once "
			"ready\n", c->prog, cfg.control_socket, (int)holder, cfg.state_dir,
			STATE_LOCK_FILE);
	else if (rc < 0)
		fprintf(stderr, "%s: %s: %s\n", c->prog, cfg.control_socket, ctl_call_error(rc));
	if (rc < 0) {
		if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ETIMEDOUT) /* the next step */
			fprintf(stderr, "%s: `lifelinectl doctor` tells why; `lifelinectl reset` "
				"unblocks the host without the engine\n", c->prog);
		config_free(&cfg);
		/* refused by the socket's permissions: whether an engine runs is not known */
		if ((rc == -EACCES || rc == -EPERM) && not_answering == CTL_NOT_RUNNING)
			return CTL_UNKNOWN;
		return not_answering;
	}
	config_free(&cfg);
	rc = strcmp(r.status, "ok") == 0 ? CTL_OK : CTL_FAIL;
	if (r.bodylen && fwrite(r.body, 1, r.bodylen, rc == CTL_OK ? stdout : stderr) != r.bodylen)
		rc = CTL_FAIL;
	c->busy = strcmp(r.status, "busy") == 0;
	if (c->busy)
		fprintf(stderr, "%s: the engine is busy with other clients; try again\n", c->prog);
	ctl_reply_free(&r);
	return fflush(stdout) == 0 ? rc : CTL_FAIL;
}

/* ctl_explain_online() - see ctl.h. */
int ctl_explain_online(struct ctl *c, const struct pkt *p)
{
	char hdr[512], s[64], d[64];
	int n;

	n = snprintf(hdr, sizeof(hdr), "EXPLAIN dir=%s proto=%u src=%s dst=%s ttl=%u",
		     p->dir == PKT_DIR_OUT ? "out" : "in", p->proto, ll_ip_str(p->src, s, sizeof(s)),
		     ll_ip_str(p->dst, d, sizeof(d)), p->ttl);
	if (p->proto == 6 || p->proto == 17)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " sport=%u dport=%u", p->sport,
			      p->dport);
	if (p->proto == 1 || p->proto == 58)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " type=%u code=%u", p->icmp_type,
			      p->icmp_code);
	if (p->tcp_flags)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " flags=%u", p->tcp_flags);
	if (p->ifname && strlen(p->ifname) < 32 && !strchr(p->ifname, ' '))
		snprintf(hdr + n, sizeof(hdr) - (size_t)n, " on=%s", p->ifname);
	return ctl_request(c, hdr, NULL, 0, CTL_TIMEOUT_MS, CTL_FAIL);
}
