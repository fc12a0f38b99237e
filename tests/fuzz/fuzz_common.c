/* fuzz_common.c - the lab config and policy the fuzz targets judge packets with. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "fw.h"

static const char lab_config[] =
	"manager 203.0.113.10\n"
	"manager 2001:db8:2::10\n"
	"dns-server 198.51.100.1\n"
	"host 198.51.100.2\n"
	"host 2001:db8:1::/64\n"
	"max-flows 64\n"
	"stream-depth 4096\n";

static const char lab_policy[] =
	"serial 7\n"
	"define mgmt = { 203.0.113.0/24, 2001:db8:2::/64 }\n"
	"define web = { 80 443 8000-8100 }\n"
	"deny priority 4 in tcp from any to any port 23 id 10\n"
	"force-allow priority 2 in tcp from $mgmt to any port 22 id 11\n"
	"allow in tcp to any port $web id 12\n"
	"bypass priority 4 in udp from 203.0.113.20 port 514 id 13\n"
	"log-only in icmp type echo-request id 14\n"
	"deny priority 4 in tcp flags SYN,FIN id 15\n"
	"allow out any id 16\n"
	"deny priority 3 in any on eth1 from ! $mgmt nolog id 17\n"
	"deny priority 1 in icmp6 type packet-too-big id 18\n"
	"allow in udp to any port 53 id 19\n"
	"drop tcp any any -> $HOME_NET 80 (msg:\"passwd\"; flow:to_server,established; "
	"content:\"/etc/passwd\"; nocase; sid:1000001; rev:1;)\n"
	"alert tcp any any -> any any (msg:\"pcre\"; content:\"GET \"; depth:4; "
	"pcre:\"/^GET \\/[a-z]+\\d/i\"; flowbits:set,get; sid:1000002; rev:1;)\n"
	"alert tcp any any -> any any (msg:\"bytes\"; content:\"|01 02|\"; "
	"byte_test:1,>,4,0,relative; byte_jump:1,0,relative; isdataat:2,relative; "
	"sid:1000003; rev:1;)\n"
	"reject udp any any -> any 53 (msg:\"dns\"; dsize:>8; content:\"|00 01 00 00|\"; "
	"offset:4; depth:4; threshold:type limit,track by_src,count 1,seconds 60; "
	"sid:1000004; rev:1;)\n"
	"alert icmp any any -> any any (msg:\"icmp\"; itype:8; icode:0; ttl:<100; "
	"sid:1000005; rev:1;)\n"
	"pass tcp any any -> any 22 (msg:\"ssh\"; flow:established; stream_size:client,>,10; "
	"flowbits:isset,get; sid:1000006; rev:1;)\n";

const struct config *fuzz_config(void)
{
	static struct config cfg;
	static int done;
	struct ll_errlist errs = { 0 };

	if (!done) {
		if (config_load_string(&cfg, "fuzz.conf", lab_config, &errs) < 0) {
			ll_err_print(&errs, stderr);
			abort();
		}
		ll_err_free(&errs);
		done = 1;
	}
	return &cfg;
}

struct policy *fuzz_load(const char *text, const struct config *cfg)
{
	struct policy_opts o;
	struct ll_errlist errs = { 0 };
	struct policy *p;

	config_policy_opts(cfg, &o, true);
	p = policy_load_string("fuzz.pol", text, &o, &errs);
	ll_err_free(&errs);
	if (p && fw_compile(p) < 0) {
		policy_free(p);
		p = NULL;
	}
	return p;
}

struct policy *fuzz_policy(void)
{
	static struct policy *p;

	if (!p && !(p = fuzz_load(lab_policy, fuzz_config()))) {
		fputs("fuzz: the lab policy does not load\n", stderr);
		abort();
	}
	return p;
}

char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

FILE *fuzz_null(void)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w")))
		abort();
	return f;
}

static char dir[64];

/* At exit: the scratch directory goes, with what the targets left in it. */
static void rm_tmpdir(void)
{
	char path[400];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

const char *fuzz_tmpdir(void)
{
	if (dir[0])
		return dir;
	strcpy(dir, "/dev/shm/ll-fuzz-XXXXXX");
	if (!mkdtemp(dir)) {
		strcpy(dir, "/tmp/ll-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	atexit(rm_tmpdir);
	return dir;
}
