/* ll.h - common types: 128-bit addresses, source locations, error lists. */
#ifndef LL_H
#define LL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LL_VERSION "0.1.0"

#define LL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The UTF-8 byte order mark some editors write first: config and policy files may start with it. */
#define LL_UTF8_BOM "\xef\xbb\xbf"

/*
 * An IP address as a host-order 128-bit integer. IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d, i.e. hi == 0, lo == 0xffff00000000 | v4) so that one
 * range/prefix machinery serves both families; ll_ip_is_v4() tells them apart.
 */
typedef struct {
	uint64_t hi, lo;
} ll_ip;

static inline ll_ip ll_ip_from_v4(uint32_t v4_host_order)
{
	ll_ip a = { 0, 0xffff00000000ULL | v4_host_order };
	return a;
}
static inline bool ll_ip_is_v4(ll_ip a)
{
	return a.hi == 0 && (a.lo >> 32) == 0xffff;
}
static inline uint32_t ll_ip_v4(ll_ip a) { return (uint32_t)a.lo; }
static inline int ll_ip_cmp(ll_ip a, ll_ip b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}
static inline bool ll_ip_eq(ll_ip a, ll_ip b) { return a.hi == b.hi && a.lo == b.lo; }

/*
 * Could Linux name a device @s[0..@n) (dev_valid_name(), length aside)? No
 * ':' (eth0:1 is an address label), '/' or blank, not "." or "..".
 */
#define LL_IFNAME_WHY "no ':' or '/', not '.' or '..'; eth0:1 is an address label"
static inline bool ll_ifname_ok(const char *s, size_t n)
{
	if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':' || s[i] == '/' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
			return false;
	return true;
}

/* Network-order bytes (4 or 16) <-> ll_ip. */
ll_ip ll_ip_from_bytes(const uint8_t *b, int family);
void ll_ip_to_bytes(ll_ip a, uint8_t out[16]);
/*
 * ll_hash_bytes() - every byte of @b, eight at a time (ll_mix64() a word),
 * from @seed: for telling sets apart, not for an adversary.
 */
uint64_t ll_hash_bytes(uint64_t seed, const void *b, size_t n);

/* 127.0.0.0/8 or ::1. */
static inline bool ll_ip_is_loopback(ll_ip a)
{
	return (a.hi == 0 && a.lo == 1) || (ll_ip_is_v4(a) && (a.lo >> 24 & 0xff) == 127);
}

/* 169.254.0.0/16 or fe80::/10. */
static inline bool ll_ip_is_link_local(ll_ip a)
{
	return ll_ip_is_v4(a) ? (a.lo >> 16 & 0xffff) == 0xa9fe : (a.hi >> 54) == 0x3fa;
}

/* The address of an AF_INET or AF_INET6 socket address; false for another family. */
struct sockaddr;
bool ll_ip_from_sockaddr(const struct sockaddr *sa, ll_ip *out);
/* Text form: "192.0.2.1" or "2001:db8::1"; buf needs 46 bytes. */
const char *ll_ip_str(ll_ip a, char *buf, size_t len);
/*
 * ll_ip_str_family() - as ll_ip_str(), for an address an IPv6 header held
 * when @family is 6: a v4-mapped one then prints as "::ffff:192.0.2.1".
 */
const char *ll_ip_str_family(ll_ip a, int family, char *buf, size_t len);
/* Parse an IPv4 or IPv6 literal; 0 or -EINVAL. */
int ll_ip_parse(const char *s, ll_ip *out);
/*
 * ll_ip_parse_rule() - as ll_ip_parse(), for an address a rule or set
 * matches: an IPv4-mapped IPv6 literal (::ffff:a.b.c.d) is -EAFNOSUPPORT,
 * since held as IPv4 it would match IPv4 packets, and no IPv6 packet
 * carrying one gets past the sanity check (bad-addr) to be matched.
 */
int ll_ip_parse_rule(const char *s, ll_ip *out);
/* What the policy's parsers say of one (after the address). */
#define LL_V4_MAPPED_WHY                                                                      \
	"an IPv4-mapped IPv6 address (::ffff:0:0/96) never matches: IPv6 packets carrying one " \
	"are dropped as malformed (bad-addr) before any rule; write IPv4 addresses as IPv4"

struct ip_range {
	ll_ip lo, hi; /* inclusive */
};

/*
 * ll_prefix_range() - the addresses of the prefix of @bits (0-128, counted
 * in the 128-bit space: an IPv4 /24 is 120) around @a.
 */
struct ip_range ll_prefix_range(ll_ip a, unsigned bits);
/*
 * ll_prefix_parse() - "ADDR" or "ADDR/LEN" (0-32 after an IPv4 address,
 * IPv4-mapped text included, 0-128 after any other) into the addresses it
 * covers: 0, -EINVAL (address) or -ERANGE (length).
 */
int ll_prefix_parse(const char *s, struct ip_range *out);

/* The IPv4 block of the address space, ::ffff:0.0.0.0 - ::ffff:255.255.255.255. */
#define LL_V4_LO ((ll_ip){ 0, 0xffff00000000ULL })
#define LL_V4_HI ((ll_ip){ 0, 0xffffffffffffULL })
/*
 * ll_ranges_family() - 4 when sorted ranges @r hold IPv4 addresses only, 6
 * when they hold no IPv4 address, 0 when both (or none).
 */
int ll_ranges_family(const struct ip_range *r, uint32_t n);
/*
 * ll_range_split_v4() - @r cut at the edges of the IPv4 block: the pieces
 * below it, in it and above it that @r holds, in order, into @out; their
 * count (1-3). An IPv6 prefix or range never covers IPv4 packets, as in pf
 * and nft (`::/0` is every IPv6 address): who reads one drops the piece in
 * the block; who prints a range crossing it prints the pieces.
 */
uint32_t ll_range_split_v4(struct ip_range r, struct ip_range out[3]);
/*
 * ll_range_as_written() - the addresses an address, prefix or range as
 * written covers, into @out; their count (1-2): an IPv6 one less the IPv4
 * block (the policy language and `lifelinectl table` read them so).
 */
uint32_t ll_range_as_written(struct ip_range r, struct ip_range out[2]);
struct port_range {
	uint16_t lo, hi; /* inclusive */
};

/* Where a token came from, for file:line:col messages. */
struct srcloc {
	const char *file; /* owned by the object that produced it (interned) */
	uint32_t line, col;
};

/*
 * A list of error records, each "file:line:col: message". Parsers append and
 * go on, so that every error is reported, not just the first - up to
 * LL_ERR_MAX of them: the next one is recorded as "too many errors" and the
 * list is full (ll_err_full()); parsers stop there, as clang does past its
 * -ferror-limit, so that 64 MiB of garbage costs neither minutes nor
 * gigabytes of messages.
 */
#define LL_ERR_MAX 1000
struct ll_err {
	struct srcloc loc;
	char *msg;
};
struct ll_errlist {
	struct ll_err *v;
	size_t n, cap;
};
void ll_err_add(struct ll_errlist *l, const struct srcloc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool ll_err_full(const struct ll_errlist *l)
{
	return l->n > LL_ERR_MAX;
}
/*
 * A keyed hash of five words for tables whose keys others choose (flows,
 * fragment queues): NH, the hash of UMAC (RFC 4418) - each word plus a
 * random word of @r, multiplied in pairs into 128 bits and summed - then
 * one mixing round. The three products are independent, so it costs about
 * one multiply's latency where a chain of mixing rounds cost five (35 ns a
 * packet on the bench's mixed capture); the words of @r are random per table
 * (ll_hash_seed()), so that no one can choose keys that chain in every
 * host's table (NH is almost-universal).
 */
#define LL_HASH_SEED_WORDS 7
static inline uint64_t ll_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t ll_hash5(const uint64_t r[LL_HASH_SEED_WORDS], uint64_t a, uint64_t b,
				uint64_t c, uint64_t d, uint64_t e)
{
	unsigned __int128 h;

	h = (unsigned __int128)(a + r[0]) * (b + r[1]);
	h += (unsigned __int128)(c + r[2]) * (d + r[3]);
	h += (unsigned __int128)(e + r[4]) * r[5];
	return ll_mix64((uint64_t)h ^ (uint64_t)(h >> 64) ^ r[6]);
}

/* FNV-1a of the string @s, at most @max bytes: for tables whose keys the policy or host names. */
static inline uint32_t ll_hash_str(const char *s, size_t max)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < max && s[i]; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* ll_wall_us() - the wall clock (CLOCK_REALTIME) in microseconds: event times, leases, deadlines. */
uint64_t ll_wall_us(void);

/* Random words for ll_hash5() (early in boot, before the pool is ready: from ASLR and the clock). */
void ll_hash_seed(uint64_t r[LL_HASH_SEED_WORDS]);

/* One error as "file:line:col: message" (loc->line 0: "file: msg"), malloc'd; NULL: no memory. */
char *ll_err_string(const struct ll_err *e);
/* Print every error as "file:line:col: message\n" (loc->line 0: "file: msg"). */
void ll_err_print(const struct ll_errlist *l, void *file /* FILE* */);
void ll_err_free(struct ll_errlist *l);

#endif
