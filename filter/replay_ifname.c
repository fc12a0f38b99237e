/*
 * replay_ifname.c - interface names for replay's `on IFACE`: libpcap does
 * not say which pcapng interface a packet came from, so this reads the
 * same file alongside it, block by block, and hands out the if_name of the
 * interface each packet block names. Only pcapng captures name interfaces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_ifname.h"

#define MAX_IFACES 256
#define MAX_BLOCK (16u << 20)

enum { SHB = 0x0A0D0D0A, IDB = 1, PB = 2, SPB = 3, EPB = 6 };

struct ifname_reader {
	FILE *f;
	bool swap;                       /* section written in the other byte order */
	uint32_t nif;
	char names[MAX_IFACES][16];
	uint8_t *buf;
	size_t cap;
};

static uint32_t u32(const struct ifname_reader *r, const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t u16(const struct ifname_reader *r, const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* Read one block's body into r->buf. Returns its type, or -1 at the end or on damage. */
static long read_block(struct ifname_reader *r, uint32_t *len)
{
	uint8_t hdr[8];
	uint32_t type, total;

	if (fread(hdr, 1, 8, r->f) != 8)
		return -1;
	memcpy(&type, hdr, 4); /* the SHB type reads the same either way */
	if (type == SHB) {
		uint8_t bom[4];
		uint32_t magic;
		if (fread(bom, 1, 4, r->f) != 4)
			return -1;
		memcpy(&magic, bom, 4);
		r->swap = magic != 0x1A2B3C4D;
		r->nif = 0; /* interface ids start again in every section */
		if (fseek(r->f, -4, SEEK_CUR) != 0)
			return -1;
	}
	type = u32(r, hdr);
	total = u32(r, hdr + 4);
	if (total < 12 || total > MAX_BLOCK || total % 4)
		return -1;
	*len = total - 12;
	if (*len > r->cap) {
		uint8_t *b = realloc(r->buf, *len);
		if (!b)
			return -1;
		r->buf = b;
		r->cap = *len;
	}
	if (fread(r->buf, 1, *len, r->f) != *len || fseek(r->f, 4, SEEK_CUR) != 0)
		return -1;
	return type;
}

/* An Interface Description Block: keep its if_name (option 2). */
static void add_interface(struct ifname_reader *r, uint32_t len)
{
	char *name;
	uint32_t off = 8;

	if (r->nif >= MAX_IFACES)
		return;
	name = r->names[r->nif++];
	name[0] = '\0';
	while (off + 4 <= len) {
		uint16_t code = u16(r, r->buf + off), olen = u16(r, r->buf + off + 2);
		if (code == 0 || off + 4 + olen > len)
			break;
		if (code == 2) {
			size_t n = olen < 15 ? olen : 15;
			memcpy(name, r->buf + off + 4, n);
			name[n] = '\0';
		}
		off += 4 + ((olen + 3u) & ~3u);
	}
}

struct ifname_reader *ifname_reader_open(const char *path)
{
	struct ifname_reader *r;
	uint32_t magic;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	if (fread(&magic, 1, 4, f) != 4 || magic != SHB || fseek(f, 0, SEEK_SET) != 0 ||
	    !(r = calloc(1, sizeof(*r)))) {
		fclose(f);
		return NULL; /* not pcapng: no interface names */
	}
	r->f = f;
	return r;
}

const char *ifname_reader_next(struct ifname_reader *r)
{
	uint32_t len, id;
	long type;

	if (!r)
		return NULL;
	while ((type = read_block(r, &len)) >= 0) {
		if (type == IDB) {
			add_interface(r, len);
			continue;
		}
		if (type == SPB)
			id = 0;
		else if (type == EPB && len >= 4)
			id = u32(r, r->buf);
		else if (type == PB && len >= 2)
			id = u16(r, r->buf);
		else
			continue;
		return id < r->nif && r->names[id][0] ? r->names[id] : NULL;
	}
	return NULL;
}

void ifname_reader_close(struct ifname_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->buf);
	free(r);
}
