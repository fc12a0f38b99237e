/*
 * engine_resolve.c - manager names, resolved again every heartbeat-interval
 * in a thread of their own. getaddrinfo() blocks, 5 s a try when the
 * resolver does not answer: in the event loop a DNS outage held back
 * signals, the heartbeat and DHCP copies, and the systemd watchdog's pings.
 * The thread posts each round's addresses; the event loop adopts them
 * (engine_managers()), literal managers first.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "engine_int.h"

#define NAME_MAX_LEN 256

static uint32_t add_unique(ll_ip *out, uint32_t n, ll_ip a)
{
	for (uint32_t i = 0; i < n; i++)
		if (ll_ip_eq(out[i], a))
			return n;
	if (n < LIFELINE_MAX_MANAGERS)
		out[n++] = a;
	return n;
}

/* The addresses of @name into @out (@n so far); false when it does not resolve. */
static bool resolve(const char *name, ll_ip *out, uint32_t *n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *r;
	ll_ip a;

	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	for (r = res; r; r = r->ai_next)
		if (ll_ip_from_sockaddr(r->ai_addr, &a))
			*n = add_unique(out, *n, a);
	freeaddrinfo(res);
	return true;
}

/*
 * Each name's last answer, this thread's only: a name that does not resolve
 * (a DNS outage) keeps its own last addresses, and only those: a name the
 * config no longer has, or one that resolves again, leaves its old ones.
 */
struct name_cache {
	char name[NAME_MAX_LEN];
	ll_ip addrs[LIFELINE_MAX_MANAGERS];
	uint32_t n;
};

static void *resolver_main(void *arg)
{
	struct engine *e = arg;
	struct resolver *r = &e->res;
	static struct name_cache cur[LIFELINE_MAX_MANAGERS], old[LIFELINE_MAX_MANAGERS];
	uint32_t nold = 0;

	pthread_mutex_lock(&e->lock);
	while (!atomic_load(&r->stop)) {
		ll_ip a[LIFELINE_MAX_MANAGERS];
		uint32_t nn = 0, n = 0, gen = r->gen, nfailed = 0;
		struct timespec until;
		uint64_t one = 1;

		/* the names of the config now (a reload may replace it while we resolve) */
		for (uint32_t i = 0; i < e->cfg->nmanagers && nn < LIFELINE_MAX_MANAGERS; i++)
			if (!e->cfg->managers[i].is_literal)
				snprintf(cur[nn++].name, NAME_MAX_LEN, "%s", e->cfg->managers[i].name);
		r->now = false;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += e->cfg->heartbeat_interval ? e->cfg->heartbeat_interval : 1;
		pthread_mutex_unlock(&e->lock);
		for (uint32_t i = 0; i < nn && !atomic_load(&r->stop); i++) {
			cur[i].n = 0;
			if (resolve(cur[i].name, cur[i].addrs, &cur[i].n))
				continue;
			nfailed++;
			for (uint32_t j = 0; j < nold; j++)
				if (!strcmp(old[j].name, cur[i].name)) {
					cur[i] = old[j];
					break;
				}
		}
		for (uint32_t i = 0; i < nn; i++)
			for (uint32_t j = 0; j < cur[i].n; j++)
				n = add_unique(a, n, cur[i].addrs[j]);
		memcpy(old, cur, nn * sizeof(*cur));
		nold = nn;
		pthread_mutex_lock(&e->lock);
		/* a round that began before a reload answers for the config before: dropped */
		if (gen == r->gen && !atomic_load(&r->stop)) {
			memcpy(r->addrs, a, n * sizeof(*a));
			r->n = n;
			r->failed = nfailed;
			r->fresh = true;
			if (write(r->fd, &one, sizeof(one)) < 0)
				engine_log("warning: resolver: %s", strerror(errno));
		}
		while (!atomic_load(&r->stop) && !r->now &&
		       pthread_cond_timedwait(&r->cond, &e->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

int resolver_start(struct engine *e)
{
	struct resolver *r = &e->res;
	pthread_condattr_t ca;
	int err;

	r->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->fd < 0)
		return -errno;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&r->tid, NULL, resolver_main, e);
	if (err) {
		close(r->fd);
		r->fd = -1;
		return -err;
	}
	r->started = true;
	return 0;
}

/* The thread waits for one lookup at most: the names left are not tried. */
void resolver_stop(struct engine *e)
{
	struct resolver *r = &e->res;

	if (!r->started)
		return;
	atomic_store(&r->stop, true);
	pthread_mutex_lock(&e->lock);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(r->tid, NULL);
	close(r->fd);
	r->started = false;
}

/* Under e->lock: resolve the names again now (a reload changed them). */
void resolver_kick(struct engine *e)
{
	e->res.gen++;
	e->res.now = true;
	pthread_cond_signal(&e->res.cond);
}

/*
 * engine_managers() - under e->lock: the manager list now, into @out: the
 * config's literals, then the last round's addresses of its names (a name
 * that did not resolve with its last addresses: a lookup that failed must
 * not cut the heartbeat to a manager that still answers).
 */
uint32_t engine_managers(const struct engine *e, ll_ip *out)
{
	const struct resolver *r = &e->res;
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->cfg->nmanagers; i++)
		if (e->cfg->managers[i].is_literal)
			n = add_unique(out, n, e->cfg->managers[i].addr);
	for (uint32_t i = 0; i < r->n; i++)
		n = add_unique(out, n, r->addrs[i]);
	return n;
}
