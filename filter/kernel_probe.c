/* kernel_probe.c - what the host's kernel was built with, where its drops depend on it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "config.h"
#include "kernel_probe.h"
#include "pkt.h"

#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40 /* linux/tcp.h since 6.7 */
#endif

/*
 * getsockopt(TCP_AO_INFO) on a fresh TCP socket: a kernel built without
 * TCP-AO answers ENOPROTOOPT (tcp_ao_get_sock_info()'s stub; a kernel older
 * than 6.7 knows no such option, do_tcp_getsockopt()'s default, the same);
 * one with it finds no AO state on the socket, ENOENT. Nothing is changed.
 * Any other answer is from a kernel that knows the option: it has TCP-AO.
 */
int kernel_probe_tcp_ao(void)
{
	unsigned char buf[64] = { 0 }; /* a zeroed struct tcp_ao_info_opt, and room */
	socklen_t len = sizeof(buf);
	int fd, rc, err;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = getsockopt(fd, IPPROTO_TCP, TCP_AO_INFO, buf, &len);
	err = errno;
	close(fd);
	return rc < 0 && err == ENOPROTOOPT ? 0 : 1;
}

/* In a config file's line @l: 1 CONFIG_IPV6_MIP6=y or =m, 0 "is not set", -1 neither. */
static int mip6_line(const char *l)
{
	if (!strncmp(l, "CONFIG_IPV6_MIP6=", 17))
		return l[17] == 'y' || l[17] == 'm';
	if (!strncmp(l, "# CONFIG_IPV6_MIP6 is not set", 29))
		return 0;
	return -1;
}

/* A kernel config, plain or gzip (gzread() reads both): what it says of MIP6, -1 nothing. */
static int mip6_config(const char *path)
{
	char line[256];
	int v = -1;
	gzFile z = gzopen(path, "rb");

	if (!z)
		return -1;
	while (v < 0 && gzgets(z, line, sizeof(line)))
		v = mip6_line(line);
	gzclose(z);
	return v;
}

/* A module list (modules.builtin, modules.dep): 1 when it names mip6.ko, 0 not, -1 unreadable. */
static int mip6_modlist(const char *path)
{
	char line[1024];
	int v = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (!v && fgets(line, sizeof(line), f))
		v = strstr(line, "net/ipv6/mip6.ko") != NULL;
	fclose(f);
	return v;
}

/*
 * Mobile IPv6 is a build option (CONFIG_IPV6_MIP6 y or m: ipv6_rthdr_rcv()
 * tests IS_ENABLED(), so a module not loaded drops too); nothing at run time
 * tells it. Read, in order, the first that answers: /proc/config.gz
 * (CONFIG_IKCONFIG_PROC), /boot/config-$(uname -r), then the running
 * kernel's module lists /lib/modules/$(uname -r)/modules.builtin (=y) and
 * modules.dep (=m): mip6.ko in either is MIP6, both readable without it is
 * none. Nothing readable (a container without /boot or /lib/modules): -1,
 * and kernel_features() takes the default.
 */
int kernel_probe_mip6(void)
{
	struct utsname u;
	char p[512];
	int v, b, d;

	if ((v = mip6_config("/proc/config.gz")) >= 0)
		return v;
	if (uname(&u) < 0)
		return -1;
	snprintf(p, sizeof(p), "/boot/config-%s", u.release);
	if ((v = mip6_config(p)) >= 0)
		return v;
	snprintf(p, sizeof(p), "/lib/modules/%s/modules.builtin", u.release);
	b = mip6_modlist(p);
	snprintf(p, sizeof(p), "/lib/modules/%s/modules.dep", u.release);
	d = mip6_modlist(p);
	if (b == 1 || d == 1)
		return 1;
	return b == 0 && d == 0 ? 0 : -1;
}

/* One feature: the config's word, else (auto) the probe live, else the default (present). */
static bool decide(uint8_t said, bool live, int (*probe)(void), const char **how)
{
	int v;

	if (said != CFG_KERNEL_AUTO) {
		*how = "config";
		return said == CFG_KERNEL_YES;
	}
	if (!live) {
		*how = "replay default";
		return true;
	}
	v = probe();
	*how = v < 0 ? "unknown, default" : "probed";
	return v != 0;
}

/*
 * 1 when the running kernel is Linux 6.7 or later (its release, uname -r),
 * which parses authentication options for every segment (pkt.h,
 * pkt_kernel.auth_parse); 0 before; -1 when the release does not say.
 */
int kernel_probe_auth_parse(void)
{
	struct utsname u;
	unsigned major, minor;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return -1;
	return major > 6 || (major == 6 && minor >= 7);
}

void kernel_features(const struct config *c, bool live, char *how, size_t n)
{
	const char *h_ao, *h_mip6;
	int v;

	pkt_kernel.tcp_ao = decide(c->kernel_tcp_ao, live, kernel_probe_tcp_ao, &h_ao);
	pkt_kernel.mip6 = decide(c->kernel_mip6, live, kernel_probe_mip6, &h_mip6);
	/*
	 * TCP-AO came in 6.7, with the parse: a kernel with it parses. Without
	 * it, live, the release tells; in replay, `kernel-tcp-ao no` stands for
	 * a kernel before 6.7 (a 6.7+ kernel without TCP-AO parses too).
	 */
	v = live ? kernel_probe_auth_parse() : 0;
	pkt_kernel.auth_parse = pkt_kernel.tcp_ao || v != 0;
	if (how && n)
		snprintf(how, n, "kernel: TCP-AO %s (%s), Mobile IPv6 %s (%s), authentication "
			 "options parsed on every segment %s (6.7+)",
			 pkt_kernel.tcp_ao ? "yes" : "no", h_ao, pkt_kernel.mip6 ? "yes" : "no",
			 h_mip6, pkt_kernel.auth_parse ? "yes" : "no");
}
