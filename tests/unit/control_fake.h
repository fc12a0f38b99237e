/* control_fake.h - a fake engine behind the real control server, for unit and ctl tests. */
#ifndef LL_TEST_CONTROL_FAKE_H
#define LL_TEST_CONTROL_FAKE_H

#include "control.h"

struct fake_engine {
	const struct config *cfg;
	struct policy *pol;
	const struct policy *borrowed; /* never freed here (the fuzzer's start policy); may be NULL */
	int swaps;
	enum control_swap_why last_why;
	struct flow flows[3];
	int nflows;
	uint32_t generation; /* the running policy's: flows decided under another are stale */
	int killed;
	int refuse; /* swap_policy() fails with -EIO (the engine refused the policy) */
	/* after each swap, in the control thread: what else happens meanwhile (a test's) */
	void (*after_swap)(struct fake_engine *f, enum control_swap_why why);
	char unconfirmed[65]; /* as lifelined: the pending confirm its start rolled back */
	uint64_t unconfirmed_at;
};

extern const struct control_ops fake_ops;
/* fake_engine_init() - @pol (owned) runs; three flows to list. */
void fake_engine_init(struct fake_engine *f, const struct config *cfg, struct policy *pol);
void fake_engine_fini(struct fake_engine *f);

#endif
