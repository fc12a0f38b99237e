/* kernel_probe.h - what the host's kernel was built with, where its drops depend on it. */
#ifndef LL_KERNEL_PROBE_H
#define LL_KERNEL_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/*
 * kernel_features() - set pkt_kernel (pkt.h) from @c: `yes` or `no` as
 * said; `auto`: @live, what the running kernel says (kernel_probe_tcp_ao(),
 * kernel_probe_mip6()), else (replay) a current distribution kernel's, both
 * present. Writes what was decided, and how, to @how (@n bytes). Call before
 * any packet is judged.
 */
void kernel_features(const struct config *c, bool live, char *how, size_t n);

/* 1: the running kernel has TCP-AO (CONFIG_TCP_AO), 0: it has not, -1: unknown. */
int kernel_probe_tcp_ao(void);
/* 1: built with Mobile IPv6 (CONFIG_IPV6_MIP6 y or m), 0: without, -1: unknown. */
int kernel_probe_mip6(void);
/* 1: Linux 6.7 or later (pkt_kernel.auth_parse), 0: before, -1: unknown. */
int kernel_probe_auth_parse(void);

#endif
