/* doctor.h - what lifelinectl doctor's files share: the run's state and the checks. */
#ifndef LL_CTL_DOCTOR_H
#define LL_CTL_DOCTOR_H

#include "config.h"

enum doctor_level { DOC_OK, DOC_WARN, DOC_FAIL };

struct doctor {
	const struct config *cfg;
	char *status;  /* the engine's STATUS text, NULL when it did not answer */
	const char *no_engine; /* why the checks that ask the engine are skipped, NULL: they run */
	bool elsewhere; /* the engine runs (or last ran) in another network namespace */
	bool unanswered; /* the control socket did not answer: no engine judges the queue */
	pid_t stopped;   /* the engine's pid when it is stopped (SIGSTOP), else 0 */
	pid_t running;   /* the engine's pid when it runs in this namespace (not stopped), else 0 */
	int failed, warned;
	ll_ip managers[16]; /* resolved manager addresses (first of each name) */
	int nmanagers;
};

/* doctor_line() - print one "LEVEL  CHECK  — text" line; counts failures. */
void doctor_line(struct doctor *d, enum doctor_level lv, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* doctor_net.c */
void doctor_check_hooks(struct doctor *d);
void doctor_check_managers(struct doctor *d);
void doctor_check_agent_port(struct doctor *d);
void doctor_check_policy(struct doctor *d);
void doctor_check_mld(struct doctor *d);
void doctor_check_certs(struct doctor *d);

#endif
