/* frag_int.h - the reassembly queue shared by frag.c and frag_build.c; not an API. */
#ifndef LL_FRAG_INT_H
#define LL_FRAG_INT_H

#include "frag.h"

#define FRAG_MAXLEN 65535

/* An output buffer that grows; owned by the table. */
struct frag_out {
	uint8_t *buf;
	uint32_t cap;
};

/* A stored fragment: [off, end) of the fragmentable part, @have bytes captured. */
struct piece {
	uint32_t off, end, have;
	uint8_t run_head; /* starts a run of adjacent fragments (inet_frag_queue_insert) */
	uint8_t *data;
};

/* One datagram being put together (the kernel's struct ipq / frag_queue). */
struct fq {
	struct fq *hnext, *older, *newer;
	uint8_t family, proto;
	ll_ip src, dst;
	uint32_t id;
	uint64_t born_us; /* the kernel's timer starts with the queue and is never pushed back */
	uint32_t len;     /* highest end seen, final once last_in */
	uint32_t meat;    /* bytes held */
	uint8_t first_in, last_in;
	uint8_t *hdr;     /* unfragmentable part of the offset-0 fragment */
	uint32_t hdrlen;
	uint32_t nh_off;  /* IPv6: byte naming the fragment header */
	uint8_t nexthdr;  /* IPv6: next header of the offset-0 fragment's fragment header */
	struct piece *pc;
	uint32_t npc, cappc;
	uint64_t *ck;
	uint32_t nck, capck;
	uint64_t mem;
	uint32_t bucket;
	enum ll_reason why; /* when dropped */
	struct fq *pnext;   /* pending-drop list */
};

/* Offset of the byte naming the IPv6 fragment header at @fh (chain checked by pkt_parse). */
uint32_t frag_v6_nh_off(const uint8_t *h, uint32_t fh);
/* Would the datagram be over 65535 bytes (IPv4 total / IPv6 payload length)? */
int frag_too_big(uint8_t family, uint32_t hdrlen, uint32_t datalen);
/* Build the complete queue @q into @o; fills @res (FRAG_DONE). 0 or -ENOMEM. */
int frag_build(struct frag_out *o, const struct fq *q, struct frag_result *res);
/* Copy the unfragmented (or IPv6 atomic-fragment) packet @p into @o as a datagram. */
int frag_build_whole(struct frag_out *o, const struct pkt *p, struct frag_result *res);

#endif
