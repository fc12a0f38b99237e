/*
 * heartbeat.c - the heartbeat watch. An exchange with a manager is complete
 * when packets have gone both ways; its time is the later of the two
 * directions' first packets after the previous exchange, approximated by
 * the older of the two "last seen" times (both directions seen since then).
 */
#include <string.h>

#include "heartbeat.h"

void hb_init(struct hb_watch *h, uint64_t now_us)
{
	memset(h, 0, sizeof(*h));
	h->start_us = now_us;
	h->online = true; /* nothing missed yet: a fresh engine does not cry offline */
}

static struct hb_peer *peer(struct hb_watch *h, ll_ip addr)
{
	for (uint32_t i = 0; i < h->npeers; i++)
		if (ll_ip_eq(h->peers[i].addr, addr))
			return &h->peers[i];
	if (h->npeers == LIFELINE_MAX_MANAGERS)
		return NULL;
	h->peers[h->npeers] = (struct hb_peer){ .addr = addr };
	return &h->peers[h->npeers++];
}

uint64_t hb_exchange_us(const struct hb_peer *p)
{
	if (!p->last_to_us || !p->last_from_us)
		return 0;
	return p->last_to_us < p->last_from_us ? p->last_to_us : p->last_from_us;
}

void hb_seen(struct hb_watch *h, ll_ip src, ll_ip dst, bool to_manager, uint64_t now_us)
{
	struct hb_peer *p = peer(h, to_manager ? dst : src);
	uint64_t x;

	if (!p)
		return;
	if (to_manager)
		p->last_to_us = now_us;
	else
		p->last_from_us = now_us;
	x = hb_exchange_us(p);
	if (x > h->last_exchange_us)
		h->last_exchange_us = x;
}

enum hb_change hb_tick(struct hb_watch *h, uint64_t now_us, uint32_t interval_s,
		       uint32_t max_missed)
{
	uint64_t since = h->last_exchange_us > h->start_us ? h->last_exchange_us : h->start_us;
	uint64_t iv = (uint64_t)(interval_s ? interval_s : 1) * 1000000u;
	bool online;

	h->missed = now_us > since ? (uint32_t)((now_us - since) / iv) : 0;
	online = h->missed < max_missed;
	if (online == h->online)
		return HB_SAME;
	h->online = online;
	return online ? HB_ONLINE : HB_OFFLINE;
}
