/* ips_pending.c - per flow direction, the rules whose literal the stream stage saw and that may still complete. */
#include "ips_rules.h"

/*
 * Segments a pending rule is re-checked after its literal was last seen.
 * Each check reads the stream from its start (offsets count from there), so
 * this bounds the cost per literal sighting; a match that needs more later
 * segments than this is missed unless the literal shows up again.
 */
#define PEND_SEGMENTS 16
/*
 * ... and for at least this many stream bytes after it: counted in segments
 * alone, 16 one-byte segments between a rule's two contents hid the match
 * (Suricata review H2: ET sid 2010375). With segments this small, each
 * check is cheap (a floating rule reads PEND_WINDOW bytes at most).
 */
#define PEND_BYTES 4096u

/*
 * A rule whose only payload test is one positive content can match anew
 * only where its literal shows up again, which the prefilter reports: it is
 * checked on the segment that showed the literal, and not kept pending.
 */
uint32_t ips_pend_ttl(const struct ips_ruleset *rs, uint32_t ri)
{
	return (rs->rflags[ri] & IRF_ONE) ? 1 : PEND_SEGMENTS;
}

void ips_pend_index(const struct ips_pending *pl, uint8_t *at, bool on)
{
	for (uint32_t i = 0; i < pl->n; i++)
		at[pl->p[i].rule] = on ? (uint8_t)(i + 1) : 0;
}

void ips_pend_add(struct ips_pending *pl, uint8_t *at, const struct ips_ruleset *rs, uint32_t ri,
		  uint32_t len)
{
	uint32_t i = at[ri] ? at[ri] - 1u : pl->n;

	if (i == IPS_PEND_MAX)
		return;
	pl->p[i].rule = ri;
	pl->p[i].ttl = ips_pend_ttl(rs, ri);
	pl->p[i].until = pl->p[i].ttl > 1 && len < UINT32_MAX - PEND_BYTES ? len + PEND_BYTES : 0;
	if (i == pl->n)
		at[ri] = (uint8_t)++pl->n;
}

void ips_pend_age(struct ips_pending *pl, uint32_t len)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < pl->n; i++) {
		if (pl->p[i].ttl)
			pl->p[i].ttl--;
		if (pl->p[i].ttl || len < pl->p[i].until)
			pl->p[o++] = pl->p[i];
	}
	pl->n = o;
}
