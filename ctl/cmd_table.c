/* cmd_table.c - lifelinectl table: change a running policy's address set without a reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "control.h"
#include "ctl.h"

/*
 * cmd_table() - `table NAME add|delete|show|flush [ADDR...]`; ADDR is an
 * address, CIDR or range A-B. Exit 0, 1 (no such set, bad address, no
 * engine), 2 usage.
 */
int cmd_table(struct ctl *c, int argc, char **argv)
{
	static const char *const ops[] = { "add", "delete", "show", "flush" };
	char hdr[CONTROL_MAX_HEADER], *body = NULL;
	size_t len = 0;
	struct iovec iov;
	FILE *f;
	int i, rc;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return printf("usage: %s table NAME add|delete|show|flush [ADDR...]\n", c->prog) < 0;
	if (argc < 3)
		return ctl_usage_error(c, "table", "expects NAME and an operation");
	for (i = 0; i < 4 && strcmp(argv[2], ops[i]) != 0; i++)
		;
	if (i == 4)
		return ctl_usage_error(c, "table", "the operation is add, delete, show or flush");
	if ((i < 2) != (argc > 3))
		return ctl_usage_error(c, "table", i < 2 ? "add and delete need addresses" :
				       "show and flush take no addresses");
	/* a define's name as the policy lexer reads it ($ and letters, digits, _) */
	if (strlen(argv[1]) > 256 || !argv[1][0] ||
	    strspn(argv[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		    strlen(argv[1]))
		return ctl_usage_error(c, "table", "bad set NAME (letters, digits and _)");
	snprintf(hdr, sizeof(hdr), "TABLE name=%s op=%s", argv[1], argv[2]);
	if (!(f = open_memstream(&body, &len)))
		return CTL_FAIL;
	for (int j = 3; j < argc; j++)
		fprintf(f, "%s\n", argv[j]);
	fclose(f);
	iov = (struct iovec){ body, len };
	rc = ctl_request(c, hdr, &iov, 1, CTL_TIMEOUT_LOAD_MS, CTL_FAIL);
	free(body);
	return rc;
}
