/*
 * sasl.c - SASL helpers for SMTP AUTH: strict base64 (RFC 4648 section 4)
 * and the PLAIN message (RFC 4616).
 *
 * Interface: sasl.h.
 *	sasl_b64_decode(in, len, out, max)	0, out = the decoded bytes
 *	sasl_b64_encode(in, len, out)		0, out = the base64 text
 *	sasl_plain(msg, len, user, usize, pass, psize)	0, both filled
 * Both codecs replace the contents of out (buf_reset first); out stays
 * NUL-terminated (struct buf does that).  Decoding is one pass with no
 * look-ahead beyond the current quartet: 4 characters from the alphabet,
 * '=' only as the last one or two characters of the input, and the bits
 * that padding leaves over must be zero (so every byte string has exactly
 * one accepted encoding).  "=" alone is the empty response of RFC 4954.
 *
 * Errors: -1 with errno EINVAL (malformed input: the caller answers
 * 501 5.5.2) or ENOSPC (more than max decoded bytes, or out's own limit).
 * On an error out is wiped and emptied (it may have held part of a
 * password); sasl_plain wipes user and pass.
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "sasl.h"

static const char sasl_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* sasl_b64_val - value of one alphabet character, -1 for anything else */
static int
sasl_b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* sasl_b64_fail - wipe and empty out, set errno, return -1 */
static int
sasl_b64_fail(struct buf *out, int err)
{
	if (out->data != NULL)
		explicit_bzero(out->data, out->cap);
	buf_reset(out);
	errno = err;
	return -1;
}

/* sasl_b64_quad - decode one quartet (last: may end in padding) */
static int
sasl_b64_quad(const unsigned char *q, int last, unsigned char o[3],
    size_t *n)
{
	int	 v[4], i, pad = 0;

	for (i = 0; i < 4; i++) {
		if (q[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
		} else if (pad > 0 || (v[i] = sasl_b64_val(q[i])) == -1)
			return -1;	/* bad char, or data after '=' */
	}
	/* the bits the padding leaves over must be zero */
	if ((pad == 2 && (v[1] & 0x0f) != 0) ||
	    (pad == 1 && (v[2] & 0x03) != 0))
		return -1;
	o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	o[1] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
	o[2] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	*n = (size_t)(3 - pad);
	return 0;
}

/* sasl_b64_decode - strict base64 of len bytes into out, at most max */
int
sasl_b64_decode(const char *in, size_t len, struct buf *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char o[3];
	size_t	 i, n;

	buf_reset(out);
	if (len == 1 && p[0] == '=')
		return 0;
	if (len % 4 != 0)
		return sasl_b64_fail(out, EINVAL);
	/* every quartet but the last yields 3 bytes, the last at least 1 */
	if (len > 0 && (len / 4 - 1) * 3 + 1 > max)
		return sasl_b64_fail(out, ENOSPC);
	/* one allocation up front: no realloc leaves copies behind */
	n = len / 4 * 3;
	if (buf_reserve(out, n < out->max ? n : out->max) == -1 ||
	    buf_append(out, "", 0) == -1)	/* NUL-terminated when new */
		return sasl_b64_fail(out, errno);
	for (i = 0; i < len; i += 4) {
		if (sasl_b64_quad(p + i, i + 4 == len, o, &n) == -1) {
			explicit_bzero(o, sizeof(o));
			return sasl_b64_fail(out, EINVAL);
		}
		if (out->len + n > max || buf_append(out, o, n) == -1) {
			explicit_bzero(o, sizeof(o));
			return sasl_b64_fail(out, ENOSPC);
		}
	}
	explicit_bzero(o, sizeof(o));
	return 0;
}

/* sasl_b64_encode - base64 with padding of len bytes into out */
int
sasl_b64_encode(const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in;
	char	 q[4];
	size_t	 i;
	unsigned int v;

	buf_reset(out);
	if (len / 3 >= (((size_t)-1) / 4) - 1) {
		errno = ENOSPC;
		return -1;
	}
	if (buf_reserve(out, (len + 2) / 3 * 4) == -1 ||
	    buf_append(out, "", 0) == -1)	/* NUL-terminated when new */
		return -1;
	for (i = 0; i < len; i += 3) {
		v = (unsigned int)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned int)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = sasl_b64_chars[v >> 18 & 0x3f];
		q[1] = sasl_b64_chars[v >> 12 & 0x3f];
		q[2] = i + 1 < len ? sasl_b64_chars[v >> 6 & 0x3f] : '=';
		q[3] = i + 2 < len ? sasl_b64_chars[v & 0x3f] : '=';
		if (buf_append(out, q, sizeof(q)) == -1)
			return -1;
	}
	return 0;
}

/* sasl_plain_name_ok - no control characters (NUL excluded already) */
static int
sasl_plain_name_ok(const unsigned char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* sasl_plain_fail - wipe both outputs, return -1 */
static int
sasl_plain_fail(char *user, size_t usize, char *pass, size_t psize)
{
	if (usize > 0)
		explicit_bzero(user, usize);
	if (psize > 0)
		explicit_bzero(pass, psize);
	errno = EINVAL;
	return -1;
}

/*
 * sasl_plain - split "authzid NUL authcid NUL passwd" (RFC 4616) into
 * user (authcid) and pass, each NUL-terminated; the buffers must also
 * hold the terminator.  -1 (EINVAL) for anything sasl.h does not allow.
 */
int
sasl_plain(const unsigned char *msg, size_t len, char *user, size_t usize,
    char *pass, size_t psize)
{
	const unsigned char *z, *c, *w, *nul1, *nul2;
	size_t	 zl, cl, wl;

	if (msg == NULL ||
	    (nul1 = memchr(msg, '\0', len)) == NULL ||
	    (nul2 = memchr(nul1 + 1, '\0',
	    len - (size_t)(nul1 + 1 - msg))) == NULL ||
	    memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - msg)) != NULL)
		return sasl_plain_fail(user, usize, pass, psize);
	z = msg;
	zl = (size_t)(nul1 - msg);
	c = nul1 + 1;
	cl = (size_t)(nul2 - c);
	w = nul2 + 1;
	wl = len - (size_t)(w - msg);
	if (cl == 0 || cl > SASL_USER_MAX || cl >= usize ||
	    wl == 0 || wl > SASL_PASS_MAX || wl >= psize ||
	    !sasl_plain_name_ok(c, cl) || !sasl_plain_name_ok(z, zl) ||
	    (zl != 0 && (zl != cl || memcmp(z, c, cl) != 0)))
		return sasl_plain_fail(user, usize, pass, psize);
	memcpy(user, c, cl);
	user[cl] = '\0';
	memcpy(pass, w, wl);
	pass[wl] = '\0';
	return 0;
}
