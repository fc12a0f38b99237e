/*
 * heartbeat.h - the heartbeat watch: when did the host last exchange a
 * heartbeat with each manager, and is management online? Fed by the NFLOG
 * copies the kernel lifeline makes of heartbeat packets (they are accepted
 * before the queue and never reach a worker).
 */
#ifndef LL_HEARTBEAT_H
#define LL_HEARTBEAT_H

#include "lifeline.h"

struct hb_peer {
	ll_ip addr;
	uint64_t last_to_us;   /* last packet host -> manager */
	uint64_t last_from_us; /* last packet manager -> host */
};

struct hb_watch {
	struct hb_peer peers[LIFELINE_MAX_MANAGERS];
	uint32_t npeers;
	uint64_t start_us;         /* the watch started: nothing missed before it */
	uint64_t last_exchange_us; /* latest time both directions had been seen, any manager */
	uint32_t missed;           /* whole intervals since then (or since start) */
	bool online;
};

enum hb_change { HB_SAME, HB_OFFLINE, HB_ONLINE };

void hb_init(struct hb_watch *h, uint64_t now_us);
/*
 * hb_seen() - a heartbeat packet at @now_us; @to_manager: it left the host
 * (the copy came from the output chain), so its destination is the manager.
 */
void hb_seen(struct hb_watch *h, ll_ip src, ll_ip dst, bool to_manager, uint64_t now_us);
/*
 * hb_tick() - recount missed intervals at @now_us. Offline after @max_missed
 * intervals of @interval_s without an exchange; online again as soon as one
 * completes. Returns the change, for an event.
 */
enum hb_change hb_tick(struct hb_watch *h, uint64_t now_us, uint32_t interval_s,
		       uint32_t max_missed);
/* hb_exchange_us() - when @p last completed an exchange (both ways), 0 never. */
uint64_t hb_exchange_us(const struct hb_peer *p);

#endif
