/* ips_tcp.c - which TCP segments a Linux receiver keeps: receive window, PAWS, too-old ACKs. */
#include <string.h>

#include "ips_rules.h"

/*
 * An attacker sends a decoy the host drops, then the real bytes at the
 * same sequence numbers: a stream that took the decoy saw neither. Besides
 * the checksum and the ACK (ips_scan.c), Linux drops (tcp_input.c):
 *  - an ACK older than snd_una less min(max_window, bytes_acked) (tcp_ack(),
 *    RFC 5961 5.2);
 *  - data at or past the right edge of the window it advertised, any
 *    segment past it or wholly before what it acknowledged (tcp_sequence(),
 *    tcp_data_queue());
 *  - a TSval older than ts_recent by more than one, with timestamps on
 *    (tcp_paws_discard(), RFC 7323 5.3).
 * Each side's state comes from the segments the stream took, so that it
 * errs the way that refuses less: the edge and window are the highest
 * seen, ts_recent moves only where Linux moves it (a segment at or before
 * what the receiver acknowledged). Nothing known, nothing refused.
 */
enum {
	ITS_SYN = 1,   /* its SYN seen: wscale and the options below are known */
	ITS_WS = 2,    /* its SYN offered window scaling */
	ITS_TSOPT = 4, /* its SYN offered timestamps */
	ITS_ODD = 8,   /* another SYN with other options: which one counts is unknown */
	ITS_ACK = 16,  /* ack */
	ITS_EDGE = 32, /* edge, maxwin */
	ITS_TS = 64,   /* ts */
	ITS_FULL = 128, /* 1 GiB acked (past any window), or not known: the bound is the window */
};

static bool after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static bool before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Both SYNs seen, each once: what they negotiated is known. */
static bool negotiated(const struct ips_tcp *t)
{
	uint8_t a = t->side[0].has, b = t->side[1].has;

	return (a & b & ITS_SYN) && !((a | b) & ITS_ODD);
}

static bool ts_on(const struct ips_tcp *t)
{
	return negotiated(t) && (t->side[0].has & t->side[1].has & ITS_TSOPT);
}

/* The shift of @d's windows after its SYN; -1 unknown. */
static int shift_of(const struct ips_tcp *t, int d)
{
	if (!negotiated(t))
		return -1;
	return (t->side[0].has & t->side[1].has & ITS_WS) ? t->side[d].wscale : 0;
}

/*
 * Its SYN's options; a second SYN offering others makes them unknown. @span
 * (the opener's): how far its latest SYN's TSval is past its first's.
 */
static void learn_syn(struct ips_tcp_side *sd, const struct pkt_tcp_opts *o, uint32_t *span)
{
	uint8_t has = (uint8_t)(ITS_SYN | (o->ws ? ITS_WS : 0) | (o->ts ? ITS_TSOPT : 0));

	if (sd->has & ITS_SYN) {
		if (span && o->ts && (sd->has & ITS_TS) && after(o->tsval, sd->ts + *span))
			*span = o->tsval - sd->ts; /* a SYN sent again: its TSval is the client's clock then */
		if ((sd->has & (ITS_WS | ITS_TSOPT)) != (has & (ITS_WS | ITS_TSOPT)) ||
		    (o->ws && o->shift != sd->wscale))
			sd->has |= ITS_ODD;
		return;
	}
	sd->has |= has;
	sd->wscale = o->shift;
	if (o->ts) { /* ts_recent starts at the SYN's (tcp_openreq_init(), the SYN-ACK's) */
		sd->ts = o->tsval;
		sd->has |= ITS_TS;
	}
}

/* A kept segment from side @d: its ACK, window and TSval as the receiver records them. */
static void learn(struct ips_tcp *t, const struct pkt *p, int d, const struct pkt_tcp_opts *o)
{
	struct ips_tcp_side *sd = &t->side[d], *rr = &t->side[!d];
	int sh = p->tcp_flags & TCPF_SYN ? 0 : shift_of(t, d); /* a SYN's window is never scaled */

	if (p->tcp_flags & TCPF_SYN)
		learn_syn(sd, o, d ? NULL : &t->syn_ts_span);
	else if (o->ts && ts_on(t) && (sd->has & ITS_TS) && (rr->has & ITS_ACK) &&
		 !after(p->tcp_seq, rr->ack) && !before(o->tsval, sd->ts))
		sd->ts = o->tsval; /* tcp_replace_ts_recent(): at or before rcv_wup */
	if (!(p->tcp_flags & TCPF_ACK))
		return;
	if (!(sd->has & ITS_ACK) || after(p->tcp_ack, sd->ack))
		sd->ack = p->tcp_ack;
	sd->has |= ITS_ACK;
	if (sh < 0) { /* a window of unknown scale: whatever edge was known may be passed */
		sd->has &= (uint8_t)~ITS_EDGE;
		return;
	}
	/*
	 * The field says Linux's window exactly: tcp_select_window() keeps
	 * rcv_wnd a multiple of 2^shift (ALIGN() there and in
	 * __tcp_select_window()), and so does net.ipv4.tcp_shrink_window = 1
	 * (round_down()/ALIGN() at its shrink_window_allowed label): no slack
	 * past it. A slack of 2^shift - 1 bytes let a decoy at the real edge,
	 * which Linux drops, stand for the bytes sent there once the window
	 * opened: 1,023 bytes with the shift of 10 a Linux host offers
	 * (red24b, live). (A window that sysctl lets shrink is not followed:
	 * the edge stays at its highest.)
	 */
	uint32_t win = (uint32_t)p->tcp_win << sh, edge = p->tcp_ack + win;

	if (!(sd->has & ITS_EDGE) || after(edge, sd->edge))
		sd->edge = edge;
	if (!(sd->has & ITS_EDGE) || win > sd->maxwin)
		sd->maxwin = win;
	sd->has |= ITS_EDGE;
}

/* tcp_ack(): an ACK before snd_una - min(max_window, bytes_acked) is dropped. */
static bool ack_too_old(struct ips_tcp *t, const struct pkt *p, int d, const uint32_t *rstart)
{
	struct ips_tcp_side *sd = &t->side[d];
	uint32_t acked = 0, span;

	if (!(p->tcp_flags & TCPF_ACK))
		return false;
	/* nothing acknowledged by this side yet: min() is 0, the bound the first byte */
	if (!(sd->has & (ITS_ACK | ITS_FULL)))
		return rstart && before(p->tcp_ack, *rstart);
	/*
	 * Linux's bytes_acked is 64 bits; counted here in 32 it would wrap
	 * after 4 GiB (and read as "before the first byte" after 2): past 1 GiB,
	 * more than any window, min() is the window for good.
	 */
	if (!(sd->has & ITS_FULL)) {
		if (!rstart || before(sd->ack, *rstart))
			return false;
		/* the opener's bytes_acked counts its SYN (tcp_rcv_synsent_state_process()) */
		acked = sd->ack - *rstart + (d == 1);
		if (acked >= 1u << 30)
			sd->has |= ITS_FULL;
	}
	if (sd->has & ITS_FULL) {
		if (!(sd->has & ITS_EDGE) || !(sd->has & ITS_ACK))
			return false; /* no window or ACK known: no bound */
		span = sd->maxwin;
	} else {
		span = (sd->has & ITS_EDGE) && sd->maxwin < acked ? sd->maxwin : acked;
	}
	return before(p->tcp_ack, sd->ack - span);
}

/* tcp_sequence() and tcp_data_queue(): the receiver's window, from its own segments. */
static bool out_of_window(const struct ips_tcp *t, const struct pkt *p, int d)
{
	const struct ips_tcp_side *rr = &t->side[!d];
	uint32_t end = p->tcp_seq + p->paylen + !!(p->tcp_flags & TCPF_FIN);

	if ((rr->has & ITS_ACK) && before(end, rr->ack))
		return true; /* all of it acknowledged already: a dup ACK, nothing else */
	if (!(rr->has & ITS_EDGE))
		return false;
	return after(p->tcp_seq, rr->edge) || (p->paylen && !before(p->tcp_seq, rr->edge));
}

/* tcp_paws_discard(): timestamps on, a TSval older than ts_recent - 1 (0: not yet one). */
static bool paws(const struct ips_tcp *t, const struct pkt_tcp_opts *o, int d)
{
	const struct ips_tcp_side *sd = &t->side[d];

	return o->ts && (sd->has & ITS_TS) && sd->ts && (int32_t)(sd->ts - o->tsval) > 1 &&
	       ts_on(t);
}

/* A signature of the kind the host signs the flow with: it holds the key (no forgery is told apart). */
static bool keyed_takes(const struct ips_tcp *t, const struct pkt_tcp_opts *o)
{
	return !o->auth_bad && ((o->md5 && (t->keyed & 1)) || (o->ao && (t->keyed & 2)));
}

/* How far the host's timestamp clock may run ahead of the engine's (1 kHz) reckoning of it */
#define TS_SLACK_MS 2u

/*
 * The handshake's segments the flow's record would take and the receiver
 * drops for their timestamps, which only the IPS keeps (the opener's first
 * SYN's TSval, side[0].ts until the handshake is through, and its time):
 *  - A SYN-ACK to the host whose echo (not 0) is older than its first
 *    SYN's TSval or ahead of its clock: Linux in SYN_SENT takes one
 *    between its first SYN's (retrans_stamp) and its clock now only
 *    (tcp_rcv_synsent_state_process(), reset_and_undo), answers any
 *    other with a RST and waits for the next SYN-ACK. Taken,
 *    the flow held the decoy's numbers, the client's RST closed it, and
 *    the real SYN-ACK and the server's first bytes were never established
 *    (live: EVILPAYLOAD read past a flow:established,to_client drop rule,
 *    5/5). The host's clock now is reckoned from the first SYN's TSval and
 *    the time since, at Linux's 1 kHz (tcp_clock_ms()), with a slack of
 *    TS_SLACK_MS: an echo within that of the client's clock may be judged
 *    either way (README).
 *  - A RST from a remote opener at the host's pending request, its TSval
 *    older than the SYN's: tcp_check_req() drops it (tcp_paws_reject(),
 *    no window of one for a request). Taken, it closed the flow, and the
 *    client completed the handshake and sent its attack on a flow picked
 *    up mid-stream (5/5 live).
 * The flow's record and the stream both leave such a segment out.
 */
bool ips_tcp_opening_drops(struct ips_tcp *t, uint8_t state, const struct pkt *p, int d,
			   uint64_t now_us)
{
	const struct ips_tcp_side *op = &t->side[0];
	uint8_t fl = p->tcp_flags;
	struct pkt_tcp_opts o;

	if (state == FT_SYN_SENT && d == 1 && p->dir != PKT_DIR_OUT &&
	    (fl & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == (TCPF_SYN | TCPF_ACK)) {
		uint64_t ms = now_us > t->syn_us ? (now_us - t->syn_us) / 1000 : 0;

		pkt_tcp_opts(p, &o);
		/*
		 * A SYN-ACK with a TCP MD5 or TCP-AO signature (or auth options
		 * the kernel's walk refuses): a host without the key drops it
		 * in tcp_inbound_hash(), silently, and waits for the next one.
		 * Taken, the flow held the decoy's sequence numbers and SACK
		 * option, the real SYN-ACK was "again" (opening_discards()),
		 * and a malicious server's ISN far from the decoy's left the
		 * connection never established: its replies passed every
		 * flow:established,to_client rule (rev25). A host that signed
		 * its SYN holds the key (keyed_takes()): its BGP session's
		 * SYN-ACK counts, inspected packet by packet (no stream takes
		 * a signed segment).
		 */
		if (pkt_tcp_signed(&o) && !keyed_takes(t, &o))
			return true;
		if (!(op->has & ITS_TS))
			return false;
		/*
		 * between(tsecr, first, now), as Linux's unsigned compare. An
		 * echo of a TSval the opener sent on a SYN is always in it: the
		 * clock reckoned from the engine's time of the first SYN runs
		 * behind the client's by as long as that SYN waited for the
		 * engine (live, 27 ms under load), and one server answers only the
		 * SYN sent again (its TSval 1,000 ms on, or 1,000,000 on a route
		 * with tcp_usec_ts): the real SYN-ACK was dropped, and the
		 * connection was never established.
		 */
		if (o.ts && o.tsecr && o.tsecr - op->ts > t->syn_ts_span &&
		    o.tsecr - op->ts > (ms < (1u << 30) ? (uint32_t)ms : 1u << 30) + TS_SLACK_MS) {
			/*
			 * An echo before the first SYN seen may be of a SYN the
			 * engine never saw (sent while it restarted, fail-open),
			 * which the client takes (retrans_stamp is its first SYN's)
			 * and a Linux server echoes on every SYN-ACK of the request:
			 * pipeline.c drops only an echo ahead (decoy_ahead).
			 */
			t->decoy_ahead = !before(o.tsecr, op->ts);
			return t->decoy_synack = true;
		}
		return false;
	}
	if (!(op->has & ITS_TS) || state != FT_SYN_RECV || d != 0 || !(fl & TCPF_RST))
		return false;
	/*
	 * The client's answer to that decoy, when the real SYN-ACK passed
	 * first (it races the RST to the queue): a bare RST, which a Linux
	 * client connected by the real one never sends (its own resets carry
	 * an ACK).
	 */
	if (p->dir == PKT_DIR_OUT)
		return t->decoy_synack && !(fl & TCPF_ACK);
	/*
	 * The request holds the first SYN's TSval (tcp_openreq_init()) and
	 * answers the same SYN again, whatever its options, with the same
	 * SYN-ACK (tcp_check_req()): another SYN with other options (ITS_ODD,
	 * which ts_on() gives up for) changes nothing there. A SYN-ACK with a
	 * timestamp says the request kept one.
	 */
	pkt_tcp_opts(p, &o);
	return o.ts && op->ts && before(o.tsval, op->ts) && (t->side[1].has & ITS_TSOPT);
}

bool ips_tcp_take(struct ips_tcp *t, const struct pkt *p, int dir, const uint32_t *rstart,
		  uint64_t now_us, bool *sig)
{
	bool had_ts = t->side[0].has & ITS_TS;
	struct pkt_tcp_opts o = { 0 };

	pkt_tcp_opts(p, &o);
	/*
	 * A TCP MD5 signature option (RFC 2385): a receiver without a key for
	 * the peer drops the segment, a RST too (tcp_inbound_hash()), so it
	 * is a decoy's way past the stream; with a key, only the receiver can
	 * check the signature. No stream takes one: connections that sign
	 * (BGP) are inspected packet by packet. The same for a TCP-AO option
	 * (RFC 5925) on a kernel with TCP-AO (pkt_tcp_signed()). But the host
	 * signs only with the peer's key: in a flow it signed in, the flow's
	 * record takes the peer's signed segments as Linux does. Left out, a
	 * BGP session's signed ACK never completed the handshake: its bytes
	 * passed every flow:established rule, its FIN closed nothing, and 60 s
	 * idle (SYN_RECV's timeout, BGP's keepalive interval) made it a flow
	 * picked up mid-stream (rvw26b).
	 */
	if (pkt_tcp_signed(&o)) {
		if (p->dir == PKT_DIR_OUT && !o.auth_bad)
			t->keyed |= (uint8_t)(o.md5 ? 1 : o.ao ? 2 : 0);
		if (!keyed_takes(t, &o))
			return false;
		*sig = true;
	} else if (t->keyed && p->dir != PKT_DIR_OUT) {
		/*
		 * With a key for the peer, Linux drops its unsigned segments
		 * (tcp_inbound_hash(): TCPMD5NotFound, or TCP-AO required):
		 * taken, a blind unsigned RST - what the signature is there to
		 * stop - ended the flow while the session went on.
		 */
		return false;
	}
	if (p->tcp_flags & TCPF_RST)
		return true; /* no data, window or timestamp taken from it */
	if (!(p->tcp_flags & TCPF_SYN) &&
	    (paws(t, &o, dir) || out_of_window(t, p, dir) || ack_too_old(t, p, dir, rstart)))
		return false;
	learn(t, p, dir, &o);
	if (!had_ts && (t->side[0].has & ITS_TS))
		t->syn_us = now_us;
	return true;
}

void ips_tcp_forget(struct ips_tcp *t)
{
	uint8_t keyed = t->keyed; /* the host still holds the key */

	memset(t, 0, sizeof(*t));
	t->keyed = keyed;
	/* how much each side had acknowledged while the kernel passed the flow is unknown */
	t->side[0].has = t->side[1].has = ITS_FULL;
}
