/* hooks.c - install, update and remove the engine's kernel rules through nft or iptables-restore. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"

static void run_child(char *const argv[], int in, int outfd)
{
	static const char *const dirs[] = { "/usr/sbin/", "/sbin/", "/usr/bin/" };
	char path[256];
	sigset_t none;

	/* not the engine's blocked signals: a hung tool must die with the unit's SIGTERM */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	dup2(in, 0);
	dup2(outfd, 1);
	dup2(outfd, 2);
	execvp(argv[0], argv);
	/* PATH of a service manager may lack sbin */
	for (size_t i = 0; i < LL_ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s%s", dirs[i], argv[0]);
		execv(path, argv);
	}
	_exit(127);
}

/*
 * Input and output go through memfds rather than pipes, so a tool that
 * writes much while we still write its input cannot deadlock us.
 */
int hooks_run(char *const argv[], const char *input, size_t len, char *err, size_t errlen)
{
	int in = memfd_create("ll-in", MFD_CLOEXEC), out = memfd_create("ll-out", MFD_CLOEXEC);
	int status = 0, rc;
	pid_t pid;
	ssize_t n;

	if (in < 0 || out < 0) {
		rc = -errno;
		goto done;
	}
	if (len && write(in, input, len) != (ssize_t)len) {
		rc = -EIO;
		goto done;
	}
	lseek(in, 0, SEEK_SET);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto done;
	}
	if (pid == 0)
		run_child(argv, in, out);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	if (err && errlen) {
		n = pread(out, err, errlen - 1, 0);
		err[n > 0 ? n : 0] = 0;
	}
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static int run_text(struct hooks *h, char *const argv[], char *text, size_t len)
{
	int rc = hooks_run(argv, text, len, h->err, sizeof(h->err));

	free(text);
	if (rc < 0)
		return rc;
	if (rc && !h->err[0]) /* a tool that says nothing: at least name it */
		snprintf(h->err, sizeof(h->err), "%s exited with status %d", argv[0], rc);
	return rc ? -EIO : 0;
}

enum hooks_backend hooks_backend_from_env(void)
{
	const char *e = getenv("LIFELINE_HOOKS_BACKEND");

	if (!e)
		return HOOKS_AUTO;
	if (!strcmp(e, "nft"))
		return HOOKS_NFT;
	if (!strcmp(e, "iptables"))
		return HOOKS_IPTABLES;
	if (!strcmp(e, "both"))
		return HOOKS_BOTH;
	return HOOKS_AUTO;
}

enum hooks_backend hooks_detect(void)
{
	/*
	 * A regular chain, not a base chain: registering and unregistering a
	 * hook (even in a check-mode transaction that is aborted) makes the
	 * kernel drop every packet waiting in every queue of the namespace
	 * (nfqnl_nf_hook_drop). The queue expression is validated all the same.
	 */
	static const char probe[] =
		"add table inet lifeline-probe\n"
		"add chain inet lifeline-probe c\n"
		"add rule inet lifeline-probe c queue num 0 bypass\n";
	char *const argv[] = { "nft", "-c", "-f", "-", NULL };
	char err[256];

	/* -c: the kernel validates the batch, then it is aborted: nothing changes */
	return hooks_run(argv, probe, sizeof(probe) - 1, err, sizeof(err)) == 0 ? HOOKS_NFT
										 : HOOKS_IPTABLES;
}

void hooks_spec_from_config(struct hooks_spec *s, const struct config *cfg, ll_ip *mgr_buf,
			    ll_ip *dns_buf, uint32_t max)
{
	uint32_t n = 0;

	memset(s, 0, sizeof(*s));
	s->queue_lo = cfg->queue_lo;
	s->queue_hi = cfg->queue_hi;
	s->fail_open = cfg->fail_open;
	s->offload = cfg->offload;
	s->queue = true;
	s->gen = 1;
	s->heartbeat_port = cfg->heartbeat_port;
	s->agent_port = cfg->agent_port;
	s->any_manager = cfg->nmanagers == 0;
	s->nflog_group = HOOKS_NFLOG_GROUP;
	for (uint32_t i = 0; i < cfg->nmanagers && n < max; i++)
		if (cfg->managers[i].is_literal)
			mgr_buf[n++] = cfg->managers[i].addr;
	s->set_addrs[HSET_MGR] = mgr_buf;
	s->set_n[HSET_MGR] = n;
	n = cfg->ndns_servers < max ? cfg->ndns_servers : max;
	if (n)
		memcpy(dns_buf, cfg->dns_servers, n * sizeof(ll_ip));
	s->set_addrs[HSET_DNS] = dns_buf;
	s->set_n[HSET_DNS] = n;
}

static void print_ipt(const struct hooks_spec *s, FILE *out)
{
	fprintf(out, "# lifeline kernel hooks, iptables backend\n# ipset restore\n");
	hooks_ipset_text(s, out, false);
	fprintf(out, "# iptables-restore --noflush\n");
	hooks_ipt_text(s, 4, HOOKS_JUMPS_ALL, out);
	fprintf(out, "# ip6tables-restore --noflush\n");
	hooks_ipt_text(s, 6, HOOKS_JUMPS_ALL, out);
}

static void print_nft(const struct hooks_spec *s, FILE *out)
{
	fprintf(out, "# lifeline kernel hooks, nft backend\n# nft -f\n");
	hooks_nft_text(s, true, out);
}

int hooks_print(const struct config *cfg, enum hooks_backend b, FILE *out)
{
	ll_ip *mgr = calloc(cfg->nmanagers + 1, sizeof(ll_ip));
	ll_ip *dns = calloc(cfg->ndns_servers + 1, sizeof(ll_ip));
	struct hooks_spec s;

	if (!mgr || !dns) {
		free(mgr);
		free(dns);
		return -ENOMEM;
	}
	hooks_spec_from_config(&s, cfg, mgr, dns, UINT32_MAX);
	if (b == HOOKS_AUTO)
		b = hooks_backend_from_env();
	if (b == HOOKS_AUTO) {
		b = hooks_detect();
		if (b == HOOKS_IPTABLES && geteuid() != 0) /* nft -c needs CAP_NET_ADMIN */
			fputs("lifelined: not root, so the kernel could not be asked whether it has "
			      "nft's queue expression: these are the iptables rules (--backend nft "
			      "prints the nft ones)\n", stderr);
	}
	if (b == HOOKS_IPTABLES || b == HOOKS_BOTH)
		print_ipt(&s, out);
	if (b == HOOKS_NFT || b == HOOKS_BOTH)
		print_nft(&s, out);
	free(mgr);
	free(dns);
	return ferror(out) ? -EIO : 0;
}

/*
 * Run `TOOL --wait=N -t TABLE OP FROM [mark match] -j CHAIN` for jump @jp: OP -C
 * (is it there?) or -D. Returns the tool's exit status.
 */
static int ipt_jump_run(int family, const struct hooks_jump *jp, const char *op,
			const char *wait)
{
	char *tool = family == 4 ? "iptables" : "ip6tables", mark[32];
	char *const plain[] = { tool, (char *)wait, "-t", (char *)jp->table, (char *)op,
				(char *)jp->from, "-j", (char *)jp->chain, NULL };
	char *const marked[] = { tool, (char *)wait, "-t", (char *)jp->table, (char *)op,
				 (char *)jp->from, "-m", "mark", "--mark", mark, "-j",
				 (char *)jp->chain, NULL };

	snprintf(mark, sizeof(mark), "0x%x/0x%x", hooks_mark(HOOKS_REJECT_GEN), HOOKS_MARK_MASK);
	return hooks_run(jp->reject_mark ? marked : plain, NULL, 0, NULL, 0);
}

/* hooks_ipt_missing_jumps() - see hooks.h. */
int hooks_ipt_missing_jumps(int family)
{
	int m = 0;

	for (int j = 0; j < HOOKS_JUMP__N; j++) {
		int rc = ipt_jump_run(family, hooks_ipt_jump(j), "-C", HOOKS_XT_WAIT);

		if (rc == HOOKS_XT_LOCKED)
			return -EBUSY;
		if (rc != 0)
			m |= 1 << j;
	}
	return m;
}

/*
 * Does rule @l (one `iptables -S` line, @n bytes) end a packet's walk of
 * the chain, or may it (a jump to a chain of the host's, a goto)? Targets
 * that only change the packet, mark or log it go on to the next rule.
 */
static bool rule_decides(const char *l, size_t n)
{
	static const char *const goes_on[] = { "MARK", "CONNMARK", "DSCP", "TOS", "TTL", "HL",
					       "LOG", "NFLOG", "CLASSIFY", "TCPMSS", "TEE",
					       "AUDIT", "TRACE", "CHECKSUM", "SECMARK", "CONNSECMARK",
					       "IDLETIMER", "LED", "RATEEST", "TCPOPTSTRIP", "SET" };
	bool quoted = false;

	/* the target's " -j " or " -g ", not one inside a quoted comment or log prefix */
	for (size_t i = 0; i + 4 <= n; i++) {
		const char *t = l + i + 4;
		size_t k;

		if (l[i] == '"' && (i == 0 || l[i - 1] != '\\'))
			quoted = !quoted;
		if (quoted || l[i] != ' ' || l[i + 1] != '-' || (l[i + 2] != 'j' && l[i + 2] != 'g') ||
		    l[i + 3] != ' ')
			continue;
		if (l[i + 2] == 'g')
			return true;
		k = strcspn(t, " \n");
		if (k > n - i - 4)
			k = n - i - 4;
		for (size_t j = 0; j < sizeof(goes_on) / sizeof(goes_on[0]); j++)
			if (strlen(goes_on[j]) == k && !strncmp(t, goes_on[j], k))
				return false;
		return true;
	}
	return false; /* counts, nothing more */
}

/* hooks_ipt_rule_ahead() - see hooks.h. */
int hooks_ipt_rule_ahead(int family, int jump, char *out, size_t len)
{
	const struct hooks_jump *jp = hooks_ipt_jump(jump);
	char *const argv[] = { family == 4 ? "iptables" : "ip6tables", HOOKS_XT_WAIT, "-t",
			       (char *)jp->table, "-S", (char *)jp->from, NULL };
	char *list = malloc(HOOKS_LIST_MAX), head[64], ours[128];
	size_t n;
	int rc;

	if (!list)
		return -ENOMEM;
	rc = hooks_run(argv, NULL, 0, list, HOOKS_LIST_MAX);
	if (rc) {
		free(list);
		return rc == HOOKS_XT_LOCKED ? -EBUSY : -EIO;
	}
	snprintf(head, sizeof(head), "-A %s ", jp->from);
	snprintf(ours, sizeof(ours), "-A %s -j %s", jp->from, jp->chain);
	/* the chain's rules ("-A CHAIN " lines; not -P, nor a tool's warning) up to our jump */
	for (const char *l = list; *l; l += n, l += *l == '\n') {
		n = strcspn(l, "\n");
		if (strncmp(l, head, strlen(head)))
			continue;
		if (n == strlen(ours) && !strncmp(l, ours, n))
			break;
		if (rule_decides(l, n)) {
			if (out && len)
				snprintf(out, len, "%.*s", (int)n, l);
			free(list);
			return 1;
		}
	}
	free(list);
	return 0;
}

/* Delete every copy of jump @jp (a crashed engine's restart may have doubled one). */
static void ipt_jump_delete(int family, const struct hooks_jump *jp, const char *wait)
{
	for (int i = 0; i < 8 && ipt_jump_run(family, jp, "-D", wait) == 0; i++)
		;
}

/* Our chains, and the jumps in @jumps: the backstop's apart, best effort (hooks.h). */
static int ipt_restore(struct hooks *h, int family, int jumps)
{
	char *const argv[] = { family == 4 ? "iptables-restore" : "ip6tables-restore", HOOKS_XT_WAIT,
			       "--noflush", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (jumps < 0) { /* hooks_ipt_missing_jumps() could not tell */
		snprintf(h->err, sizeof(h->err), "another process holds the xtables lock (waited "
			 HOOKS_XT_WAIT_S " s for it)");
		return jumps;
	}
	if (!(f = open_memstream(&text, &len)))
		return -ENOMEM;
	hooks_ipt_text(&h->spec, family, jumps & ~(HOOKS_JUMPS_BACKSTOP | HOOKS_JUMPS_CLEAR), f);
	fclose(f);
	err = run_text(h, argv, text, len);
	if (err)
		return err;
	/* each apart: a kernel without the security or the raw table keeps the other */
	for (int part = 0; part < 2; part++) {
		text = NULL, len = 0;
		if (part == 0 && !(jumps & HOOKS_JUMPS_BACKSTOP))
			continue;
		if (!(f = open_memstream(&text, &len)))
			return 0;
		if (part == 0)
			hooks_ipt_backstop_text(jumps, f);
		else
			hooks_ipt_clear_text(jumps, f);
		fclose(f);
		hooks_run(argv, text, len, NULL, 0);
		free(text);
	}
	return 0;
}

static int ipset_restore(struct hooks *h, bool create_only)
{
	char *const argv[] = { "ipset", "restore", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	hooks_ipset_text(&h->spec, f, true);
	if (!create_only)
		for (int set = 0; set < HSET__COUNT; set++)
			for (int fam = 4; fam <= 6; fam += 2)
				hooks_ipset_replace_text(set, fam, h->spec.set_addrs[set],
							 h->spec.set_n[set], f);
	fclose(f);
	return run_text(h, argv, text, len);
}

static int nft_apply(struct hooks *h, bool elements)
{
	char *const argv[] = { "nft", "-f", "-", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	hooks_nft_text(&h->spec, elements, f);
	fclose(f);
	return run_text(h, argv, text, len);
}

/*
 * Earlier builds kept the chains in the filter table, where their ACCEPT
 * ended the host's own filter rules too. One that died left them there:
 * take them out before the mangle ones go in, or packets are queued twice.
 */
static void ipt_remove_filter_chains(int family, const char *wait)
{
	static const struct hooks_jump legacy[] = {
		{ "filter", "INPUT", HOOKS_IPT_IN, false },
		{ "filter", "OUTPUT", HOOKS_IPT_OUT, false },
	};
	char *tool = family == 4 ? "iptables" : "ip6tables";

	for (size_t c = 0; c < LL_ARRAY_SIZE(legacy); c++) {
		char *const flush[] = { tool, (char *)wait, "-t", "filter", "-F",
					(char *)legacy[c].chain, NULL };
		char *const drop[] = { tool, (char *)wait, "-t", "filter", "-X",
				       (char *)legacy[c].chain, NULL };

		ipt_jump_delete(family, &legacy[c], wait);
		if (hooks_run(flush, NULL, 0, NULL, 0) == 0)
			hooks_run(drop, NULL, 0, NULL, 0);
	}
}

/* Does the filter table hold the chains of an earlier build (ipt_remove_filter_chains())? */
static bool legacy_chains(void)
{
	char *const argv[] = { "iptables", HOOKS_XT_WAIT, "-t", "filter", "-S", HOOKS_IPT_IN, NULL };

	return hooks_run(argv, NULL, 0, NULL, 0) == 0;
}

/* @sets: a full install (start, new config): fill the sets, clear what an old version left. */
static int install_ipt(struct hooks *h, bool sets)
{
	int err = sets ? ipset_restore(h, false) : 0;

	for (int fam = 4; !err && sets && fam <= 6; fam += 2)
		ipt_remove_filter_chains(fam, HOOKS_XT_WAIT);

	for (int fam = 4; !err && fam <= 6; fam += 2)
		err = ipt_restore(h, fam, hooks_ipt_missing_jumps(fam));
	return err;
}

static int ipt_list_ours(int family, char *out, size_t len);

static bool ipt_none_ours(int family)
{
	int rc = ipt_list_ours(family, NULL, 0);

	return rc != 0 && rc != HOOKS_XT_LOCKED;
}

int hooks_install(struct hooks *h, enum hooks_backend b, const struct hooks_spec *s)
{
	bool fresh;
	int err;

	if (b == HOOKS_AUTO || b == HOOKS_BOTH)
		b = hooks_detect();
	/*
	 * nft commits all or nothing; iptables one family at a time. "None of
	 * ours there" must be known: listing fails too while another process
	 * holds the xtables lock.
	 */
	fresh = !h->installed && b != HOOKS_NFT && ipt_none_ours(4) && ipt_none_ours(6);
	h->backend = b;
	h->spec = *s;
	h->err[0] = 0;
	err = b == HOOKS_NFT ? nft_apply(h, true) : install_ipt(h, true);
	/* the set contents are the caller's; keep no pointer to them */
	for (int set = 0; set < HSET__COUNT; set++) {
		h->spec.set_addrs[set] = NULL;
		h->spec.set_n[set] = 0;
	}
	/*
	 * A failed refresh leaves the previous rules in the kernel: still ours
	 * to remove. A failed first install into a namespace with none of our
	 * rules leaves none: an IPv4 queue rule left by an ip6tables failure
	 * held the host's traffic with no engine. Over the rules a fail-closed
	 * engine left, a failed start leaves them: the host stays as it was.
	 */
	if (err && fresh)
		hooks_remove(h);
	h->installed = h->installed || !err;
	return err;
}

int hooks_forget_gen(uint32_t gen)
{
	char mark[32], out[256];

	snprintf(mark, sizeof(mark), "0x%x/0x%x", hooks_mark(gen), HOOKS_MARK_MASK);
	for (int fam = 4; fam <= 6; fam += 2) {
		char *const argv[] = { "conntrack", "-D", "-f", fam == 4 ? "ipv4" : "ipv6", "--mark",
				       mark, NULL };
		int rc = hooks_run(argv, NULL, 0, out, sizeof(out));

		if (rc == 127)
			return -ENOENT; /* no conntrack(8) to run */
		/* exit 1 is also "0 flow entries have been deleted": only the count says it ran */
		if (rc != 0 && !strstr(out, "flow entries have been deleted"))
			return -EIO;
	}
	return 0;
}

int hooks_rewrite(struct hooks *h)
{
	if (!h->installed)
		return 0;
	/* chains only: the sets keep their elements */
	return h->backend == HOOKS_NFT ? nft_apply(h, false) : install_ipt(h, false);
}

int hooks_set_generation(struct hooks *h, uint32_t gen)
{
	h->spec.gen = gen;
	return h->spec.offload ? hooks_rewrite(h) : 0;
}

int hooks_set_addrs(struct hooks *h, enum hooks_set set, const ll_ip *a, uint32_t n)
{
	char *const ipset[] = { "ipset", "restore", NULL };
	char *const nft[] = { "nft", "-f", "-", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!h->installed)
		return 0;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	if (h->backend == HOOKS_NFT) {
		hooks_nft_set_text(set, a, n, f);
	} else {
		hooks_ipset_replace_text(set, 4, a, n, f);
		hooks_ipset_replace_text(set, 6, a, n, f);
	}
	fclose(f);
	return run_text(h, h->backend == HOOKS_NFT ? nft : ipset, text, len);
}

static void ipt_remove(int family)
{
	char *rtool = family == 4 ? "iptables-restore" : "ip6tables-restore";
	char *const restore[] = { rtool, HOOKS_XT_WAIT_STOP, "--noflush", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	/* jumps first: from then on no packet enters the chains being deleted */
	for (int j = 0; j < HOOKS_JUMP__N; j++)
		ipt_jump_delete(family, hooks_ipt_jump(j), HOOKS_XT_WAIT_STOP);
	ipt_remove_filter_chains(family, HOOKS_XT_WAIT_STOP);
	f = open_memstream(&text, &len);
	if (!f)
		return;
	hooks_ipt_remove_text(false, f);
	fclose(f);
	hooks_run(restore, text, len, NULL, 0);
	free(text);
	text = NULL, len = 0;
	if (!(f = open_memstream(&text, &len)))
		return;
	hooks_ipt_remove_text(true, f); /* apart: a kernel without the raw table keeps the rest gone */
	fclose(f);
	hooks_run(restore, text, len, NULL, 0);
	free(text);
}

int hooks_quiesce(struct hooks *h)
{
	char *const argv[] = { "nft", "-f", "-", NULL };
	static const char text[] = "flush chain inet " HOOKS_NFT_TABLE " input\n"
				   "flush chain inet " HOOKS_NFT_TABLE " output\n";

	if (!h->installed || h->backend != HOOKS_NFT)
		return 0;
	return hooks_run(argv, text, sizeof(text) - 1, h->err, sizeof(h->err)) ? -EIO : 0;
}

int hooks_remove(struct hooks *h)
{
	char *const nft[] = { "nft", "delete", "table", "inet", HOOKS_NFT_TABLE, NULL };
	int err = 0;

	if (h->backend == HOOKS_NFT) {
		err = hooks_run(nft, NULL, 0, h->err, sizeof(h->err)) ? -EIO : 0;
	} else {
		ipt_remove(4);
		ipt_remove(6);
		for (int set = 0; set < HSET__COUNT; set++)
			for (int fam = 4; fam <= 6; fam += 2) {
				char *const d[] = { "ipset", "destroy", (char *)hooks_set_name(set, fam),
						    NULL };
				hooks_run(d, NULL, 0, NULL, 0);
			}
	}
	h->installed = false;
	return err;
}

/* Our iptables input chain in @family: the tool's exit status (0: there), listed in @out (@len). */
static int ipt_list_ours(int family, char *out, size_t len)
{
	char *const argv[] = { family == 4 ? "iptables" : "ip6tables", HOOKS_XT_WAIT, "-t",
			       HOOKS_IPT_TABLE, "-S", HOOKS_IPT_IN, NULL };

	return hooks_run(argv, NULL, 0, out, len);
}

static bool ipt_ours(int family, char *out, size_t len)
{
	return ipt_list_ours(family, out, len) == 0;
}

/* hooks_ipt_save_flushed() - see hooks.h. */
int hooks_ipt_save_flushed(void)
{
	char *out = malloc(HOOKS_LIST_MAX);
	int flushed = 0;

	if (!out)
		return -ENOMEM;
	for (int fam = 4; fam <= 6 && !flushed; fam += 2) {
		char *const argv[] = { fam == 4 ? "iptables" : "ip6tables", HOOKS_XT_WAIT, "-t",
				       HOOKS_IPT_TABLE, "-S", HOOKS_IPT_SAVE, NULL };
		int rc;

		/* no jump: offload off, or no chain of ours (doctor says that apart) */
		if (ipt_list_ours(fam, out, HOOKS_LIST_MAX) != 0 || !strstr(out, "-j " HOOKS_IPT_SAVE))
			continue;
		rc = hooks_run(argv, NULL, 0, out, HOOKS_LIST_MAX);
		if (rc == HOOKS_XT_LOCKED)
			flushed = -EBUSY;
		else if (rc != 0 || !strstr(out, "CONNMARK"))
			flushed = 1;
	}
	free(out);
	return flushed;
}

/* hooks_list() - see hooks.h. */
enum hooks_backend hooks_list(char *out, size_t len)
{
	char *const nft[] = { "nft", "list", "table", "inet", HOOKS_NFT_TABLE, NULL };

	if (hooks_run(nft, NULL, 0, out, len) == 0)
		return HOOKS_NFT;
	/* either family: another tool may have restored the IPv4 tables without ours */
	if (ipt_ours(4, out, len) || ipt_ours(6, out, len))
		return HOOKS_IPTABLES;
	return HOOKS_AUTO;
}

/*
 * hooks_listing_queues() - see hooks.h. In `nft list` output a queue
 * statement's word starts a statement, after a match ("tcp dport 80 queue
 * ...") or first on its line, tab-indented ("\t\tqueue flags bypass to 0",
 * as nft prints `queue num 0 bypass`).
 */
bool hooks_listing_queues(enum hooks_backend b, const char *listing)
{
	if (b != HOOKS_NFT)
		return strstr(listing, "NFQUEUE") != NULL;
	for (const char *q = listing; (q = strstr(q, "queue ")); q++)
		if (q > listing && (q[-1] == ' ' || q[-1] == '\t'))
			return true;
	return false;
}

/* The number of times @needle occurs in @hay. */
static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *q = hay; (q = strstr(q, needle)); q += strlen(needle))
		n++;
	return n;
}

/*
 * One iptables chain of ours (@family 4 or 6, @chain HOOKS_IPT_IN/OUT):
 * HQ_INSTALLED with its queue rule, HQ_OUT without, HQ_GONE when missing or
 * flushed (none of its DHCP lifeline rules, which every chain of ours has),
 * HQ_UNKNOWN when the tool itself fails.
 */
static enum hooks_queue_state ipt_chain_state(int family, const char *chain, char *out)
{
	const char *tool = family == 4 ? "iptables" : "ip6tables";
	char *const list[] = { (char *)tool, HOOKS_XT_WAIT, "-t", HOOKS_IPT_TABLE, "-S",
			       (char *)chain, NULL };
	char *const any[] = { (char *)tool, HOOKS_XT_WAIT, "-t", HOOKS_IPT_TABLE, "-S", "INPUT",
			      NULL };
	int rc = hooks_run(list, NULL, 0, out, HOOKS_LIST_MAX);

	if (rc == HOOKS_XT_LOCKED) /* someone else holds the xtables lock: no telling */
		return HQ_UNKNOWN;
	if (rc != 0)
		return hooks_run(any, NULL, 0, NULL, 0) == 0 ? HQ_GONE : HQ_UNKNOWN;
	if (!strstr(out, family == 4 ? "--sport 67 " : "--sport 547 ") &&
	    !strstr(out, family == 4 ? "--sport 68 " : "--sport 546 "))
		return HQ_GONE;
	return strstr(out, "NFQUEUE") ? HQ_INSTALLED : HQ_OUT;
}

/*
 * hooks_queue_state() - see hooks.h. Every chain of ours is asked (both
 * families, both directions): a flush of one of them is as bad as of all.
 * Installed only when each queues; out when none does (reset); gone when
 * any is missing, flushed, or not jumped to, or when some queue and some
 * do not.
 */
enum hooks_queue_state hooks_queue_state(enum hooks_backend b)
{
	char *const nft[] = { "nft", "list", "table", "inet", HOOKS_NFT_TABLE, NULL };
	char *const nft_any[] = { "nft", "list", "tables", NULL };
	char *out = malloc(HOOKS_LIST_MAX);
	enum hooks_queue_state st = HQ_UNKNOWN;
	unsigned queued = 0, chains = 0;
	int m4, m6;

	if (!out || (b != HOOKS_NFT && b != HOOKS_IPTABLES))
		goto done;
	if (b == HOOKS_NFT) {
		if (hooks_run(nft, NULL, 0, out, HOOKS_LIST_MAX) != 0) {
			/* ours missing, or the tool broken: ask it for something that is always there */
			if (hooks_run(nft_any, NULL, 0, NULL, 0) == 0)
				st = HQ_GONE;
			goto done;
		}
		/* each base chain has one DHCP server-to-client rule and, queued, one queue statement */
		chains = count_of(out, "udp sport 67 ");
		queued = hooks_listing_queues(b, out) ? count_of(out, "queue ") : 0;
		st = chains < 2 ? HQ_GONE : queued >= 2 ? HQ_INSTALLED : queued ? HQ_GONE : HQ_OUT;
		goto done;
	}
	for (int fam = 4; fam <= 6; fam += 2)
		for (int i = 0; i < 2; i++) {
			enum hooks_queue_state c = ipt_chain_state(fam, i ? HOOKS_IPT_OUT : HOOKS_IPT_IN, out);

			if (c == HQ_UNKNOWN || c == HQ_GONE) {
				st = c;
				goto done;
			}
			queued += c == HQ_INSTALLED;
		}
	m4 = hooks_ipt_missing_jumps(4);
	m6 = hooks_ipt_missing_jumps(6);
	if (m4 < 0 || m6 < 0)
		st = HQ_UNKNOWN;
	else if ((m4 | m6) & (1 << HOOKS_JUMP_IN | 1 << HOOKS_JUMP_OUT))
		st = HQ_GONE; /* our chains, but nothing jumps to them */
	else
		st = queued == 4 ? HQ_INSTALLED : queued ? HQ_GONE : HQ_OUT;
done:
	free(out);
	return st;
}

/* hooks_queue_installed() - see hooks.h: hooks_queue_state() of the backend found. */
int hooks_queue_installed(void)
{
	enum hooks_backend b = hooks_list(NULL, 0);
	enum hooks_queue_state st = b == HOOKS_AUTO ? HQ_UNKNOWN : hooks_queue_state(b);

	/* rules gone, partly or wholly, or no telling: proves nothing (it is not a reset) */
	return st == HQ_INSTALLED ? 1 : st == HQ_OUT ? 0 : -EIO;
}

int hooks_remove_queue(const struct config *cfg, char *err, size_t errlen)
{
	struct hooks h = { 0 };
	ll_ip *mgr = calloc(cfg->nmanagers + 1, sizeof(ll_ip));
	ll_ip *dns = calloc(cfg->ndns_servers + 1, sizeof(ll_ip));
	int rc = -ENOENT;

	if (!mgr || !dns) {
		rc = -ENOMEM;
		goto out;
	}
	hooks_spec_from_config(&h.spec, cfg, mgr, dns, UINT32_MAX);
	h.spec.queue = false;
	h.spec.offload = false; /* everything passes now: no generation to honour */
	h.backend = hooks_list(NULL, 0);
	if (h.backend == HOOKS_AUTO) {
		/* ask once more: the xtables lock may have kept iptables from answering */
		int r4 = ipt_list_ours(4, NULL, 0);

		/* no telling whether ours are there: not "nothing to remove" */
		if (r4 == HOOKS_XT_LOCKED) {
			if (err && errlen)
				snprintf(err, errlen, "another process holds the xtables lock (waited "
					 HOOKS_XT_WAIT_S " s for it): `fuser -v /run/xtables.lock` "
					 "names it; then run reset again");
			rc = -EBUSY;
			goto out;
		}
		if (r4 == 0) /* the lock was free this time: they are there */
			h.backend = HOOKS_IPTABLES;
	}
	if (h.backend == HOOKS_NFT) {
		rc = nft_apply(&h, false);
	} else if (h.backend == HOOKS_IPTABLES) {
		/* the families that hold our rules: a reset adds none where another tool removed them */
		rc = 0;
		for (int fam = 4; !rc && fam <= 6; fam += 2)
			if (ipt_ours(fam, NULL, 0))
				rc = ipt_restore(&h, fam, hooks_ipt_missing_jumps(fam));
	}
	if (rc == -ENOENT && legacy_chains()) {
		/* an engine of an earlier build (an upgrade under way): its queue is in the filter table */
		for (int fam = 4; fam <= 6; fam += 2)
			ipt_remove_filter_chains(fam, HOOKS_XT_WAIT);
		rc = legacy_chains() ? -EIO : 0;
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", h.err);
out:
	free(mgr);
	free(dns);
	return rc;
}
