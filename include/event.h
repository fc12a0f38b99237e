/*
 * event.h - the event log (SPEC section 6): JSON lines with Suricata EVE
 * field names, Community ID v1, per-rule rate limiting of drop/log events.
 */
#ifndef LL_EVENT_H
#define LL_EVENT_H

#include <stdio.h>

#include "ll.h"
#include "pkt.h"

enum ev_type {
	EV_DROP,      /* a firewall deny (or IPS drop) dropped a packet */
	EV_ALERT,     /* an IPS rule alerted (alert.action allowed|blocked) */
	EV_LOG,       /* a log-only rule matched */
	EV_LIFELINE,  /* lifeline state: DNS servers learned, manager re-resolved, ... */
	EV_POLICY,    /* policy loaded, rolled back, reset */
	EV_HEARTBEAT, /* heartbeat seen / missed */
	EV_READY,     /* the engine is ready */
	EV__COUNT
};

/* The flow tuple of an event; family 0: the event has none. */
struct ev_tuple {
	uint8_t family;    /* 4, 6, or 0 */
	uint8_t proto;
	bool has_ports;    /* TCP/UDP with ports known */
	bool has_icmp;     /* ICMP/ICMPv6 with type and code known */
	ll_ip src, dst;
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;
};

/*
 * struct event - what one line says. Every pointer may be NULL and every
 * field left zero when it does not apply; it is then left out of the line.
 */
struct event {
	enum ev_type type;
	uint64_t ts_us;           /* Unix time in microseconds; 0: now */
	struct ev_tuple tuple;
	const char *in_iface;
	const char *by, *reason;  /* the verdict's by/reason names (reason.h) */
	/* firewall.*: drop and log events */
	bool has_rule;
	uint32_t rule_id;
	const char *fw_action;    /* "deny", "log-only", ... */
	/* alert.*: IPS events */
	uint32_t sid, gid, rev;
	const char *signature;
	const char *category;
	uint8_t severity;         /* 0: not given */
	bool blocked;             /* alert.action: blocked (drop/reject) or allowed */
	const char *message;      /* free-form text (policy, lifeline, heartbeat) */
};

/* Default rate limit of drop and log events, per (event type, rule id). */
#define EV_RATE_PER_SEC 10
#define EV_RATE_BURST 50

struct ev_log;

/*
 * event_log_open() - open (create, mode 0640) @path for appending. Returns
 * the log or NULL with errno set. Thread-safe to use from every worker.
 */
struct ev_log *event_log_open(const char *path);
/*
 * event_log_new() - event_log_open() that keeps the log when @path does not
 * open (*@err: -errno, else 0): its events are lost (counted) until
 * event_log_reopen() opens it (a FIFO's reader came, the directory is back).
 * NULL only without memory.
 */
struct ev_log *event_log_new(const char *path, int *err);
/*
 * event_log_reopen() - reopen the same path (SIGHUP after rotation). On
 * failure the old file stays in use and -errno is returned.
 */
int event_log_reopen(struct ev_log *log);
void event_log_close(struct ev_log *log);
/* event_log_lost() - lines that could not be written (disk full, a full pipe); 0 without a log. */
uint64_t event_log_lost(const struct ev_log *log);
/*
 * event_log_set_rate() - drop/log events per second and burst allowed per
 * rule (token bucket); @per_sec 0 disables the limit.
 */
void event_log_set_rate(struct ev_log *log, uint32_t per_sec, uint32_t burst);

/*
 * event_emit() - write @ev as one line with one write() (O_APPEND, so lines
 * from threads and processes never interleave). Returns 0 when written,
 * -EAGAIN when rate-limited (the count of suppressed events goes out with
 * the rule's next line as "suppressed"), -EBADF when @log is NULL (no event
 * log, as in replay), or -errno.
 */
int event_emit(struct ev_log *log, const struct event *ev);

struct verdict;
/* What an alert says of its rule, from the running rule set. */
struct ev_sig {
	const char *msg;
	uint32_t gid, rev;
	uint8_t severity;     /* ips_rule_info()'s; 0: not known */
	const char *category; /* the classtype's description; NULL: none */
	bool blocks;          /* a drop or reject rule */
};
/* Fills @out for the IPS rule with @sid; false when there is none. */
typedef bool (*event_sig_fn)(void *arg, uint32_t sid, struct ev_sig *out);

/*
 * event_emit_verdict() - the events one judged packet makes: a drop event
 * when it was dropped (not for a `nolog` deny), a log event per log-only
 * rule, an alert per IPS sid (alert.action "blocked" for the sid that
 * dropped it and, on a dropped packet, every other drop or reject rule).
 * @sig/@arg look up signatures (may be NULL). Returns the number of lines
 * written (rate-limited ones are not errors) or the first -errno.
 */
int event_emit_verdict(struct ev_log *log, const struct pkt *p, const struct verdict *v,
		       uint64_t ts_us, event_sig_fn sig, void *arg);

/*
 * event_format() - @ev's JSON line (with "\n") into @buf, snprintf-style:
 * returns the length it needs, writes at most @len bytes with a NUL.
 * @suppressed > 0 adds "suppressed". Pure; tests and tools use it.
 */
size_t event_format(const struct event *ev, uint64_t suppressed, char *buf, size_t len);

/* event_tuple_from_pkt() - the tuple of a parsed packet. */
void event_tuple_from_pkt(struct ev_tuple *t, const struct pkt *p);

const char *event_type_name(enum ev_type t);
/* EVE's protocol name: "TCP", "UDP", "ICMP", "IPv6-ICMP", ..., else NULL. */
const char *event_proto_name(uint8_t proto);

/*
 * event_json_escape() - the JSON string body (no quotes) for @len bytes of
 * @s: quotes, backslashes and control characters escaped, invalid UTF-8
 * replaced by \ufffd, so the output is always valid JSON. snprintf-style:
 * returns the length needed, writes at most @outlen bytes with a NUL.
 */
size_t event_json_escape(char *out, size_t outlen, const char *s, size_t len);
/* event_json_fputs() - @s as a quoted JSON string to @f. */
void event_json_fputs(FILE *f, const char *s);

/* "1:" + 28 base64 characters + NUL */
#define COMMUNITY_ID_LEN 32
/*
 * community_id_v1() - the Community ID (v1, SHA-1, base64) of @t with
 * @seed (0 by default) into @out. ICMP type/code map to ports as Zeek does.
 * Returns 0, or -EINVAL when @t has no family (or a port protocol without
 * ports), -EIO when the digest fails.
 */
int community_id_v1(const struct ev_tuple *t, uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif
