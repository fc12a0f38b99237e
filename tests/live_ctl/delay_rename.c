/*
 * delay_rename.c - an LD_PRELOAD shim for live_ctl: the first rename() onto
 * a path ending in $DELAY_NAME waits $DELAY_US microseconds first, and says
 * so on stderr. It holds a process between its read of a state file and its
 * write of it, so that a test can land another process's write there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
	static int done;
	static int (*real)(const char *, const char *);
	const char *name = getenv("DELAY_NAME"), *us = getenv("DELAY_US");
	size_t n = strlen(to);

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (!done && name && us && n >= strlen(name) && !strcmp(to + n - strlen(name), name)) {
		done = 1;
		fprintf(stderr, "delay_rename: %s waits %s us\n", to, us);
		usleep((useconds_t)atoi(us));
	}
	return real(from, to);
}
