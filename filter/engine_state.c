/*
 * engine_state.c - the engine's start-up state: the policy to start with
 * (persisted as STATE_DIR/current.pol), managers resolved, the host's
 * resolvers and addresses, and the systemd readiness notice.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "engine_int.h"

/* The persisted current policy: a byte copy of the last policy started or loaded. */
#define CURRENT_POLICY "current.pol"

uint64_t engine_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void engine_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("lifelined: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Copy @src to @dir/current.pol through a temporary file and rename (atomic). */
static int persist_policy(const char *dir, const char *src)
{
	char tmp[4096], dst[4096], buf[65536];
	int in, out, err = 0;
	ssize_t n;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(dst, sizeof(dst), "%s/%s", dir, CURRENT_POLICY);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, CURRENT_POLICY);
	if (realpath(src, buf) && realpath(dst, buf + 32768) && !strcmp(buf, buf + 32768))
		return 0; /* started from the persisted file itself */
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	if (fsync(out) < 0 && !err)
		err = -errno;
	close(out);
	close(in);
	if (!err && rename(tmp, dst) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/*
 * -p POLICY when given (then persisted), else STATE_DIR/current.pol when it
 * exists, else the empty policy. Prints the policy's errors. NULL: exit 1.
 */
struct policy *engine_policy_start(const struct config *cfg, const char *policy_path,
				   bool skip_unsupported)
{
	struct policy_opts po = { .skip_unsupported = skip_unsupported };
	struct ll_errlist errs = { 0 };
	char persisted[4096];
	const char *path = policy_path;
	struct policy *p;
	int err;

	snprintf(persisted, sizeof(persisted), "%s/%s", cfg->state_dir, CURRENT_POLICY);
	if (!path && access(persisted, F_OK) == 0)
		path = persisted;
	if (!path)
		return policy_empty();
	p = policy_load_file(path, &po, &errs);
	if (!p) {
		if (errs.n)
			ll_err_print(&errs, stderr);
		else
			engine_log("%s: %s", path, strerror(errno));
		ll_err_free(&errs);
		return NULL;
	}
	ll_err_free(&errs);
	if (policy_path) {
		err = persist_policy(cfg->state_dir, policy_path);
		if (err)
			engine_log("warning: cannot persist the policy in %s: %s", cfg->state_dir,
				   strerror(-err));
	}
	return p;
}

/* The persisted policy again (SIGUSR2); NULL when missing or invalid (errors printed). */
struct policy *engine_policy_reload(const struct config *cfg, bool skip_unsupported)
{
	struct policy_opts po = { .skip_unsupported = skip_unsupported };
	struct ll_errlist errs = { 0 };
	char path[4096];
	struct policy *p;

	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, CURRENT_POLICY);
	p = policy_load_file(path, &po, &errs);
	if (!p && errs.n)
		ll_err_print(&errs, stderr);
	else if (!p)
		engine_log("%s: %s", path, strerror(errno));
	ll_err_free(&errs);
	return p;
}

/* READY=1 to $NOTIFY_SOCKET (sd_notify without libsystemd); '@' means abstract. */
void engine_notify_ready(void)
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
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		engine_log("warning: sd_notify: %s", strerror(errno));
	close(fd);
}

static uint32_t add_unique(ll_ip *out, uint32_t n, uint32_t max, ll_ip a)
{
	for (uint32_t i = 0; i < n; i++)
		if (ll_ip_eq(out[i], a))
			return n;
	if (n < max)
		out[n++] = a;
	return n;
}

/* Literal managers as they are, names through the resolver (blocking). */
int engine_resolve_managers(const struct config *cfg, ll_ip *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < cfg->nmanagers; i++) {
		const struct cfg_manager *m = &cfg->managers[i];
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *r;

		if (m->is_literal) {
			n = add_unique(out, n, max, m->addr);
			continue;
		}
		if (getaddrinfo(m->name, NULL, &hints, &res) != 0)
			continue;
		for (r = res; r; r = r->ai_next) {
			if (r->ai_family == AF_INET)
				n = add_unique(out, n, max, ll_ip_from_bytes(
					(const uint8_t *)&((struct sockaddr_in *)r->ai_addr)->sin_addr, 4));
			else if (r->ai_family == AF_INET6)
				n = add_unique(out, n, max, ll_ip_from_bytes(
					(const uint8_t *)&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr, 6));
		}
		freeaddrinfo(res);
	}
	return (int)n;
}

/* The resolvers the host already uses: it usually got its lease before we started. */
void engine_load_resolvers(struct lifeline *l)
{
	ll_ip a[LIFELINE_MAX_DNS];
	int n = resolv_host_servers("/etc/resolv.conf", "/run/systemd/resolve/resolv.conf", a,
				    LIFELINE_MAX_DNS);

	for (int i = 0; i < n; i++)
		lifeline_add_dns(l, a[i]);
}

/* Config `host` ranges plus every interface address, for `dir` outside the hooks. */
uint32_t engine_host_ranges(const struct config *cfg, struct ip_range *out, uint32_t max)
{
	ll_ip a[ENGINE_MAX_HOSTS];
	uint32_t n = 0;
	int na = addr_dump(a, ENGINE_MAX_HOSTS);

	for (uint32_t i = 0; i < cfg->nhosts && n < max; i++)
		out[n++] = cfg->hosts[i];
	for (int i = 0; i < na && n < max; i++)
		out[n++] = (struct ip_range){ a[i], a[i] };
	return n;
}

/* Learned DNS servers survive a restart: STATE_DIR/dns-learned, "ADDR EXPIRES_US V6" per line. */
#define LEARNED_DNS "dns-learned"

int engine_save_learned(const struct config *cfg, const struct lifeline *l)
{
	char path[4096], tmp[4096], buf[64];
	FILE *f;

	if (mkdir(cfg->state_dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, LEARNED_DNS);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", cfg->state_dir, LEARNED_DNS);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (uint32_t i = 0; i < l->ndns; i++)
		if (l->dns[i].learned)
			fprintf(f, "%s %llu %u\n", ll_ip_str(l->dns[i].addr, buf, sizeof(buf)),
				(unsigned long long)l->dns[i].expires_us, l->dns[i].v6);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

void engine_load_learned(const struct config *cfg, struct lifeline *l, uint64_t now_us)
{
	char path[4096], addr[64];
	unsigned long long exp;
	unsigned v6;
	FILE *f;
	ll_ip a;

	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, LEARNED_DNS);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%63s %llu %u", addr, &exp, &v6) == 3) {
		bool dup = false;

		if (ll_ip_parse(addr, &a) < 0 || (exp && exp <= now_us) || l->ndns >= LIFELINE_MAX_DNS)
			continue;
		for (uint32_t i = 0; i < l->ndns; i++)
			dup |= ll_ip_eq(l->dns[i].addr, a);
		if (dup)
			continue;
		l->dns[l->ndns++] = (struct lifeline_dns){ .addr = a, .expires_us = exp,
							   .learned = 1, .v6 = (uint8_t)!!v6 };
		l->dns_changes++;
	}
	fclose(f);
}

void engine_event(struct engine *e, enum ev_type type, const char *msg)
{
	struct event ev = { .type = type, .message = msg };

	if (e->evlog)
		event_emit(e->evlog, &ev);
}
