/* replay.h - `lifelined -r`: a capture through the live pipeline, no kernel. */
#ifndef LL_REPLAY_H
#define LL_REPLAY_H

#include <stdio.h>
#include "pipeline.h"

struct replay_opts {
	const char *pcap;     /* capture to read (pcap or pcapng) */
	FILE *verdicts;       /* one JSON line per frame, or NULL */
	const char *accepted; /* -w: write accepted frames here, or NULL */
	const char *dropped;  /* --dropped: write dropped frames here, or NULL */
	FILE *summary;        /* where the summary goes (stdout or stderr) */
	FILE *progress;       /* a terminal for a progress line, or NULL */
};

/*
 * replay_run() - judge every frame of o->pcap with @pl. Returns 0 when done,
 * 1 on bad input (unreadable capture, unsupported link type: *err set and
 * nothing judged; a capture cut mid-record: every complete frame judged and
 * reported, then *err set). @err receives a static or owned message.
 */
int replay_run(struct pipeline *pl, const struct replay_opts *o, char *err, size_t errlen);

/*
 * Link-layer stripping, shared with tests: returns the L3 offset or -1 (not
 * IP). *@group: the frame was link-layer broadcast or multicast (an
 * Ethernet destination with the I/G bit, a Linux cooked header's packet
 * type 1 or 2), which Linux TCP discards.
 */
int replay_l3_offset(int dlt, const uint8_t *frame, uint32_t caplen, int *ifindex, bool *group);

#endif
