/* replay_ifname.h - pcapng interface names, packet by packet, for replay. */
#ifndef LL_REPLAY_IFNAME_H
#define LL_REPLAY_IFNAME_H

#include <stdbool.h>
#include <stdint.h>

struct ifname_reader;

/* ifname_reader_open() - NULL when @path is not pcapng (no names to give). */
struct ifname_reader *ifname_reader_open(const char *path);
/*
 * ifname_reader_next() - the if_name of the next packet block's interface,
 * or NULL (unnamed, or @r NULL). Call once per packet libpcap returns.
 * The string lives until the next call.
 */
const char *ifname_reader_next(struct ifname_reader *r);
void ifname_reader_close(struct ifname_reader *r);

#endif
