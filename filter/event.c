/* event.c - the event log: EVE-named JSON lines, one write() each, rate-limited per rule. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>

#include "event.h"
#include "pipeline.h"

#define EV_BUCKETS 1024 /* power of two */
#define EV_PROBES 8

/* A token bucket for one (event type, rule id); tokens scaled by 1e6. */
struct ev_bucket {
	bool used;
	uint8_t type;
	uint32_t rule;
	uint64_t tokens_u;  /* micro-tokens */
	uint64_t last_us;
	uint64_t suppressed;
};

struct ev_log {
	pthread_mutex_t lock; /* guards fd (reopen) and the buckets */
	int fd;
	char *path;
	bool partial;  /* the last write cut a line: the next one starts a new line */
	_Atomic uint64_t lost; /* lines not written (full disk, a pipe nobody empties) */
	uint32_t per_sec, burst;
	struct ev_bucket b[EV_BUCKETS];
};

static const char *const type_names[EV__COUNT] = {
	[EV_DROP] = "drop",	    [EV_ALERT] = "alert",	  [EV_LOG] = "log",
	[EV_LIFELINE] = "lifeline", [EV_POLICY] = "policy",	  [EV_HEARTBEAT] = "heartbeat",
	[EV_READY] = "ready",
};

const char *event_type_name(enum ev_type t)
{
	return (unsigned)t < EV__COUNT ? type_names[t] : "unknown";
}

/* The names Suricata prints in "proto"; others go out as a number. */
const char *event_proto_name(uint8_t proto)
{
	switch (proto) {
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 41: return "IPv6";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "IPv6-ICMP";
	case 89: return "OSPF";
	case 103: return "PIM";
	case 132: return "SCTP";
	}
	return NULL;
}

void event_tuple_from_pkt(struct ev_tuple *t, const struct pkt *p)
{
	memset(t, 0, sizeof(*t));
	t->family = p->family;
	t->proto = p->proto;
	t->src = p->src;
	t->dst = p->dst;
	if ((p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_ || p->proto == 132) && p->l4_ok) {
		t->has_ports = true; /* SCTP's too, as EVE and Community ID have them */
		t->sport = p->sport;
		t->dport = p->dport;
	}
	if ((p->proto == IPPROTO_ICMP_ || p->proto == IPPROTO_ICMPV6_) && p->l4_ok) {
		t->has_icmp = true;
		t->icmp_type = p->icmp_type;
		t->icmp_code = p->icmp_code;
	}
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Output cursor with snprintf semantics: counts what it could not write. */
struct sbuf {
	char *p;
	size_t len, used;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->used < b->len) {
		size_t room = b->len - b->used - 1;
		memcpy(b->p + b->used, s, n < room ? n : room);
	}
	b->used += n;
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void sb_end(struct sbuf *b)
{
	if (b->len)
		b->p[b->used < b->len ? b->used : b->len - 1] = '\0';
}

static void escape_into(struct sbuf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];

	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(s + i, len - i);

		if (n == 0) {
			sb_put(b, "\\ufffd", 6);
			i++;
			continue;
		}
		if (n > 1 || (s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && s[i] != 0x7f)) {
			sb_put(b, (const char *)s + i, n);
		} else if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			sb_put(b, esc, 2);
		} else if (s[i] == '\n') {
			sb_put(b, "\\n", 2);
		} else if (s[i] == '\r') {
			sb_put(b, "\\r", 2);
		} else if (s[i] == '\t') {
			sb_put(b, "\\t", 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			sb_put(b, esc, 6);
		}
		i += n;
	}
}

size_t event_json_escape(char *out, size_t outlen, const char *s, size_t len)
{
	struct sbuf b = { out, outlen, 0 };

	escape_into(&b, s, len);
	sb_end(&b);
	return b.used;
}

void event_json_fputs(FILE *f, const char *s)
{
	char small[256], *big = NULL, *p = small;
	size_t len = strlen(s);
	size_t need = event_json_escape(small, sizeof(small), s, len);

	if (need >= sizeof(small)) {
		big = malloc(need + 1);
		if (!big)
			return;
		event_json_escape(big, need + 1, s, len);
		p = big;
	}
	fputc('"', f);
	fputs(p, f);
	fputc('"', f);
	free(big);
}

static void put_str(struct sbuf *b, const char *key, const char *val)
{
	sb_printf(b, ",\"%s\":\"", key);
	escape_into(b, val, strlen(val));
	sb_puts(b, "\"");
}

/* EVE's timestamp: local-time style with an offset; we always write UTC. */
static void put_ts(struct sbuf *b, uint64_t ts_us)
{
	time_t sec = (time_t)(ts_us / 1000000u);
	struct tm tm;
	char buf[40];

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_printf(b, "{\"timestamp\":\"%s.%06u+0000\"", buf, (unsigned)(ts_us % 1000000u));
}

static void put_tuple(struct sbuf *b, const struct ev_tuple *t)
{
	char a[64], cid[COMMUNITY_ID_LEN];
	const char *pn = event_proto_name(t->proto);

	put_str(b, "src_ip", ll_ip_str_family(t->src, t->family, a, sizeof(a)));
	if (t->has_ports)
		sb_printf(b, ",\"src_port\":%u", t->sport);
	put_str(b, "dest_ip", ll_ip_str_family(t->dst, t->family, a, sizeof(a)));
	if (t->has_ports)
		sb_printf(b, ",\"dest_port\":%u", t->dport);
	if (pn)
		put_str(b, "proto", pn);
	else
		sb_printf(b, ",\"proto\":\"%03u\"", t->proto);
	if (t->has_icmp)
		sb_printf(b, ",\"icmp_type\":%u,\"icmp_code\":%u", t->icmp_type, t->icmp_code);
	if (community_id_v1(t, 0, cid) == 0)
		put_str(b, "community_id", cid);
}

static void put_alert(struct sbuf *b, const struct event *ev)
{
	sb_printf(b, ",\"alert\":{\"action\":\"%s\",\"gid\":%" PRIu32
		     ",\"signature_id\":%" PRIu32 ",\"rev\":%" PRIu32,
		  ev->blocked ? "blocked" : "allowed", ev->gid ? ev->gid : 1, ev->sid, ev->rev);
	put_str(b, "signature", ev->signature ? ev->signature : "");
	if (ev->category)
		put_str(b, "category", ev->category);
	if (ev->severity)
		sb_printf(b, ",\"severity\":%u", ev->severity);
	sb_puts(b, "}");
}

size_t event_format(const struct event *ev, uint64_t suppressed, char *buf, size_t len)
{
	struct sbuf b = { buf, len, 0 };

	put_ts(&b, ev->ts_us ? ev->ts_us : ll_wall_us());
	if (ev->in_iface)
		put_str(&b, "in_iface", ev->in_iface);
	put_str(&b, "event_type", event_type_name(ev->type));
	if (ev->tuple.family == 4 || ev->tuple.family == 6)
		put_tuple(&b, &ev->tuple);
	if (ev->type == EV_ALERT || ev->sid)
		put_alert(&b, ev);
	if (ev->has_rule || ev->fw_action) {
		sb_puts(&b, ",\"firewall\":{");
		if (ev->has_rule)
			sb_printf(&b, "\"rule_id\":%" PRIu32 "%s", ev->rule_id,
				  ev->fw_action ? "," : "");
		if (ev->fw_action) {
			sb_puts(&b, "\"action\":\"");
			escape_into(&b, ev->fw_action, strlen(ev->fw_action));
			sb_puts(&b, "\"");
		}
		sb_puts(&b, "}");
	}
	if (ev->by)
		put_str(&b, "by", ev->by);
	if (ev->reason)
		put_str(&b, "reason", ev->reason);
	if (ev->message)
		put_str(&b, "message", ev->message);
	if (suppressed)
		sb_printf(&b, ",\"suppressed\":%" PRIu64, suppressed);
	sb_puts(&b, "}\n");
	sb_end(&b);
	return b.used;
}

/*
 * Non-blocking: a packet worker writes events, and a FIFO nobody reads (or
 * reads no more) must cost events, never the packet path, the control
 * socket or the stop. A FIFO without a reader fails the open (ENXIO).
 */
#define EV_OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* event_log_new() - see event.h. */
struct ev_log *event_log_new(const char *path, int *err)
{
	struct ev_log *log = calloc(1, sizeof(*log));

	*err = -ENOMEM;
	if (!log)
		return NULL;
	log->path = strdup(path);
	if (!log->path) {
		free(log);
		return NULL;
	}
	log->fd = open(path, EV_OPEN_FLAGS, 0640);
	*err = log->fd < 0 ? -errno : 0;
	log->per_sec = EV_RATE_PER_SEC;
	log->burst = EV_RATE_BURST;
	pthread_mutex_init(&log->lock, NULL);
	return log;
}

struct ev_log *event_log_open(const char *path)
{
	int err;
	struct ev_log *log = event_log_new(path, &err);

	if (log && err) {
		event_log_close(log);
		log = NULL;
	}
	if (err)
		errno = -err;
	return log;
}

int event_log_reopen(struct ev_log *log)
{
	int fd = open(log->path, EV_OPEN_FLAGS, 0640);
	int old;

	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&log->lock);
	old = log->fd;
	log->fd = fd;
	pthread_mutex_unlock(&log->lock);
	if (old >= 0)
		close(old);
	return 0;
}

uint64_t event_log_lost(const struct ev_log *log)
{
	return log ? atomic_load_explicit(&log->lost, memory_order_relaxed) : 0;
}

void event_log_close(struct ev_log *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	pthread_mutex_destroy(&log->lock);
	free(log->path);
	free(log);
}

void event_log_set_rate(struct ev_log *log, uint32_t per_sec, uint32_t burst)
{
	pthread_mutex_lock(&log->lock);
	log->per_sec = per_sec;
	log->burst = burst ? burst : 1;
	memset(log->b, 0, sizeof(log->b));
	pthread_mutex_unlock(&log->lock);
}

/* Find or make the bucket of (type, rule); evicts the stalest probe when full. */
static struct ev_bucket *bucket_get(struct ev_log *log, uint8_t type, uint32_t rule, uint64_t t)
{
	uint32_t h = (rule * 2654435761u) ^ type;
	struct ev_bucket *stale = NULL;

	for (uint32_t i = 0; i < EV_PROBES; i++) {
		struct ev_bucket *b = &log->b[(h + i) & (EV_BUCKETS - 1)];
		if (b->used && b->type == type && b->rule == rule)
			return b;
		if (!b->used || !stale || (stale->used && b->last_us < stale->last_us))
			stale = b;
		if (!b->used)
			break;
	}
	*stale = (struct ev_bucket){ .used = true, .type = type, .rule = rule,
				     .tokens_u = (uint64_t)log->burst * 1000000u, .last_us = t };
	return stale;
}

/* Take a token; false when the rule is over its rate. Caller holds the lock. */
static bool bucket_take(struct ev_log *log, struct ev_bucket *b, uint64_t t)
{
	uint64_t cap = (uint64_t)log->burst * 1000000u;

	if (t > b->last_us) {
		uint64_t dt = t - b->last_us;
		/* a long quiet spell fills the bucket; also keeps dt * rate from overflowing */
		if (dt >= cap / log->per_sec + 1)
			b->tokens_u = cap;
		else if (dt * log->per_sec >= cap - b->tokens_u)
			b->tokens_u = cap;
		else
			b->tokens_u += dt * log->per_sec;
	}
	b->last_us = t; /* a clock stepping back refills nothing */
	if (b->tokens_u < 1000000u)
		return false;
	b->tokens_u -= 1000000u;
	return true;
}

static int write_line(struct ev_log *log, const struct event *ev, uint64_t suppressed)
{
	char small[1024], *big = NULL, *p = small;
	size_t pre = log->partial ? 1 : 0; /* after a cut line, a newline first */
	size_t n = event_format(ev, suppressed, small, sizeof(small));
	ssize_t w;
	int rc = 0;

	if (n >= sizeof(small)) {
		big = malloc(n + 1);
		if (!big)
			return -ENOMEM;
		event_format(ev, suppressed, big, n + 1);
		p = big;
	}
	/* the newline first, so that a reader parses every later line */
	w = writev(log->fd, (struct iovec[]){ { "\n", 1 }, { p, n } } + 1 - pre, 1 + (int)pre);
	if (w < 0) { /* EAGAIN: a full pipe, not a rate limit */
		rc = errno == EAGAIN ? -ENOBUFS : -errno;
	} else if ((size_t)w != pre + n) { /* disk full: a line cut, or only the newline */
		rc = -EIO;
		log->partial = (size_t)w > pre || (pre && w == 0);
	} else {
		log->partial = false;
	}
	if (rc)
		atomic_fetch_add_explicit(&log->lost, 1, memory_order_relaxed);
	free(big);
	return rc;
}

int event_emit(struct ev_log *log, const struct event *ev)
{
	struct event e;
	uint64_t suppressed = 0;
	int rc;

	if (!log)
		return -EBADF;
	e = *ev;
	if (!e.ts_us)
		e.ts_us = ll_wall_us(); /* one clock for the line and its bucket */
	pthread_mutex_lock(&log->lock);
	if ((e.type == EV_DROP || e.type == EV_LOG) && log->per_sec) {
		/* firewall rules by id, IPS drops by sid: separate key spaces */
		uint8_t kind = (uint8_t)(e.type | (e.has_rule ? 0 : 0x80));
		struct ev_bucket *b = bucket_get(log, kind, e.has_rule ? e.rule_id : e.sid, e.ts_us);
		if (!bucket_take(log, b, e.ts_us)) {
			b->suppressed++;
			pthread_mutex_unlock(&log->lock);
			return -EAGAIN;
		}
		suppressed = b->suppressed;
		b->suppressed = 0;
	}
	rc = write_line(log, &e, suppressed);
	pthread_mutex_unlock(&log->lock);
	return rc;
}

/* Count a line written; keep the first real error. */
static void tally(int rc, int *n, int *err)
{
	if (rc == 0)
		(*n)++;
	else if (rc != -EAGAIN && !*err)
		*err = rc;
}

/*
 * alert.signature, gid, rev, severity and category of ev->sid, as the rule
 * says them; true when it is a drop or reject rule.
 */
static bool describe(struct event *ev, event_sig_fn sig, void *arg)
{
	struct ev_sig d = { 0 };

	if (!sig || !sig(arg, ev->sid, &d))
		return false;
	ev->signature = d.msg;
	ev->gid = d.gid;
	ev->rev = d.rev;
	ev->severity = d.severity;
	ev->category = d.category ? d.category : ""; /* Suricata always writes it */
	return d.blocks;
}

int event_emit_verdict(struct ev_log *log, const struct pkt *p, const struct verdict *v,
		       uint64_t ts_us, event_sig_fn sig, void *arg)
{
	struct event ev = { .ts_us = ts_us, .in_iface = p->ifname,
			    .by = ll_by_name((enum ll_by)v->by),
			    .reason = ll_reason_name((enum ll_reason)v->reason) };
	bool ips_drop = !v->accept && v->by == BY_IPS && v->has_rule;
	/* a flow an IPS rule ended: its later packets name the signature, not a firewall rule */
	bool ips_ended = v->by == BY_IPS || v->reason == R_IPS_DROP || v->reason == R_IPS_REJECT;
	int n = 0, err = 0;

	event_tuple_from_pkt(&ev.tuple, p);
	for (uint32_t i = 0; i < v->nalerts && i < IPS_MAX_ALERTS; i++) {
		struct event a = ev;

		a.type = EV_ALERT;
		a.sid = v->alerts[i];
		/*
		 * as Suricata's AlertJsonHeader(): the alert's own rule decides,
		 * so every drop or reject rule that matched a dropped packet
		 * says "blocked", not only the one the verdict names
		 */
		bool blocks = describe(&a, sig, arg);
		a.blocked = (ips_drop && v->rule == a.sid) || (!v->accept && blocks);
		tally(event_emit(log, &a), &n, &err);
	}
	for (uint32_t i = 0; i < v->nlogged && i < FW_MAX_LOGGED; i++) {
		struct event l = ev;

		l.type = EV_LOG;
		l.has_rule = true;
		l.rule_id = v->logged[i];
		l.fw_action = "log-only";
		tally(event_emit(log, &l), &n, &err);
	}
	if (!v->accept && !v->nolog) {
		ev.type = EV_DROP;
		if (ips_ended) {
			ev.sid = v->has_rule ? v->rule : 0;
			if (ev.sid)
				describe(&ev, sig, arg);
			ev.blocked = true;
		} else {
			ev.has_rule = v->has_rule;
			ev.rule_id = v->rule;
			ev.fw_action = ev.reason;
		}
		tally(event_emit(log, &ev), &n, &err);
	}
	return err ? err : n;
}
