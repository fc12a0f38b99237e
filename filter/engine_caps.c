/* engine_caps.c - once set up, every engine thread keeps only the capabilities the running engine needs. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "engine_int.h"

/*
 * What stays, and why (everything else goes: the engine stays uid 0, so it
 * writes its own root-owned state directory, event log and socket without
 * CAP_DAC_OVERRIDE; CAP_CHOWN was for the socket's group, done by now):
 *  CAP_NET_ADMIN  every nfnetlink message (NFQUEUE verdicts) is checked for
 *                 it, and the nft, ipset and iptables-restore children that
 *                 update sets, bump the offload generation and remove the
 *                 hooks at stop need it;
 *  CAP_NET_RAW    iptables backend only: the `-m set` match asks ipset over
 *                 a raw socket (the DHCP request tap, a packet socket, is
 *                 opened before the drop and keeps working without it) ("Can't open socket to ipset" without it).
 */
#define SIG_CAPS (SIGRTMIN + 2)
#define WAIT_MS 2000

struct caps_plan {
	uint32_t keep[2];               /* the kept set, as capset(2) words */
	_Atomic int done, failed;       /* threads that dropped, and those that could not */
};

static struct caps_plan plan;

static bool kept(int cap)
{
	return plan.keep[cap / 32] & (1u << (cap % 32));
}

/*
 * The calling thread only (capabilities are per thread): bounding set
 * (best effort: needs CAP_SETPCAP, which a unit may not grant), then the
 * sets, then ambient so that children keep the kept set even if the
 * engine ever runs as another uid, and no_new_privs so that no exec gets
 * more than we hold. Async-signal-safe: raw syscalls only.
 */
static int drop_self(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int err = 0;

	for (int cap = 0, in; (in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++)
		if (in == 1 && !kept(cap))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	for (int i = 0; i < 2; i++)
		d[i] = (struct __user_cap_data_struct){ plan.keep[i], plan.keep[i], plan.keep[i] };
	if (syscall(SYS_capset, &h, d) < 0)
		err = -errno;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int cap = 0; !err && cap < 64; cap++)
		if (kept(cap))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = -errno;
	return err;
}

/* engine_has_cap() - see engine_int.h. */
bool engine_has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	return syscall(SYS_capget, &h, d) == 0 && (d[cap / 32].effective & (1u << (cap % 32)));
}

static void on_sig_caps(int sig)
{
	int saved = errno;

	(void)sig;
	if (drop_self() < 0)
		atomic_fetch_add(&plan.failed, 1);
	atomic_fetch_add(&plan.done, 1);
	errno = saved;
}

static void plan_add(const struct __user_cap_data_struct *d, int cap)
{
	/* only what we hold: a unit may have granted less, and capset cannot add */
	if (d[cap / 32].permitted & (1u << (cap % 32)))
		plan.keep[cap / 32] |= 1u << (cap % 32);
}

static int plan_keep(bool raw)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	memset(plan.keep, 0, sizeof(plan.keep));
	plan_add(d, CAP_NET_ADMIN);
	if (raw)
		plan_add(d, CAP_NET_RAW);
	return 0;
}

/* Signal every other thread of the process; the number signalled. */
static int signal_others(void)
{
	DIR *dir = opendir("/proc/self/task");
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid > 0 && tid != self && syscall(SYS_tgkill, pid, tid, SIG_CAPS) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

static void wait_done(int n)
{
	struct timespec ms = { 0, 1000000 };

	for (int t = 0; t < WAIT_MS && atomic_load(&plan.done) < n; t++)
		nanosleep(&ms, NULL);
}

/*
 * engine_caps_drop() - see engine_int.h. Every thread must drop for
 * itself; the others do it in a signal handler, as glibc does for
 * setuid(2). Threads created later inherit the reduced sets.
 */
int engine_caps_drop(bool raw)
{
	struct sigaction sa = { .sa_handler = on_sig_caps, .sa_flags = SA_RESTART };
	int err = plan_keep(raw), n;

	if (err)
		return err;
	atomic_store(&plan.done, 0);
	atomic_store(&plan.failed, 0);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_CAPS, &sa, NULL) < 0)
		return -errno;
	n = signal_others();
	if (n > 0)
		wait_done(n);
	err = drop_self();
	signal(SIG_CAPS, SIG_IGN);
	if (n < 0)
		return n;
	if (!err && (atomic_load(&plan.done) < n || atomic_load(&plan.failed)))
		err = -EAGAIN;
	return err;
}
