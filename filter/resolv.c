/* resolv.c - the resolvers the host already uses, from resolv.conf (engine start, doctor). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lifeline.h"

#define RESOLVED_STUB 0x7f000035u /* 127.0.0.53, systemd-resolved's stub */

/* The address of a `nameserver` line, or -EINVAL when @line is no such line. */
static int nameserver_of(char *line, ll_ip *out)
{
	char *save = NULL, *kw, *addr, *pct;

	kw = strtok_r(line, " \t\r\n", &save);
	if (!kw || strcmp(kw, "nameserver"))
		return -EINVAL;
	addr = strtok_r(NULL, " \t\r\n#;", &save);
	if (!addr)
		return -EINVAL;
	/* fe80::1%eth0: the zone only says which link; the address is what we match */
	pct = strchr(addr, '%');
	if (pct)
		*pct = '\0';
	return ll_ip_parse(addr, out);
}

int resolv_read_servers(const char *path, ll_ip *out, int max)
{
	char line[512];
	FILE *f;
	int n = 0;

	if (max < 0)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		ll_ip a;
		int i, ch;

		/* a line longer than the buffer is no sane nameserver line: skip all of it */
		if (len && line[len - 1] != '\n' && !feof(f)) {
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		if (nameserver_of(line, &a))
			continue;
		for (i = 0; i < n; i++)
			if (ll_ip_eq(out[i], a))
				break;
		if (i == n && n < max)
			out[n++] = a;
	}
	fclose(f);
	return n;
}

int resolv_host_servers(const char *path, const char *upstream_path, ll_ip *out, int max)
{
	int n = resolv_read_servers(path, out, max);
	ll_ip up[LIFELINE_MAX_DNS];
	int m;

	if (n != 1 || !ll_ip_eq(out[0], ll_ip_from_v4(RESOLVED_STUB)) || !upstream_path)
		return n;
	m = resolv_read_servers(upstream_path, up, (int)LL_ARRAY_SIZE(up));
	if (m <= 0)
		return n; /* no upstream list: the stub is all we know */
	if (m > max)
		m = max;
	memcpy(out, up, (size_t)m * sizeof(*out));
	return m;
}
