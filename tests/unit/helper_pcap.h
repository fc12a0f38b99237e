/* helper_pcap.h - tests only: walk a capture's frames with the link layer stripped. */
#ifndef LL_HELPER_PCAP_H
#define LL_HELPER_PCAP_H

#include <stdint.h>

struct hp_frame {
	uint32_t n;          /* 1-based frame number */
	uint64_t ts_us;
	const uint8_t *l3;   /* NULL when the frame carries no IP packet */
	uint32_t caplen;     /* captured bytes from l3 */
	uint32_t wirelen;    /* on-the-wire bytes from l3 */
};

/*
 * hp_each() - call @cb for every frame of the capture at @path (Ethernet with
 * 802.1Q, SLL, SLL2, raw IP, IPv4/IPv6, BSD loopback, PPP). Stops when @cb
 * returns non-zero. Returns the number of frames, or -errno.
 */
int hp_each(const char *path, int (*cb)(void *arg, const struct hp_frame *f), void *arg);

/*
 * hp_corpus() - the directory of the shared pcap corpus
 * ($LL_SHARED/corpora/pcaps, $LL_SHARED defaulting to $LL_ROOT/../shared and
 * LL_ROOT to the working directory), or NULL when it is absent.
 */
const char *hp_corpus(void);

/* hp_path() - "<corpus>/@rel" in a static buffer (NULL without a corpus). */
const char *hp_path(const char *rel);

/*
 * hp_each_pcap() - call @cb with "@dir/NAME" (relative to the corpus) for
 * every *.pcap in the corpus folder @dir, in name order. Returns how many,
 * or -errno.
 */
int hp_each_pcap(const char *dir, void (*cb)(void *arg, const char *rel), void *arg);

#endif
