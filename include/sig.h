/* sig.h - detached Ed25519 signatures of policy files (config `trusted-key`). */
#ifndef LL_SIG_H
#define LL_SIG_H

#include <stddef.h>

/* An Ed25519 signature is exactly this long (RFC 8032). */
#define SIG_ED25519_LEN 64
/* sig files larger than this are not signatures: refused before reading them all */
#define SIG_MAX_FILE 4096

/*
 * sig_verify() - check the detached Ed25519 signature @sig/@siglen of
 * @data/@len with the PEM public key at @pubkey_path, as made by
 * `openssl pkeyutl -sign -rawin -inkey KEY -in POLICY -out POLICY.sig`.
 * Returns 0 when valid, else a distinct error with a sentence in @err:
 *   -ENOKEY   key unreadable or not an Ed25519 public key
 *   -ENODATA  no signature (@sig NULL or @siglen 0)
 *   -EMSGSIZE signature length is not 64 bytes (truncated or not a signature)
 *   -EBADMSG  signature does not verify: the policy was changed after
 *             signing or it was signed by another key (Ed25519 cannot tell
 *             these apart; the message says both)
 *   -ENOMEM or -EIO  OpenSSL failed
 * Pure apart from reading the key; thread-safe.
 */
int sig_verify(const char *pubkey_path, const void *data, size_t len, const void *sig,
	       size_t siglen, char *err, size_t errlen);

/*
 * sig_key_check() - is @pubkey_path a readable Ed25519 PEM public key? 0,
 * or -ENOKEY with a sentence in @err (what sig_verify() would say).
 */
int sig_key_check(const char *pubkey_path, char *err, size_t errlen);

/*
 * sig_read_file() - read a signature file (at most SIG_MAX_FILE bytes) into
 * a malloc'd buffer. 0 with *@out and *@len set, -ENOENT when absent, -EFBIG when
 * larger than SIG_MAX_FILE, or -errno.
 */
int sig_read_file(const char *path, void **out, size_t *len);

#endif
