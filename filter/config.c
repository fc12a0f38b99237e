/* config.c - read /etc/lifeline/lifeline.conf (SPEC section 3), every error reported. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "policy.h"
#include "lifeline.h"

#define CFG_MAX_TOKENS 8
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

/* Most directives are a typed field with bounds; the rest have a setter. */
enum dkind { D_PORT, D_U32, D_U64, D_BOOL, D_PATH, D_FUNC };

struct directive {
	const char *name;
	enum dkind kind;
	bool repeatable;
	size_t off;       /* the field, for the typed kinds */
	uint64_t lo, hi;  /* number bounds; D_PATH: hi is the size limit */
	const char *what; /* what a number counts, for its error */
	const char *dflt; /* D_PATH: the default, a literal that is never freed */
	int (*set)(struct config *c, struct cfg_line *ln, const char *v);
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

static int kernel_feature(struct cfg_line *ln, const char *v, uint8_t *f)
{
	if (!strcmp(v, "auto"))
		*f = CFG_KERNEL_AUTO;
	else if (!strcmp(v, "yes"))
		*f = CFG_KERNEL_YES;
	else if (!strcmp(v, "no"))
		*f = CFG_KERNEL_NO;
	else
		return bad(ln, value_tok(ln), "expected auto, yes or no, got");
	return 0;
}

static int set_kernel_tcp_ao(struct config *c, struct cfg_line *ln, const char *v)
{
	return kernel_feature(ln, v, &c->kernel_tcp_ao);
}

static int set_kernel_mip6(struct config *c, struct cfg_line *ln, const char *v)
{
	return kernel_feature(ln, v, &c->kernel_mip6);
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

static int set_host(struct config *c, struct cfg_line *ln, const char *v)
{
	struct ip_range r, *nv;
	int rc = ll_prefix_parse(v, &r);

	if (rc == -ERANGE)
		return bad(ln, value_tok(ln), "invalid prefix length");
	if (rc)
		return bad(ln, value_tok(ln), "invalid host address or CIDR");
	if (c->nhosts >= CONFIG_MAX_HOSTS)
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

#define FIELD(f) offsetof(struct config, f)
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)
#define NUM(n, k, f, l, h, w) { .name = n, .kind = k, .off = FIELD(f), .lo = l, .hi = h, .what = w }
#define BOOLEAN(n, f) { .name = n, .kind = D_BOOL, .off = FIELD(f) }
#define PATH(n, f, max, d) { .name = n, .kind = D_PATH, .off = FIELD(f), .hi = max, .dflt = d }
#define FUNC(n, rep, fn) { .name = n, .kind = D_FUNC, .repeatable = rep, .set = fn }

static const struct directive directives[] = {
	FUNC("manager", true, set_manager),
	NUM("heartbeat-port", D_PORT, heartbeat_port, 1, 65535, "port"),
	NUM("agent-port", D_PORT, agent_port, 1, 65535, "port"),
	NUM("heartbeat-interval", D_U32, heartbeat_interval, 1, 86400,
	    "heartbeat interval in seconds"),
	NUM("missed-heartbeats", D_U32, missed_heartbeats, 1, 1000, "missed-heartbeat count"),
	FUNC("dns-server", true, set_dns),
	FUNC("host", true, set_host),
	FUNC("queues", false, set_queues),
	BOOLEAN("fail-open", fail_open),
	FUNC("sanity-failure", false, set_sanity),
	BOOLEAN("offload", offload),
	NUM("max-flows", D_U64, max_flows, 1, 100000000, "flow count"),
	NUM("stream-depth", D_U64, stream_depth, 1, 1 << 30, "stream depth in bytes"),
	FUNC("kernel-tcp-ao", false, set_kernel_tcp_ao),
	FUNC("kernel-mip6", false, set_kernel_mip6),
	PATH("state-dir", state_dir, PATH_MAX, dflt_state_dir),
	/* a socket path must fit sockaddr_un.sun_path, or bind() fails later */
	PATH("control-socket", control_socket, SUN_PATH_SIZE, dflt_control_socket),
	PATH("event-log", event_log, PATH_MAX, dflt_event_log),
	PATH("trusted-key", trusted_key, PATH_MAX, NULL),
	FUNC("tls-cert", true, set_tls_cert),
};

#define NDIRECTIVES LL_ARRAY_SIZE(directives)

static int set_number(struct config *c, struct cfg_line *ln, const struct directive *d,
		      const char *v)
{
	void *field = (char *)c + d->off;
	char msg[96];
	uint64_t n;

	if (parse_u64(v, d->lo, d->hi, &n)) {
		snprintf(msg, sizeof(msg), "invalid %s (expected %" PRIu64 "-%" PRIu64 ")",
			 d->what, d->lo, d->hi);
		return bad(ln, value_tok(ln), msg);
	}
	if (d->kind == D_PORT)
		*(uint16_t *)field = (uint16_t)n;
	else if (d->kind == D_U32)
		*(uint32_t *)field = (uint32_t)n;
	else
		*(uint64_t *)field = n;
	return 0;
}

static int set_path(struct config *c, struct cfg_line *ln, const struct directive *d,
		    const char *v)
{
	char **field = (char **)((char *)c + d->off);
	char *s;

	if (check_path(ln, v, d->hi))
		return -EINVAL;
	s = strdup(v);
	if (!s)
		return -ENOMEM;
	if (*field != d->dflt)
		free(*field);
	*field = s;
	return 0;
}

static int set_value(struct config *c, struct cfg_line *ln, const struct directive *d)
{
	const char *v = ln->t[1].s;

	switch (d->kind) {
	case D_PORT:
	case D_U32:
	case D_U64:
		return set_number(c, ln, d, v);
	case D_BOOL:
		return parse_bool(ln, v, (bool *)((char *)c + d->off));
	case D_PATH:
		return set_path(c, ln, d, v);
	case D_FUNC:
		break;
	}
	return d->set(c, ln, v);
}

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
	c->kernel_tcp_ao = CFG_KERNEL_AUTO;
	c->kernel_mip6 = CFG_KERNEL_AUTO;
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
	return set_value(c, ln, &directives[i]);
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
	/* a UTF-8 byte order mark, as some editors write, is no directive */
	rc = parse_text(c, file, copy + (strncmp(copy, LL_UTF8_BOM, 3) ? 0 : 3), errs);
	free(copy);
	return rc;
}

/* Read a whole file (at most 1 MiB) into a NUL-terminated buffer; a NUL inside is an error. */
static int slurp(const char *path, char **out)
{
	FILE *f = fopen(path, "re"), *m;
	char chunk[4096], *buf = NULL;
	size_t len = 0, total = 0, n;
	int rc = 0;

	if (!f)
		return -errno;
	m = open_memstream(&buf, &len);
	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	errno = 0;
	while (total <= (1 << 20) && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		total += fwrite(chunk, 1, n, m);
	if (ferror(f)) /* a directory: EISDIR, which says more than EIO */
		rc = errno ? -errno : -EIO;
	fclose(f);
	if (fclose(m))
		rc = -ENOMEM;
	else if (!rc && total > (1 << 20))
		rc = -EFBIG;
	else if (!rc && memchr(buf, '\0', len))
		rc = -EBADMSG;
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

/*
 * config_policy_opts() - the policy options the config implies: $HOME_NET
 * defaults to the `host` addresses, the IPS stream depth to stream-depth.
 * Every loader (replay, explain, control, engine) uses it so that they all
 * compile a policy the same way.
 */
void config_policy_opts(const struct config *c, struct policy_opts *o, bool skip_unsupported)
{
	memset(o, 0, sizeof(*o));
	o->skip_unsupported = skip_unsupported;
	o->home_net = c->hosts;
	o->nhome_net = c->nhosts;
	o->stream_depth = c->stream_depth > UINT32_MAX ? UINT32_MAX : (uint32_t)c->stream_depth;
}
