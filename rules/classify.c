/* classify.c - the compiled firewall classifier: SPEC section 4 without walking the rules. */
/*
 * Design. The decision is "the first matching rule in (priority desc,
 * action order, id) order, plus the matching log-only rules before it", so
 * every rule becomes boxes (classify_expand.c) sorted by that rank: a box's
 * index is its rank, and a leaf listing boxes in ascending order stops at
 * its first deciding hit (and reports the log-only hits before it).
 *
 * Boxes span six dimensions - src and dst as 128-bit integers (IPv4
 * v4-mapped), P1/P2 (ports, or ICMP type/code), protocol, direction - so
 * CIDRs of any length, ranges, negations (complements), lists, IPv4, IPv6
 * and `any` are all ranges. A rule whose lists multiply to more than 256
 * boxes keeps the hull of its longest list and is re-checked on the rule.
 * Interface, TCP flags and ICMP fields are tested at the leaf.
 *
 * Boxes are cut by multi-way decision trees (classify_build.c): HiCuts with
 * cuts at quantiles of the box edges, as HyperSplit places them, rather
 * than equal-size cuts, which would waste levels on the v4-mapped corner of
 * the 128-bit space. A node takes the dimension and up to 16 cuts with the
 * smallest mean child (replication counts against a cut; "smallest largest
 * child", tried first, took 4.9 s and 19 MiB on 100,000 fw-like rules
 * against 0.7 s and 13 MiB), equal neighbours merge, and a box that covers a
 * child's whole region and decides there drops every later box from it.
 * As in EffiCuts, boxes are separated into trees by largeness (a /8 of
 * their family or wider) in source x destination, and log-only boxes -
 * never pruned, since they never end a walk - get a fifth tree. Those five
 * exist twice: one set for keys whose src and dst are both IPv4 (boxes
 * that meet IPv4 in both, clipped to ::ffff:0:0/96 by the root region),
 * one for every other key (boxes reaching outside IPv4 in src or dst); an
 * `any` box is in both. A key walks only its own set. Measured on
 * 100,000 ClassBench-like rules (bench/run.sh), one deciding tree instead
 * of four: fw 8.4-9.7, acl 1.8-2.4, ipc 5.7-6.7 us per lookup; with the
 * four: 1.7-2.1, 0.9-1.2, 1.2-1.3 us. With log-only boxes in the deciding
 * trees, a fw lookup read 207 boxes; in their own tree, 5 per tree.
 *
 * Bounds: boxes <= 256 Ki in all, or two a rule (classify_expand.c: the
 * per-rule bound of 256 drops until they fit), leaf entries <= 16 per
 * (box, tree) membership + 64 Ki (a
 * log-only tree: 64 per box more), and 12 M boxes examined to choose cuts,
 * shared by the trees in proportion; past either, nodes stay leaves:
 * lookups slow down, compile time and memory do not grow. 100,000 rules:
 * fw/acl/ipc-like sets compile (with the load) in 0.6-0.8 s CPU to 22-30
 * MiB; the unit test's adversarial random policy (heavy overlap) in ~0.8
 * s to 84 MiB (CPU time, on a shared 2-core VM). Compiling is cache-miss
 * bound on the boxes' 192-byte bounding boxes: tree membership and "may
 * cover a region" are computed once per box, not per tree and per child,
 * and the cut endpoints are sorted inline rather than with qsort(): for
 * the same trees, fw_compile() alone went from 0.60/0.49/0.46 s to
 * 0.45/0.38/0.36 s (fw/acl/ipc, best of 3).
 *
 * Lookup (this file): the trees are laid out as one array, a node's cuts
 * and children beside it (classify_layout.c), walked in lock step so their
 * cache misses overlap. A cut along an address whose node region lies in
 * one aligned 2^32 block (every node of the IPv4 set) keeps only the low
 * 32 bits, like ports: a node is then header, 16 thresholds (UINT32_MAX
 * pads the <= 15 real ones; all stored with the sign bit flipped, for
 * signed compares) compared in 4 SSE2 compares packed into one mask, and
 * 17 child offsets, 160 bytes instead of ~320. A leaf
 * entry carries ports, protocol and direction; in the IPv4 set also both
 * addresses, so a box is read only when it has TCP flags, ICMP type/code,
 * an interface or a hull to test, or a log-only id to report: the deciding
 * box is read once, at the end, for its action and rule (never the rule
 * itself). An IPv4 leaf of fewer than 8 entries is rows of 32 bytes, the
 * box word and the 7 column lanes below, tested in two SSE2 loads
 * (row_pass()). An IPv4 leaf of 8 entries or more is stored column-wise in
 * groups of 4 entries (classify_layout.c): box indices, then one 16-byte
 * word per field, bounds biased so that one SSE2 compare per column tests
 * 4 entries (scan4()): in a fw lookup's wildcard leaf, ~30 instructions
 * per entry scanned become ~8, at the same 32 bytes. Every group holds all
 * seven columns: leaving out the ones no entry restricts saved little (a
 * fw lookup's wildcard leaf needs 6.9 of 7, its log-only leaf 5.8) and
 * testing which were there cost more than comparing them (fw_100000,
 * callgrind: 3,681 -> 3,340 instructions a lookup; 29.1 -> 29.7 MiB,
 * acl/ipc unchanged). fw_classify_batch() walks up to
 * FW_BATCH (8) keys' trees in lock step and prefetches the leaves two keys
 * ahead of the scan (16 keys, or all leaves at once, overflowed L1 and was
 * slower).
 *
 * Cost model: a lookup is bound by the cache lines it misses, not by
 * instructions - with 8-16 keys x 5 trees walked at once the fill buffers
 * are full, so time ~ lines touched. Per fw lookup (100,000 rules, 90% of
 * keys IPv4): ~21 steps, 80% of them through 16-way nodes of 3 lines
 * (header + thresholds + child offsets, all prefetched); leaf scans of
 * ~55 32-byte entries, most in the leaf of the wildcard tree (large src x
 * large dst: 147 entries, 33 scanned before the winner, which it holds
 * for 82% of keys) and of the log-only tree (18.8 entries, 17.6 scanned,
 * 5.7 log-only hits). acl/ipc: ~15 steps, ~10 entries (per IPv4 key,
 * leaves of 1-5 entries in each tree, depth 2-4 below the root).
 *
 * Measured (/tmp bench: keys built first, then only the lookups, 1 M
 * packets of the new-flow captures, batches of 8; noisy shared VM, +-20%
 * run to run, best of 7), ns per lookup: fw_100000 600-700, acl_100000
 * 320-360, ipc_100000 390-420, fw_10 65-77. Still 1.5-3x short of issue
 * #3 (<= ~250 ns inside a batch of 16). Column-wise IPv4 leaves, against
 * the 32-byte rows alone, old and new code in one process, alternating
 * runs of 200-300 k keys (median of 15-21 per-run ratios): fw 0.82-0.91
 * (best run 555-635 -> 470-530 ns), ipc 0.88-0.97, acl 0.97-1.05 (no
 * change: its IPv4 leaves hold 1-5 entries, rows). Of a lookup, the
 * descent alone (scans off) is now fw 215, acl 200, ipc 190 ns. IPv6 keys
 * (10%) cost 375-445 ns, IPv4 keys 350-510: not where the time is.
 * bench_replay fw_100000 new-flow, 7 runs of each binary alternating,
 * best: classify 0.82 -> 1.36 M packets/s, policy 0.96 -> 1.12 M; x empty
 * stays 0.20-0.28 for all three sets (the empty policy's own runs vary
 * 3.2-5.3 M on this machine), acl/ipc no change beyond that noise.
 *
 * Tried and dropped (measured, did not pay):
 * - A min-rank bound per subtree (its lowest box, in the node header),
 *   each tree walked only below subtrees that can beat the best box of the
 *   trees walked before it, the wildcard tree first: it saves almost no
 *   steps (fw 21.7 -> 21.3 per lookup, acl/ipc 15.1 -> 15.1: small-class
 *   trees hold boxes of every rank at every level), and walking the trees
 *   one after the other instead of in lock step lost the overlap of their
 *   misses: 25-40% slower (fw_10 68 -> 95 ns). The leaf scans already stop
 *   at the best box (entries in rank order) and skip trees whose best box
 *   ranks after it, which is where the bound pays.
 * - A larger work share for the IPv4 trees (the wildcard tree, 1,844 boxes,
 *   hits its proportional share of WORK_MAX first): its leaves go from 147
 *   to 45 entries (33 -> 12 scanned), but the deeper trees add as many
 *   steps; no gain beyond the noise, +8 MiB, +10% compile.
 * - Prefetching 32 leaf entries instead of 16, and the second line of the
 *   boxes the scan will read (log-only hits): no gain (the few log-only
 *   boxes stay in L2 anyway). Groups of 16 keys (FW_BATCH 16): 2-10%
 *   faster in one series of runs, 5-8% slower in the next; not kept.
 * - Direct-indexed (bit-sliced) cuts: a node of 2^k equal slices (k 4-8)
 *   where they cut as well as the quantiles (expected child for keys
 *   distributed like the boxes), a descriptor id in the parent's child
 *   pointer, the slot line prefetched from the key. Node lines per fw
 *   lookup fell from 44.7 to 15-19 and nothing got faster (fw 592 -> 576,
 *   acl 332 -> 328, ipc 349 -> 367 ns, noise +-20%); slices added depth
 *   (fw 14 -> up to 32 levels). This corrects the cost model above: the
 *   three lines of a node are fetched together and cost about one wait;
 *   the descent is 30-50% of a lookup (fw 220 of 690 ns with the leaf scan
 *   switched off, acl 190 of 379) and follows rounds (depth), not lines.
 * - Column leaves for every IPv4 leaf (groups of 4 even for 1-3 entries):
 *   acl 1.15, ipc 1.05 of rows (padding: 21.7 -> 24.9 MiB); from 8
 *   entries up only. 4 or 16 entries as the cut-over: within noise.
 * - The wildcard tree's addresses as one 8-bit column (its boxes are all
 *   on /8 boundaries: 8 -> 5 words per group, 29.1 -> 27.9 MiB): fw 1.03
 *   of 32-bit columns, acl/ipc unchanged.
 * - Transparent huge pages for the laid-out trees (madvise, 14 MiB in 2
 *   MiB pages): fw 0.975, acl 0.99, ipc 1.01.
 * - 32-way cuts along 32-bit dimensions (5-line nodes, 5 lines
 *   prefetched or 3), with the column leaves, against neither: fw
 *   0.84-0.85 (what the columns alone give), acl 1.06-1.13, ipc
 *   0.99-1.08; the acl trees hardly changed (21.7 MiB either way).
 * - Prefetching 32 or 64 leaf entries of the column leaves: no gain.
 * - Internal nodes of 32-bit cuts in 2 lines instead of 3 (a 4-byte
 *   header, thresholds and child offsets packed, 64-byte aligned where
 *   that saves a line, 2 lines prefetched, 3 for a leaf - a bit in the
 *   child offset): 0.98-1.03 of 3-line nodes. Lines again, not rounds.
 * - Scanning each key in the lock-step loop the turn after its walks
 *   reach their leaves (prefetched then), while deeper walks go on: fw
 *   1.04-1.08, acl 1.03-1.05, ipc 0.95-0.97 of scanning after the descent.
 * - Skipping whole trees whose best box ranks after the decision (a
 *   second lock-step phase): only ipc tree 3 (44% of keys) and fw's IPv6
 *   log-only tree (66% of IPv6 keys) could be skipped; acl 1-2%. Not built.
 * Next steps not taken: the descent, now most of a lookup: perf puts it
 * on the node header and child-offset loads (lines prefetched a round
 * earlier, not yet there), so rounds, not instructions; for fw, the
 * wildcard leaf still takes ~9 groups (33 entries) per key.
 *
 * The cost model above is half the story. Instructions (callgrind, 20,000
 * keys of the new-flow captures, classify_group only): fw 3,912 per
 * lookup, acl 2,373 (since then 3,340 and 2,289, ipc 2,549 -> 2,405: the
 * log-only hits go straight to the result, ~240 of fw's, and whole column
 * leaves, ~340; timing on this VM moved by less than its noise). With the
 * caches out of the way - the same key looked up again and again, batches
 * of 16 (bench/bench_classify RULES PCAP 1) -
 * fw still takes 260 ns; 16 distinct keys 293, 1,000 keys 430, all 1 M
 * keys 487-550. So about half of a fw lookup is instructions at a high
 * IPC, and no layout that saves lines removes it; the issue's ~190 ns
 * needs a scheme that does less work per key (fewer trees, or far fewer
 * leaf entries), not a faster walk. Tried on that basis and dropped
 * (hot-key time unchanged, 249 vs 247 ns): the key's columns broadcast
 * once per key and the rank test of a group in one SSE2 compare (fw -7%
 * instructions, acl +2%), and a descent that drops finished walks from
 * its turns (instructions unchanged; both taken up again in session 26,
 * below, in another form).
 *
 * Fewer instructions per step and per entry, and dead boxes dropped
 * (session 25; callgrind, 20,000 keys of each new-flow capture x 5,
 * fw_classify_batch() only, non-LTO build; before -> after):
 * - 32-bit cut nodes always 16 thresholds (UINT32_MAX pads) and 17
 *   children: step() is 4 SSE2 compares packed into one mask instead of a
 *   loop over n / 4 words: fw 3,339 -> 2,956, acl 2,288 -> 1,917, ipc
 *   2,402 -> 2,051 instructions a lookup; fw classifier 29.7 -> 30.5 MiB;
 *   bench_classify fw 0.82, acl 0.89, ipc 0.94 of HEAD (5 pairs).
 * - IPv4 leaves under 8 entries as rows of the column lanes (row_pass(),
 *   two SSE2 loads an entry, against 11 scalar compares): fw 2,903, acl
 *   1,790, ipc 1,905.
 * - Boxes contained in an earlier deciding `any` box of their direction
 *   and protocol go in no tree (classify_build.c: dead_boxes()). In the
 *   bench sets of that time every `allow` rule (priority 0, ranked last)
 *   lay under a `deny priority 0 in|out PROTO` rule, ~52% of each set's
 *   rules (a generator fault, fixed since: the figures in this item and
 *   the next are on those sets); the random policies of test_classify:
 *   52 -> 34 MB. acl 1,710, ipc 1,827,
 *   fw 2,900 (unchanged), classifiers 29.7/21.7/21.8 -> 23.5/18.8/18.8
 *   MiB, compile 0.68-0.69/0.58-0.66/0.56-0.59 -> 0.53-0.56/0.49-0.57/
 *   0.48-0.57 s CPU (bench_replay, 3 runs each). The work shares
 *   (WORK_MAX, the entry budget) still count the dead boxes: without
 *   that, fw's wildcard tree got their share, fw 2,636 instructions but
 *   48.9 MiB, and 3-7% slower than with the old shares (4 pairs).
 * All three, against HEAD, bench_classify alternating old and new, 5
 * pairs, medians: fw_100000 425 -> 321 ns (ratio 0.76), acl 292 -> 222
 * (0.76), ipc 316 -> 228 (0.70); hot key (DISTINCT 1) fw 187-192 ->
 * 147-150; fw_10 64-65 -> 62-64. bench_replay, 3 alternating runs each,
 * medians, new-flow `policy` x empty: fw 0.23 -> 0.27, acl 0.27 -> 0.33,
 * ipc 0.29 -> 0.36 (classify alone x empty 0.27/0.32/0.33 -> 0.36/0.45/
 * 0.49). On the sets as generated since (no deciding catch-all: no dead
 * rule; classifiers fw 50.0 -> 55.8 MiB, acl/ipc ~22 either way, fw
 * compile 1.03-1.05 s CPU), bench_classify, 3 pairs: fw 401-421 ->
 * 347-373 ns (0.87), acl 253-259 -> 208-226 (0.84), ipc 290-293 ->
 * 232-236 (0.80), the same results; instructions a lookup (callgrind as
 * above) fw 3,277 -> 2,833, acl 2,111 -> 1,634, ipc 2,076 -> 1,607;
 * bench_replay new-flow `policy` x
 * empty, one run each: fw 0.23 -> 0.24, acl 0.29 -> 0.31, ipc 0.28 ->
 * 0.31. Issue #3's 0.5 stays out of reach: ~1,700-2,900 instructions a
 * lookup remain, ~45% of them the descent (21 steps fw, 15 acl/ipc, ~45
 * instructions each with the lock-step bookkeeping), ~40% leaf scans
 * (fw: the wildcard and log-only leaves), ~320 per key fixed (projection,
 * start, conclusion). Tried and dropped in that session:
 * - The cover as the initial best (dead_boxes()'s table, 2 KiB): a key
 *   starts with best = the first box every key of its direction and
 *   protocol matches, trees whose minbox ranks after it not walked. No
 *   tree is ever skipped (each holds a priority-4 box of every class)
 *   and the scans were already short: +1.8% instructions (fw 2,684 against
 *   2,636, acl 1,731 against 1,710, ipc 1,859 against 1,827).
 * - Hash tables instead of trees (TupleMerge-like, a prototype beside
 *   this code, not kept; /tmp/tm25): each box in one table keyed on its
 *   src and dst prefix classes (/0, /8, /16, /24, /32), whether its
 *   protocol is hashed and whether it is log-only; buckets in rank order;
 *   a per-/16 filter of the tables a key can meet (~5-10 probes instead
 *   of ~46). Same results, fewer instructions (fw 2,833 -> 2,479, acl
 *   1,634 -> 1,042, ipc 1,607 -> 1,347), compile 0.23 s, but slower: fw
 *   355 -> 563 ns, acl 217 -> 265, ipc 245 -> 302 (1 M new-flow keys,
 *   batches of 16, 3 alternated runs). On one repeated key acl/ipc were
 *   1.5-1.9x faster; from 1,000 distinct keys on, each key's own 5-10
 *   random slot lines cost more than the tree levels every key shares in
 *   cache. Rank bounds skipped almost no table: 40 of fw's 48 hold a box
 *   among the first 200 ranks.
 *
 * Session 26 (callgrind as above, 20,000 keys x 5; bench_classify, 1 M
 * new-flow keys, base and new alternating, 7 pairs): fewer instructions
 * around each step and each column group, same trees, same bytes.
 * - A child offset carries its node's kind in its low 4 bits (leaf,
 *   32-bit cut along dimension d, 128-bit cut along d: classify_int.h,
 *   CLS_KIND), so step() needs no header test and a walk whose child is
 *   a leaf leaves the lock-step turns without its header being read;
 *   later turns go through a compacted list of live walks (no branch).
 *   32-bit thresholds are stored biased and the key's six dimensions are
 *   broadcast biased once a key (struct ckey: xb), so step() is 4 loads
 *   and compares, no xor. scan4() broadcasts the key's columns and the
 *   best once a leaf, not once a group, and finds the lanes ranked before
 *   the best in one SSE2 compare. Instructions a lookup fw 2,834 -> 2,473
 *   (-12.7%), acl 1,634 -> 1,532 (-6.3%), ipc 1,607 -> 1,546 (-3.8%);
 *   ns a lookup, base -> new, median ratio of the pairs: fw 333-365 ->
 *   308-348 (0.94), acl 195-238 -> 196-227 (0.98), ipc 227-257 -> 220-238
 *   (0.97); checksums unchanged. On the way (fw, acl, ipc): scan4()'s
 *   part alone 2,645, 1,647, 1,619 (acl/ipc +0.8%: their leaves mostly
 *   stop after one group and pay the broadcast); the kinds in the top 4
 *   bits of a word offset (masked and shifted at every step) and the
 *   broadcast dimensions computed in a loop over x[], without scan4()'s
 *   part, walks as (key, tree) indices (the look found by multiplying):
 *   2,894, 1,692, 1,704; as pointers: fw 2,793; with scan4()'s part
 *   2,598, 1,635, 1,644; the same with every walk visited each turn and
 *   its kind tested instead of a compacted list: 2,679, 1,674, 1,642;
 *   the six broadcasts written out from col[] and p1..dir: 2,572,
 *   1,609, 1,618; then byte offsets with the kind in the low bits, and
 *   roots that are leaves (one branch a set, predicted) never in the
 *   walk list: the figures above. Hot key (DISTINCT 1, 3-6 pairs): fw
 *   136-152 -> 138-140, acl 70-79 -> 67-76, ipc 79-90 -> 81-90 (ipc
 *   0.98-1.07 of base a pair, median 1.03: the one case not faster).
 *   bench_replay new-flow `policy` x empty, 3 runs each: fw 0.24-0.25
 *   -> 0.25-0.26, acl 0.31-0.32 -> 0.31-0.34, ipc 0.29-0.31 -> 0.31;
 *   compile time and classifier bytes unchanged (55.8/21.8/22.1 MiB).
 * - Dropped: the live walks as a byte list of ids into per-group arrays
 *   (place, key, leaf slot), two stores a step fewer: 2,447, 1,512,
 *   1,528 instructions, but 1.11-1.28x the time of base on 1 M keys and
 *   1.26-1.62x on a hot key (the cause not looked into): instructions
 *   are not time, even here.
 *
 * Bit-vector schemes were not chosen: 100,000 rules give ~200,000
 * elementary intervals per address, 2.5 GB of vectors before aggregation.
 * Tuple space grows with the number of distinct (prefix, range) shapes,
 * which arbitrary ranges make unbounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "classify_int.h"
#include "pkt.h"

#define NO_HIT UINT32_MAX
#define PREFETCH 16 /* leaf entries whose boxes are fetched ahead (trees for IPv6 keys) */
#define LEAD 2      /* keys ahead whose leaves are prefetched while one is scanned */
#define GROUP FW_BATCH /* keys walked together by fw_classify_batch() */

/* A key projected onto the boxes' dimensions. */
struct ckey {
	u128 x[D__N]; /* the key along each dimension, for the tree nodes */
	uint32_t s4, d4; /* IPv4 keys: the addresses' low 32 bits */
	uint16_t p1, p2;
	uint8_t proto, dir, flags, v4;
	int16_t itype, icode;
	uint16_t iface;
	const struct fw_key *k;
	uint32_t col[COL__N]; /* IPv4 keys: the key as each leaf column holds it (classify_layout.c) */
	uint32_t row[8] __attribute__((aligned(16))); /* INT32_MAX, then col[]: a row's lanes */
#ifdef __SSE2__
	__m128i xb[D__N]; /* low 32 bits of x[], biased and broadcast as step() compares them */
#endif
};

/*
 * The state of one key's lookup: its leaves, the best box so far, the
 * log-only hits. The log-only tree is scanned last, when the best box is
 * known, and a scan stops at it: every log-only hit it finds ranks before
 * the decision, so it is reported as found.
 */
struct look {
	struct ckey q;
	const struct cls_tree *set; /* c->set[q.v4] */
	uint32_t ntrees;
	uint32_t best;
	const struct cls_hdr *leaf[CLS_CLASSES];
	uint32_t nlog;
	uint32_t log[FW_MAX_LOGGED];
};

static uint16_t iface_of(const struct cls *c, const char *name)
{
	if (!name)
		return 0;
	for (uint32_t i = 0; i < c->nifnames; i++)
		if (strncmp(c->ifnames[i], name, 16) == 0)
			return (uint16_t)(i + 1);
	return UINT16_MAX; /* a name no rule uses */
}

static bool is_v4(u128 a)
{
	return a >> 32 == CLS_V4LO >> 32;
}

/* P1/P2 hold ports for TCP/UDP and ICMP type/code otherwise (classify_expand.c: p_lists()). */
static void key_project(const struct cls *c, const struct fw_key *k, struct ckey *q)
{
	bool tu = k->proto == IPPROTO_TCP_ || k->proto == IPPROTO_UDP_;
	u128 src = cls_u128(k->src), dst = cls_u128(k->dst);

	q->p1 = tu ? k->sport : k->icmp_type >= 0 ? (uint16_t)k->icmp_type : 0;
	q->p2 = tu ? k->dport : k->icmp_code >= 0 ? (uint16_t)k->icmp_code : 0;
	q->proto = k->proto;
	q->dir = k->dir;
	q->x[D_SRC] = src;
	q->x[D_DST] = dst;
	q->x[D_P1] = q->p1;
	q->x[D_P2] = q->p2;
	q->x[D_PROTO] = q->proto;
	q->x[D_DIR] = q->dir;
	q->s4 = (uint32_t)src;
	q->d4 = (uint32_t)dst;
	q->v4 = is_v4(src) && is_v4(dst);
	q->flags = k->tcp_flags;
	q->itype = k->icmp_type;
	q->icode = k->icmp_code;
	q->iface = c->nifnames ? iface_of(c, k->ifname) : 0;
	q->k = k;
	/* biased like the bounds: a bound rejects when it is greater, as signed lanes */
	q->col[COL_SLO] = q->s4 ^ 0x80000000u;
	q->col[COL_SHI] = ~q->s4 ^ 0x80000000u;
	q->col[COL_DLO] = q->d4 ^ 0x80000000u;
	q->col[COL_DHI] = ~q->d4 ^ 0x80000000u;
	q->col[COL_P1] = (uint32_t)(q->p1 ^ 0x8000u) | (uint32_t)((uint16_t)~q->p1 ^ 0x8000u) << 16;
	q->col[COL_P2] = (uint32_t)(q->p2 ^ 0x8000u) | (uint32_t)((uint16_t)~q->p2 ^ 0x8000u) << 16;
	q->col[COL_PD] = (uint32_t)(q->proto ^ 0x80u) | (uint32_t)((uint8_t)~q->proto ^ 0x80u) << 8 |
			 (uint32_t)(q->dir ^ 0x80u) << 16 | (uint32_t)((uint8_t)~q->dir ^ 0x80u) << 24;
	q->row[0] = INT32_MAX;
	memcpy(q->row + 1, q->col, sizeof(q->col));
#ifdef __SSE2__
	q->xb[D_SRC] = _mm_set1_epi32((int)q->col[COL_SLO]);
	q->xb[D_DST] = _mm_set1_epi32((int)q->col[COL_DLO]);
	q->xb[D_P1] = _mm_set1_epi32((int)(q->p1 ^ 0x80000000u));
	q->xb[D_P2] = _mm_set1_epi32((int)(q->p2 ^ 0x80000000u));
	q->xb[D_PROTO] = _mm_set1_epi32((int)(q->proto ^ 0x80000000u));
	q->xb[D_DIR] = _mm_set1_epi32((int)(q->dir ^ 0x80000000u));
#endif
}

static bool addr_in(const struct addr_match *m, ll_ip a)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (ll_ip_cmp(m->r[mid].hi, a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < m->n && ll_ip_cmp(m->r[lo].lo, a) <= 0) != m->neg;
}

static bool port_in(const struct port_match *m, uint16_t port)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (m->r[mid].hi < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < m->n && m->r[lo].lo <= port) != m->neg;
}

/* A box whose long lists were replaced by their hull: test those fields on the rule. */
static bool hull_hit(const struct fw_rule *r, uint8_t hull, const struct fw_key *k)
{
	if ((hull & H_SRC) && !addr_in(&r->src, k->src))
		return false;
	if ((hull & H_DST) && !addr_in(&r->dst, k->dst))
		return false;
	if ((hull & H_SPORT) && !port_in(&r->sport, k->sport))
		return false;
	return !(hull & H_DPORT) || port_in(&r->dport, k->dport);
}

/* The fields of a box no leaf entry carries. */
static bool box_rest(const struct policy *p, const struct cls_box *b, const struct ckey *q)
{
	if ((q->flags & b->flags) != b->flags)
		return false;
	if ((b->itype >= 0 && q->itype != b->itype) || (b->icode >= 0 && q->icode != b->icode))
		return false;
	if (b->iface && b->iface != q->iface)
		return false;
	return !b->hull || hull_hit(&p->rules[b->rule], b->hull, q->k);
}

static bool box_hit(const struct policy *p, const struct cls_box *b, const struct ckey *q)
{
	u128 src = q->x[D_SRC], dst = q->x[D_DST];

	if (src < b->lo[0] || src > b->hi[0] || dst < b->lo[1] || dst > b->hi[1])
		return false;
	return box_rest(p, b, q);
}

/* Keep the lowest FW_MAX_LOGGED ids, ascending. */
static void log_add(uint32_t *v, uint32_t *n, uint32_t id)
{
	uint32_t i = *n;

	if (i == FW_MAX_LOGGED) {
		if (id >= v[i - 1])
			return;
		i--;
	} else {
		(*n)++;
	}
	for (; i > 0 && v[i - 1] > id; i--)
		v[i] = v[i - 1];
	v[i] = id;
}

/*
 * One level down: the child (its place, CLS_KIND) of the internal node
 * at @at that the key falls in, no branch per cut; @at's kind says how to
 * cut without reading the node's header first.
 */
static uint32_t step(const struct cls *c, uint32_t at, const struct ckey *q)
{
	const u128 *t = (const u128 *)((const char *)c->code + (at & ~CLS_KIND)) + 1;
	uint32_t kind = at & CLS_KIND, i = 0;
	const uint32_t *kid;

	if (kind >= CLS_WIDE(0)) {
		const struct cls_hdr *h = (const struct cls_hdr *)(t - 1);
		u128 v = q->x[kind - CLS_WIDE(0)];

		for (uint32_t j = 0; j < h->n; j++)
			i += v >= t[j];
		kid = (const uint32_t *)(t + h->n);
	} else {
#ifdef __SSE2__
		/* 16 biased thresholds, INT32_MAX pads (classify_layout.c): 4 compares, one mask */
		const __m128i x = q->xb[kind - CLS_NARROW(0)];
		const __m128i *w = (const __m128i *)t;
		__m128i g0 = _mm_cmpgt_epi32(_mm_load_si128(w), x);
		__m128i g1 = _mm_cmpgt_epi32(_mm_load_si128(w + 1), x);
		__m128i g2 = _mm_cmpgt_epi32(_mm_load_si128(w + 2), x);
		__m128i g3 = _mm_cmpgt_epi32(_mm_load_si128(w + 3), x);
		uint32_t gt = (uint32_t)_mm_movemask_epi8(
			_mm_packs_epi16(_mm_packs_epi32(g0, g1), _mm_packs_epi32(g2, g3)));

		i = (uint32_t)__builtin_ctz(gt | 1u << 16);
#else
		const int32_t *t32 = (const int32_t *)t;
		int32_t v = (int32_t)((uint32_t)q->x[kind - CLS_NARROW(0)] ^ 0x80000000u);

		for (uint32_t j = 0; j < 16; j++)
			i += v >= t32[j];
#endif
		kid = (const uint32_t *)(t + 4);
	}
	return kid[i];
}

/* The fields a leaf entry carries: most boxes fail here, without being read. */
static bool ent_hit(const struct cls_ent *e, const struct ckey *q)
{
	return q->p1 >= e->plo[0] && q->p1 <= e->phi[0] && q->p2 >= e->plo[1] &&
	       q->p2 <= e->phi[1] && q->proto >= e->protolo && q->proto <= e->protohi &&
	       (e->dir & q->dir);
}

/* A row of a small IPv4 leaf (classify_layout.c): does the key pass all its columns? */
static bool row_pass(const uint32_t *r, const struct ckey *q)
{
#ifdef __SSE2__
	/* lane 0 of the first word is the box word: the key's INT32_MAX never fails it */
	const __m128i m32 = _mm_set_epi32(0, 0, 0, -1), m16 = _mm_set_epi32(0, -1, -1, 0);
	__m128i a = _mm_load_si128((const __m128i *)r), b = _mm_load_si128((const __m128i *)r + 1);
	__m128i fa = _mm_cmpgt_epi32(a, _mm_load_si128((const __m128i *)q->row));
	__m128i kb = _mm_load_si128((const __m128i *)q->row + 1);
	__m128i fb = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi32(b, kb), m32),
				  _mm_and_si128(_mm_cmpgt_epi16(b, kb), m16));

	fb = _mm_or_si128(fb, _mm_andnot_si128(_mm_or_si128(m32, m16), _mm_cmpgt_epi8(b, kb)));
	return _mm_movemask_epi8(_mm_or_si128(fa, fb)) == 0;
#else
	for (uint32_t col = 0; col < COL__N; col++) {
		uint32_t e = r[1 + col], v = q->col[col];

		if (col < COL_P1 ? (int32_t)e > (int32_t)v :
		    col < COL_PD ? (int16_t)e > (int16_t)v || (int16_t)(e >> 16) > (int16_t)(v >> 16) :
				   (int8_t)e > (int8_t)v || (int8_t)(e >> 8) > (int8_t)(v >> 8) ||
				   (int8_t)(e >> 16) > (int8_t)(v >> 16) || (int8_t)(e >> 24) > (int8_t)(v >> 24))
			return false;
	}
	return true;
#endif
}

/* Start @n lookups: the keys' projections. */
static void start(const struct cls *c, const struct fw_key *const *keys, uint32_t n,
		  struct look *l)
{
	for (uint32_t i = 0; i < n; i++) {
		key_project(c, keys[i], &l[i].q);
		l[i].set = c->set[l[i].q.v4];
		l[i].ntrees = c->nset[l[i].q.v4];
		l[i].best = NO_HIT;
		l[i].nlog = 0;
	}
}

/*
 * The leaf of every tree of every key. The trees are walked in lock step,
 * one level each turn, so that their cache misses overlap instead of
 * adding up; a walk whose child is a leaf (its kind says so) leaves the
 * turns, and later turns go through the live walks only.
 */
static void descend(const struct cls *c, struct look *l, uint32_t n)
{
	struct walk {
		const struct ckey *q;
		const struct cls_hdr **leaf;
		uint32_t at;
	} w[GROUP * CLS_CLASSES];
	uint32_t nw = 0;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t t = 0; t < l[i].ntrees; t++) {
			uint32_t at = l[i].set[t].root;

			if (at & CLS_KIND) /* the same for every key of the set: predicted */
				w[nw++] = (struct walk){ &l[i].q, &l[i].leaf[t], at };
			else
				l[i].leaf[t] = (const struct cls_hdr *)((const char *)c->code + at);
		}
	while (nw) {
		uint32_t m = 0;

		for (struct walk *v = w, *end = w + nw; v < end; v++) {
			uint32_t at = step(c, v->at, v->q);
			const char *h = (const char *)c->code + (at & ~CLS_KIND);

			__builtin_prefetch(h);
			__builtin_prefetch(h + 64);
			__builtin_prefetch(h + 128);
			*v->leaf = (const struct cls_hdr *)h;
			w[m] = (struct walk){ v->q, v->leaf, at };
			m += (at & CLS_KIND) != 0; /* no branch: whether it goes on is a coin toss */
		}
		nw = m;
	}
}

/* Prefetch the rest of @l's leaves' entries and, for IPv6 keys, the boxes that pass their entry's test. */
static void prefetch_leaves(const struct cls *c, const struct look *l)
{
	for (uint32_t t = 0; t < l->ntrees; t++) {
		const struct cls_hdr *h = l->leaf[t];
		const struct cls_ent *e = (const struct cls_ent *)(h + 1);
		uint32_t m = h->cnt < PREFETCH ? h->cnt : PREFETCH;

		if (h->v4) { /* descend() fetched the first 192 bytes */
			uint32_t end = h->v4 == 1 ? 16 * (1 + 2 * m) :
				       16 * (1 + (m + 3) / 4 * (1 + COL__N));

			for (uint32_t off = 192; off < end; off += 64)
				__builtin_prefetch((const char *)h + off);
			if (end > 192)
				__builtin_prefetch((const char *)h + end - 1);
			continue;
		}
		for (uint32_t j = 0; j < m; j++)
			if (ent_hit(&e[j], &l->q)) {
				__builtin_prefetch(&c->box[e[j].box]);
				__builtin_prefetch((const char *)&c->box[e[j].box] + 64);
			}
	}
}

/* A box that matches: the best so far when it decides, else one more log-only hit. */
static bool hit(const struct cls *c, struct look *l, uint32_t box, bool log)
{
	const struct cls_box *b;

	if (!log) {
		l->best = box;
		return true;
	}
	b = &c->box[box];
	log_add(l->log, &l->nlog, b->id);
	return false;
}

/* A 32-bit lane broadcast (SSE2) or not: the key's columns and the best as scan4() holds them. */
#ifdef __SSE2__
typedef __m128i lane_t;
#define LANE(v) _mm_set1_epi32((int)(v))
#else
typedef uint32_t lane_t;
#define LANE(v) (v)
#endif

/* Lanes (bit per entry) of the group at @g whose box ranks before @best: a prefix, boxes ascend. */
static uint32_t group_below(const uint32_t *g, lane_t best)
{
#ifdef __SSE2__
	__m128i box = _mm_and_si128(_mm_load_si128((const __m128i *)g), _mm_set1_epi32(0x7fffffff));

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmplt_epi32(box, best)));
#else
	uint32_t below = 0;

	for (uint32_t j = 0; j < 4; j++)
		below |= (uint32_t)((g[j] & 0x7fffffff) < best) << j;
	return below;
#endif
}

/* Lanes (bit per entry) of the group at @g, columns after boxes, that pass every column of @k. */
static uint32_t group_pass(const uint32_t *g, const lane_t *k)
{
#ifdef __SSE2__
	const __m128i *w = (const __m128i *)g + 1;
	__m128i fail = _mm_setzero_si128();

	/* unrolled: each column's lane width is a constant, one compare */
#pragma GCC unroll 8
	for (uint32_t col = 0; col < COL__N; col++) {
		__m128i bound = _mm_load_si128(w + col);

		fail = _mm_or_si128(fail, col < COL_P1 ? _mm_cmpgt_epi32(bound, k[col]) :
					  col < COL_PD ? _mm_cmpgt_epi16(bound, k[col]) :
							 _mm_cmpgt_epi8(bound, k[col]));
	}
	/* a lane passes when none of its bytes failed */
	fail = _mm_cmpeq_epi32(fail, _mm_setzero_si128());
	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(fail));
#else
	uint32_t pass = 0xf;

	for (uint32_t col = 0; col < COL__N; col++)
		for (uint32_t j = 0; j < 4; j++) {
			uint32_t e = g[4 * (1 + col) + j], v = k[col];
			bool bad;

			if (col < COL_P1)
				bad = (int32_t)e > (int32_t)v;
			else if (col < COL_PD)
				bad = (int16_t)e > (int16_t)v || (int16_t)(e >> 16) > (int16_t)(v >> 16);
			else
				bad = (int8_t)e > (int8_t)v || (int8_t)(e >> 8) > (int8_t)(v >> 8) ||
				      (int8_t)(e >> 16) > (int8_t)(v >> 16) || (int8_t)(e >> 24) > (int8_t)(v >> 24);
			if (bad)
				pass &= ~(1u << j);
		}
	return pass;
#endif
}

/*
 * scan() of an IPv4 leaf: four entries at a time, column-wise
 * (classify_layout.c). The key's columns and the best are broadcast once a
 * leaf, not once a group.
 */
static void scan4(const struct policy *p, const struct cls *c, const struct cls_hdr *h, bool log,
		  struct look *l)
{
	uint32_t gw = 4 * (1 + COL__N), ng = (h->cnt + 3) / 4;
	/* the pads' 0x7fffffff is never below; l->best changes only to return */
	const lane_t best = LANE(l->best < 0x7fffffff ? l->best : 0x7fffffff);
	const uint32_t *g = (const uint32_t *)(h + 1);
	lane_t k[COL__N];

	for (uint32_t col = 0; col < COL__N; col++)
		k[col] = LANE(l->q.col[col]);
	for (uint32_t i = 0; i < ng; i++, g += gw) {
		uint32_t below = group_below(g, best), pass;

		if (!below)
			return;
		for (pass = group_pass(g, k) & below; pass; pass &= pass - 1) {
			uint32_t e = g[__builtin_ctz(pass)], box = e & 0x7fffffff;

			if ((e >> 31 || box_rest(p, &c->box[box], &l->q)) && hit(c, l, box, log))
				return;
		}
		if (below != 0xf)
			return;
	}
}

/* Boxes of leaf @h ranked above the best so far, in rank order, until one decides. */
static void scan(const struct policy *p, const struct cls *c, const struct cls_hdr *h, bool log,
		 struct look *l)
{
	const struct ckey *q = &l->q;

	if (h->v4 == 2) {
		scan4(p, c, h, log, l);
		return;
	}
	if (h->v4) {
		const uint32_t *r = (const uint32_t *)(h + 1), *end = r + 8 * h->cnt;

		for (; r < end && (r[0] & 0x7fffffff) < l->best; r += 8)
			if (row_pass(r, q) &&
			    (r[0] >> 31 || box_rest(p, &c->box[r[0] & 0x7fffffff], q)) &&
			    hit(c, l, r[0] & 0x7fffffff, log))
				return;
		return;
	}
	for (const struct cls_ent *e = (const struct cls_ent *)(h + 1), *end = e + h->cnt;
	     e < end && e->box < l->best; e++)
		if (ent_hit(e, q) && box_hit(p, &c->box[e->box], q) && hit(c, l, e->box, log))
			return;
}

static void conclude(const struct policy *p, const struct cls *c, const struct look *l,
		     struct fw_result *res)
{
	const struct cls_box *b;

	res->nlogged = l->nlog;
	memcpy(res->logged, l->log, l->nlog * sizeof(*l->log));
	if (l->best == NO_HIT) {
		res->rule = NULL;
		res->rule_id = 0;
		res->nolog = false;
		res->reason = p->allow_dirs & l->q.dir ? R_NOT_ALLOWED : R_DEFAULT;
		res->accept = res->inspect = res->reason == R_DEFAULT;
		return;
	}
	b = &c->box[l->best];
	/* fw_result_decide() without reading the rule: the box has its action */
	fw_result_action(res, (enum fw_action)b->action);
	res->rule = &p->rules[b->rule];
	res->rule_id = b->id;
	res->nolog = b->nolog;
}

/* Up to GROUP lookups side by side: their cache misses overlap. */
static void classify_group(const struct policy *p, const struct cls *c,
			   const struct fw_key *const *keys, uint32_t n, struct fw_result *res)
{
	struct look l[GROUP];

	start(c, keys, n, l);
	descend(c, l, n);
	for (uint32_t i = 0; i < n && i < LEAD; i++)
		prefetch_leaves(c, &l[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (i + LEAD < n) /* a few keys ahead: all of them at once would not stay in L1 */
			prefetch_leaves(c, &l[i + LEAD]);
		for (uint32_t t = 0; t < l[i].ntrees; t++)
			if (l[i].set[t].minbox < l[i].best)
				scan(p, c, l[i].leaf[t], l[i].set[t].log, &l[i]);
		if (l[i].best != NO_HIT)
			__builtin_prefetch((const char *)&c->box[l[i].best] + 64);
	}
	for (uint32_t i = 0; i < n; i++)
		conclude(p, c, &l[i], &res[i]);
}

static bool compiled(const struct policy *p)
{
	return p && p->classifier && (p->nrules || p->nips_lines);
}

/*
 * fw_classify() - SPEC section 4 steps 2-4 from p->classifier; exactly what
 * fw_eval_linear() gives (tests/unit/test_classify.c checks it). Read-only
 * on the policy: any number of threads may call it at once.
 */
void fw_classify(const struct policy *p, const struct fw_key *k, struct fw_result *res)
{
	if (!compiled(p)) {
		fw_eval_linear(p, k, res);
		return;
	}
	classify_group(p, p->classifier, &k, 1, res);
}

/* fw_classify_batch() - see fw.h. */
void fw_classify_batch(const struct policy *p, const struct fw_key *const keys[], unsigned n,
		       struct fw_result res[])
{
	if (!compiled(p)) {
		for (unsigned i = 0; i < n; i++)
			fw_eval_linear(p, keys[i], &res[i]);
		return;
	}
	for (unsigned i = 0; i < n; i += GROUP)
		classify_group(p, p->classifier, keys + i, n - i < GROUP ? n - i : GROUP, res + i);
}

/* fw_classifier_free() - see fw.h. */
void fw_classifier_free(void *classifier)
{
	struct cls *c = classifier;

	if (!c)
		return;
	free(c->box);
	free(c->nodes);
	free(c->thr);
	free(c->kids);
	free(c->ents);
	free(c->code);
	free(c->ifnames);
	free(c);
}

/* fw_classifier_bytes() - see fw.h. */
size_t fw_classifier_bytes(const struct policy *p)
{
	const struct cls *c = p ? p->classifier : NULL;

	return c ? c->bytes : 0;
}

/* Move the expansion's boxes and interface names into @c and size everything exactly. */
static void finish(struct cls *c, struct cls_expanded *ex)
{
	size_t bytes = sizeof(*c);

	c->box = ex->box; /* 64-byte aligned: realloc() would not keep that */
	bytes += ex->cap * sizeof(*c->box);
	c->nbox = (uint32_t)ex->n;
	c->ifnames = ex->ifnames;
	c->nifnames = ex->nifnames;
	bytes += ex->nifnames * sizeof(*c->ifnames);
	ex->box = NULL;
	ex->ifnames = NULL;
	bytes += (size_t)c->ncode * sizeof(*c->code);
	c->bytes = bytes;
}

/*
 * fw_compile() - build p->classifier from p->rules, replacing any earlier
 * one. 0, -ENOMEM, or -E2BIG (more than 65534 interface names); on error
 * p->classifier is left as it was. Not thread-safe on @p (call it before
 * publishing the policy).
 */
int fw_compile(struct policy *p)
{
	struct cls_expanded ex;
	struct cls *c;
	int err;

	if (p->nrules > UINT32_MAX / 2)
		return -E2BIG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = cls_expand(p, &ex);
	if (!err && ex.n >= UINT32_MAX / 2)
		err = -E2BIG;
	if (!err)
		err = cls_build_trees(c, &ex);
	if (!err)
		finish(c, &ex);
	if (err)
		cls_expanded_free(&ex);
	else
		free(ex.bb);
	if (err) {
		fw_classifier_free(c);
		return err;
	}
	fw_classifier_free(p->classifier);
	p->classifier = c;
	return 0;
}
