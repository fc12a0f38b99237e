/* state.c - persistence in the state directory: policies, metadata, learned DNS servers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fw.h"
#include "state.h"

static const char *slot_file(enum state_slot s)
{
	return s == STATE_CURRENT ? STATE_CURRENT_FILE : STATE_LAST_GOOD_FILE;
}

/* state_mkdir() - see state.h. */
int state_mkdir(const char *dir)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL) /* some filesystems cannot sync a directory */
		rc = -errno;
	close(fd);
	return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* state_write_file() - see state.h. */
int state_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[4096], dst[4096];
	int fd, rc;

	if ((rc = state_mkdir(dir)) < 0)
		return rc;
	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir(dir);
}

/* state_meta_stamp() - see state.h. */
void state_meta_stamp(const char *dir, struct state_stamp *s)
{
	char path[4096];
	struct stat st;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_META_FILE);
	if (stat(path, &st) < 0)
		return;
	*s = (struct state_stamp){ .present = true, .dev = (uint64_t)st.st_dev,
				   .ino = (uint64_t)st.st_ino, .size = (uint64_t)st.st_size,
				   .mtime_s = st.st_mtim.tv_sec, .mtime_ns = st.st_mtim.tv_nsec };
}

bool state_stamp_eq(const struct state_stamp *a, const struct state_stamp *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns;
}

/* state_lock() - see state.h. */
int state_lock(const char *dir, int wait_ms)
{
	char path[4096];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_WRITE_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		err = errno;
		if ((err != EWOULDBLOCK && err != EINTR) || waited >= wait_ms) {
			close(fd);
			return -err;
		}
		usleep(10000);
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the last reference: the lock goes with it */
}

/* state_num_read() - see state.h. */
int state_num_read(const char *dir, const char *name, uint64_t *v)
{
	char *text = NULL, *end;
	size_t len;
	int rc = state_read_file(dir, name, 32, &text, &len);

	if (rc < 0)
		return rc;
	errno = 0;
	*v = strtoull(text, &end, 10);
	rc = errno || end == text || (*end && strcmp(end, "\n")) ? -EINVAL : 0;
	free(text);
	return rc;
}

/* state_num_write() - see state.h. */
int state_num_write(const char *dir, const char *name, uint64_t v)
{
	char buf[24];
	int len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);

	return state_write_file(dir, name, buf, (size_t)len);
}

/* state_resets_read() - see state.h. */
int64_t state_resets_read(const char *dir)
{
	uint64_t n = 0;
	int rc = state_num_read(dir, STATE_RESETS_FILE, &n);

	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && n > INT64_MAX)
		rc = -EINVAL;
	return rc < 0 ? rc : (int64_t)n;
}

/* state_resets_bump() - see state.h. */
int state_resets_bump(const char *dir)
{
	int64_t n = state_resets_read(dir);

	return state_num_write(dir, STATE_RESETS_FILE, (uint64_t)(n > 0 ? n : 0) + 1);
}

/* state_clean_tmp() - see state.h. */
int state_clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		const char *dot;
		char *end;
		long pid;

		if (e->d_name[0] != '.' || len < 6 || strcmp(e->d_name + len - 4, ".tmp"))
			continue;
		/* .NAME.PID.tmp: the pid is between the last two dots */
		for (dot = e->d_name + len - 5; dot > e->d_name && *dot != '.'; dot--)
			;
		pid = strtol(dot + 1, &end, 10);
		if (dot == e->d_name || end != e->d_name + len - 4 || pid <= 0)
			continue;
		if ((kill((pid_t)pid, 0) == 0 || errno != ESRCH) && pid != getpid())
			continue; /* its writer may still be at it */
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* state_read_file() - see state.h. */
int state_read_file(const char *dir, const char *name, size_t max, char **out, size_t *len)
{
	char path[4096];
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO; /* shrank under us */
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int remove_file(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* state_save_policy() - see state.h. */
int state_save_policy(const char *dir, enum state_slot slot, const char *text, size_t len,
		      const void *sig, size_t siglen)
{
	char signame[64];
	int rc;

	snprintf(signame, sizeof(signame), "%s.sig", slot_file(slot));
	/* the old signature goes first: never a new text beside an old signature */
	if ((rc = remove_file(dir, signame)) < 0)
		return rc;
	if ((rc = state_write_file(dir, slot_file(slot), text, len)) < 0)
		return rc;
	if (sig && siglen)
		rc = state_write_file(dir, signame, sig, siglen);
	return rc;
}

/* state_read_policy() - see state.h. */
int state_read_policy(const char *dir, enum state_slot slot, char **text, size_t *len,
		      void **sig, size_t *siglen)
{
	char signame[64], *s = NULL;
	int rc;

	*sig = NULL;
	*siglen = 0;
	if ((rc = state_read_file(dir, slot_file(slot), POLICY_MAX_BYTES, text, len)) < 0)
		return rc;
	snprintf(signame, sizeof(signame), "%s.sig", slot_file(slot));
	rc = state_read_file(dir, signame, 4096, &s, siglen);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		free(*text);
		*text = NULL;
		return rc;
	}
	*sig = s;
	return 0;
}

/* state_promote_last_good() - see state.h. */
int state_promote_last_good(const char *dir)
{
	char *text = NULL;
	void *sig = NULL;
	size_t len = 0, siglen = 0;
	int rc = state_read_policy(dir, STATE_CURRENT, &text, &len, &sig, &siglen);

	if (rc == -ENOENT)
		return state_save_policy(dir, STATE_LAST_GOOD, "", 0, NULL, 0);
	if (rc < 0)
		return rc;
	rc = state_save_policy(dir, STATE_LAST_GOOD, text, len, sig, siglen);
	free(text);
	free(sig);
	return rc;
}

/* NULL + @why; *@broken when the text itself is at fault (not memory). */
static struct policy *parse_text(const char *name, const char *text, size_t len,
				 const struct policy_opts *o, char *why, size_t whylen, bool *broken)
{
	struct ll_errlist errs = { 0 };
	struct policy_opts ran = o ? *o : (struct policy_opts){ 0 };
	struct policy *p;

	ran.ran = true; /* a state file: it ran, maybe under an earlier version */
	o = &ran;
	if (strlen(text) != len) {
		snprintf(why, whylen, "%s: corrupt (contains a NUL byte)", name);
		*broken = true;
		return NULL;
	}
	p = policy_load_string(name, text, o, &errs);
	if (!p) {
		char *first = errs.n ? ll_err_string(&errs.v[0]) : NULL;

		*broken = errs.n > 0;
		if (errs.n)
			snprintf(why, whylen, "%s", first ? first : errs.v[0].msg);
		else
			snprintf(why, whylen, "%s: %s", name, strerror(errno));
		free(first);
	} else if (fw_compile(p) < 0) {
		snprintf(why, whylen, "%s: cannot compile: out of memory", name);
		policy_free(p);
		p = NULL;
	}
	ll_err_free(&errs);
	return p;
}

/*
 * state_load_policy() with *@broken set when the file was read and is
 * corrupt or invalid (not when it could not be read or compiled: a disk,
 * permission or memory trouble that may pass).
 */
static struct policy *load_slot(const char *dir, enum state_slot slot, const struct policy_opts *o,
				char *why, size_t whylen, bool *broken)
{
	char path[4096], *text = NULL;
	void *sig = NULL;
	size_t len = 0, siglen = 0;
	struct policy *p;
	int rc = state_read_policy(dir, slot, &text, &len, &sig, &siglen);

	snprintf(path, sizeof(path), "%s/%s", dir, slot_file(slot));
	why[0] = '\0';
	*broken = false;
	if (rc == -ENOENT)
		return policy_empty();
	if (rc < 0) {
		snprintf(why, whylen, "%s: unreadable: %s", path, strerror(-rc));
		return NULL;
	}
	p = parse_text(path, text, len, o, why, whylen, broken);
	free(text);
	free(sig);
	return p;
}

/* state_load_policy() - see state.h. */
struct policy *state_load_policy(const char *dir, enum state_slot slot,
				 const struct policy_opts *o, char *why, size_t whylen)
{
	bool broken;

	return load_slot(dir, slot, o, why, whylen, &broken);
}

/*
 * Copy last-good over current, with the metadata of @p - last-good as it
 * loaded, with skip-unsupported @skip - so that the next start loads it
 * the same way and the control server finds its hash.
 */
static int restore_last_good(const char *dir, const struct policy *p, bool skip)
{
	char *text = NULL;
	void *sig = NULL;
	size_t len = 0, siglen = 0;
	int rc = state_read_policy(dir, STATE_LAST_GOOD, &text, &len, &sig, &siglen);

	if (rc == -ENOENT) {
		text = strdup("");
		rc = text ? 0 : -ENOMEM;
	}
	if (rc == 0)
		rc = state_save_policy(dir, STATE_CURRENT, text, len, sig, siglen);
	free(text);
	free(sig);
	if (rc == 0) {
		struct state_meta m;

		state_meta_of(&m, p, siglen > 0, skip);
		rc = state_meta_write(dir, &m);
	}
	return rc;
}

/*
 * current.pol kept as current.pol.bad (@to its path), before last-good
 * replaces it. A link, not a rename: current.pol is there until last-good
 * replaces it (atomically), so a crash in between restarts with the same
 * choice rather than with no current.pol, which is the empty policy.
 */
static int keep_bad(const char *dir, char *to, size_t tolen)
{
	char from[4096];

	snprintf(from, sizeof(from), "%s/%s", dir, STATE_CURRENT_FILE);
	snprintf(to, tolen, "%s/%s.bad", dir, STATE_CURRENT_FILE);
	if (unlink(to) < 0 && errno != ENOENT)
		return -errno;
	if (link(from, to) < 0) {
		if (errno != ENOENT)
			return -errno;
		to[0] = '\0'; /* no current.pol: nothing to keep, nothing to name */
	}
	return 0;
}

/*
 * current.pol did not load: start with last-good rather than no rules.
 * When the file itself is corrupt or invalid (@broken: a disk error, a hand
 * edit, a config that now refuses it), last-good is restored as current so
 * that the next load does not promote the broken file to last-good, and the
 * broken file is kept as current.pol.bad. When it could not be read or
 * compiled (permissions, memory), nothing on disk changes. NULL, with @why
 * about current.pol, when last-good does not load either.
 */
static struct policy *fall_back(const char *dir, const struct policy_opts *o, char *why,
				size_t whylen, bool broken)
{
	char lwhy[512], to[4096], what[192] = "last-good";
	struct policy *p = state_load_policy(dir, STATE_LAST_GOOD, o, lwhy, sizeof(lwhy));
	size_t n = strlen(why);
	FILE *m;
	int rc = 0;

	if (!p) {
		snprintf(why + n, whylen - n, "; last-good did not load either (%s)", lwhy);
		return NULL;
	}
	if (!p->nrules && !p->ips)
		snprintf(what, sizeof(what), "the empty policy (last-good is empty or absent)");
	else if ((m = fmemopen(what, sizeof(what), "w"))) {
		/* counted as status counts: its IPS rules too */
		fputs("last-good (", m);
		policy_print_counts(p, m);
		fputc(')', m);
		fclose(m);
	}
	if (!broken) {
		snprintf(why + n, whylen - n, "; started with %s for now, current.pol left as it is",
			 what);
		return p;
	}
	rc = keep_bad(dir, to, sizeof(to));
	if (!rc)
		rc = restore_last_good(dir, p, o->skip_unsupported);
	if (rc)
		snprintf(why + n, whylen - n, "; started with %s, but cannot persist it as "
			 "current: %s", what, strerror(-rc));
	else
		snprintf(why + n, whylen - n, "; started with %s, now current; the broken file "
			 "is kept as %s", what, to[0] ? to : "(none: current.pol is gone)");
	return p;
}

/* state_load_current() - see state.h. */
struct policy *state_load_current(const char *dir, const struct policy_opts *o, char *why,
				  size_t whylen, char *unconfirmed)
{
	struct policy_opts po = o ? *o : (struct policy_opts){ 0 }, lg;
	struct state_meta m = { 0 };
	struct policy *p;
	bool broken;
	int rc = state_meta_read(dir, &m);
	/*
	 * state.meta there but unreadable, or naming no policy (a disk error,
	 * a hand edit): whether current.pol awaited confirm cannot be told, and
	 * only last-good is known not to lock the host out.
	 */
	bool unsure = rc < 0 && rc != -ENOENT;
	char doubt[4200] = "", bad[4096] = "";

	if (unconfirmed)
		unconfirmed[0] = '\0';
	/*
	 * Last-good ran once: it loads as it ran, skipping what this build
	 * cannot do, whatever state.meta says of the policy after it (a
	 * pending --confirm load's own flag).
	 */
	lg = po;
	lg.skip_unsupported = true;
	if (m.skip_unsupported)
		po.skip_unsupported = true; /* it was loaded that way */
	o = &po;
	if (unsure)
		snprintf(doubt, sizeof(doubt), "%s/%s: %s: whether current.pol was confirmed "
			 "cannot be told", dir, STATE_META_FILE, rc == -EINVAL ? "garbled" :
			 strerror(-rc));
	if (!m.confirm_deadline && !unsure) {
		char path[4096];
		bool had;

		snprintf(path, sizeof(path), "%s/%s", dir, STATE_CURRENT_FILE);
		had = rc == -ENOENT && access(path, F_OK) == 0;
		p = load_slot(dir, STATE_CURRENT, o, why, whylen, &broken);
		if (p && had) /* put there by hand, or state.meta deleted: say what that means */
			snprintf(why, whylen, "%s/%s is missing: current.pol is taken as confirmed",
				 dir, STATE_META_FILE);
		return p ? p : fall_back(dir, &lg, why, whylen, broken);
	}
	/* unsure: it may well have been confirmed; the operator gets it back from there */
	if (unsure && keep_bad(dir, bad, sizeof(bad)) < 0)
		bad[0] = '\0';
	if (!unsure && unconfirmed) /* whatever runs instead, that one does not */
		snprintf(unconfirmed, 65, "%s", m.sha256);
	if (!(p = state_load_policy(dir, STATE_LAST_GOOD, &lg, why, whylen))) {
		/* the unconfirmed policy must not come back at a later start either */
		size_t n = strlen(why);

		if (!(p = policy_empty()))
			return NULL;
		state_meta_of(&m, p, false, false);
		rc = state_save_policy(dir, STATE_CURRENT, "", 0, NULL, 0);
		if (!rc)
			rc = state_meta_write(dir, &m);
		snprintf(why + n, whylen - n, "; %s: started with the empty policy%s%s%s%s",
			 unsure ? doubt : "the policy loaded with --confirm was never confirmed",
			 rc ? ", not persisted: " : ", now current", rc ? strerror(-rc) : "",
			 bad[0] ? "; current.pol is kept as " : "", bad);
		return p;
	}
	/*
	 * Not persisted (a full disk, a state.meta made a directory): last-good
	 * runs all the same - it ran once, the empty policy accepts everything -
	 * and a restart, finding the same files, makes the same choice.
	 */
	if ((rc = restore_last_good(dir, p, true)) < 0) {
		snprintf(why, whylen, "%s; rolled back to last-good, not persisted (%s): a restart "
			 "does the same%s%s", unsure ? doubt : "the policy loaded with --confirm was "
			 "never confirmed", strerror(-rc), bad[0] ? "; current.pol is kept as " : "",
			 bad);
		return p;
	}
	snprintf(why, whylen, "%s; rolled back to last-good%s%s", unsure ? doubt :
		 "the policy loaded with --confirm was never confirmed", bad[0] ? "; current.pol "
		 "is kept as " : "", bad);
	return p;
}

/* state_meta_of() - see state.h. */
void state_meta_of(struct state_meta *m, const struct policy *p, bool is_signed, bool skip)
{
	*m = (struct state_meta){
		.has_serial = p->has_serial, .serial = p->serial,
		.loaded_at = (uint64_t)time(NULL), .is_signed = is_signed,
		.skip_unsupported = skip,
	};
	memcpy(m->sha256, p->hash, sizeof(m->sha256));
}

/* state_meta_write() - see state.h. */
int state_meta_write(const char *dir, const struct state_meta *m)
{
	char buf[512], serial[24] = "-";
	int n;

	if (m->has_serial)
		snprintf(serial, sizeof(serial), "%" PRIu64, m->serial);
	n = snprintf(buf, sizeof(buf),
		     "# lifelined state: written atomically, read at start\n"
		     "serial %s\nsha256 %s\nloaded-at %" PRIu64 "\n"
		     "confirm-deadline %" PRIu64 "\nsigned %d\nskip-unsupported %d\n",
		     serial, m->sha256[0] ? m->sha256 : "-",
		     m->loaded_at, m->confirm_deadline, m->is_signed, m->skip_unsupported);
	return state_write_file(dir, STATE_META_FILE, buf, (size_t)n);
}

static int meta_line(struct state_meta *m, const char *key, const char *val)
{
	char *end;
	unsigned long long v = 0;

	if (strcmp(key, "sha256") == 0) {
		if (strcmp(val, "-") != 0 && strlen(val) != 64)
			return -EINVAL;
		snprintf(m->sha256, sizeof(m->sha256), "%s", strcmp(val, "-") ? val : "");
		return 0;
	}
	if (strcmp(key, "serial") == 0 && val[0] == '-') {
		m->has_serial = false;
		return 0;
	}
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val || *end)
		return -EINVAL;
	if (strcmp(key, "serial") == 0) {
		m->has_serial = true;
		m->serial = v;
	} else if (strcmp(key, "loaded-at") == 0) {
		m->loaded_at = v;
	} else if (strcmp(key, "confirm-deadline") == 0) {
		m->confirm_deadline = v;
	} else if (strcmp(key, "signed") == 0) {
		m->is_signed = v != 0;
	} else if (strcmp(key, "skip-unsupported") == 0) {
		m->skip_unsupported = v != 0;
	}
	/* unknown keys: a newer engine wrote them; ignore */
	return 0;
}

/* state_meta_read() - see state.h. */
int state_meta_read(const char *dir, struct state_meta *m)
{
	char *text = NULL, *line, *save = NULL, key[32], val[80];
	size_t len;
	bool sha = false;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = state_read_file(dir, STATE_META_FILE, 65536, &text, &len)) < 0)
		return rc;
	for (line = strtok_r(text, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%31s %79s", key, val) != 2) {
			rc = -EINVAL;
			break;
		}
		rc = meta_line(m, key, val);
		sha |= strcmp(key, "sha256") == 0;
	}
	free(text);
	if (!rc && !sha) /* every writer writes it: an empty or cut file */
		rc = -EINVAL;
	if (rc)
		memset(m, 0, sizeof(*m));
	return rc;
}

/* state_save_dns() - see state.h. One "ADDR EXPIRES_US V6" line per server. */
int state_save_dns(const char *dir, const struct lifeline_dns *d, uint32_t n)
{
	char *buf = NULL, a[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -ENOMEM;
	/* no comment line: engine_load_learned() reads the same file with fscanf */
	for (uint32_t i = 0; i < n; i++)
		if (d[i].learned)
			fprintf(f, "%s %" PRIu64 " %u\n", ll_ip_str(d[i].addr, a, sizeof(a)),
				d[i].expires_us, d[i].v6);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	rc = state_write_file(dir, STATE_DNS_FILE, buf, len);
	free(buf);
	return rc;
}

/* state_load_dns() - see state.h. */
int state_load_dns(const char *dir, struct lifeline_dns *d, uint32_t max, uint64_t now_us,
		   uint32_t *bad)
{
	char *text = NULL, *line, *save = NULL, addr[64];
	unsigned long long exp;
	unsigned v6;
	size_t len;
	int rc, n = 0;

	*bad = 0;
	if ((rc = state_read_file(dir, STATE_DNS_FILE, 1 << 20, &text, &len)) < 0)
		return rc == -ENOENT ? 0 : rc;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct lifeline_dns e = { .learned = 1 };

		if (line[0] == '#')
			continue;
		/* one bad line costs that server only: the others keep the host's DNS */
		if (sscanf(line, "%63s %llu %u", addr, &exp, &v6) != 3 ||
		    ll_ip_parse(addr, &e.addr) < 0) {
			(*bad)++;
			continue;
		}
		e.expires_us = exp;
		e.v6 = v6 != 0;
		if ((e.expires_us && e.expires_us <= now_us) || (uint32_t)n >= max)
			continue;
		d[n++] = e;
	}
	free(text);
	return n;
}
