/* main.c - lifelined: live engine on NFQUEUE, or replay of a capture (-r). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kernel_probe.h"
#include "engine.h"
#include "hooks.h"
#include "ips.h"
#include "pipeline.h"
#include "policy.h"
#include "replay.h"

static void usage(FILE *out)
{
	fputs("usage: lifelined [-c CONFIG] [-p POLICY] [-f] [--skip-unsupported]\n"
	      "       lifelined -r PCAP [-c CONFIG] [-p POLICY] [--skip-unsupported]\n"
	      "                 [--verdicts FILE|-] [-w ACCEPTED.pcap] [--dropped DROPPED.pcap]\n"
	      "       lifelined --print-hooks [--backend auto|nft|iptables] [-c CONFIG]\n"
	      "       lifelined --version | --help\n"
	      "\n"
	      "  -c, --config FILE      config file (default " LL_DEFAULT_CONFIG ")\n"
	      "  -p, --policy FILE      policy to start with (live: becomes the current policy)\n"
	      "  -f, --foreground       stay in the foreground (live)\n"
	      "      --skip-unsupported skip IPS rules with unsupported keywords, counted\n"
	      "  -r, --read PCAP        replay a capture through the pipeline, no kernel\n"
	      "      --verdicts FILE|-  one JSON line per frame (- : stdout; summary goes to stderr)\n"
	      "  -w FILE                write accepted frames to a capture\n"
	      "      --dropped FILE     write dropped frames to a capture\n"
	      "      --print-hooks      print the kernel rules the engine would install\n"
	      "      --backend B        with --print-hooks: auto (what this kernel offers), nft, iptables\n"
	      "  -V, --version          print the version\n"
	      "  -h, --help             this text\n"
	      "\n"
	      "exit status: 0 done; 1 bad input (config, policy, capture); 2 usage\n",
	      out);
}

struct args {
	const char *config, *policy, *pcap, *verdicts, *accepted, *dropped, *backend;
	bool foreground, skip_unsupported, print_hooks;
};

enum { OPT_SKIP = 256, OPT_VERDICTS, OPT_DROPPED, OPT_PRINT_HOOKS, OPT_BACKEND };

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "read", required_argument, NULL, 'r' },
		{ "skip-unsupported", no_argument, NULL, OPT_SKIP },
		{ "verdicts", required_argument, NULL, OPT_VERDICTS },
		{ "dropped", required_argument, NULL, OPT_DROPPED },
		{ "print-hooks", no_argument, NULL, OPT_PRINT_HOOKS },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:p:fr:w:Vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'p': a->policy = optarg; break;
		case 'f': a->foreground = true; break;
		case 'r': a->pcap = optarg; break;
		case 'w': a->accepted = optarg; break;
		case OPT_SKIP: a->skip_unsupported = true; break;
		case OPT_VERDICTS: a->verdicts = optarg; break;
		case OPT_DROPPED: a->dropped = optarg; break;
		case OPT_PRINT_HOOKS: a->print_hooks = true; break;
		case OPT_BACKEND: a->backend = optarg; break;
		case 'V': printf("lifelined %s\n", LL_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lifelined: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!a->pcap && (a->verdicts || a->accepted || a->dropped)) {
		fprintf(stderr, "lifelined: --verdicts, -w and --dropped go with -r\n");
		return -1;
	}
	if (a->backend && !a->print_hooks) {
		fprintf(stderr, "lifelined: --backend goes with --print-hooks\n");
		return -1;
	}
	/* one mode a run: replay, print the hooks, or run live */
	if (a->pcap && a->print_hooks) {
		fprintf(stderr, "lifelined: -r and --print-hooks exclude each other\n");
		return -1;
	}
	if (a->foreground && (a->pcap || a->print_hooks)) {
		fprintf(stderr, "lifelined: -f is for running live, not with %s\n",
			a->pcap ? "-r" : "--print-hooks");
		return -1;
	}
	if (a->print_hooks && (a->policy || a->skip_unsupported)) {
		fprintf(stderr, "lifelined: --print-hooks reads only the config (no -p, "
			"--skip-unsupported)\n");
		return -1;
	}
	return 0;
}

static int load_config(struct config *cfg, const char *path)
{
	struct ll_errlist errs = { 0 };
	int rc = config_load(cfg, path ? path : LL_DEFAULT_CONFIG, path == NULL, &errs);

	if (rc < 0) {
		ll_err_print(&errs, stderr);
		if (!errs.n)
			fprintf(stderr, "lifelined: %s: %s\n", path, strerror(-rc));
	}
	ll_err_free(&errs);
	return rc < 0 ? -1 : 0;
}

static struct policy *load_policy(const struct config *cfg, const char *path, bool skip)
{
	struct policy_opts o;
	struct ll_errlist errs = { 0 };
	struct policy *p;

	if (!path)
		return policy_empty();
	config_policy_opts(cfg, &o, skip);
	p = policy_load_file(path, &o, &errs);
	if (p && fw_compile(p) < 0) {
		fprintf(stderr, "lifelined: %s: policy too large to compile\n", path);
		policy_free(p);
		p = NULL;
	}
	if (!p)
		ll_err_print(&errs, stderr);
	ll_err_free(&errs);
	if (p) { /* --skip-unsupported: what was left out, per keyword */
		char lead[4200];

		snprintf(lead, sizeof(lead), "lifelined: %s: ", path);
		ips_print_skips(p->ips, stderr, lead);
	}
	return p;
}

static int replay(const struct args *a, const struct config *cfg)
{
	struct replay_opts o = { .pcap = a->pcap, .accepted = a->accepted, .dropped = a->dropped };
	struct policy *pol = load_policy(cfg, a->policy, a->skip_unsupported);
	struct pipeline pl;
	char err[512] = "";
	FILE *vf = NULL;
	int rc;

	if (!pol)
		return 1;
	/* offline, nothing is resolved: a named manager's heartbeat would look like any traffic */
	for (uint32_t i = 0; i < cfg->nmanagers; i++)
		if (!cfg->managers[i].is_literal)
			fprintf(stderr, "lifelined: warning: manager %s is a host name; replay resolves "
				"no names, so its heartbeat is judged as ordinary traffic (give its "
				"address in the config)\n", cfg->managers[i].name);
	o.summary = stdout;
	if (a->verdicts && strcmp(a->verdicts, "-") == 0) {
		o.verdicts = stdout;
		o.summary = stderr;
	} else if (a->verdicts && !(vf = o.verdicts = fopen(a->verdicts, "w"))) {
		fprintf(stderr, "lifelined: %s: %s\n", a->verdicts, strerror(errno));
		policy_free(pol);
		return 1;
	}
	if (isatty(STDERR_FILENO))
		o.progress = stderr;
	/*
	 * Replay sees every packet of a flow, as the live engine does with
	 * `offload no`; offloaded, live sees none after the decision. Judged as
	 * offloaded, each packet would look "back from the kernel", and restart
	 * the TCP record a blind RST is checked against.
	 */
	struct config seen_all = *cfg;

	/* never the machine's kernel: the config's word, else a distribution kernel's */
	kernel_features(cfg, false, NULL, 0);

	seen_all.offload = false;
	if (pipeline_init(&pl, &seen_all, pol) < 0) {
		fprintf(stderr, "lifelined: out of memory\n");
		rc = 1;
	} else {
		rc = replay_run(&pl, &o, err, sizeof(err));
		if (rc)
			fprintf(stderr, "lifelined: %s\n", err);
		pipeline_fini(&pl);
	}
	fflush(stdout);
	if (vf && fclose(vf) != 0) {
		fprintf(stderr, "lifelined: %s: %s\n", a->verdicts, strerror(errno));
		rc = 1;
	}
	policy_free(pol);
	return rc;
}

static int print_hooks(const struct args *a, const struct config *cfg)
{
	enum hooks_backend b = HOOKS_AUTO;

	if (a->backend && strcmp(a->backend, "nft") == 0)
		b = HOOKS_NFT;
	else if (a->backend && strcmp(a->backend, "iptables") == 0)
		b = HOOKS_IPTABLES;
	else if (a->backend && strcmp(a->backend, "auto") != 0) {
		fprintf(stderr, "lifelined: --backend takes auto, nft or iptables\n");
		return 2;
	}
	return hooks_print(cfg, b, stdout) < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct config cfg;
	int rc;

	if (parse_args(argc, argv, &a) < 0) { /* the error is said: one line of help, not all of it */
		fputs("Try 'lifelined --help' for the options.\n", stderr);
		return 2;
	}
	if (load_config(&cfg, a.config) < 0) {
		config_free(&cfg); /* a failed load still holds the valid lines */
		return 1;
	}
	if (a.pcap)
		rc = replay(&a, &cfg);
	else if (a.print_hooks)
		rc = print_hooks(&a, &cfg);
	else {
		struct engine_opts eo = { .foreground = a.foreground,
					  .skip_unsupported = a.skip_unsupported };
		rc = engine_run(&cfg, a.config, a.policy, &eo);
	}
	config_free(&cfg);
	return rc;
}
