/*
 * state.h - what survives a restart, in config `state-dir`: the current
 * policy (current.pol, + current.pol.sig when signed), the last-good one
 * (last-good.pol), a metadata file (state.meta: serial, sha256, loaded-at,
 * confirm deadline) and the DNS servers learned from DHCP (dns-learned).
 * Every write is atomic: a temporary file in the same directory, fsync,
 * rename, fsync of the directory; a crash leaves the old file or the new.
 */
#ifndef LL_STATE_H
#define LL_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "lifeline.h"
#include "policy.h"

#define STATE_CURRENT_FILE "current.pol"
#define STATE_LAST_GOOD_FILE "last-good.pol"
#define STATE_META_FILE "state.meta"
#define STATE_DNS_FILE "dns-learned" /* written by state_save_dns() */
#define STATE_PID_FILE "lifelined.pid"
#define STATE_LOCK_FILE "lifelined.lock" /* flock()ed by the running engine */
#define STATE_GEN_FILE "offload-gen" /* the last offload generation the engine used */
#define STATE_WRITE_LOCK_FILE "state.lock" /* state_lock() */
#define STATE_RESETS_FILE "console-resets" /* state_resets_read() */

enum state_slot { STATE_CURRENT, STATE_LAST_GOOD };

struct state_meta {
	bool has_serial;
	uint64_t serial;
	char sha256[65];           /* policy->hash of the current policy, "" unknown */
	uint64_t loaded_at;        /* Unix seconds, 0 unknown */
	uint64_t confirm_deadline; /* Unix seconds; 0: nothing awaits `confirm` */
	bool is_signed;
	bool skip_unsupported;     /* loaded with --skip-unsupported: restart the same way */
};

/* state_mkdir() - create @dir (mode 0750) when missing. 0 or -errno. */
int state_mkdir(const char *dir);

/*
 * state_write_file() - atomically replace @dir/@name with @len bytes of
 * @data (mode 0640). 0 or -errno; on failure the old file is untouched.
 */
int state_write_file(const char *dir, const char *name, const void *data, size_t len);

/*
 * state_read_file() - @dir/@name into a malloc'd NUL-terminated buffer (at
 * most @max bytes). 0, -ENOENT when absent, -EFBIG when larger, -errno.
 */
int state_read_file(const char *dir, const char *name, size_t max, char **out, size_t *len);

/*
 * state_save_policy() - persist @text as @slot, with its signature when
 * @sig is given (else any old .sig of the slot is removed, signature
 * first so that a crash never pairs a new text with an old signature).
 * 0 or -errno.
 */
int state_save_policy(const char *dir, enum state_slot slot, const char *text, size_t len,
		      const void *sig, size_t siglen);

/*
 * state_promote_last_good() - the current policy (and signature) becomes
 * the last-good one: called before a new policy replaces it. No current
 * policy yet: last-good becomes the empty policy. 0 or -errno.
 */
int state_promote_last_good(const char *dir);

/*
 * state_read_policy() - the text (NUL-terminated) and signature of @slot,
 * malloc'd (*@sig NULL when unsigned). 0, -ENOENT when absent, -errno.
 */
int state_read_policy(const char *dir, enum state_slot slot, char **text, size_t *len,
		      void **sig, size_t *siglen);

/*
 * state_load_policy() - parse and compile @slot. Absent: the empty policy
 * (@why ""). Unreadable, corrupt (NUL bytes, too large) or invalid: NULL
 * and one sentence in @why, for a loud event; the caller decides what to
 * run instead (never silently nothing).
 */
struct policy *state_load_policy(const char *dir, enum state_slot slot,
				 const struct policy_opts *o, char *why, size_t whylen);

/*
 * state_load_current() - the policy an engine starts with: current.pol,
 * except when the metadata says it was loaded with --confirm and never
 * confirmed (the engine stopped before the deadline or rollback): then
 * last-good is restored as current (persisted) and returned, with a
 * sentence in @why. A current.pol that is corrupt or invalid gives way to
 * last-good the same way (the broken file kept as current.pol.bad); one
 * that cannot be read or compiled gives way to last-good for this start
 * only, nothing on disk changed. Said in @why; NULL + @why when last-good
 * fails too. @unconfirmed (65 bytes, may be NULL): the sha256 of the
 * --confirm load left unconfirmed that this start rolled back, else "" -
 * for status and a late `confirm` to say so, not only the log.
 * Called once at start, before the control server.
 */
struct policy *state_load_current(const char *dir, const struct policy_opts *o, char *why,
				  size_t whylen, char *unconfirmed);

/*
 * state_meta_of() - the metadata of @p, loaded now (signed: @is_signed,
 * with --skip-unsupported: @skip), nothing awaiting confirm.
 */
void state_meta_of(struct state_meta *m, const struct policy *p, bool is_signed, bool skip);

/* state_meta_read() - 0, -ENOENT (all fields zero), or -errno / -EINVAL when corrupt. */
int state_meta_read(const char *dir, struct state_meta *m);
/* state_meta_write() - atomic. 0 or -errno. */
int state_meta_write(const char *dir, const struct state_meta *m);

/*
 * What state.meta is on disk now, to tell whether another process wrote it
 * since (an atomic replace is a new inode; an edit a new mtime or size).
 */
struct state_stamp {
	bool present;
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns;
};
void state_meta_stamp(const char *dir, struct state_stamp *s);
bool state_stamp_eq(const struct state_stamp *a, const struct state_stamp *b);

/*
 * state_num_read() - the number in @dir/@name (one decimal line) into *@v:
 * 0, -ENOENT, -EINVAL when it is not one, or -errno. state_num_write() -
 * atomic; 0 or -errno. For offload-gen and console-resets.
 */
int state_num_read(const char *dir, const char *name, uint64_t *v);
int state_num_write(const char *dir, const char *name, uint64_t v);

/*
 * state_resets_read() - how many times `lifelinectl reset` acted alone on
 * @dir (the engine did not answer): 0 when never, -errno when the count
 * cannot be read. A client sends what it read with a request that changes
 * something; read after a later reset, the request is not done (control.c).
 */
int64_t state_resets_read(const char *dir);
/* state_resets_bump() - count one more (under state_lock()). 0 or -errno. */
int state_resets_bump(const char *dir);

/*
 * state_clean_tmp() - remove the temporary files (.NAME.PID.tmp) that a
 * writer killed mid-write left in @dir, but those of a live process.
 * Returns how many were removed.
 */
int state_clean_tmp(const char *dir);

/*
 * state_lock() - the state directory's write lock (an flock on
 * STATE_WRITE_LOCK_FILE), for who reads state.meta and then writes it or
 * current.pol, so that another process's write cannot land in between and
 * be overwritten: the engine at control start and after its own writes,
 * `lifelinectl reset` acting alone. Waits at most @wait_ms; returns the fd
 * to give state_unlock(), or -errno (EWOULDBLOCK: held that long; EROFS:
 * a read-only directory), and then the caller goes on without it: a hung
 * holder must not keep a reset from the console.
 */
int state_lock(const char *dir, int wait_ms);
void state_unlock(int fd);

/*
 * state_save_dns() - persist the learned (DHCP) servers of @d; configured
 * ones are left out, the config has them. 0 or -errno.
 */
int state_save_dns(const char *dir, const struct lifeline_dns *d, uint32_t n);
/*
 * state_load_dns() - the persisted learned servers, at most @max, leases
 * already over at @now_us dropped; lines that do not read as a server are
 * passed over and counted in *@bad. Count, 0 when none, or -errno.
 */
int state_load_dns(const char *dir, struct lifeline_dns *d, uint32_t max, uint64_t now_us,
		   uint32_t *bad);

#endif
