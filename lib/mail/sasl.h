/*
 * sasl.h - SASL helpers for SMTP AUTH (RFC 4954): strict base64 and the
 * PLAIN message (RFC 4616).
 *
 * sasl_b64_decode accepts only the RFC 4648 alphabet with correct '='
 * padding, length a multiple of 4, no white space, no bits left over in the
 * last character; anything else is -1 (the caller answers 501 5.5.2).
 * "=" alone (an empty response per RFC 4954) decodes to zero bytes.
 * The output never exceeds max bytes (-1 with ENOSPC otherwise).
 *
 * sasl_plain splits "authzid NUL authcid NUL passwd": exactly two NULs,
 * authcid 1..SASL_USER_MAX bytes, password 1..SASL_PASS_MAX bytes, no
 * control characters in authcid/authzid, and authzid empty or equal to
 * authcid (youju does not let one user act as another).
 */
#ifndef YOUJU_SASL_H
#define YOUJU_SASL_H

#include <stddef.h>

#include "buf.h"

#define SASL_USER_MAX	320
#define SASL_PASS_MAX	1024
#define SASL_LINE_MAX	12288	/* RFC 4954 4: the longest AUTH line */

int	 sasl_b64_decode(const char *, size_t, struct buf *, size_t);
int	 sasl_b64_encode(const void *, size_t, struct buf *);
/* sasl_plain - 0 ok (user and pass filled, NUL-terminated), -1 malformed */
int	 sasl_plain(const unsigned char *, size_t, char *, size_t, char *,
	    size_t);

#endif
