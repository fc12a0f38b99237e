/* test_sig.c - detached Ed25519 signatures: a valid one, and every way one can be wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sig.h"

static char dir[] = "/tmp/ll-test-sig-XXXXXX";
static const char policy[] = "serial 3\nallow in tcp to any port 22 id 1\n";

/* Run @cmd with $D set to the test directory. */
static void sh(const char *cmd)
{
	setenv("D", dir, 1);
	assert_int_equal(system(cmd), 0);
}

/* Keys and signatures made with the openssl tool, as a manager would. */
static int setup(void **state)
{
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	sh("cd \"$D\" && openssl genpkey -algorithm ed25519 -out a.key 2>/dev/null && "
	   "openssl pkey -in a.key -pubout -out a.pub && "
	   "openssl genpkey -algorithm ed25519 -out b.key 2>/dev/null && "
	   "openssl pkey -in b.key -pubout -out b.pub && "
	   "openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out r.key 2>/dev/null && "
	   "openssl pkey -in r.key -pubout -out r.pub && echo garbage > bad.pub");
	{
		char path[256];
		snprintf(path, sizeof(path), "%s/p.pol", dir);
		f = fopen(path, "w");
		fputs(policy, f);
		fclose(f);
	}
	sh("cd \"$D\" && openssl pkeyutl -sign -rawin -inkey a.key -in p.pol -out p.pol.sig");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf \"$D\"");
	return 0;
}

static int verify(const char *key, const char *data, const void *sig, size_t siglen, char *err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return sig_verify(path, data, strlen(data), sig, siglen, err, 256);
}

static void *read_sig(size_t *len)
{
	char path[256];
	void *s = NULL;

	snprintf(path, sizeof(path), "%s/p.pol.sig", dir);
	assert_int_equal(sig_read_file(path, &s, len), 0);
	assert_int_equal(*len, SIG_ED25519_LEN);
	return s;
}

static void test_valid(void **state)
{
	char err[256] = "";
	size_t len;
	void *s = read_sig(&len);

	(void)state;
	assert_int_equal(verify("a.pub", policy, s, len, err), 0);
	free(s);
}

static void test_tampered(void **state)
{
	char err[256] = "", *t = strdup(policy);
	size_t len;
	void *s = read_sig(&len);

	(void)state;
	t[strlen(t) - 3] = '2'; /* id 1 -> id 2 */
	assert_int_equal(verify("a.pub", t, s, len, err), -EBADMSG);
	assert_non_null(strstr(err, "bad signature"));
	free(s);
	free(t);
}

static void test_wrong_key(void **state)
{
	char err[256] = "";
	size_t len;
	void *s = read_sig(&len);

	(void)state;
	assert_int_equal(verify("b.pub", policy, s, len, err), -EBADMSG);
	assert_non_null(strstr(err, "another key") ? strstr(err, "another key") : strstr(err, "other than"));
	free(s);
}

static void test_missing(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(verify("a.pub", policy, NULL, 0, err), -ENODATA);
	assert_non_null(strstr(err, "not signed"));
}

static void test_truncated(void **state)
{
	char err[256] = "";
	size_t len;
	void *s = read_sig(&len);

	(void)state;
	assert_int_equal(verify("a.pub", policy, s, 63, err), -EMSGSIZE);
	assert_non_null(strstr(err, "63 bytes"));
	assert_int_equal(verify("a.pub", policy, s, 1, err), -EMSGSIZE);
	free(s);
}

static void test_bad_keys(void **state)
{
	char err[256] = "";
	size_t len;
	void *s = read_sig(&len);

	(void)state;
	assert_int_equal(verify("nonexistent.pub", policy, s, len, err), -ENOKEY);
	assert_non_null(strstr(err, "cannot read"));
	assert_int_equal(verify("bad.pub", policy, s, len, err), -ENOKEY);
	assert_non_null(strstr(err, "not a PEM public key"));
	assert_int_equal(verify("r.pub", policy, s, len, err), -ENOKEY);
	assert_non_null(strstr(err, "not an Ed25519 key"));
	/* a private key where the public one belongs is refused, not used */
	assert_int_equal(verify("a.key", policy, s, len, err), -ENOKEY);
	free(s);
}

static void test_read_file(void **state)
{
	char path[256];
	void *s = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/none.sig", dir);
	assert_int_equal(sig_read_file(path, &s, &len), -ENOENT);
	snprintf(path, sizeof(path), "%s/big.sig", dir);
	f = fopen(path, "w");
	for (int i = 0; i < SIG_MAX_FILE + 1; i++)
		fputc('x', f);
	fclose(f);
	assert_int_equal(sig_read_file(path, &s, &len), -EFBIG);
	assert_int_equal(sig_read_file(dir, &s, &len), -EINVAL); /* a directory */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
