/*
 * control_req.c - requests that change what runs: load (validate, verify,
 * compile, diff, swap, persist), confirm, rollback, reset, and the confirm
 * timer. Everything is checked here, in the control thread, so the engine
 * only ever receives a ready, compiled policy.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "control_int.h"
#include "fw.h"
#include "ips.h"
#include "sig.h"

#define CONFIRM_MAX_S (7 * 86400)

static const char *dir_of(const struct control *c)
{
	return c->cfg->state_dir;
}

/*
 * How long the engine waits for the state directory's write lock: `reset`
 * acting alone holds it for two small writes; after that the engine goes on
 * without it (and still sees the reset's write by its stamp). A RESET waits
 * less: the console acts alone when the engine has not answered in 1 s
 * (CTL_TIMEOUT_RESET_MS), and a holder that does not let go - a stopped
 * lifelinectl, a hung disk - must not make a healthy engine look hung.
 */
#define STATE_LOCK_WAIT_MS 2000
#define RESET_LOCK_WAIT_MS 300

static void say(struct control *c, const char *msg);

/* Hold the write lock, unless this thread already does; true when this call took it. */
static bool lock_state(struct control *c)
{
	int wait = c->lock_wait_ms ? c->lock_wait_ms : STATE_LOCK_WAIT_MS;

	if (c->state_lock >= 0)
		return false;
	c->state_lock = state_lock(dir_of(c), wait);
	if (c->state_lock == -EWOULDBLOCK) {
		char msg[2 * PATH_MAX + 160];

		snprintf(msg, sizeof(msg), "warning: another process held %s/%s for %d ms: the "
			 "engine wrote its state without it (`fuser -v %s/%s` names the holder)",
			 dir_of(c), STATE_WRITE_LOCK_FILE, wait, dir_of(c), STATE_WRITE_LOCK_FILE);
		say(c, msg);
		c->lock_missed = true;
	}
	return c->state_lock >= 0;
}

static void unlock_state(struct control *c, bool took)
{
	if (!took)
		return;
	state_unlock(c->state_lock);
	c->state_lock = -1;
}

/*
 * state.meta is not the one this engine last wrote or read: `lifelinectl
 * reset` acted alone meanwhile (it waits 1 s for the engine's answer; a
 * long load, a slow disk or a stopped engine give none) and persisted the
 * empty policy. Asked under the write lock before anything is written, so
 * that no write of the engine's lands on the console's later word.
 */
static bool meta_moved(const struct control *c)
{
	struct state_stamp now;

	state_meta_stamp(dir_of(c), &now);
	return !state_stamp_eq(&now, &c->stamp);
}

/* control_meta_write() - see control_int.h. */
int control_meta_write(struct control *c)
{
	/* locked: a reset's write between this one and its stamp would pass for ours */
	bool took = lock_state(c);
	int rc = -ESTALE;

	if (!meta_moved(c)) {
		rc = state_meta_write(dir_of(c), &c->meta);
		state_meta_stamp(dir_of(c), &c->stamp); /* written or not: what is there now is known */
	}
	unlock_state(c, took);
	return rc;
}

static int meta_save(struct control *c, FILE *out)
{
	int rc;

	c->meta.confirm_deadline = 0;
	if (c->confirm_ms)
		c->meta.confirm_deadline = (uint64_t)time(NULL) +
			(uint64_t)((c->confirm_ms - control_now_ms() + 999) / 1000);
	if ((rc = control_meta_write(c)) < 0 && rc != -ESTALE) /* moved: the caller says what follows */
		fprintf(out, "warning: cannot write %s/%s: %s\n", dir_of(c), STATE_META_FILE,
			strerror(-rc));
	return rc;
}


/*
 * state.meta names another policy than the one that runs, and this engine
 * did not write it: `lifelinectl reset` acted alone while the engine did not
 * answer (hung, or still starting) and persisted the empty policy. The
 * console's word is the later one: run what the state directory holds now,
 * and drop a pending confirm, whose rollback would overwrite it.
 */
static void adopt(struct control *c, const struct state_meta *m, const char *when)
{
	struct state_meta old = c->meta;
	int64_t confirm_ms = c->confirm_ms;
	struct policy *p = policy_empty();
	char msg[256];

	snprintf(msg, sizeof(msg), "state.meta was rewritten %s (policy sha256 %.16s; "
		 "`lifelinectl reset` acting alone?): running current.pol as it is now", when,
		 m->sha256[0] ? m->sha256 : "-");
	say(c, msg);
	c->confirm_ms = 0;
	if (p && !strcmp(m->sha256, p->hash)) {
		/*
		 * The empty policy, as reset persisted it: run it as RESET does,
		 * with no signature to ask for (trusted-key). current.pol is
		 * written again: a reset that gave up waiting for the lock (the
		 * engine held it past 5 s, a slow disk) wrote its files between
		 * the engine's, and current.pol may be the engine's policy.
		 */
		bool took = lock_state(c);

		if (state_save_policy(dir_of(c), STATE_CURRENT, "", 0, NULL, 0) < 0)
			say(c, "warning: cannot write the empty policy as current.pol: a restart may "
			    "run another");
		unlock_state(c, took);
		state_meta_of(&c->meta, p, false, false);
		if (c->ops->swap_policy(c->ctx, p, CONTROL_SWAP_RESET_ALONE, NULL) < 0) {
			say(c, "the engine refused the empty policy: running policy kept");
			c->meta = old;
			c->confirm_ms = confirm_ms;
		}
		return;
	}
	policy_free(p);
	c->meta = *m; /* how it was loaded: skip-unsupported */
	control_reload_current(c);
	if (strcmp(c->ops->policy(c->ctx)->hash, c->meta.sha256)) { /* it did not load: as before */
		c->meta = old;
		c->confirm_ms = confirm_ms;
	}
}

/* control_state_check() - see control_int.h. */
void control_state_check(struct control *c)
{
	struct state_stamp now;
	struct state_meta m;

	state_meta_stamp(dir_of(c), &now);
	if (state_stamp_eq(&now, &c->stamp))
		return;
	c->stamp = now;
	if (state_meta_read(dir_of(c), &m) == 0 && strcmp(m.sha256, c->ops->policy(c->ctx)->hash))
		adopt(c, &m, "behind the engine");
}

static bool meta_sync(struct control *c);
static void start_unconfirmed(struct control *c);

/*
 * control_meta_sync() - see control_int.h. Under the state directory's write
 * lock from the read of state.meta to the engine's own write: a reset from
 * the console acting alone in between was overwritten, and the engine ran
 * the policy the reset had taken away.
 */
void control_meta_sync(struct control *c)
{
	bool took = lock_state(c);
	bool adopted = meta_sync(c);

	unlock_state(c, took);
	if (!adopted) /* else the reset's policy runs, not the one this start went back to */
		start_unconfirmed(c);
}

/*
 * The engine stopped with a `load --confirm` pending, and this start went
 * back to last-good (state_load_current()): status and a late `confirm`
 * say so as after a deadline. Only the log did: `confirm` answered
 * "nothing to confirm" and status showed the old policy, freshly loaded.
 */
static void start_unconfirmed(struct control *c)
{
	uint64_t at = 0;
	const char *h = c->ops->start_unconfirmed ? c->ops->start_unconfirmed(c->ctx, &at) : NULL;

	/* that same one runs (loaded again with --confirm): nothing to tell */
	if (!h || !h[0] || c->confirm_ms || !strcmp(h, c->meta.sha256))
		return;
	c->expired_at = at ? at : (uint64_t)time(NULL);
	c->expired_restart = true;
	snprintf(c->expired_to, sizeof(c->expired_to), "%s", c->meta.sha256);
	snprintf(c->expired_from, sizeof(c->expired_from), "%s", h);
}

/* Returns whether it adopted a policy written behind the start. */
static bool meta_sync(struct control *c)
{
	const struct policy *p = c->ops->policy(c->ctx);
	struct state_meta m = { 0 };
	bool have = state_meta_read(dir_of(c), &m) == 0, given = false;
	struct state_stamp before;
	uint32_t skipped = 0;
	int64_t left;

	state_meta_stamp(dir_of(c), &c->stamp);
	if (c->ops->start_state) {
		given = c->ops->start_state(c->ctx, &before);
		if (!state_stamp_eq(&before, &c->stamp) && have && strcmp(m.sha256, p->hash)) {
			adopt(c, &m, "while the engine started");
			return true; /* a -p policy is not persisted over it either */
		}
	}
	if (given && c->ops->persist_given)
		c->ops->persist_given(c->ctx);
	if (have && strcmp(m.sha256, p->hash) == 0) {
		c->meta = m;
		if (m.confirm_deadline) {
			/* a pending confirm survived a restart: keep its deadline */
			left = (int64_t)m.confirm_deadline - (int64_t)time(NULL);
			c->confirm_ms = control_now_ms() + (left > 0 ? left * 1000 : 0);
		}
		return false;
	}
	if (have && m.sha256[0]) {
		/* the evidence goes to the log before state.meta is rewritten */
		char msg[320];

		snprintf(msg, sizeof(msg), "state.meta described policy sha256 %.16s%s, but sha256 %.16s "
			 "runs (a load that did not finish writing, a policy given with -p, or "
			 "current.pol changed by hand): state.meta now describes what runs", m.sha256,
			 m.confirm_deadline ? " awaiting confirm" : "", p->hash);
		say(c, msg);
	}
	/*
	 * A policy that skipped unsupported IPS rules (-p POLICY
	 * --skip-unsupported) loads again only that way: with the flag off,
	 * the next start refused current.pol and ran the empty policy, and
	 * `table` and SIGUSR2 failed on the skipped rule.
	 */
	ips_ruleset_count(p->ips, &skipped);
	state_meta_of(&c->meta, p, false, skipped > 0);
	if (control_meta_write(c) < 0)
		(void)0; /* read-only state dir: status still works from memory */
	return false;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

struct load_req {
	const char *name;
	const char *sig;
	size_t siglen;
	char *text;        /* NUL-terminated copy */
	size_t len;
	uint64_t confirm_s;
	bool skip;
	bool verified;     /* its signature checked under trusted-key (load_validate()) */
};

static int load_args(const struct control_msg *m, struct load_req *r, FILE *out)
{
	uint64_t siglen = 0;

	r->name = control_msg_get(m, "name");
	if (!r->name)
		r->name = "policy";
	if (control_msg_get(m, "siglen") &&
	    parse_uint(control_msg_get(m, "siglen"), SIG_MAX_FILE, &siglen) < 0)
		return fputs("bad siglen\n", out), -EINVAL;
	if (siglen > m->bodylen)
		return fputs("signature longer than the request\n", out), -EINVAL;
	if (control_msg_get(m, "confirm") &&
	    (parse_uint(control_msg_get(m, "confirm"), CONFIRM_MAX_S, &r->confirm_s) < 0 ||
	     r->confirm_s == 0))
		return fprintf(out, "--confirm takes 1 to %d seconds\n", CONFIRM_MAX_S), -EINVAL;
	r->skip = control_msg_has(m, "skip-unsupported");
	r->sig = siglen ? m->body : NULL;
	r->siglen = siglen;
	r->len = m->bodylen - siglen;
	if (r->len > POLICY_MAX_BYTES) /* the request may hold a little more: the signature */
		return fprintf(out, "%s: larger than the %d MiB a policy may be\n", r->name,
			       POLICY_MAX_MIB), -EINVAL;
	if (memchr(m->body + siglen, '\0', r->len))
		return fprintf(out, "%s: not a policy: contains a NUL byte\n", r->name), -EINVAL;
	if (!(r->text = malloc(r->len + 1)))
		return fputs("out of memory\n", out), -ENOMEM;
	memcpy(r->text, m->body + siglen, r->len);
	r->text[r->len] = '\0';
	return 0;
}

/* Signature (when trusted-key), parse, serial, compile. NULL: errors are in @out. */
static struct policy *load_validate(struct control *c, struct load_req *r, FILE *out)
{
	struct policy_opts po;
	struct ll_errlist errs = { 0 };
	const struct policy *old = c->ops->policy(c->ctx);
	char err[512];
	struct policy *p;

	control_policy_opts(c, &po, r->skip);
	if (c->cfg->trusted_key &&
	    sig_verify(c->cfg->trusted_key, r->text, r->len, r->sig, r->siglen, err, sizeof(err)) < 0) {
		fprintf(out, "%s: refused: %s\n", r->name, err);
		return NULL;
	}
	r->verified = c->cfg->trusted_key != NULL;
	p = policy_load_string(r->name, r->text, &po, &errs);
	ll_err_print(&errs, out);
	ll_err_free(&errs);
	if (!p) {
		fprintf(out, "%s: invalid; the running policy is unchanged\n", r->name);
		return NULL;
	}
	/*
	 * The signature covers the bytes of the file it signs, not the files
	 * that file includes: those could change unsigned, and a restart could
	 * not find them relative to the state dir. A signed policy stands alone.
	 */
	if (c->cfg->trusted_key && p->nfiles > 1) {
		fprintf(out, "%s: refused: a signed policy cannot include other files (the signature "
			"covers only %s); sign its expanded form instead: lifelinectl check --print %s\n",
			r->name, r->name, r->name);
		goto fail;
	}
	if (c->cfg->trusted_key && old->has_serial && p->serial < old->serial) {
		fprintf(out, "%s: refused: serial %" PRIu64 " is lower than the running policy's "
			"serial %" PRIu64 " (replayed old policy?)\n", r->name, p->serial, old->serial);
		goto fail;
	}
	if (fw_compile(p) < 0) {
		fprintf(out, "%s: cannot compile: %s\n", r->name, strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	return p;
fail:
	policy_free(p);
	return NULL;
}

/* One line for the operator, through the engine's log when it has one. */
static void say(struct control *c, const char *msg)
{
	if (c->ops->log)
		c->ops->log(c->ctx, msg);
	else
		fprintf(stderr, "%s\n", msg);
}

/* Every line of @text (what a request would have printed), each after @prefix. */
static void say_lines(struct control *c, const char *prefix, char *text)
{
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		char one[1200];

		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		snprintf(one, sizeof(one), "%s%s", prefix, line);
		say(c, one);
	}
}

/*
 * control_reload_current() - SIGUSR2: STATE_DIR/current.pol again, as
 * `lifelinectl load` or an operator wrote it, on this thread (see
 * control_reload_policy()), checked as a load is (load_validate():
 * signature under trusted-key, serial, includes). An unreadable or
 * refused file changes nothing; what was wrong goes to the engine's log.
 */
void control_reload_current(struct control *c)
{
	char path[4096], *msg = NULL;
	void *sig = NULL;
	size_t mlen = 0;
	struct load_req r = { .name = path, .skip = c->meta.skip_unsupported };
	struct policy *p = NULL;
	FILE *out = open_memstream(&msg, &mlen);
	int rc = state_read_policy(dir_of(c), STATE_CURRENT, &r.text, &r.len, &sig, &r.siglen);

	snprintf(path, sizeof(path), "%s/%s", dir_of(c), STATE_CURRENT_FILE);
	r.sig = sig;
	if (!out)
		rc = -ENOMEM;
	else if (rc == -ENOENT) /* at start that means empty; here most likely a mistake */
		fprintf(out, "%s: %s (lifelinectl reset runs the empty policy)\n", path,
			strerror(-rc));
	else if (rc < 0)
		fprintf(out, "%s: %s\n", path, strerror(-rc));
	else
		p = load_validate(c, &r, out);
	if (out)
		fclose(out);
	if (p) {
		state_meta_of(&c->meta, p, r.verified, r.skip);
		c->ops->swap_policy(c->ctx, p, CONTROL_SWAP_RELOAD, NULL);
		free(msg); /* what load said: nothing to say of a good policy */
		msg = NULL, mlen = 0;
		if ((out = open_memstream(&msg, &mlen))) { /* a warning goes to the log, not stderr */
			meta_save(c, out);
			fclose(out);
			say_lines(c, "policy reload: ", msg);
		}
	} else {
		say_lines(c, "policy reload: ", msg); /* every line load would have printed */
		say(c, rc == -ENOMEM ? "policy reload: out of memory; running policy kept"
				     : "policy reload: running policy kept");
	}
	free(msg);
	free(r.text);
	free(sig);
}

/* control_policy_opts() - see control_int.h. */
void control_policy_opts(struct control *c, struct policy_opts *po, bool skip_unsupported)
{
	uint32_t n = c->ops->hosts ? c->ops->hosts(c->ctx, c->home, CONFIG_MAX_HOME_NET) : 0;

	config_policy_opts(c->cfg, po, skip_unsupported);
	if (n) {
		po->home_net = c->home;
		po->nhome_net = n;
	}
}

/*
 * control_rehome_current() - SPEC 4: $HOME_NET defaults to the host's
 * addresses, and live they come and go. When the running policy's IPS
 * rules read that default and the addresses are not the ones it was
 * compiled with, the same text is compiled again with them and swapped
 * in. Nothing is persisted or re-confirmed (the text, its hash and serial
 * are unchanged); like any swap, IPS state of open flows and the rule hit
 * counters start over. Rules the running policy skipped are skipped again
 * (it compiled once already). A failure keeps the running policy and
 * logs why.
 */
void control_rehome_current(struct control *c)
{
	const struct policy *cur = c->ops->policy(c->ctx);
	struct ll_errlist errs = { 0 };
	struct policy_opts po;
	struct policy *p = NULL;
	char *text, *msg = NULL;
	size_t len = 0, mlen = 0;
	FILE *out;

	if (!ips_reads_home_net(cur->ips))
		return;
	control_policy_opts(c, &po, true);
	po.ran = true; /* the running policy's own text */
	if (policy_home_hash(&po) == cur->home_hash)
		return; /* a change of addresses $HOME_NET leaves out (link-local, loopback) */
	text = policy_text(cur, &len);
	if (text)
		p = policy_load_string("running policy", text, &po, &errs);
	if (p && fw_compile(p) < 0) {
		policy_free(p);
		p = NULL;
	}
	if (p) {
		c->ops->swap_policy(c->ctx, p, CONTROL_SWAP_HOSTS, NULL);
	} else {
		if ((out = open_memstream(&msg, &mlen))) {
			ll_err_print(&errs, out);
			fclose(out);
			say_lines(c, "$HOME_NET: ", msg);
		}
		say(c, "the host's addresses changed, but the running policy did not compile "
		       "again; its $HOME_NET keeps the addresses it had");
	}
	ll_err_free(&errs);
	free(msg);
	free(text);
}

/* Replace r->text with @p's canonical form (includes expanded in place). */
static int canonical(const struct policy *p, struct load_req *r)
{
	size_t len = 0;
	char *text = policy_text(p, &len);

	if (!text)
		return -ENOMEM;
	free(r->text);
	r->text = text;
	r->len = len;
	return 0;
}

static void print_summary(const char *verb, const char *name, const struct policy *p, FILE *out)
{
	fprintf(out, "%s %s: ", verb, name);
	policy_print_counts(p, out);
	fprintf(out, ", sha256 %.16s\n", p->hash);
	ips_print_skips(p->ips, out, "  ");
}

/*
 * control_persist() found meta_moved(): the engine runs what the state
 * directory holds now (adopt()), and the client hears that its change gave
 * way. false when that is this very policy (two resets) or state.meta
 * names none (unreadable): the request's writes go on.
 */
static bool gave_way(struct control *c, FILE *out)
{
	char want[sizeof(c->meta.sha256)];
	struct state_meta m;
	bool named;

	memcpy(want, c->meta.sha256, sizeof(want));
	control_state_check(c);
	/* the reset persisted this very policy (empty), with no confirm pending */
	named = state_meta_read(dir_of(c), &m) == 0 && !strcmp(m.sha256, want) &&
		!m.confirm_deadline;
	if (!strcmp(c->ops->policy(c->ctx)->hash, want) && !(c->confirm_ms && named))
		return false;
	c->confirm_ms = 0; /* the reset's state has none pending */
	fprintf(out, "not kept: state.meta changed while this request ran (`lifelinectl reset` "
		"acting alone while the engine was busy, or an edit by hand); the engine runs what "
		"the state directory holds now, policy sha256 %.16s (`lifelinectl status` says "
		"whether the queue rule is out; load this policy again if you still want it)\n",
		c->ops->policy(c->ctx)->hash);
	return true;
}

/*
 * control_persist() - see control_int.h. Both writes under the state
 * directory's lock, and none when a reset acted alone meanwhile
 * (gave_way()). A policy awaiting confirm gets its state.meta (hash and
 * deadline) first: a restart after a crash between the two writes finds
 * the previous current.pol, which state.meta no longer describes, and runs
 * it; and when state.meta cannot be written the policy is not persisted at
 * all. Either way a restart never runs an unconfirmed policy without its
 * deadline.
 */
enum persisted control_persist(struct control *c, const char *text, size_t len, const void *sig,
			       size_t siglen, FILE *out)
{
	bool took, moved;
	int rc, mrc = 0;

	c->lock_missed = false;
	took = lock_state(c);

	if (meta_moved(c)) {
		unlock_state(c, took);
		if (gave_way(c, out))
			return PERSIST_GAVE_WAY;
		took = lock_state(c);
	}
	rc = c->confirm_ms ? meta_save(c, out) : 0;
	if (rc == 0 && text)
		rc = state_save_policy(dir_of(c), STATE_CURRENT, text, len, sig, siglen);
	if (rc == 0 && !c->confirm_ms) {
		mrc = meta_save(c, out);
		if (!text)
			rc = mrc; /* a confirm is state.meta alone */
	}
	/* without the lock (a reset that gave up on it), its writes may be among these */
	moved = rc == -ESTALE || mrc == -ESTALE || meta_moved(c);
	unlock_state(c, took);
	if (c->lock_missed) /* the client's terminal too: it waited for this */
		fprintf(out, "warning: another process held %s/%s: the engine wrote its state "
			"without it, after waiting (`fuser -v %s/%s` names the holder)\n", dir_of(c),
			STATE_WRITE_LOCK_FILE, dir_of(c), STATE_WRITE_LOCK_FILE);
	if (moved && gave_way(c, out))
		return PERSIST_GAVE_WAY;
	if (rc < 0) { /* state.meta stays with the file it describes, or names one not there */
		char msg[PATH_MAX + 160];

		snprintf(msg, sizeof(msg), "warning: running, but not persisted in %s: %s "
			 "(a restart brings the previous policy back)", dir_of(c), strerror(-rc));
		fprintf(out, "%s\n", msg);
		say(c, msg); /* the log too: the client's terminal may be long gone */
		return PERSIST_FAILED;
	}
	return PERSIST_DONE;
}

/*
 * Hand @p to the engine. c->meta already describes @p (it must be read
 * before the engine owns and may free it): @old is restored on failure.
 */
static int swap(struct control *c, struct policy *p, enum control_swap_why why,
		const char *msg, const struct state_meta *old, FILE *out)
{
	int rc = c->ops->swap_policy(c->ctx, p, why, msg);

	if (rc < 0)
		c->meta = *old;
	if (rc < 0)
		fprintf(out, "the engine refused the policy: %s; the running policy is unchanged\n",
			strerror(-rc));
	return rc;
}

/* control_unqueued() - see control_int.h. */
const char *control_unqueued(struct control *c)
{
	struct control_status *st = c->ops->status ? calloc(1, sizeof(*st)) : NULL;
	const char *why = NULL;

	if (st && c->ops->status(c->ctx, st) == 0 && st->hooks_backend && !st->hooks_queue)
		why = st->hooks_gone ? "the kernel rules are gone" : "the queue rule is out (reset)";
	free(st);
	return why;
}

/* A policy that judges nothing: say so where it is loaded, not only in status. */
static void warn_unqueued(struct control *c, FILE *out)
{
	const char *why = control_unqueued(c);

	if (why)
		fprintf(out, "warning: %s: this policy judges nothing until the rules are back "
			"(status tells; a restart of lifelined installs them)\n", why);
}

/*
 * Run @p (owned) and persist it: true when it stays, persisted or not.
 * Its summary line is said only then, ahead of what swap() and
 * control_persist() say: a load the engine refused, or one that gave way
 * to a reset, has no "loaded" line for a script to take for success. The
 * summary is written while @p is still ours (the engine may free it), the
 * rest after it in the same stream, from @at on.
 */
static bool load_swap(struct control *c, const struct load_req *r, struct policy *p,
		      const char *msg, FILE *out)
{
	struct state_meta old = c->meta;
	char *said = NULL;
	size_t len = 0;
	bool stays = false;
	FILE *f = open_memstream(&said, &len);
	long at;

	if (!f) {
		policy_free(p);
		fputs("out of memory; the running policy is unchanged\n", out);
		return false;
	}
	print_summary("loaded", r->name, p, f);
	at = ftell(f);
	state_meta_of(&c->meta, p, r->verified, r->skip);
	if (swap(c, p, CONTROL_SWAP_LOAD, msg, &old, f) == 0) {
		c->confirm_ms = r->confirm_s ? control_now_ms() + (int64_t)r->confirm_s * 1000 : 0;
		c->expired_at = 0;
		stays = control_persist(c, r->text, r->len, r->sig, r->siglen, f) != PERSIST_GAVE_WAY;
	}
	if (fclose(f) == 0 && at >= 0)
		fputs(said + (stays ? 0 : at), out);
	free(said);
	return stays;
}

/*
 * load --confirm rolls back to last-good.pol, which a load makes of
 * current.pol: go on only when that file (@slot: current.pol before the
 * promotion, last-good.pol after one that failed with @err) holds the
 * running policy. Else the deadline would run another policy, maybe one
 * much older than the running one (the state directory full, wiped or
 * edited by hand): say why on @out and refuse.
 */
static bool confirm_can_roll_back(struct control *c, enum state_slot slot, int err, FILE *out)
{
	const struct policy *run = c->ops->policy(c->ctx);
	struct policy_opts po;
	struct policy *held;
	char why[512];
	bool same;

	/*
	 * What the file holds, read: state.meta's hash says what runs, not what
	 * current.pol holds now. A hand edit that SIGUSR2 refused (a typo) or
	 * was never sent leaves the file another policy, which the deadline
	 * would run - the empty one when the edit does not parse.
	 */
	control_policy_opts(c, &po, true);
	held = state_load_policy(dir_of(c), slot, &po, why, sizeof(why));
	same = held && strcmp(held->hash, run->hash) == 0;
	if (!same) {
		fprintf(out, "not loaded: --confirm could not bring back the running policy (sha256 "
			"%.16s): ", run->hash);
		if (slot == STATE_LAST_GOOD)
			fprintf(out, "it cannot be kept as last-good in %s (%s), and last-good.pol "
				"holds ", dir_of(c), strerror(-err));
		else
			fprintf(out, "last-good.pol is made of current.pol, and %s/current.pol "
				"holds ", dir_of(c));
		if (held)
			fprintf(out, "sha256 %.16s", held->hash);
		else
			fprintf(out, "no usable policy (%s)", why);
		fputs("; load without --confirm, or first make the state directory hold the "
		      "running policy (free it, or load that policy again)\n", out);
	}
	policy_free(held);
	return same;
}

/* control_req_load() - LOAD: see control_proto.c. */
const char *control_req_load(struct control *c, const struct control_msg *m, FILE *out)
{
	struct load_req r = { 0 };
	struct policy *p;
	char msg[256], *diff = NULL;
	size_t dlen = 0;
	FILE *df;
	const char *res = CTL_R_FAIL;
	bool kept = true; /* the policy before this one is last-good */
	bool replaced = c->confirm_ms != 0; /* an unconfirmed one, which last-good is not */
	char lost[sizeof(c->lost_good)] = ""; /* the running policy, not kept as last-good */
	bool swapped;
	int err;

	if (load_args(m, &r, out) < 0 || !(p = load_validate(c, &r, out)))
		goto out;
	if (!(df = open_memstream(&diff, &dlen))) {
		policy_free(p);
		goto out;
	}
	control_diff(c->ops->policy(c->ctx), p, df);
	fclose(df);
	/* the deadline's rollback must find the running policy in last-good.pol */
	if (r.confirm_s && !c->confirm_ms && !confirm_can_roll_back(c, STATE_CURRENT, 0, out)) {
		policy_free(p);
		goto out;
	}
	/* a pending unconfirmed policy is not good: keep the last-good from before it */
	if (!c->confirm_ms && (err = state_promote_last_good(dir_of(c))) < 0) {
		if (r.confirm_s && !confirm_can_roll_back(c, STATE_LAST_GOOD, err, out)) {
			policy_free(p);
			goto out;
		}
		fprintf(out, "warning: cannot keep the previous policy as last-good in %s\n",
			dir_of(c));
		kept = false;
		/* rollback must not take last-good.pol, older, for the policy replaced here */
		snprintf(lost, sizeof(lost), "%s", c->ops->policy(c->ctx)->hash);
	} else if (!c->confirm_ms) {
		c->lost_good[0] = '\0';
	}
	/*
	 * Includes resolve relative to the file the client named, not to the
	 * state dir: persist the expanded canonical text so that a restart
	 * reads the same policy. A signed policy has no includes
	 * (load_validate()) and is kept as it is, with its signature.
	 */
	if (p->nfiles > 1 && !r.sig && canonical(p, &r) < 0)
		fputs("warning: cannot expand the includes for persistence\n", out);
	snprintf(msg, sizeof(msg), "loaded %s sha256 %s%s", r.name, p->hash,
		 r.confirm_s ? " (awaiting confirm)" : "");
	swapped = load_swap(c, &r, p, msg, out);
	/*
	 * Only once that policy no longer runs: refused by the engine, it
	 * still does, and last-good.pol still holds the one before it.
	 */
	if (lost[0] && strcmp(c->ops->policy(c->ctx)->hash, lost))
		memcpy(c->lost_good, lost, sizeof(lost));
	if (!swapped)
		goto out;
	fputs(diff, out);
	warn_unqueued(c, out);
	/*
	 * A plain load over one awaiting confirm ends that wait: its rollback
	 * will not come. Said, so that whoever ran `load --confirm` does not
	 * count on it (last-good is still the policy before the unconfirmed one).
	 */
	if (replaced && !r.confirm_s)
		fputs("the pending confirm is cancelled: the policy that awaited it was replaced and "
		      "no rollback will come by itself; `lifelinectl rollback` goes back to the last "
		      "confirmed policy\n", out);
	if (r.confirm_s)
		fprintf(out, "run `lifelinectl confirm %.16s` within %" PRIu64 " s, or %s\n",
			c->meta.sha256, r.confirm_s, !kept ? "the policy in last-good.pol (the empty "
			"policy when it is unusable) runs" : replaced ? "the last confirmed policy "
			"comes back, not the one this load replaced" : "the previous policy comes back");
	res = CTL_R_OK;
out:
	free(diff);
	free(r.text);
	return res;
}

/* control_req_confirm() - CONFIRM [sha256=PREFIX]: the pending policy stays (when it is that one). */
const char *control_req_confirm(struct control *c, const struct control_msg *m, FILE *out)
{
	const char *want = control_msg_get(m, "sha256");
	int64_t pending;
	uint64_t deadline;

	if (want && (strlen(want) < 8 || strlen(want) > 64 ||
		     strspn(want, "0123456789abcdefABCDEF") != strlen(want))) {
		fputs("sha256= takes 8 to 64 hex digits\n", out);
		return CTL_R_BAD;
	}
	/* while the policy the deadline brought back still runs (a reset or load ends it) */
	if (!c->confirm_ms && c->expired_at && !strcmp(c->meta.sha256, c->expired_to)) {
		char t[32];

		if (c->expired_restart)
			fprintf(out, "too late: the engine stopped before policy sha256 %.16s was "
				"confirmed, and its start at %s went back to policy sha256 %.16s; "
				"load the policy again to keep it\n", c->expired_from,
				control_iso_time(c->expired_at, t, sizeof(t)), c->expired_to);
		else
			fprintf(out, "too late: the confirm deadline passed at %s and the engine "
				"went back to policy sha256 %.16s; load the policy again to keep "
				"it\n", control_iso_time(c->expired_at, t, sizeof(t)), c->expired_to);
		return CTL_R_FAIL;
	}
	if (!c->confirm_ms) {
		fputs("nothing to confirm: no `load --confirm` is pending\n", out);
		return CTL_R_FAIL;
	}
	if (want && strncasecmp(c->meta.sha256, want, strlen(want))) {
		fprintf(out, "not confirmed: the policy awaiting confirm is sha256 %.16s, not %s (a "
			"later load or `table` change replaced the one you tested?)\n", c->meta.sha256,
			want);
		return CTL_R_FAIL;
	}
	pending = c->confirm_ms;
	deadline = c->meta.confirm_deadline;
	c->confirm_ms = 0;
	switch (control_persist(c, NULL, 0, NULL, 0, out)) {
	case PERSIST_DONE:
		fprintf(out, "confirmed: policy sha256 %.16s stays\n", c->meta.sha256);
		return CTL_R_OK;
	case PERSIST_FAILED:
		/*
		 * Confirmed only in memory, a restart would roll back what status
		 * calls confirmed: nothing changes, so that `confirm` can be run
		 * again once the state directory takes writes.
		 */
		c->confirm_ms = pending;
		c->meta.confirm_deadline = deadline;
		say(c, "confirm not recorded: the state directory does not take writes; the "
		    "deadline stands");
		fprintf(out, "not confirmed: it cannot be recorded, and a restart would roll it "
			"back; the deadline stands: make the state directory writable and run "
			"`lifelinectl confirm` again\n");
		return CTL_R_FAIL;
	default:
		return CTL_R_FAIL;
	}
}

/*
 * Swap to last-good (the empty policy when there is none) and persist it as
 * current: 0, 1 when a rollback asked for finds it running already (nothing
 * done), or -errno.
 */
static int rollback(struct control *c, enum control_swap_why why, FILE *out)
{
	struct policy_opts po;
	char why_s[512], *text = NULL, *diff = NULL;
	void *sig = NULL;
	size_t len = 0, siglen = 0, dlen = 0;
	struct policy *p;
	FILE *df;

	control_policy_opts(c, &po, true);
	p = state_load_policy(dir_of(c), STATE_LAST_GOOD, &po, why_s, sizeof(why_s));
	struct state_meta old;
	int rc;

	if (!p) {
		fprintf(out, "cannot roll back: %s\n", why_s);
		return -EINVAL;
	}
	if (why == CONTROL_SWAP_ROLLBACK && !c->confirm_ms &&
	    strcmp(c->ops->policy(c->ctx)->hash, p->hash) == 0) {
		fprintf(out, "the last-good policy (sha256 %.16s) already runs: nothing to roll back\n",
			p->hash);
		policy_free(p);
		return 1;
	}
	/*
	 * A load that could not make the policy it replaced last-good (state
	 * dir full or read-only) left last-good.pol older than that policy:
	 * a rollback would run a policy that is neither the running one nor
	 * the one before it (maybe weeks old, one that cuts the console off).
	 */
	if (why == CONTROL_SWAP_ROLLBACK && c->lost_good[0] && strcmp(c->lost_good, p->hash)) {
		fprintf(out, "not rolled back: last-good.pol holds sha256 %.16s, not the policy the "
			"last load replaced (sha256 %.16s), which could not be kept as last-good in "
			"%s; load that policy's file again (`lifelinectl load FILE`), or `lifelinectl "
			"load %s/%s` to run last-good.pol anyway\n", p->hash, c->lost_good,
			dir_of(c), dir_of(c), STATE_LAST_GOOD_FILE);
		policy_free(p);
		return -ESTALE;
	}
	/* as load says it: what happened first, then the diff */
	if ((df = open_memstream(&diff, &dlen))) {
		control_diff(c->ops->policy(c->ctx), p, df);
		fclose(df);
	}
	old = c->meta;
	state_meta_of(&c->meta, p, false, true);
	if (state_read_policy(dir_of(c), STATE_LAST_GOOD, &text, &len, &sig, &siglen) < 0)
		text = NULL, len = 0; /* absent: the empty policy */
	c->meta.is_signed = sig != NULL;
	if ((rc = swap(c, p, why, why == CONTROL_SWAP_TIMEOUT ? "confirm deadline passed: "
		       "rolled back to last-good" : "rolled back to last-good", &old, out)) == 0) {
		c->confirm_ms = 0;
		if (control_persist(c, text ? text : "", len, sig, siglen, out) == PERSIST_GAVE_WAY)
			rc = -ESTALE;
		else if (why == CONTROL_SWAP_ROLLBACK)
			fprintf(out, "rolled back to the last-good policy (sha256 %.16s)\n",
				c->meta.sha256);
		if (rc == 0 && diff)
			fputs(diff, out);
	}
	free(diff);
	free(text);
	free(sig);
	return rc;
}

/* control_req_rollback() - ROLLBACK: last-good now. */
const char *control_req_rollback(struct control *c, const struct control_msg *m, FILE *out)
{
	int rc;

	(void)m;
	if ((rc = rollback(c, CONTROL_SWAP_ROLLBACK, out)) < 0)
		return CTL_R_FAIL;
	return CTL_R_OK;
}

/*
 * The empty policy now, persisted: 1, 0 when it runs unpersisted, -ESTALE
 * when the state directory named another policy meanwhile (that one runs),
 * other -errno when it does not run; @msg for the policy event.
 */
static int swap_empty(struct control *c, enum control_swap_why why, const char *msg, FILE *out)
{
	struct policy *p = policy_empty();
	struct state_meta old = c->meta;

	if (!p) {
		fputs("out of memory\n", out);
		return -ENOMEM;
	}
	state_meta_of(&c->meta, p, false, false);
	if (swap(c, p, why, msg, &old, out) < 0)
		return -EIO;
	c->confirm_ms = 0;
	switch (control_persist(c, "", 0, NULL, 0, out)) {
	case PERSIST_DONE:
		return 1;
	case PERSIST_FAILED:
		return 0;
	default: /* the state directory named another policy, which runs now (said) */
		return -ESTALE;
	}
}

/*
 * control_confirm_expired() - see control_int.h. Nobody is there to read
 * a failure: when last-good cannot be run, the unconfirmed policy (which
 * may be the one locking the host out) must not stay, so the empty policy
 * runs, as after `reset`, and the engine's log says why.
 */
void control_confirm_expired(struct control *c)
{
	char *msg = NULL, from[65];
	size_t len = 0;
	FILE *out = open_memstream(&msg, &len);
	int rc;

	snprintf(from, sizeof(from), "%s", c->meta.sha256);
	c->confirm_ms = 0; /* once, even when the rollback fails: no busy loop */
	/* without memory for the text, the rollback still happens; only its words go to stderr */
	rc = rollback(c, CONTROL_SWAP_TIMEOUT, out ? out : stderr);
	if (out)
		fclose(out);
	if (rc == -ESTALE) { /* a reset acted alone meanwhile: the engine runs its policy */
		say_lines(c, "confirm deadline passed: ", msg);
	} else if (rc < 0) {
		say_lines(c, "confirm deadline passed: ", msg);
		free(msg);
		msg = NULL;
		out = open_memstream(&msg, &len);
		rc = swap_empty(c, CONTROL_SWAP_TIMEOUT, "confirm deadline passed, last-good "
				"unusable: the empty policy runs", out ? out : stderr);
		if (out)
			fclose(out);
		say_lines(c, "confirm deadline passed: ", msg);
		if (rc != -ESTALE) /* else a reset acted alone meanwhile: its policy runs (said) */
			say(c, rc < 0 ? "confirm deadline passed: the unconfirmed policy still runs "
				"(run `lifelinectl reset`)" : "confirm deadline passed: last-good is "
				"unusable, so the empty policy runs (accepts everything), as after reset");
	}
	if (rc >= 0) { /* for a late `confirm`: what happened instead */
		c->expired_at = (uint64_t)time(NULL);
		c->expired_restart = false;
		snprintf(c->expired_to, sizeof(c->expired_to), "%s", c->meta.sha256);
		snprintf(c->expired_from, sizeof(c->expired_from), "%s", from);
	}
	free(msg);
}

/* control_req_reset() - RESET: the empty policy now, persisted. */
const char *control_req_reset(struct control *c, const struct control_msg *m, FILE *out)
{
	int rc;

	(void)m;
	c->lock_wait_ms = RESET_LOCK_WAIT_MS; /* its answer within the console's 1 s */
	rc = swap_empty(c, CONTROL_SWAP_RESET, "reset: empty policy", out);
	c->lock_wait_ms = 0;
	if (rc < 0)
		return CTL_R_FAIL;
	/* a deadline that brought back the empty policy is over too (status, a late confirm) */
	c->expired_at = 0;
	fprintf(out, "the engine now runs the empty policy (accepts everything)");
	if (rc)
		fprintf(out, "; persisted in %s/%s", dir_of(c), STATE_CURRENT_FILE); /* ctl reset reads it */
	fputc('\n', out);
	return CTL_R_OK;
}
