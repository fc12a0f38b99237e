/* helper_pcap.c - tests only: read pcaps with libpcap and strip the link layer ourselves. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helper_pcap.h"

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static int is_ip_type(uint16_t et)
{
	return et == 0x0800 || et == 0x86dd;
}

/* Offset of the IP header in the frame, or -1 when it carries none. */
static int l3_offset(int dlt, const uint8_t *b, uint32_t cap)
{
	uint32_t off;

	switch (dlt) {
	case DLT_EN10MB:
		for (off = 12; off + 2 <= cap; off += 4) {
			uint16_t et = rd16(b + off);
			if (et != 0x8100 && et != 0x88a8)
				return is_ip_type(et) ? (int)off + 2 : -1;
		}
		return -1;
	case DLT_LINUX_SLL:
		return cap >= 16 && is_ip_type(rd16(b + 14)) ? 16 : -1;
	case DLT_LINUX_SLL2:
		return cap >= 20 && is_ip_type(rd16(b)) ? 20 : -1;
	case DLT_RAW:
	case 101:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	case DLT_NULL:
		return cap >= 4 ? 4 : -1;
	case DLT_PPP:
		off = cap >= 2 && b[0] == 0xff && b[1] == 0x03 ? 2 : 0;
		if (off + 2 > cap)
			return -1;
		return rd16(b + off) == 0x21 || rd16(b + off) == 0x57 ? (int)off + 2 : -1;
	default:
		return -1;
	}
}

int hp_each(const char *path, int (*cb)(void *arg, const struct hp_frame *f), void *arg)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *b;
	pcap_t *pc = pcap_open_offline(path, err);
	uint32_t n = 0;
	int dlt;

	if (!pc)
		return -ENOENT;
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &b) == 1) {
		struct hp_frame f = { ++n, (uint64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec, NULL,
				      0, 0 };
		int off = l3_offset(dlt, b, h->caplen);

		if (off >= 0 && (uint32_t)off <= h->caplen) {
			f.l3 = b + off;
			f.caplen = h->caplen - off;
			f.wirelen = h->len > (uint32_t)off ? h->len - off : 0;
			if (f.wirelen < f.caplen)
				f.wirelen = f.caplen;
		}
		if (cb(arg, &f))
			break;
	}
	pcap_close(pc);
	return (int)n;
}

const char *hp_corpus(void)
{
	static char dir[PATH_MAX];
	const char *sh = getenv("LL_SHARED"), *root = getenv("LL_ROOT");
	struct stat st;

	if (sh && *sh)
		snprintf(dir, sizeof(dir), "%s/corpora/pcaps", sh);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/corpora/pcaps", root && *root ? root : ".");
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return dir;
	return NULL;
}

const char *hp_path(const char *rel)
{
	static char p[PATH_MAX + 256];
	const char *d = hp_corpus();

	if (!d)
		return NULL;
	snprintf(p, sizeof(p), "%s/%s", d, rel);
	return p;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int hp_each_pcap(const char *dir, void (*cb)(void *arg, const char *rel), void *arg)
{
	char path[PATH_MAX], rel[PATH_MAX];
	struct dirent **ents;
	int n, count = 0;

	if (!hp_corpus())
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", hp_corpus(), dir);
	n = scandir(path, &ents, NULL, by_name);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ents[i]->d_name);

		if (l > 5 && !strcmp(ents[i]->d_name + l - 5, ".pcap")) {
			snprintf(rel, sizeof(rel), "%s/%s", dir, ents[i]->d_name);
			cb(arg, rel);
			count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}
