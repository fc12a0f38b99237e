/*
 * doctor_net.c - doctor's checks that look outside the engine: the kernel
 * rules, the managers (DNS, TCP), the agent port, the policy as the
 * engine's explain judges heartbeats, and the TLS certificates' dates.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "control.h"
#include "ctl.h"
#include "doctor.h"
#include "hooks.h"

/*
 * A rule of the host's ahead of our jump in mangle INPUT or OUTPUT that
 * accepts, drops or returns: what it matches never reaches our chain, so
 * never the queue, while every chain of ours looks installed. Said as a
 * warning (a MARK or LOG rule there goes on to the jump: none).
 */
static bool rule_ahead(struct doctor *d)
{
	char rule[160];

	for (int fam = 4; fam <= 6; fam += 2)
		for (int j = HOOKS_JUMP_IN; j <= HOOKS_JUMP_OUT; j++) {
			if (hooks_ipt_rule_ahead(fam, j, rule, sizeof(rule)) != 1)
				continue;
			doctor_line(d, DOC_WARN, "kernel rules", "%s: a rule ahead of lifeline's "
				    "jump to %s in mangle %s (`%s`): what it accepts or drops there "
				    "never reaches lifeline (neither its policy nor the lifeline rules)",
				    fam == 4 ? "iptables" : "ip6tables", hooks_ipt_jump(j)->chain,
				    hooks_ipt_jump(j)->from, rule);
			return true;
		}
	return false;
}

/* doctor_check_hooks() - our nft table or iptables chains, with queue and lifeline rules. */
void doctor_check_hooks(struct doctor *d)
{
	char *out = malloc(HOOKS_LIST_MAX), port[16];
	enum hooks_backend b;
	const char *backend;
	int m4, m6;

	if (!out)
		return;
	/* this namespace's rules say nothing of the engine's host: "start lifelined" would start a second */
	if (d->elsewhere) {
		doctor_line(d, DOC_WARN, "kernel rules", "not checked: the engine's network namespace "
			    "is another one (run doctor there)");
		free(out);
		return;
	}
	/* without privilege nft and iptables cannot list the rules: never say "none" then */
	if (geteuid() != 0) {
		doctor_line(d, DOC_WARN, "kernel rules", "not checked: listing them needs root "
			    "(run doctor as root)");
		free(out);
		return;
	}
	snprintf(port, sizeof(port), " %u", d->cfg->heartbeat_port);
	b = hooks_list(out, HOOKS_LIST_MAX);
	backend = b == HOOKS_NFT ? "nft" : "iptables";
	if (b == HOOKS_AUTO)
		doctor_line(d, DOC_FAIL, "kernel rules", "neither `table inet %s` nor chain %s (mangle) is "
			    "installed: the engine is not filtering; start lifelined",
			    HOOKS_NFT_TABLE, HOOKS_IPT_IN);
	else if (!strstr(out, port))
		doctor_line(d, DOC_FAIL, "kernel rules", "%s: no kernel lifeline (heartbeat port %u) "
			    "rules: restart lifelined to reinstall them", backend,
			    d->cfg->heartbeat_port);
	else
		switch (hooks_queue_state(b)) { /* every chain of ours, both families */
		case HQ_GONE:
			doctor_line(d, DOC_FAIL, "kernel rules", "%s: some of lifeline's chains are flushed "
				    "or not jumped to (another tool's flush or restore?): part of the "
				    "traffic is not filtered; the next policy load or a restart of "
				    "lifelined puts them back", backend);
			break;
		case HQ_OUT:
			doctor_line(d, DOC_WARN, "kernel rules", "%s: lifeline present but no queue rule "
				    "(taken out by `lifelinectl reset`): traffic is not filtered; "
				    "restart lifelined", backend);
			break;
		case HQ_UNKNOWN:
			doctor_line(d, DOC_WARN, "kernel rules", "%s: cannot list every chain of ours "
				    "(the tool failed)", backend);
			break;
		default:
			m4 = b == HOOKS_IPTABLES ? hooks_ipt_missing_jumps(4) : 0;
			m6 = b == HOOKS_IPTABLES ? hooks_ipt_missing_jumps(6) : 0;
			if (m4 >= 0 && m6 >= 0 && (m4 | m6) &
			    (1 << HOOKS_JUMP_REJECT_IN | 1 << HOOKS_JUMP_REJECT_OUT))
				doctor_line(d, DOC_WARN, "kernel rules", "iptables: the filter-table jumps "
					    "to %s/%s are gone (the filter table was flushed?): IPS "
					    "rejects are dropped without an answer; the next policy load "
					    "or a restart puts them back", HOOKS_IPT_REJECT_IN,
					    HOOKS_IPT_REJECT_OUT);
			else if (m4 >= 0 && m6 >= 0 && (m4 | m6) & 1 << HOOKS_JUMP_CLEAR_OUT)
				doctor_line(d, DOC_WARN, "kernel rules", "iptables: the raw-table jump to "
					    "%s is gone (the raw table was flushed?): a process with "
					    "CAP_NET_RAW can mark its packets as the engine's verdict and "
					    "pass unjudged; the next policy load or a restart puts it back",
					    HOOKS_IPT_CLEAR);
			else if (b == HOOKS_IPTABLES && hooks_ipt_save_flushed() == 1)
				doctor_line(d, DOC_WARN, "kernel rules", "iptables: chain %s (mangle) "
					    "is flushed (another tool's flush?): offloaded flows go "
					    "through the engine packet by packet again, and a packet it "
					    "passes keeps lifeline's mark bits (0x%x), which policy "
					    "routing by fwmark reads; the next policy load or a restart "
					    "puts it back", HOOKS_IPT_SAVE, HOOKS_MARK_MASK);
			else if (b == HOOKS_IPTABLES && rule_ahead(d))
				; /* said */
			else if (!strstr(out, "pkttype")) /* hooks.h, HOOKS_*_NOT_UNICAST */
				doctor_line(d, DOC_WARN, "kernel rules", "%s: TCP in broadcast or "
					    "multicast frames is queued (rules of an earlier lifelined?): "
					    "the IPS takes decoys the host discards; restart lifelined",
					    backend);
			/*
			 * An engine process here still judges the queue: only its
			 * socket is silent (removed, another config's, or it is
			 * stopped). "Unfiltered" is for an engine that is gone.
			 */
			else if (d->unanswered && d->running)
				doctor_line(d, DOC_WARN, "kernel rules", "%s: queue and lifeline rules "
					    "installed; lifelined pid %d still judges the queue with "
					    "its policy, but does not answer on this config's control "
					    "socket (see control socket); `lifelinectl reset` takes the "
					    "queue rule out", backend, (int)d->running);
			else if (d->unanswered && d->stopped)
				doctor_line(d, DOC_FAIL, "kernel rules", "%s: queue rule installed and "
					    "lifelined pid %d stopped: queued packets wait, so new "
					    "connections hang (%s; flows offloaded before and the "
					    "lifeline pass); `lifelinectl reset` takes the queue rule "
					    "out", backend, (int)d->stopped, d->cfg->fail_open ?
					    "fail-open: they pass unfiltered only past 4,096 waiting "
					    "packets or a full socket buffer" : "fail-open no: dropped "
					    "once the queue is full");
			else if (d->unanswered && d->cfg->fail_open)
				doctor_line(d, DOC_WARN, "kernel rules", "%s: queue rule installed, but "
					    "no engine answers: the kernel passes traffic unfiltered "
					    "(fail-open: at once when the engine is gone, past 4,096 "
					    "waiting packets or a full socket buffer when it hangs); "
					    "`lifelinectl reset` takes the queue rule out", backend);
			else if (d->unanswered)
				doctor_line(d, DOC_FAIL, "kernel rules", "%s: queue rule installed, but "
					    "no engine answers: everything but the lifeline is dropped "
					    "(fail-open no), save connections the engine had offloaded, "
					    "which go on; `lifelinectl reset` unblocks the host", backend);
			else
				doctor_line(d, DOC_OK, "kernel rules", "%s: queue and lifeline rules "
					    "installed", backend);
		}
	free(out);
}

static void remember(struct doctor *d, const struct sockaddr *sa)
{
	if (d->nmanagers < (int)(sizeof(d->managers) / sizeof(d->managers[0])) &&
	    ll_ip_from_sockaddr(sa, &d->managers[d->nmanagers]))
		d->nmanagers++;
}

/* A TCP connection to @sa within 2 s: 0 or -errno. */
static int tcp_probe(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t sl = sizeof(err);
	struct pollfd p;

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		err = errno;
	} else {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, 2000) <= 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
	}
	close(fd);
	return -err;
}

static void check_manager(struct doctor *d, const char *name)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char port[8], host[NI_MAXHOST] = "?";
	int rc, err = -EHOSTUNREACH;

	snprintf(port, sizeof(port), "%u", d->cfg->heartbeat_port);
	if ((rc = getaddrinfo(name, port, &hints, &res)) != 0) {
		doctor_line(d, DOC_FAIL, "manager resolves", "%s: %s: check DNS (see dns servers) "
			    "or name the manager by address", name, gai_strerror(rc));
		return;
	}
	getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	doctor_line(d, DOC_OK, "manager resolves", "%s is %s", name, host);
	remember(d, res->ai_addr);
	for (ai = res; ai && err; ai = ai->ai_next)
		err = tcp_probe(ai);
	if (err)
		doctor_line(d, DOC_FAIL, "manager reachable", "TCP %s port %s: %s: check routing, "
			    "this host's own firewall rules (lifeline accepts the heartbeat in the "
			    "mangle table only: a DROP in filter, ufw's or nft's still applies; "
			    "`iptables -S`, `nft list ruleset`), upstream firewalls and the manager",
			    name, port, strerror(-err));
	else
		doctor_line(d, DOC_OK, "manager reachable", "TCP %s port %s opens", name, port);
	freeaddrinfo(res);
}

/* doctor_check_managers() - every manager resolves and its heartbeat port opens. */
void doctor_check_managers(struct doctor *d)
{
	if (!d->cfg->nmanagers) {
		doctor_line(d, DOC_WARN, "managers", "no `manager` in the config: the heartbeat "
			    "lifeline is open to any address; name the manager");
		return;
	}
	for (uint32_t i = 0; i < d->cfg->nmanagers; i++)
		check_manager(d, d->cfg->managers[i].name);
}

static bool listens_in(const char *path, uint16_t port)
{
	FILE *f = fopen(path, "re");
	char line[512], local[128];
	unsigned st, p;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon;
		if (sscanf(line, " %*u: %127s %*s %x", local, &st) != 2)
			continue;
		if ((colon = strrchr(local, ':')) && sscanf(colon + 1, "%x", &p) == 1)
			found = st == 0x0A && p == port; /* TCP_LISTEN */
	}
	fclose(f);
	return found;
}

/* doctor_check_agent_port() - something listens on the agent port (/proc/net/tcp{,6}). */
void doctor_check_agent_port(struct doctor *d)
{
	uint16_t port = d->cfg->agent_port;

	if (d->elsewhere)
		doctor_line(d, DOC_WARN, "agent port", "not checked: the engine's network namespace "
			    "is another one (run doctor there)");
	else if (listens_in("/proc/net/tcp", port) || listens_in("/proc/net/tcp6", port))
		doctor_line(d, DOC_OK, "agent port", "something listens on TCP port %u", port);
	else
		doctor_line(d, DOC_FAIL, "agent port", "nothing listens on TCP port %u: start the "
			    "manager's agent (or fix agent-port)", port);
}

/* The address this host uses towards @mgr (a UDP connect sends nothing). */
static ll_ip host_addr(const struct doctor *d, ll_ip mgr)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	ll_ip fallback, out;
	uint8_t b[16];
	int fd, v4 = ll_ip_is_v4(mgr);

	if (d->cfg->nhosts && ll_ip_is_v4(d->cfg->hosts[0].lo) == v4)
		return d->cfg->hosts[0].lo;
	ll_ip_parse(v4 ? "198.51.100.2" : "2001:db8::2", &fallback);
	ll_ip_to_bytes(mgr, b);
	fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fallback;
	if (v4) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
		memcpy(&sa.sin_addr, b + 12, 4);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
		memcpy(&sa.sin6_addr, b, 16);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		goto fail;
	if (!ll_ip_from_sockaddr((struct sockaddr *)&ss, &out))
		goto fail;
	close(fd);
	return out;
fail:
	close(fd);
	return fallback;
}

/* Ask the engine's explain (@hdr, an EXPLAIN request): 1 accepted, 0 dropped, -errno no answer. */
static int explain_hdr(const struct doctor *d, const char *hdr, char *by, size_t bylen)
{
	struct ctl_reply r;
	const char *b;
	int rc;

	if ((rc = ctl_call(d->cfg->control_socket, hdr, NULL, 0, 2000, &r)) < 0)
		return rc;
	rc = strcmp(r.status, "ok") == 0 && strstr(r.body, "verdict: accept") ? 1 : 0;
	b = strstr(r.body, "by: ");
	snprintf(by, bylen, "%.*s", b ? (int)strcspn(b + 4, "\n") : 1, b ? b + 4 : "?");
	ctl_reply_free(&r);
	return rc;
}

/* explain_hdr() for a TCP SYN. */
static int explain(const struct doctor *d, const char *dir, ll_ip src, unsigned sport, ll_ip dst,
		   unsigned dport, char *by, size_t bylen)
{
	char hdr[256], s[64], t[64];

	snprintf(hdr, sizeof(hdr), "EXPLAIN dir=%s proto=6 src=%s dst=%s sport=%u dport=%u "
		 "flags=2 ttl=64", dir, ll_ip_str(src, s, sizeof(s)), ll_ip_str(dst, t, sizeof(t)),
		 sport, dport);
	return explain_hdr(d, hdr, by, bylen);
}

/* doctor_check_policy() - heartbeat and agent connections pass, both ways, per explain. */
void doctor_check_policy(struct doctor *d)
{
	const uint16_t hb = d->cfg->heartbeat_port, ag = d->cfg->agent_port;
	char by[4][32], a[64];
	ll_ip mgr, host;
	int ok[4];

	if (d->no_engine) { /* one cause, said once: by the control socket's line */
		doctor_line(d, DOC_WARN, "policy passes heartbeat", "not checked: %s", d->no_engine);
		return;
	}
	if (d->nmanagers)
		mgr = d->managers[0];
	else
		ll_ip_parse("203.0.113.10", &mgr); /* none configured: any address is a manager */
	host = host_addr(d, mgr);
	ok[0] = explain(d, "out", host, 40000, mgr, hb, by[0], sizeof(by[0]));
	ok[1] = explain(d, "in", mgr, hb, host, 40000, by[1], sizeof(by[1]));
	ok[2] = explain(d, "in", mgr, 40001, host, ag, by[2], sizeof(by[2]));
	ok[3] = explain(d, "out", host, ag, mgr, 40001, by[3], sizeof(by[3]));
	ll_ip_str(mgr, a, sizeof(a));
	if (ok[0] < 0 || ok[1] < 0 || ok[2] < 0 || ok[3] < 0)
		doctor_line(d, DOC_FAIL, "policy passes heartbeat", "cannot ask the engine: %s",
			    ctl_call_error(ok[0] < 0 ? ok[0] : ok[1] < 0 ? ok[1] : ok[2] < 0 ? ok[2]
										: ok[3]));
	else if (!ok[0] || !ok[1] || !ok[2] || !ok[3])
		doctor_line(d, DOC_FAIL, "policy passes heartbeat", "a heartbeat packet with %s is "
			    "dropped (out %s, in %s, agent in %s, out %s): check the config's "
			    "manager and ports; `lifelinectl explain` shows why", a, by[0], by[1],
			    by[2], by[3]);
	else
		doctor_line(d, DOC_OK, "policy passes heartbeat", "ports %u and %u with %s accepted "
			    "both ways (by %s)", hb, ag, a, by[0]);
}

/* Whether an interface holds an IPv6 address beyond loopback and link-local. */
static bool host_has_ipv6(void)
{
	struct ifaddrs *ifa, *i;
	bool any = false;
	ll_ip a;

	if (getifaddrs(&ifa) < 0)
		return true; /* unknown: ask the engine anyway */
	for (i = ifa; i && !any; i = i->ifa_next)
		any = i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
		      ll_ip_from_sockaddr(i->ifa_addr, &a) && !ll_ip_is_loopback(a) &&
		      !ll_ip_is_link_local(a);
	freeifaddrs(ifa);
	return any;
}

/*
 * doctor_check_mld() - the policy lets the router's MLD queries in and the
 * host's reports out. Not lifeline traffic (SPEC 5 names ND only), but
 * behind a switch doing MLD snooping a host that misses them stops getting
 * neighbour solicitations, and with them all IPv6, the heartbeat's too.
 */
void doctor_check_mld(struct doctor *d)
{
	char by[3][32];
	int ok[3];

	if (d->no_engine) {
		doctor_line(d, DOC_WARN, "policy passes MLD", "not checked: %s", d->no_engine);
		return;
	}
	if (!host_has_ipv6()) {
		doctor_line(d, DOC_OK, "policy passes MLD", "not needed: no IPv6 address beyond "
			    "link-local");
		return;
	}
	ok[0] = explain_hdr(d, "EXPLAIN dir=in proto=58 src=fe80::1 dst=ff02::1 type=130 code=0 "
			    "ttl=1", by[0], sizeof(by[0]));
	ok[1] = explain_hdr(d, "EXPLAIN dir=out proto=58 src=fe80::2 dst=ff02::16 type=143 "
			    "code=0 ttl=1", by[1], sizeof(by[1]));
	/* an MLDv1 querier gets version 1 reports */
	ok[2] = explain_hdr(d, "EXPLAIN dir=out proto=58 src=fe80::2 dst=ff02::1:ff00:2 type=131 "
			    "code=0 ttl=1", by[2], sizeof(by[2]));
	if (ok[1] > 0 && ok[2] == 0)
		ok[1] = 0, memcpy(by[1], by[2], sizeof(by[1]));
	if (ok[0] < 0 || ok[1] < 0 || ok[2] < 0)
		doctor_line(d, DOC_FAIL, "policy passes MLD", "cannot ask the engine: %s",
			    ctl_call_error(ok[0] < 0 ? ok[0] : ok[1] < 0 ? ok[1] : ok[2]));
	else if (!ok[0] || !ok[1])
		doctor_line(d, DOC_WARN, "policy passes MLD", "the policy drops %s%s%s (by %s): "
			    "behind a switch doing MLD snooping the host then stops getting neighbour "
			    "solicitations, and IPv6 to it fails; allow `in icmp6 type "
			    "mld-listener-query`, `out icmp6 type mld-listener-report` and "
			    "`out icmp6 type mld2-listener-report`",
			    ok[0] ? "" : "the router's MLD queries", !ok[0] && !ok[1] ? " and " : "",
			    ok[1] ? "" : "the host's MLD reports", ok[0] ? by[1] : by[0]);
	else
		doctor_line(d, DOC_OK, "policy passes MLD", "queries in and reports out accepted "
			    "(by %s)", by[0]);
}

static void cert_line(struct doctor *d, const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	struct tm tm;
	char until[32] = "?";

	if (f)
		fclose(f);
	if (!x) {
		doctor_line(d, DOC_FAIL, "clock vs tls-cert", "%s: %s", path,
			    f ? "not a PEM certificate" : strerror(errno));
		return;
	}
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		doctor_line(d, DOC_FAIL, "clock vs tls-cert", "%s is not valid yet: the clock is "
			    "behind? set it (chronyc makestep, timedatectl)", path);
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		doctor_line(d, DOC_FAIL, "clock vs tls-cert", "%s expired %s: renew it, or the "
			    "clock is ahead", path, until);
	else
		doctor_line(d, DOC_OK, "clock vs tls-cert", "%s valid until %s", path, until);
	X509_free(x);
}

/* doctor_check_certs() - the clock lies within every tls-cert's validity. */
void doctor_check_certs(struct doctor *d)
{
	if (!d->cfg->ntls_certs)
		doctor_line(d, DOC_OK, "clock vs tls-cert", "no tls-cert in the config");
	for (uint32_t i = 0; i < d->cfg->ntls_certs; i++)
		cert_line(d, d->cfg->tls_certs[i]);
}
