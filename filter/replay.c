/*
 * replay.c - `lifelined -r`: every frame of a capture through the same
 * pipeline as live mode. Link layers are stripped here, fragments are held
 * and reassembled as the kernel does before NFQUEUE, and every original
 * frame gets one verdict line (a held fragment's line comes when its
 * datagram completes or is dropped, so lines follow decisions, not frames).
 * Whole datagrams are judged in batches, with pipeline_judge_batch() as the
 * live workers judge them; anything else that makes a line (a fragment, a
 * frame that does not parse, an expiry) first judges the batch, so lines
 * come out in the same order as one by one.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frag.h"
#include "replay.h"
#include "replay_ifname.h"
#include "verdict_json.h"

/* A frame waiting in a reassembly queue, kept whole for -w/--dropped. */
struct held {
	uint64_t n;
	struct pcap_pkthdr hdr;
	uint8_t *data;
	struct pkt p; /* the fragment as parsed: its scalar fields describe it if dropped */
};

/* A frame waiting for the batch: a copy, since libpcap reuses its buffer. */
#define PEND_SLACK 64
struct pending {
	uint64_t n;
	struct pcap_pkthdr hdr;
	uint8_t *data;
	uint32_t cap;
	struct pkt p;        /* parsed from data */
	char ifname[16];
};

struct replay {
	struct pipeline *pl;
	const struct replay_opts *o;
	pcap_dumper_t *acc, *drop;
	pcap_t *dead[2];      /* the handles the dumpers were opened on */
	struct frag_table *frags;
	struct ifname_reader *ifr; /* pcapng interface names, or NULL */
	char ifname[16];           /* the current frame's interface */
	struct held *held;
	size_t nheld, capheld;
	uint64_t frames, accepted, dropped;
	uint64_t by_reason[BY__COUNT][R__COUNT];
	uint64_t last_expire_us;
	struct pending pend[PIPELINE_BATCH];
	unsigned npend;
};

#define FRAG_MEM (4u << 20)        /* net.ipv4.ipfrag_high_thresh */
#define FRAG_TIMEOUT_US 30000000u  /* net.ipv4.ipfrag_time */

static uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }

/* The L3 offset; a frame that names IP but carries none is judged (truncated). */
static int l3_at(uint32_t caplen, int off)
{
	return (uint32_t)off <= caplen ? off : -1;
}

static int ether_offset(const uint8_t *f, uint32_t caplen)
{
	uint32_t off = 12;

	while (off + 2 <= caplen) {
		uint16_t type = rd16(f + off);
		if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
			off += 4; /* 802.1Q / 802.1ad tag */
			continue;
		}
		if (type == 0x0800 || type == 0x86dd)
			return l3_at(caplen, (int)off + 2);
		return -1;
	}
	return -1;
}

/* BSD loopback: the address family, host order of the capturing machine. */
static int null_offset(const uint8_t *f, uint32_t caplen, int network_order)
{
	uint32_t af;

	if (caplen < 4)
		return -1;
	memcpy(&af, f, 4);
	if (network_order)
		af = __builtin_bswap32(af);
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	/* AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs) */
	if (af == 2 || af == 10 || af == 24 || af == 28 || af == 30)
		return l3_at(caplen, 4);
	return -1;
}

static bool ethertype_ip(uint16_t t) { return t == 0x0800 || t == 0x86dd; }

/*
 * A destination every host's NIC takes in: broadcast, IPv4 multicast
 * (01:00:5e, RFC 1112) or IPv6 multicast (33:33, RFC 2464). Not any
 * address with the I/G bit: captures with made-up or anonymised MACs set
 * it at random, and a NIC passes such a group only when it joined it or
 * listens to everything.
 */
static bool ether_group(const uint8_t *f)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return !memcmp(f, bcast, 6) || (f[0] == 0x01 && f[1] == 0x00 && f[2] == 0x5e && !(f[3] & 0x80)) ||
	       (f[0] == 0x33 && f[1] == 0x33);
}

/*
 * Linux cooked captures' packet type (SLL's first field, SLL2's byte 10):
 * PACKET_BROADCAST and PACKET_MULTICAST. Not PACKET_OTHERHOST (3), which
 * Linux drops before netfilter and a capture that holds it is of others'
 * traffic (a mirror port, promiscuous mode): its connections are tracked
 * as ever.
 */
static bool sll_group(unsigned type) { return type == 1 || type == 2; }

int replay_l3_offset(int dlt, const uint8_t *f, uint32_t caplen, int *ifindex, bool *group)
{
	*ifindex = 0;
	*group = false;
	switch (dlt) {
	case DLT_EN10MB:
		*group = caplen >= 6 && ether_group(f);
		return ether_offset(f, caplen);
	case DLT_LINUX_SLL:
		if (caplen < 16 || !ethertype_ip(rd16(f + 14)))
			return -1;
		*group = sll_group(rd16(f));
		return l3_at(caplen, 16);
	case DLT_LINUX_SLL2:
		if (caplen < 20 || !ethertype_ip(rd16(f)))
			return -1;
		*group = sll_group(f[10]);
		*ifindex = (int)((uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 | f[6] << 8 | f[7]);
		return l3_at(caplen, 20);
	case DLT_RAW:
	case 14: /* DLT_RAW on OpenBSD */
	case DLT_IPV4:
	case DLT_IPV6:
		return l3_at(caplen, 0);
	case DLT_NULL:
		return null_offset(f, caplen, 0);
	case DLT_LOOP:
		return null_offset(f, caplen, 1);
	default:
		return -1;
	}
}

static bool dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW:
	case 14: case DLT_IPV4: case DLT_IPV6: case DLT_NULL: case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

static uint64_t ts_us(const struct pcap_pkthdr *h)
{
	return (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
}

/* Report and write one original frame with its verdict. */
static void emit(struct replay *r, uint64_t n, const struct pcap_pkthdr *h, const uint8_t *data,
		 const struct pkt *p, const struct verdict *v)
{
	r->frames++;
	if (v->accept)
		r->accepted++;
	else
		r->dropped++;
	r->by_reason[v->by][v->reason]++;
	if (r->o->verdicts)
		verdict_json_write(r->o->verdicts, n, ts_us(h), p, v);
	if (v->accept && r->acc)
		pcap_dump((u_char *)r->acc, h, data);
	if (!v->accept && r->drop)
		pcap_dump((u_char *)r->drop, h, data);
}

static int hold(struct replay *r, uint64_t n, const struct pcap_pkthdr *h, const uint8_t *data,
		const struct pkt *p)
{
	struct held *e;

	if (r->nheld == r->capheld) {
		size_t cap = r->capheld ? r->capheld * 2 : 64;
		struct held *v = realloc(r->held, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->held = v;
		r->capheld = cap;
	}
	e = &r->held[r->nheld];
	e->data = malloc(h->caplen ? h->caplen : 1);
	if (!e->data)
		return -ENOMEM;
	memcpy(e->data, data, h->caplen);
	e->p = *p;
	e->p.l3 = e->p.l4 = e->p.payload = NULL; /* they pointed into the frame */
	e->p.ifname = NULL;
	e->n = n;
	e->hdr = *h;
	r->nheld++;
	return 0;
}

/* Release the held frames named by @res, each with verdict @v. */
static void release(struct replay *r, const struct frag_result *res, const struct pkt *p,
		    const struct verdict *v)
{
	for (uint32_t i = 0; i < res->ncookies; i++) {
		for (size_t j = 0; j < r->nheld; j++) {
			struct held *e = &r->held[j];
			if (e->n != res->cookies[i])
				continue;
			emit(r, e->n, &e->hdr, e->data, p ? p : &e->p, v);
			free(e->data);
			r->held[j] = r->held[--r->nheld];
			break;
		}
	}
}

static void frag_dropped(void *arg, const struct frag_result *res)
{
	struct replay *r = arg;
	struct verdict v;

	pipeline_sanity(r->pl, res->why, &v);
	release(r, res, NULL, &v);
}

/*
 * Was @res's first fragment (offset 0, the first to arrive: Linux keeps
 * that one of duplicates) in a broadcast or multicast frame? The datagram
 * the kernel reassembles carries that fragment's packet type.
 */
static bool first_frag_group(const struct replay *r, const struct frag_result *res)
{
	for (uint32_t i = 0; i < res->ncookies; i++)
		for (size_t j = 0; j < r->nheld; j++)
			if (r->held[j].n == res->cookies[i] && r->held[j].p.frag_first)
				return r->held[j].p.l2_group;
	return false;
}

static void judge_datagram(struct replay *r, const struct frag_result *res, int ifindex,
			   const char *ifname, uint64_t now, struct pkt *p, struct verdict *v)
{
	enum ll_reason why;

	memset(p, 0, sizeof(*p));
	/* caplen stops before bytes a snaplen-cut fragment never delivered */
	if (pkt_parse_wire(p, res->buf, res->caplen, res->len, &why) < 0) {
		pipeline_sanity(r->pl, why, v);
		return;
	}
	pipeline_set_dir(r->pl, p);
	p->ifindex = ifindex;
	p->ifname = ifname;
	p->l2_group = first_frag_group(r, res);
	pipeline_judge(r->pl, p, now, v);
}

static void fragment(struct replay *r, uint64_t n, const struct pcap_pkthdr *h,
		     const uint8_t *data, struct pkt *p, int ifindex)
{
	struct frag_result res;
	struct verdict v;
	struct pkt whole;

	if (hold(r, n, h, data, p) < 0) {
		pipeline_sanity(r->pl, R_FRAG_LIMIT, &v);
		emit(r, n, h, data, NULL, &v);
		return;
	}
	frag_add(r->frags, p, ts_us(h), n, &res);
	if (res.status == FRAG_HELD)
		return;
	if (res.status == FRAG_DROPPED) {
		frag_dropped(r, &res);
		return;
	}
	judge_datagram(r, &res, ifindex, p->ifname, ts_us(h), &whole, &v);
	release(r, &res, &whole, &v);
}

/* Judge the pending frames together and write their lines, in order. */
static void flush(struct replay *r)
{
	struct pkt *pk[PIPELINE_BATCH];
	uint64_t now[PIPELINE_BATCH];
	struct verdict v[PIPELINE_BATCH];

	if (!r->npend)
		return;
	for (unsigned i = 0; i < r->npend; i++) {
		pk[i] = &r->pend[i].p;
		now[i] = ts_us(&r->pend[i].hdr);
	}
	pipeline_judge_batch(r->pl, pk, r->npend, now, v);
	for (unsigned i = 0; i < r->npend; i++) {
		struct pending *e = &r->pend[i];
		emit(r, e->n, &e->hdr, e->data, &e->p, &v[i]);
	}
	r->npend = 0;
}

/* The next pending slot, holding a copy of the frame; NULL without memory. */
static struct pending *pend_slot(struct replay *r, uint64_t n, const struct pcap_pkthdr *h,
				 const uint8_t *data, const char *ifname)
{
	struct pending *e = &r->pend[r->npend];

	/*
	 * Zeroed slack after the frame, as libpcap's and NFQUEUE's buffers
	 * have: matchers read ahead in 16-byte words (PCRE2's JIT does; an
	 * exact-size copy made valgrind report it).
	 */
	if (e->cap < h->caplen + PEND_SLACK || !e->data) {
		uint8_t *d = realloc(e->data, h->caplen + PEND_SLACK);
		if (!d)
			return NULL;
		e->data = d;
		e->cap = h->caplen + PEND_SLACK;
	}
	memcpy(e->data, data, h->caplen);
	memset(e->data + h->caplen, 0, PEND_SLACK);
	e->n = n;
	e->hdr = *h;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname ? ifname : "");
	return e;
}

static void frame(struct replay *r, int dlt, uint64_t n, const struct pcap_pkthdr *h,
		  const uint8_t *data, const char *ifname)
{
	struct pkt p;
	struct verdict v;
	enum ll_reason why;
	bool group;
	int ifindex, off = replay_l3_offset(dlt, data, h->caplen, &ifindex, &group);
	uint64_t now = ts_us(h);
	struct pending *e;

	if (now >= r->last_expire_us + 1000000u) {
		flush(r);
		frag_expire(r->frags, now, 0, frag_dropped, r);
		r->last_expire_us = now;
	}
	if (off < 0) {
		flush(r);
		pipeline_not_ip(r->pl, &v);
		emit(r, n, h, data, NULL, &v);
		return;
	}
	/* parsed from the copy the batch keeps; p describes it until then */
	e = pend_slot(r, n, h, data, ifname);
	if (e)
		data = e->data;
	memset(&p, 0, sizeof(p));
	/* a frame cut by the snap length is judged on what is there */
	if (pkt_parse_wire(&p, data + off, h->caplen - (uint32_t)off,
			   h->len > (uint32_t)off ? h->len - (uint32_t)off : 0, &why) < 0) {
		flush(r);
		pipeline_sanity(r->pl, why, &v);
		/* what the parser got to (addresses, protocol) still helps the reader */
		if (p.family)
			pipeline_set_dir(r->pl, &p);
		emit(r, n, h, data, p.family ? &p : NULL, &v);
		return;
	}
	pipeline_set_dir(r->pl, &p);
	p.ifindex = ifindex;
	p.ifname = ifname;
	p.l2_group = group;
	if (p.is_frag || !e) {
		flush(r);
		/* a first fragment short of its headers is not reassembled live: judged alone, as there */
		if (p.is_frag && !frag_v6_thdr_truncated(&p))
			fragment(r, n, h, data, &p, ifindex);
		else { /* or no memory to hold it: judged alone */
			pipeline_judge(r->pl, &p, now, &v);
			emit(r, n, h, data, &p, &v);
		}
		return;
	}
	e->p = p;
	e->p.ifname = ifname ? e->ifname : NULL;
	if (++r->npend == PIPELINE_BATCH)
		flush(r);
}

static void summary(const struct replay *r, FILE *out)
{
	fprintf(out, "%s: %llu packets, %llu accepted, %llu dropped\n", r->o->pcap,
		(unsigned long long)r->frames, (unsigned long long)r->accepted,
		(unsigned long long)r->dropped);
	for (int b = 0; b < BY__COUNT; b++)
		for (int k = 0; k < R__COUNT; k++)
			if (r->by_reason[b][k])
				fprintf(out, "  %-9s %-14s %llu\n", ll_by_name(b), ll_reason_name(k),
					(unsigned long long)r->by_reason[b][k]);
}

/*
 * libpcap's word on a file it cannot open, for an operator: the path once
 * (libpcap's own text often starts with it), and what its jargon means.
 */
static void pcap_error(const char *path, const char *msg, char *err, size_t errlen)
{
	size_t n = strlen(path);

	if (!strncmp(msg, path, n) && !strncmp(msg + n, ": ", 2))
		msg += n + 2;
	if (!strncmp(msg, "error reading dump file: ", 25))
		msg += 25;
	if (!strcmp(msg, "unknown file format"))
		msg = "not a pcap or pcapng capture";
	else if (strstr(msg, "file header bytes, only got 0"))
		msg = "empty file, not a capture";
	else if (strstr(msg, "file header bytes"))
		msg = "too short for a capture's file header";
	snprintf(err, errlen, "%s: %s", path, msg);
}

static pcap_dumper_t *open_dump(pcap_t *in, pcap_t **dead, const char *path, char *err,
				 size_t errlen)
{
	pcap_dumper_t *d;

	*dead = pcap_open_dead_with_tstamp_precision(pcap_datalink(in), pcap_snapshot(in),
						     PCAP_TSTAMP_PRECISION_MICRO);
	d = *dead ? pcap_dump_open(*dead, path) : NULL;
	if (!d)
		pcap_error(path, *dead ? pcap_geterr(*dead) : "out of memory", err, errlen);
	return d;
}

static void progress(const struct replay *r, FILE *tty, long total, long pos, double t0)
{
	struct timespec ts;
	double now, rate;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	rate = now > t0 ? r->frames / (now - t0) : 0;
	fprintf(tty, "\r%llu packets, %.0f pkt/s, %.0f%%   ", (unsigned long long)r->frames, rate,
		total > 0 ? 100.0 * pos / total : 0.0);
	fflush(tty);
}

static int loop(struct replay *r, pcap_t *pc, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int dlt = pcap_datalink(pc), rc;
	uint64_t n = 0;
	long total = 0;
	struct timespec ts;
	FILE *f = pcap_file(pc);
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (r->o->progress && stat(r->o->pcap, &st) == 0)
		total = st.st_size;
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		frame(r, dlt, ++n, h, data, ifname_reader_next(r->ifr));
		if (r->o->progress && (n & 0xfffff) == 0)
			progress(r, r->o->progress, total, f ? ftell(f) : 0,
				 ts.tv_sec + ts.tv_nsec / 1e9);
	}
	flush(r);
	frag_expire(r->frags, 0, 1, frag_dropped, r);
	if (r->o->progress)
		fputc('\n', r->o->progress);
	if (rc == PCAP_ERROR) {
		const char *why = pcap_geterr(pc);

		/* libpcap's words: a short read is "truncated"; anything else is a damaged or mixed file */
		snprintf(err, errlen, "%s: capture %s after frame %llu: %s%s", r->o->pcap,
			 strstr(why, "truncated") ? "cut short" : "unreadable",
			 (unsigned long long)n, why, strstr(why, "different from the type") ?
			 " (one link type per file: split it with `editcap -T` or tshark)" : "");
		return 1;
	}
	return 0;
}

int replay_run(struct pipeline *pl, const struct replay_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct frag_limits lim = { FRAG_MEM, FRAG_TIMEOUT_US };
	struct replay r = { .pl = pl, .o = o };
	pcap_t *pc;
	int rc = 1;

	pc = pcap_open_offline_with_tstamp_precision(o->pcap, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc) {
		pcap_error(o->pcap, ebuf, err, errlen);
		return 1;
	}
	if (!dlt_supported(pcap_datalink(pc))) {
		snprintf(err, errlen, "%s: unsupported link type %s (%d); lifelined reads Ethernet, "
			 "Linux cooked (SLL, SLL2), raw IPv4/IPv6 and BSD loopback captures", o->pcap,
			 pcap_datalink_val_to_name(pcap_datalink(pc)) ?: "unknown",
			 pcap_datalink(pc));
		goto out;
	}
	if ((o->accepted && !(r.acc = open_dump(pc, &r.dead[0], o->accepted, err, errlen))) ||
	    (o->dropped && !(r.drop = open_dump(pc, &r.dead[1], o->dropped, err, errlen))))
		goto out;
	r.frags = frag_new(&lim);
	if (!r.frags) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* queues evicted for memory inside frag_add() are reported at once */
	frag_set_drop_cb(r.frags, frag_dropped, &r);
	r.ifr = ifname_reader_open(o->pcap);
	rc = loop(&r, pc, err, errlen);
	summary(&r, o->summary);
out:
	if (r.acc)
		pcap_dump_close(r.acc);
	if (r.drop)
		pcap_dump_close(r.drop);
	for (int i = 0; i < 2; i++)
		if (r.dead[i])
			pcap_close(r.dead[i]);
	frag_free(r.frags);
	ifname_reader_close(r.ifr);
	for (size_t i = 0; i < r.nheld; i++)
		free(r.held[i].data);
	for (unsigned i = 0; i < PIPELINE_BATCH; i++)
		free(r.pend[i].data);
	free(r.held);
	pcap_close(pc);
	return rc;
}
