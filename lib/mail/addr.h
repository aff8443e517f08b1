/*
 * addr.h - RFC 5321 mailbox and path parsing.
 *
 * addr_parse_path() parses the argument of MAIL FROM:/RCPT TO: starting at
 * '<': an optional source route (@a,@b: - accepted and discarded, RFC 5321
 * appendix C), a Local-part (Dot-string or Quoted-string), '@', and a
 * Domain (dot-separated LDH labels) or an address literal ([1.2.3.4],
 * [IPv6:...]).  "<>" is the null path, allowed only with ADDR_F_NULL_OK.
 * "<postmaster>" without domain is allowed with ADDR_F_POSTMASTER_OK, any
 * local part without domain ("<alice>") with ADDR_F_LOCAL_OK (Postfix
 * takes it and completes it with @$myorigin; the caller does that).
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
 *
 * Details:
 * - The input may start with spaces or tabs before '<' (Postfix tolerates
 *   "MAIL FROM: <a@b>"); nothing is skipped after '>'.
 * - The 64-octet local-part limit counts the local part as written (quotes
 *   and backslashes included); the 256-octet path limit counts everything
 *   between '<' and '>' (a source route included).  addr_parse_mailbox()
 *   and the ADDR_F_LENIENT bare form apply the 256 limit to the whole text.
 * - An empty quoted local part ("") is refused.
 * - Address literals: [a.b.c.d] and [IPv6:...] (tag case-insensitive) are
 *   checked with inet_pton(3).  domain keeps them with their brackets, the
 *   tag written "IPv6:" and the rest lowercased; literal is set.  Standard
 *   General-address-literals ([tag:content]) are refused as unsupported.
 * - <postmaster> (any case, ADDR_F_POSTMASTER_OK) keeps local as written
 *   and leaves domain "".
 * - Return values: 0 on success, -1 on error.  rest and why may be NULL.
 *
 * Replies put in *why (no CR LF).  The sender texts are used when flags
 * has ADDR_F_SENDER or ADDR_F_NULL_OK (the null path is only valid in a
 * reverse-path, so NULL_OK means MAIL FROM), the recipient texts otherwise
 * and always for addr_parse_mailbox():
 *
 *	no '<' (not LENIENT)	501 5.5.4 Syntax: MAIL FROM:<address>
 *				501 5.5.4 Syntax: RCPT TO:<address>
 *	syntax (unbalanced	501 5.1.7 Bad sender address syntax
 *	quote/bracket, control	501 5.1.3 Bad recipient address syntax
 *	byte, empty label, ..., "<>" without NULL_OK)
 *	8-bit byte (no SMTPUTF8	553 5.6.7 Non-ASCII addresses not permitted
 *	support; RFC 6531/6533)	    for that sender / ... that recipient
 *	local part > 64		501 5.1.7 / 5.1.3 Local part too long
 *	domain > 255		501 5.1.7 / 5.1.3 Domain name too long
 *	path > 256		501 5.1.7 / 5.1.3 Path too long
 *				(RFC 5321 4.5.3.1 "501 Path too long")
 *	general address literal	553 5.1.8 Unsupported address literal (sender)
 *				553 5.1.2 Unsupported address literal
 */
#ifndef YOUJU_ADDR_H
#define YOUJU_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_PATH_MAX	256
/* addr_format() never needs more than this (local part quoted, escaped) */
#define ADDR_TEXT_MAX	(2 * ADDR_LOCAL_MAX + 2 + 1 + ADDR_DOMAIN_MAX)
#define ADDR_BUFSZ	(ADDR_TEXT_MAX + 1)

#define ADDR_F_NULL_OK		0x01
#define ADDR_F_POSTMASTER_OK	0x02
#define ADDR_F_LENIENT		0x04
#define ADDR_F_SENDER		0x08	/* reply texts for MAIL FROM */
#define ADDR_F_LOCAL_OK		0x10	/* "<local>" without a domain */

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
/*
 * addr_format - canonical text: quoted local part when needed; "" for <>.
 * Returns the length of the full text (like strlcpy); the output is
 * truncated when that is >= the buffer size (ADDR_BUFSZ always suffices).
 */
size_t	 addr_format(const struct addr *, char *, size_t);
/* addr_valid_domain - LDH labels, each 1-63, total <= 255 */
int	 addr_valid_domain(const char *);
/* addr_valid_local - 1 when s is a Dot-string local part of <= 64 octets */
int	 addr_valid_local(const char *);
/* addr_has_routing - local part contains % ! or @ (never routing for us) */
int	 addr_has_routing(const struct addr *);
/*
 * addr_same - two addresses as addr_format writes them ("local@domain")
 * name the same mailbox: the domains equal ignoring ASCII case, the local
 * parts exactly, or ignoring ASCII case when fold_local (a domain of ours,
 * whose users file matches names so).  The duplicate filter's test.
 */
int	 addr_same(const char *, const char *, int);
/*
 * addr_base_local - the local part lp without its recipient_delimiter
 * extension ("alice+news" -> "alice"; delims: the delimiter characters):
 * 0 with the base in out, -1 when there is no extension to strip
 */
int	 addr_base_local(const char *, const char *, char *, size_t);
/*
 * addr_local - an address as a local program gives it (sendmail's
 * recipients, its -f sender): with or without angle brackets, at most
 * ADDR_LOCAL_TEXT_MAX bytes; one without a domain gets @origin (unless
 * origin is NULL or "").  The canonical text (addr_format) into out,
 * ADDR_BUFSZ bytes ("" for <> with ADDR_F_NULL_OK).  0, or -1 with an
 * SMTP reply text in *why (the sender texts with ADDR_F_SENDER or
 * ADDR_F_NULL_OK).
 */
#define ADDR_LOCAL_TEXT_MAX	1024
int	 addr_local(const char *, int, const char *, char *, const char **);
/*
 * Address patterns, as access(5) reads its keys and "mailctl queue
 * delete --from / --to" takes them; every comparison ignores ASCII case:
 *	user@domain	that address
 *	@domain, domain	any address at domain (not its subdomains)
 *	user@		that local part at any domain
 *	<>		the null sender (an empty address)
 * addr_pattern_ok - is s such a pattern: 1..ADDR_TEXT_MAX bytes, no byte <=
 * space, DEL, '<' or '>' (but "<>" itself), not "@" alone
 */
int	 addr_pattern_ok(const char *);
/* addr_pattern_match - does the address (local@domain, "" = null) match */
int	 addr_pattern_match(const char *, const char *);

#endif
