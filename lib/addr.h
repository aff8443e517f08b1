/*
 * addr.h - RFC 5321 mailbox and path parsing.
 *
 * addr_parse_path() parses the argument of MAIL FROM:/RCPT TO: starting at
 * '<': an optional source route (@a,@b: - accepted and discarded, RFC 5321
 * appendix C), a Local-part (Dot-string or Quoted-string), '@', and a
 * Domain (dot-separated LDH labels) or an address literal ([1.2.3.4],
 * [IPv6:...]).  "<>" is the null path, allowed only with ADDR_F_NULL_OK.
 * "<postmaster>" without domain is allowed with ADDR_F_POSTMASTER_OK.
 * With ADDR_F_LENIENT a missing <> pair is tolerated (Postfix's
 * strict_rfc821_envelopes = no).
 *
 * Limits (RFC 5321 4.5.3.1): local part 64 octets, domain 255, path 256.
 * Over-long parts, 8-bit or control characters, unbalanced quotes and
 * brackets are errors.  On error the function returns -1 and sets *why to
 * an SMTP reply text such as "501 5.1.3 Bad recipient address syntax".
 *
 * The result keeps the local part as it was written (quotes removed,
 * quoted-pairs decoded into local), a flag that it was quoted, and the
 * domain lowercased.  *rest points after '>' (ESMTP parameters follow).
 */
#ifndef YOUJU_ADDR_H
#define YOUJU_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_PATH_MAX	256

#define ADDR_F_NULL_OK		0x01
#define ADDR_F_POSTMASTER_OK	0x02
#define ADDR_F_LENIENT		0x04

struct addr {
	char	 local[ADDR_LOCAL_MAX + 1];	/* decoded local part */
	char	 domain[ADDR_DOMAIN_MAX + 1];	/* lowercase; "" for <> / <postmaster> */
	int	 null;				/* the null path <> */
	int	 quoted;			/* local part was a Quoted-string */
	int	 literal;			/* domain is an address literal */
	int	 routed;			/* a source route was given (and dropped) */
};

int	 addr_parse_path(const char *, int, struct addr *, const char **,
	    const char **);
/* addr_parse_mailbox - "local@domain" without angle brackets */
int	 addr_parse_mailbox(const char *, struct addr *, const char **);
/* addr_format - canonical text: quoted local part when needed; "" for <> */
size_t	 addr_format(const struct addr *, char *, size_t);
/* addr_valid_domain - LDH labels, each 1-63, total <= 255 */
int	 addr_valid_domain(const char *);
/* addr_has_routing - local part contains % ! or @ (never routing for us) */
int	 addr_has_routing(const struct addr *);

#endif
