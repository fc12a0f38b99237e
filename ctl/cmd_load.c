/*
 * cmd_load.c - lifelinectl load, confirm, rollback: the engine validates,
 * verifies, swaps and persists; these only carry the file and print the
 * engine's answer (what changed, or every error). With no engine to
 * answer, load still validates the policy here, so every error shows.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "../rules/parse.h"
#include "control.h"
#include "ctl.h"
#include "sig.h"

/* POLICY.sig when present; NULL/0 when not. -1: present but unusable (printed). */
static int read_sig(struct ctl *c, const char *policy, void **sig, size_t *len)
{
	char path[PATH_MAX];
	int rc;

	*sig = NULL;
	*len = 0;
	if (snprintf(path, sizeof(path), "%s.sig", policy) >= (int)sizeof(path))
		return 0;
	rc = sig_read_file(path, sig, len);
	if (rc == 0 || rc == -ENOENT)
		return 0;
	fprintf(stderr, "%s load: %s: %s\n", c->prog, path,
		rc == -EFBIG ? "too large to be a signature" : strerror(-rc));
	return -1;
}

/* No answer (@rc CTL_NOT_RUNNING) or no asking (CTL_UNKNOWN: no access): check the policy here. */
static void validate_here(struct ctl *c, const char *path, bool skip, int rc)
{
	struct policy_opts po = { .skip_unsupported = skip };
	struct ll_errlist errs = { 0 };
	struct config cfg;
	struct policy *p;

	if (ctl_config(c, &cfg) == 0) {
		config_policy_opts(&cfg, &po, skip);
		p = policy_load_file(path, &po, &errs);
		config_free(&cfg);
	} else {
		p = policy_load_file(path, &po, &errs);
	}
	ll_err_print(&errs, stderr);
	ll_err_free(&errs);
	if (c->sent) /* the engine has it: it may have loaded it before the answer was lost */
		fprintf(stderr, "%s load: %s is %s; the engine got it but its answer was lost: it "
			"may have loaded it (`%s status` says what runs)\n", c->prog, path,
			p ? "valid" : "invalid", c->prog);
	else
		fprintf(stderr, "%s load: %s is %s; nothing was loaded (%s)\n", c->prog, path,
			p ? "valid" : "invalid", rc == CTL_NOT_RUNNING ? "no engine answered" :
			"the engine could not be asked: loading needs root");
	policy_free(p);
}

static int send_load(struct ctl *c, const char *path, long confirm, bool skip)
{
	char hdr[CONTROL_MAX_HEADER], abs[PATH_MAX], *text = NULL;
	void *sig = NULL;
	size_t len = 0, siglen = 0;
	struct iovec iov[2];
	int rc, n;

	if ((rc = policy_read_file(path, &text, &len)) < 0) {
		fprintf(stderr, "%s load: %s: %s\n", c->prog, path, policy_read_error(rc));
		return CTL_FAIL;
	}
	if (read_sig(c, path, &sig, &siglen) < 0) {
		free(text);
		return CTL_FAIL;
	}
	if (!realpath(path, abs))
		snprintf(abs, sizeof(abs), "%s", path);
	/* the name is only for messages and includes: keep it one printable word */
	for (char *p = abs; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			*p = '_';
	n = snprintf(hdr, sizeof(hdr), "LOAD siglen=%zu%s", siglen, skip ? " skip-unsupported" : "");
	if (confirm > 0)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, " confirm=%ld", confirm);
	snprintf(hdr + n, sizeof(hdr) - (size_t)n, " name=%.*s", 3000, abs);
	iov[0] = (struct iovec){ sig, siglen };
	iov[1] = (struct iovec){ text, len };
	rc = ctl_request(c, hdr, iov, 2, CTL_TIMEOUT_LOAD_MS, CTL_NOT_RUNNING);
	free(text);
	free(sig);
	if (rc == CTL_NOT_RUNNING || rc == CTL_UNKNOWN) { /* no answer: an exit 1 like any failure */
		validate_here(c, path, skip, rc);
		rc = CTL_FAIL;
	}
	return rc;
}

/*
 * cmd_load() - `load [--confirm SECONDS] [--skip-unsupported] POLICY`,
 * with POLICY.sig when it exists. Exit 0 loaded, 1 refused (every error
 * printed; nothing changed) or no engine, 2 usage.
 */
int cmd_load(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "confirm", required_argument, NULL, 'C' },
		{ "skip-unsupported", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long confirm = 0;
	bool skip = false;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (o == 'C') {
			confirm = strtol(optarg, &end, 10);
			if (!*optarg || *end || confirm <= 0 || confirm > 7 * 86400)
				return ctl_usage_error(c, "load", "--confirm takes 1 to 604800 seconds");
		} else if (o == 's') {
			skip = true;
		} else if (o == 'h') {
			printf("usage: %s load [--confirm SECONDS] [--skip-unsupported] POLICY\n"
			       "exit: 0 loaded, 1 refused or no engine, 2 usage\n", c->prog);
			return CTL_OK;
		} else {
			return ctl_usage_error(c, "load", NULL);
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error(c, "load", "expects exactly one POLICY");
	return send_load(c, argv[optind], confirm, skip);
}

static int no_args(struct ctl *c, int argc, char **argv, const char *name, const char *help)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s %s\n%s\n", c->prog, name, help);
		return CTL_OK;
	}
	return argc == 1 ? -1 : ctl_usage_error(c, name, "takes no arguments");
}

/*
 * cmd_confirm() - `confirm [SHA256]`: keep the policy loaded with --confirm;
 * with SHA256 (its first 8 to 64 hex digits, as load printed them) only
 * when that is the policy awaiting confirm, not a later load of someone
 * else's. Exit 0, 1, 2.
 */
int cmd_confirm(struct ctl *c, int argc, char **argv)
{
	char hdr[96];
	size_t n;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s confirm [SHA256]\nkeep the policy loaded with --confirm (with "
		       "SHA256, its hash's first 8 or more hex digits: only that policy)\n", c->prog);
		return CTL_OK;
	}
	if (argc == 1)
		return ctl_request(c, "CONFIRM", NULL, 0, CTL_TIMEOUT_MS, CTL_FAIL);
	n = strlen(argv[1]);
	if (argc != 2 || n < 8 || n > 64 || strspn(argv[1], "0123456789abcdefABCDEF") != n)
		return ctl_usage_error(c, "confirm", "takes at most the policy's sha256, 8 to 64 "
				       "hex digits (as load printed it)");
	snprintf(hdr, sizeof(hdr), "CONFIRM sha256=%s", argv[1]);
	return ctl_request(c, hdr, NULL, 0, CTL_TIMEOUT_MS, CTL_FAIL);
}

/* cmd_rollback() - `rollback`: the last-good policy now. Exit 0, 1, 2. */
int cmd_rollback(struct ctl *c, int argc, char **argv)
{
	int rc = no_args(c, argc, argv, "rollback", "go back to the last-good policy now");

	return rc >= 0 ? rc : ctl_request(c, "ROLLBACK", NULL, 0, CTL_TIMEOUT_LOAD_MS, CTL_FAIL);
}
