/* config.c - read /etc/lifeline/lifeline.conf (SPEC section 3), every error reported. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "lifeline.h"

#define CFG_MAX_TOKENS 8
#define CFG_MAX_HOSTS 4096
#define CFG_MAX_CERTS 64
#define CFG_MAX_QUEUES 256

/*
 * The defaults of the path directives are string literals; config_free()
 * frees a path only when it is not one of these, so defaults need no
 * allocation and config_defaults() cannot fail.
 */
static const char dflt_state_dir[] = "/var/lib/lifeline";
static const char dflt_control_socket[] = "/run/lifeline/control.sock";
static const char dflt_event_log[] = "/var/log/lifeline/events.json";

struct tok {
	const char *s;
	uint32_t col;
};

/* One line being read: where it is, its tokens, and where errors go. */
struct cfg_line {
	struct srcloc loc;
	struct tok t[CFG_MAX_TOKENS];
	int n;
	struct ll_errlist *errs;
	int nerr;
};

struct directive {
	const char *name;
	int (*set)(struct config *c, struct cfg_line *ln, const char *v);
	bool repeatable;
};

/*
 * Error records point at their file name for as long as the caller keeps
 * them, which may be after config_free(); names are therefore interned for
 * the life of the process (a handful of config paths at most).
 */
static const char *intern_name(const char *name)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct interned {
		struct interned *next;
		char name[];
	} *head;
	struct interned *it;
	const char *ret = "config";
	size_t len = strlen(name);

	pthread_mutex_lock(&lock);
	for (it = head; it; it = it->next)
		if (!strcmp(it->name, name))
			break;
	if (!it) {
		it = malloc(sizeof(*it) + len + 1);
		if (it) {
			memcpy(it->name, name, len + 1);
			it->next = head;
			head = it;
		}
	}
	if (it)
		ret = it->name;
	pthread_mutex_unlock(&lock);
	return ret;
}

/* Report a bad token of the current line; always "message 'token'". */
static int bad(struct cfg_line *ln, const struct tok *t, const char *msg)
{
	struct srcloc loc = ln->loc;

	loc.col = t->col;
	ll_err_add(ln->errs, &loc, "%s '%s'", msg, t->s);
	ln->nerr++;
	return -EINVAL;
}

/* Strict decimal: digits only, no sign, no spaces; -EINVAL or -ERANGE. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct tok *value_tok(struct cfg_line *ln)
{
	return &ln->t[1];
}

static int set_port(struct cfg_line *ln, const char *v, uint16_t *out)
{
	uint64_t n;

	if (parse_u64(v, 1, 65535, &n))
		return bad(ln, value_tok(ln), "invalid port (expected 1-65535)");
	*out = (uint16_t)n;
	return 0;
}

static int set_hb_port(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_port(ln, v, &c->heartbeat_port);
}

static int set_agent_port(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_port(ln, v, &c->agent_port);
}

static int set_u32(struct cfg_line *ln, const char *v, uint32_t lo, uint32_t hi,
		   const char *what, uint32_t *out)
{
	uint64_t n;
	char msg[96];

	if (parse_u64(v, lo, hi, &n)) {
		snprintf(msg, sizeof(msg), "invalid %s (expected %u-%u)", what, lo, hi);
		return bad(ln, value_tok(ln), msg);
	}
	*out = (uint32_t)n;
	return 0;
}

static int set_interval(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_u32(ln, v, 1, 86400, "heartbeat interval in seconds", &c->heartbeat_interval);
}

static int set_missed(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_u32(ln, v, 1, 1000, "missed-heartbeat count", &c->missed_heartbeats);
}

static int set_max_flows(struct config *c, struct cfg_line *ln, const char *v)
{
	uint64_t n;

	if (parse_u64(v, 1, 100000000, &n))
		return bad(ln, value_tok(ln), "invalid flow count (expected 1-100000000)");
	c->max_flows = n;
	return 0;
}

static int set_stream_depth(struct config *c, struct cfg_line *ln, const char *v)
{
	uint64_t n;

	if (parse_u64(v, 1, 1ULL << 30, &n))
		return bad(ln, value_tok(ln), "invalid stream depth in bytes (expected 1-1073741824)");
	c->stream_depth = n;
	return 0;
}

static int parse_bool(struct cfg_line *ln, const char *v, bool *out)
{
	if (!strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "no"))
		*out = false;
	else
		return bad(ln, value_tok(ln), "expected yes or no, got");
	return 0;
}

static int set_fail_open(struct config *c, struct cfg_line *ln, const char *v)
{
	return parse_bool(ln, v, &c->fail_open);
}

static int set_offload(struct config *c, struct cfg_line *ln, const char *v)
{
	return parse_bool(ln, v, &c->offload);
}

static int set_sanity(struct config *c, struct cfg_line *ln, const char *v)
{
	if (!strcmp(v, "drop"))
		c->sanity_accept = false;
	else if (!strcmp(v, "accept"))
		c->sanity_accept = true;
	else
		return bad(ln, value_tok(ln), "expected drop or accept, got");
	return 0;
}

/* `queues N` or `queues N-M`, 0..65535, at most CFG_MAX_QUEUES of them. */
static int set_queues(struct config *c, struct cfg_line *ln, const char *v)
{
	char lo_s[16], hi_s[16];
	const char *dash = strchr(v, '-');
	uint64_t lo, hi;
	size_t l;

	if (!dash) {
		if (parse_u64(v, 0, 65535, &lo))
			return bad(ln, value_tok(ln), "invalid queue number (expected 0-65535)");
		c->queue_lo = c->queue_hi = (uint16_t)lo;
		return 0;
	}
	l = (size_t)(dash - v);
	if (l >= sizeof(lo_s) || strlen(dash + 1) >= sizeof(hi_s))
		return bad(ln, value_tok(ln), "invalid queue range");
	memcpy(lo_s, v, l);
	lo_s[l] = '\0';
	strcpy(hi_s, dash + 1);
	if (parse_u64(lo_s, 0, 65535, &lo) || parse_u64(hi_s, 0, 65535, &hi))
		return bad(ln, value_tok(ln), "invalid queue range (expected N-M, 0-65535)");
	if (lo > hi)
		return bad(ln, value_tok(ln), "queue range start is above its end");
	if (hi - lo + 1 > CFG_MAX_QUEUES)
		return bad(ln, value_tok(ln), "too many queues (at most 256)");
	c->queue_lo = (uint16_t)lo;
	c->queue_hi = (uint16_t)hi;
	return 0;
}

/* Looks like a dotted-quad attempt (digits and dots only), so not a name. */
static bool all_digits_dots(const char *s)
{
	for (; *s; s++)
		if (*s != '.' && (*s < '0' || *s > '9'))
			return false;
	return true;
}

/* RFC 1123 host name: labels of 1-63 [A-Za-z0-9-], no leading/trailing '-'. */
static bool valid_hostname(const char *s)
{
	size_t len = strlen(s), lab = 0;

	if (len == 0 || len > 253 || all_digits_dots(s))
		return false;
	if (s[len - 1] == '.')
		len--; /* a fully qualified name may end in a dot */
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '-';
		if (!ok || (lab == 0 && ch == '-') || ++lab > 63)
			return false;
	}
	return lab > 0 && s[len - 1] != '-';
}

static int set_manager(struct config *c, struct cfg_line *ln, const char *v)
{
	struct cfg_manager m = { 0 };
	struct cfg_manager *nv;

	if (ll_ip_parse(v, &m.addr) == 0)
		m.is_literal = true;
	else if (strchr(v, ':') || !valid_hostname(v))
		return bad(ln, value_tok(ln), "invalid manager address or host name");
	for (uint32_t i = 0; i < c->nmanagers; i++)
		if (!strcmp(c->managers[i].name, v) ||
		    (m.is_literal && c->managers[i].is_literal &&
		     ll_ip_eq(c->managers[i].addr, m.addr)))
			return bad(ln, value_tok(ln), "duplicate manager");
	if (c->nmanagers >= LIFELINE_MAX_MANAGERS)
		return bad(ln, value_tok(ln), "too many managers (at most 64)");
	m.name = strdup(v);
	nv = realloc(c->managers, (c->nmanagers + 1) * sizeof(*nv));
	if (!m.name || !nv) {
		free(m.name);
		if (nv)
			c->managers = nv;
		return -ENOMEM;
	}
	c->managers = nv;
	c->managers[c->nmanagers++] = m;
	return 0;
}

static int set_dns(struct config *c, struct cfg_line *ln, const char *v)
{
	ll_ip a;
	ll_ip *nv;

	if (ll_ip_parse(v, &a))
		return bad(ln, value_tok(ln), "invalid DNS server address");
	for (uint32_t i = 0; i < c->ndns_servers; i++)
		if (ll_ip_eq(c->dns_servers[i], a))
			return bad(ln, value_tok(ln), "duplicate dns-server");
	if (c->ndns_servers >= LIFELINE_MAX_DNS)
		return bad(ln, value_tok(ln), "too many dns-server lines (at most 64)");
	nv = realloc(c->dns_servers, (c->ndns_servers + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->dns_servers = nv;
	c->dns_servers[c->ndns_servers++] = a;
	return 0;
}

/* The range a prefix covers; IPv4 prefixes count within the v4-mapped space. */
static struct ip_range prefix_range(ll_ip a, unsigned bits)
{
	struct ip_range r;
	uint64_t mhi, mlo;

	if (bits == 0) {
		mhi = 0;
		mlo = 0;
	} else if (bits <= 64) {
		mhi = bits == 64 ? ~0ULL : ~(~0ULL >> bits);
		mlo = 0;
	} else {
		mhi = ~0ULL;
		mlo = bits == 128 ? ~0ULL : ~(~0ULL >> (bits - 64));
	}
	r.lo.hi = a.hi & mhi;
	r.lo.lo = a.lo & mlo;
	r.hi.hi = a.hi | ~mhi;
	r.hi.lo = a.lo | ~mlo;
	return r;
}

static int parse_cidr(const char *v, struct ip_range *out)
{
	char buf[64];
	const char *slash = strchr(v, '/');
	uint64_t bits;
	ll_ip a;

	if (!slash) {
		if (ll_ip_parse(v, &a))
			return -EINVAL;
		out->lo = out->hi = a;
		return 0;
	}
	if ((size_t)(slash - v) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, (size_t)(slash - v));
	buf[slash - v] = '\0';
	if (ll_ip_parse(buf, &a))
		return -EINVAL;
	if (parse_u64(slash + 1, 0, ll_ip_is_v4(a) ? 32 : 128, &bits))
		return -ERANGE;
	*out = prefix_range(a, (unsigned)bits + (ll_ip_is_v4(a) ? 96 : 0));
	return 0;
}

static int set_host(struct config *c, struct cfg_line *ln, const char *v)
{
	struct ip_range r, *nv;
	int rc = parse_cidr(v, &r);

	if (rc == -ERANGE)
		return bad(ln, value_tok(ln), "invalid prefix length");
	if (rc)
		return bad(ln, value_tok(ln), "invalid host address or CIDR");
	if (c->nhosts >= CFG_MAX_HOSTS)
		return bad(ln, value_tok(ln), "too many host lines (at most 4096)");
	nv = realloc(c->hosts, (c->nhosts + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->hosts = nv;
	c->hosts[c->nhosts++] = r;
	return 0;
}

static int check_path(struct cfg_line *ln, const char *v, size_t max)
{
	if (v[0] != '/')
		return bad(ln, value_tok(ln), "path must be absolute");
	if (strlen(v) >= max)
		return bad(ln, value_tok(ln), "path too long");
	return 0;
}

static int set_path(struct cfg_line *ln, const char *v, char **field, const char *dflt,
		    size_t max)
{
	char *s;

	if (check_path(ln, v, max))
		return -EINVAL;
	s = strdup(v);
	if (!s)
		return -ENOMEM;
	if (*field != dflt)
		free(*field);
	*field = s;
	return 0;
}

static int set_state_dir(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_path(ln, v, &c->state_dir, dflt_state_dir, PATH_MAX);
}

/* A socket path must fit sockaddr_un.sun_path, or bind() fails later. */
static int set_control_socket(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_path(ln, v, &c->control_socket, dflt_control_socket,
			sizeof(((struct sockaddr_un *)0)->sun_path));
}

static int set_event_log(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_path(ln, v, &c->event_log, dflt_event_log, PATH_MAX);
}

static int set_trusted_key(struct config *c, struct cfg_line *ln, const char *v)
{
	return set_path(ln, v, &c->trusted_key, NULL, PATH_MAX);
}

static int set_tls_cert(struct config *c, struct cfg_line *ln, const char *v)
{
	char **nv, *s;

	if (check_path(ln, v, PATH_MAX))
		return -EINVAL;
	if (c->ntls_certs >= CFG_MAX_CERTS)
		return bad(ln, value_tok(ln), "too many tls-cert lines (at most 64)");
	nv = realloc(c->tls_certs, (c->ntls_certs + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->tls_certs = nv;
	s = strdup(v);
	if (!s)
		return -ENOMEM;
	c->tls_certs[c->ntls_certs++] = s;
	return 0;
}

static const struct directive directives[] = {
	{ "manager", set_manager, true },
	{ "heartbeat-port", set_hb_port, false },
	{ "agent-port", set_agent_port, false },
	{ "heartbeat-interval", set_interval, false },
	{ "missed-heartbeats", set_missed, false },
	{ "dns-server", set_dns, true },
	{ "host", set_host, true },
	{ "queues", set_queues, false },
	{ "fail-open", set_fail_open, false },
	{ "sanity-failure", set_sanity, false },
	{ "offload", set_offload, false },
	{ "max-flows", set_max_flows, false },
	{ "stream-depth", set_stream_depth, false },
	{ "state-dir", set_state_dir, false },
	{ "control-socket", set_control_socket, false },
	{ "event-log", set_event_log, false },
	{ "trusted-key", set_trusted_key, false },
	{ "tls-cert", set_tls_cert, true },
};

#define NDIRECTIVES LL_ARRAY_SIZE(directives)

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->heartbeat_port = 4120;
	c->agent_port = 4118;
	c->heartbeat_interval = 60;
	c->missed_heartbeats = 2;
	c->fail_open = true;
	c->sanity_accept = false;
	c->offload = true;
	c->max_flows = 1000000;
	c->stream_depth = 1 << 20;
	c->state_dir = (char *)dflt_state_dir;
	c->control_socket = (char *)dflt_control_socket;
	c->event_log = (char *)dflt_event_log;
}

/*
 * Split a line (modified in place) into tokens, dropping a `#` comment.
 * Columns are 1-based byte offsets. Returns the token count, at most @max:
 * a directive takes one value, so the third token is already an error.
 */
static int tokenize(char *s, struct tok *t, int max)
{
	int n = 0;
	char *p = s;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (!*p || *p == '#') {
			*p = '\0';
			return n;
		}
		if (n == max)
			return n;
		t[n].s = p;
		t[n].col = (uint32_t)(p - s) + 1;
		n++;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return n;
		}
	}
}

static int do_line(struct config *c, struct cfg_line *ln, uint32_t *first_line)
{
	size_t i;
	char msg[96];

	for (i = 0; i < NDIRECTIVES; i++)
		if (!strcmp(ln->t[0].s, directives[i].name))
			break;
	if (i == NDIRECTIVES)
		return bad(ln, &ln->t[0], "unknown directive");
	if (ln->n < 2)
		return bad(ln, &ln->t[0], "missing value for");
	if (ln->n > 2)
		return bad(ln, &ln->t[2], "unexpected extra value");
	if (!directives[i].repeatable && first_line[i]) {
		snprintf(msg, sizeof(msg), "directive given twice (first on line %u)",
			 first_line[i]);
		return bad(ln, &ln->t[0], msg);
	}
	if (!first_line[i])
		first_line[i] = ln->loc.line;
	return directives[i].set(c, ln, ln->t[1].s);
}

/* Read every line of @text (NUL-terminated, modified in place). */
static int parse_text(struct config *c, const char *file, char *text, struct ll_errlist *errs)
{
	struct cfg_line ln = { .loc = { file, 0, 0 }, .errs = errs };
	uint32_t first_line[NDIRECTIVES] = { 0 };
	char *p = text;
	int oom = 0;

	while (*p) {
		char *eol = strchr(p, '\n');
		char *next = eol ? eol + 1 : p + strlen(p);

		if (eol)
			*eol = '\0';
		ln.loc.line++;
		ln.n = tokenize(p, ln.t, CFG_MAX_TOKENS);
		if (ln.n > 0 && do_line(c, &ln, first_line) == -ENOMEM)
			oom = 1;
		p = next;
	}
	if (oom)
		return -ENOMEM;
	return ln.nerr ? -EINVAL : 0;
}

int config_load_string(struct config *c, const char *name, const char *text,
		       struct ll_errlist *errs)
{
	const char *file = intern_name(name ? name : "config");
	char *copy;
	int rc;

	config_defaults(c);
	c->path = strdup(file);
	copy = strdup(text);
	if (!c->path || !copy) {
		free(copy);
		ll_err_add(errs, &(struct srcloc){ file, 0, 0 }, "out of memory");
		return -ENOMEM;
	}
	rc = parse_text(c, file, copy, errs);
	free(copy);
	return rc;
}

/* Read a whole file into a NUL-terminated buffer; embedded NULs are an error. */
static int slurp(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if (!f)
		return -errno;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > (1 << 20)) {
			rc = -EFBIG;
			goto out;
		}
	} while (n > 0);
	if (ferror(f))
		rc = -EIO;
	else if (memchr(buf, '\0', len))
		rc = -EBADMSG;
	buf[len] = '\0';
out:
	fclose(f);
	if (rc)
		free(buf);
	else
		*out = buf;
	return rc;
}

int config_load(struct config *c, const char *path, bool missing_ok, struct ll_errlist *errs)
{
	const char *file = intern_name(path);
	char *text = NULL;
	int rc;

	config_defaults(c);
	rc = slurp(path, &text);
	if (rc == -ENOENT && missing_ok)
		return 0;
	if (rc) {
		ll_err_add(errs, &(struct srcloc){ file, 0, 0 }, "cannot read config: %s",
			   rc == -EBADMSG ? "contains a NUL byte" : strerror(-rc));
		return rc == -EBADMSG ? -EINVAL : rc;
	}
	rc = config_load_string(c, path, text, errs);
	free(text);
	return rc;
}

static void free_path(char *p, const char *dflt)
{
	if (p != dflt)
		free(p);
}

void config_free(struct config *c)
{
	for (uint32_t i = 0; i < c->nmanagers; i++)
		free(c->managers[i].name);
	free(c->managers);
	free(c->dns_servers);
	free(c->hosts);
	free_path(c->state_dir, dflt_state_dir);
	free_path(c->control_socket, dflt_control_socket);
	free_path(c->event_log, dflt_event_log);
	free(c->trusted_key);
	for (uint32_t i = 0; i < c->ntls_certs; i++)
		free(c->tls_certs[i]);
	free(c->tls_certs);
	free(c->path);
	config_defaults(c);
}
