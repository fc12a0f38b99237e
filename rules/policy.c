/* policy.c - loading a policy (read, parse, check, hash) and freeing it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fw.h"
#include "parse.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * File names live for the whole process: error records (struct srcloc)
 * point at them and outlive a policy that failed to load. Bounded by the
 * number of distinct names ever loaded.
 */
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static char **interned;
static size_t ninterned, interned_cap;

static const char *intern(const char *s)
{
	const char *out = NULL;

	pthread_mutex_lock(&intern_lock);
	for (size_t i = 0; i < ninterned && !out; i++)
		if (strcmp(interned[i], s) == 0)
			out = interned[i];
	if (!out && ninterned == interned_cap) {
		size_t cap = interned_cap ? interned_cap * 2 : 16;
		char **v = realloc(interned, cap * sizeof(*v));
		if (v) {
			interned = v;
			interned_cap = cap;
		}
	}
	if (!out && ninterned < interned_cap && (interned[ninterned] = strdup(s)))
		out = interned[ninterned++];
	pthread_mutex_unlock(&intern_lock);
	return out ? out : "?";
}

/* intern_file() - @name as a lasting string, listed once in p->files. */
const char *intern_file(struct parser *ps, const char *name)
{
	struct policy *p = ps->p;
	const char *s = intern(name);
	char **v;

	for (uint32_t i = 0; i < p->nfiles; i++)
		if (p->files[i] == s)
			return s;
	v = realloc(p->files, (p->nfiles + 1) * sizeof(*v));
	if (!v) {
		ps->oom = true;
		return s;
	}
	p->files = v;
	p->files[p->nfiles++] = (char *)s;
	return s;
}

static int read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	while ((r = read(fd, b + n, cap - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return -errno;
		}
		n += (size_t)r;
		if (n > max) {
			free(b);
			return -EFBIG;
		}
		if (n == cap) {
			if (!(nb = realloc(b, cap * 2))) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
	}
	*buf = b;
	*len = n;
	return 0;
}

static int read_path(const char *path, bool regular, size_t max, char **buf, size_t *len)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO nobody writes must not wait (it is refused below) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | (regular ? O_NONBLOCK : 0));
	int rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (regular && !S_ISREG(st.st_mode))
		rc = -EFTYPE_;
	else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		rc = -EFBIG; /* not read at all */
	else
		rc = read_fd(fd, max, buf, len);
	close(fd);
	return rc;
}

/* policy_read_file() - see parse.h. Directories are -EISDIR. */
int policy_read_file(const char *path, char **buf, size_t *len)
{
	return read_path(path, false, POLICY_MAX_BYTES, buf, len);
}

/* policy_read_include() - see parse.h. */
int policy_read_include(const char *path, size_t max, char **buf, size_t *len)
{
	return read_path(path, true, max, buf, len);
}

const char *policy_read_error(int rc)
{
	if (rc == -EFTYPE_)
		return "not a regular file";
	return rc == -EFBIG ? "larger than the " STR(POLICY_MAX_MIB) " MiB a policy may be" : strerror(-rc);
}

static int policy_hash(struct policy *p)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = 0;
	char *text = policy_text(p, &len);
	int ok;

	if (!text)
		return -ENOMEM;
	ok = EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
	free(text);
	if (!ok)
		return -EIO;
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(p->hash + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static uint32_t file_rank(const struct policy *p, const char *file)
{
	for (uint32_t i = 0; i < p->nfiles; i++)
		if (p->files[i] == file)
			return i;
	return UINT32_MAX;
}

struct err_pos {
	struct ll_err e;
	uint32_t rank;
	size_t idx; /* the original order breaks ties: the sort is stable */
};

static int cmp_err(const void *a, const void *b)
{
	const struct err_pos *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->e.loc.line != y->e.loc.line)
		return x->e.loc.line < y->e.loc.line ? -1 : 1;
	if (x->e.loc.col != y->e.loc.col)
		return x->e.loc.col < y->e.loc.col ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Later passes (duplicate ids, IPS rules) add errors after the parser's;
 * the user reads them best in file order, each file in the order first read.
 * Without memory for the sort they simply stay in the order found.
 */
static void sort_errors(const struct policy *p, struct ll_errlist *errs, size_t from)
{
	size_t n = errs->n - from;
	struct err_pos *v;

	if (n < 2 || !(v = malloc(n * sizeof(*v))))
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct err_pos){ errs->v[from + i], file_rank(p, errs->v[from + i].loc.file), i };
	qsort(v, n, sizeof(*v), cmp_err);
	for (size_t i = 0; i < n; i++)
		errs->v[from + i] = v[i].e;
	free(v);
}

static struct policy *load(const char *name, const char *buf, size_t len,
			   const struct policy_opts *o, struct ll_errlist *errs)
{
	static const struct policy_opts none;
	struct parser ps = { 0 };
	size_t nerr0 = errs->n;
	int err = EINVAL;

	if (!(ps.p = calloc(1, sizeof(*ps.p)))) {
		errno = ENOMEM;
		return NULL;
	}
	ps.errs = errs;
	ps.bytes = len;
	ps.ran = o && o->ran;
	if (parse_buffer(&ps, name, buf, len) < 0)
		ps.oom = true;
	if (!ps.oom)
		parser_finish(&ps);
	/* after firewall errors too, so that check reports every error at once */
	if (!ps.oom && ps.p->nips_lines && ips_ruleset_build(ps.p, o ? o : &none, errs) < 0)
		ps.nerr++;
	if (ll_err_full(errs)) /* parsing stopped short: the rest was never read */
		ps.nerr++;
	free(ps.idloc);
	for (uint32_t i = 0; i < ps.nseen; i++)
		free(ps.seen[i].key);
	free(ps.seen);
	sort_errors(ps.p, errs, nerr0);
	if (ps.oom) {
		ll_err_add(errs, &(struct srcloc){ intern(name), 0, 0 }, "out of memory");
		err = ENOMEM;
	} else if (!ps.nerr && (err = -policy_hash(ps.p)) == 0) {
		ps.p->home_hash = policy_home_hash(o);
		return ps.p;
	}
	policy_free(ps.p);
	errno = err;
	return NULL;
}

/* policy_home_hash() - see policy.h. */
uint64_t policy_home_hash(const struct policy_opts *o)
{
	return o ? ll_hash_bytes(o->nhome_net, o->home_net, o->nhome_net * sizeof(*o->home_net)) : 0;
}

/* policy_load_string() - see policy.h. @text is NUL-terminated; includes are relative to @name. */
struct policy *policy_load_string(const char *name, const char *text,
				  const struct policy_opts *o, struct ll_errlist *errs)
{
	return load(name, text, strlen(text), o, errs);
}

/* policy_load_file() - see policy.h. */
struct policy *policy_load_file(const char *path, const struct policy_opts *o,
				struct ll_errlist *errs)
{
	struct policy *p;
	char *buf = NULL;
	size_t len = 0;
	int rc = policy_read_file(path, &buf, &len);

	if (rc < 0) {
		ll_err_add(errs, &(struct srcloc){ intern(path), 0, 0 }, "cannot read policy: %s",
			   policy_read_error(rc));
		errno = -rc;
		return NULL;
	}
	p = load(path, buf, len, o, errs);
	rc = errno;
	free(buf);
	errno = rc;
	return p;
}

/* policy_empty() - a policy without rules: accepts everything (R_EMPTY_POLICY). NULL on ENOMEM. */
/* policy_set() - see policy.h. */
const struct fw_set *policy_set(const struct policy *p, const char *name, size_t n)
{
	for (uint32_t i = 0; p && i < p->nsets; i++)
		if (strlen(p->sets[i].name) == n && memcmp(p->sets[i].name, name, n) == 0)
			return &p->sets[i];
	return NULL;
}

struct policy *policy_empty(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p && policy_hash(p) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* fw_rule_release() - see parse.h. */
void fw_rule_release(struct fw_rule *r)
{
	free(r->src.r);
	free(r->src.text);
	free(r->dst.r);
	free(r->dst.text);
	free(r->sport.r);
	free(r->sport.text);
	free(r->dport.r);
	free(r->dport.text);
	free(r->msg);
}

/* policy_free() - free @p and all it owns; NULL is fine. Not while packets still read it. */
void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; i < p->nrules; i++)
		fw_rule_release(&p->rules[i]);
	free(p->rules);
	for (uint32_t i = 0; i < p->nsets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].addrs);
		free(p->sets[i].ports);
		free(p->sets[i].text);
	}
	free(p->sets);
	for (uint32_t i = 0; i < p->nips_lines; i++) {
		free(p->ips_lines[i].text);
		free(p->ips_lines[i].conts);
	}
	free(p->ips_lines);
	if (p->ips)
		ips_ruleset_free(p->ips);
	if (p->classifier)
		fw_classifier_free(p->classifier);
	free(p->files); /* the names themselves are interned */
	free(p);
}
