/* ll.c - addresses and error lists shared by every part of lifeline. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ll.h"

/* Big-endian 64 bits: one load and one bswap (the byte loop took ~30 instructions at -O2). */
static uint64_t be64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return be64toh(v);
}

ll_ip ll_ip_from_bytes(const uint8_t *b, int family)
{
	if (family == 4)
		return ll_ip_from_v4((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				     (uint32_t)b[2] << 8 | b[3]);
	ll_ip a = { be64(b), be64(b + 8) };
	return a;
}

/* ll_hash_bytes() - see ll.h. */
uint64_t ll_hash_bytes(uint64_t seed, const void *b, size_t n)
{
	const uint8_t *p = b;
	uint64_t h = seed, w;

	for (size_t i = 0; i < n; i += 8) {
		w = 0; /* a last word of fewer bytes (4-byte port ranges) */
		memcpy(&w, p + i, n - i < 8 ? n - i : 8);
		h = ll_mix64(h ^ w);
	}
	return h;
}

bool ll_ip_from_sockaddr(const struct sockaddr *sa, ll_ip *out)
{
	if (sa->sa_family == AF_INET)
		*out = ll_ip_from_bytes((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		*out = ll_ip_from_bytes((const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr, 6);
	else
		return false;
	return true;
}

void ll_ip_to_bytes(ll_ip a, uint8_t out[16])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(a.hi >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(a.lo >> (56 - 8 * i));
	}
}

int ll_ranges_family(const struct ip_range *r, uint32_t n)
{
	bool v4 = false, v6 = false;

	for (uint32_t i = 0; i < n; i++) {
		v4 |= ll_ip_cmp(r[i].hi, LL_V4_LO) >= 0 && ll_ip_cmp(r[i].lo, LL_V4_HI) <= 0;
		v6 |= ll_ip_cmp(r[i].lo, LL_V4_LO) < 0 || ll_ip_cmp(r[i].hi, LL_V4_HI) > 0;
	}
	return v4 == v6 ? 0 : v4 ? 4 : 6;
}

/* ll_ip_str_family() - see ll.h. */
const char *ll_ip_str_family(ll_ip a, int family, char *buf, size_t len)
{
	uint8_t b[16];

	ll_ip_to_bytes(a, b);
	if (family != 6 && ll_ip_is_v4(a))
		return inet_ntop(AF_INET, b + 12, buf, (socklen_t)len);
	return inet_ntop(AF_INET6, b, buf, (socklen_t)len);
}

/* ll_range_split_v4() - see ll.h. */
uint32_t ll_range_split_v4(struct ip_range r, struct ip_range out[3])
{
	/* below the IPv4 block, the block, above it: @r meets each in one piece or none */
	const struct ip_range region[3] = {
		{ { 0, 0 }, { 0, LL_V4_LO.lo - 1 } },
		{ LL_V4_LO, LL_V4_HI },
		{ { 0, LL_V4_HI.lo + 1 }, { UINT64_MAX, UINT64_MAX } },
	};
	uint32_t n = 0;

	for (int i = 0; i < 3; i++) {
		ll_ip lo = ll_ip_cmp(r.lo, region[i].lo) > 0 ? r.lo : region[i].lo;
		ll_ip hi = ll_ip_cmp(r.hi, region[i].hi) < 0 ? r.hi : region[i].hi;

		if (ll_ip_cmp(lo, hi) <= 0)
			out[n++] = (struct ip_range){ lo, hi };
	}
	return n;
}

/* ll_range_as_written() - see ll.h. */
uint32_t ll_range_as_written(struct ip_range r, struct ip_range out[2])
{
	struct ip_range piece[3];
	uint32_t n = ll_range_split_v4(r, piece), k = 0;
	bool v6 = !ll_ip_is_v4(r.lo) || !ll_ip_is_v4(r.hi);

	for (uint32_t i = 0; i < n; i++)
		if (!v6 || !ll_ip_is_v4(piece[i].lo))
			out[k++] = piece[i];
	return k;
}

/* ll_wall_us() - see ll.h. */
uint64_t ll_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ll_ip_parse_rule() - see ll.h. */
int ll_ip_parse_rule(const char *s, ll_ip *out)
{
	int rc = ll_ip_parse(s, out);

	if (rc == 0 && strchr(s, ':') && ll_ip_is_v4(*out))
		return -EAFNOSUPPORT;
	return rc;
}

const char *ll_ip_str(ll_ip a, char *buf, size_t len)
{
	return ll_ip_str_family(a, 0, buf, len);
}

int ll_ip_parse(const char *s, ll_ip *out)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		*out = ll_ip_from_bytes(b, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		*out = ll_ip_from_bytes(b, 6);
		return 0;
	}
	return -EINVAL;
}

/* ll_prefix_range() - see ll.h. */
struct ip_range ll_prefix_range(ll_ip a, unsigned bits)
{
	ll_ip m = { 0, 0 };

	if (bits >= 64) {
		m.hi = UINT64_MAX;
		m.lo = bits >= 128 ? UINT64_MAX : bits == 64 ? 0 : UINT64_MAX << (128 - bits);
	} else if (bits > 0) {
		m.hi = UINT64_MAX << (64 - bits);
	}
	return (struct ip_range){ { a.hi & m.hi, a.lo & m.lo }, { a.hi | ~m.hi, a.lo | ~m.lo } };
}

/* ll_prefix_parse() - see ll.h. */
int ll_prefix_parse(const char *s, struct ip_range *out)
{
	const char *slash = strchr(s, '/'), *d;
	char buf[INET6_ADDRSTRLEN];
	unsigned max, bits = 0;
	ll_ip a;

	if (!slash) {
		if (ll_ip_parse(s, &a) < 0)
			return -EINVAL;
		*out = (struct ip_range){ a, a };
		return 0;
	}
	if ((size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (ll_ip_parse(buf, &a) < 0)
		return -EINVAL;
	/*
	 * IPv4-mapped text (::ffff:192.0.2.0) is an IPv4 address, as without
	 * a length: its length counts in the IPv4 space (config's `host` has
	 * always read ::ffff:198.51.100.2/32 as that one address, never ::/32)
	 */
	max = ll_ip_is_v4(a) ? 32 : 128;
	for (d = slash + 1; *d >= '0' && *d <= '9' && bits <= max; d++)
		bits = bits * 10 + (unsigned)(*d - '0');
	if (d == slash + 1 || *d || bits > max)
		return -ERANGE;
	*out = ll_prefix_range(a, bits + (128 - max));
	return 0;
}

void ll_err_add(struct ll_errlist *l, const struct srcloc *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (ll_err_full(l))
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct ll_err *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	if (l->n == LL_ERR_MAX) {
		if (asprintf(&msg, "too many errors; stopping here (the first %d are above)",
			     LL_ERR_MAX) < 0)
			msg = NULL;
	} else {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		va_end(ap);
	}
	if (!msg)
		return;
	l->v[l->n].loc = loc ? *loc : (struct srcloc){ 0 };
	l->v[l->n].msg = msg;
	l->n++;
}

char *ll_err_string(const struct ll_err *e)
{
	char *s = NULL;
	int rc;

	if (e->loc.file && e->loc.line)
		rc = asprintf(&s, "%s:%u:%u: %s", e->loc.file, e->loc.line, e->loc.col, e->msg);
	else if (e->loc.file)
		rc = asprintf(&s, "%s: %s", e->loc.file, e->msg);
	else
		rc = asprintf(&s, "%s", e->msg);
	return rc < 0 ? NULL : s;
}

void ll_err_print(const struct ll_errlist *l, void *file)
{
	for (size_t i = 0; i < l->n; i++) {
		char *s = ll_err_string(&l->v[i]);

		fprintf(file, "%s\n", s ? s : l->v[i].msg);
		free(s);
	}
}

void ll_err_free(struct ll_errlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].msg);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void ll_hash_seed(uint64_t r[LL_HASH_SEED_WORDS])
{
	if (getrandom(r, LL_HASH_SEED_WORDS * sizeof(*r), GRND_NONBLOCK) !=
	    (ssize_t)(LL_HASH_SEED_WORDS * sizeof(*r)))
		for (unsigned i = 0; i < LL_HASH_SEED_WORDS; i++)
			r[i] = ll_mix64((uint64_t)(uintptr_t)r ^ (uint64_t)time(NULL) ^
					(i + 1) * 0x9e3779b97f4a7c15ULL);
	r[5] |= 1; /* the lone product must not vanish */
}
