/* sig.c - verify detached Ed25519 policy signatures with OpenSSL 3 EVP. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sig.h"

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return rc;
}

/* The PEM public key at @path, only when it is Ed25519. */
static EVP_PKEY *read_key(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *k;
	FILE *f = fopen(path, "re");

	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "trusted-key %s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		fail(err, errlen, 0, "trusted-key %s: not a PEM public key", path);
		return NULL;
	}
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		fail(err, errlen, 0, "trusted-key %s: not an Ed25519 key", path);
		return NULL;
	}
	return k;
}

/* sig_key_check() - see sig.h. */
int sig_key_check(const char *pubkey_path, char *err, size_t errlen)
{
	EVP_PKEY *k = read_key(pubkey_path, err, errlen);

	if (!k)
		return -ENOKEY;
	EVP_PKEY_free(k);
	return 0;
}

/* sig_verify() - see sig.h. */
int sig_verify(const char *pubkey_path, const void *data, size_t len, const void *sig,
	       size_t siglen, char *err, size_t errlen)
{
	EVP_MD_CTX *md;
	EVP_PKEY *k;
	int ok, rc = 0;

	if (!sig || siglen == 0)
		return fail(err, errlen, -ENODATA, "%s", "policy is not signed (no POLICY.sig) "
			    "but the config names a trusted-key");
	if (siglen != SIG_ED25519_LEN) {
		if (err && errlen)
			snprintf(err, errlen, "signature is %zu bytes, an Ed25519 signature is %d: "
				 "truncated or not a signature", siglen, SIG_ED25519_LEN);
		return -EMSGSIZE;
	}
	if (!(k = read_key(pubkey_path, err, errlen)))
		return -ENOKEY;
	if (!(md = EVP_MD_CTX_new())) {
		EVP_PKEY_free(k);
		return fail(err, errlen, -ENOMEM, "%s", "out of memory");
	}
	/* Ed25519 is "pure": no separate digest, the whole message at once */
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1) {
		rc = fail(err, errlen, -EIO, "%s", "OpenSSL cannot verify Ed25519 signatures");
		goto out;
	}
	ok = EVP_DigestVerify(md, sig, siglen, data, len);
	if (ok != 1)
		rc = fail(err, errlen, -EBADMSG, "bad signature: the policy was changed after it "
			  "was signed, or it was signed with a key other than trusted-key %s",
			  pubkey_path);
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return rc;
}

/* sig_read_file() - see sig.h. */
int sig_read_file(const char *path, void **out, size_t *len)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > SIG_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size + 1);
	if (n < 0)
		rc = -errno;
	else if (n > st.st_size)
		rc = -EFBIG; /* grew while we read it */
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}
