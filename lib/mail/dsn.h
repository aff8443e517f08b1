/*
 * dsn.h - delivery status notifications (RFC 3464) and the DSN SMTP
 * extension's parameters (RFC 3461): xtext, NOTIFY, RET, ENVID, ORCPT.
 *
 * dsn_build() writes a complete bounce message (CRLF line ends) into out:
 *	From: MAILER-DAEMON@<myhostname> (Mail Delivery System)
 *	To: <the original sender>, Subject, Date, Message-ID, Auto-Submitted:
 *	auto-replied, MIME-Version, Content-Type: multipart/report;
 *	report-type=delivery-status; boundary=...
 *	part 1: text/plain, a human explanation with each failed recipient
 *		and the remote server's reply
 *	part 2: message/delivery-status: Reporting-MTA, Original-Envelope-Id
 *		(ENVID), Arrival-Date, then per recipient: Final-Recipient,
 *		Original-Recipient (ORCPT), Action (failed / delayed), Status,
 *		Remote-MTA, Diagnostic-Code: smtp; <reply>, Last-Attempt-Date
 *	part 3: the original headers (text/rfc822-headers), or the whole
 *		message (message/rfc822) with RET=FULL, truncated to
 *		DSN_RETURN_MAX bytes
 * Every piece of outside text (replies, addresses, ENVID) is sanitised:
 * CR, LF and other controls replaced, lines bounded, so it can never
 * break the report's structure.  The boundary is random (libsodium) and
 * checked to occur in none of the parts.
 *
 * Details: ENVID and ORCPT are shown xtext-decoded (then sanitised);
 * Subject is "Undelivered Mail Returned to Sender" when a recipient
 * failed, else "Delayed Mail (still being retried)" or "Successful Mail
 * Delivery Report" by the first recipient's action (qmgr sends one kind
 * per report); a status whose class does not fit the action (2 for
 * delivered/relayed, 4 for delayed, 4 or 5 for failed) becomes X.0.0 of
 * the right class; an
 * X-Youju-Queue-ID field carries qid; Diagnostic-Code is "smtp; <reply>"
 * when remote_mta is set, else "X-Youju; <reason>" (our own reason is not
 * an SMTP reply); a status that is not class.subject.detail becomes
 * 5.0.0 (failed) / 4.0.0 (delayed); replies longer than 4096 bytes are
 * cut, long fields folded; every line ends in CRLF and is at most 998
 * bytes (the returned message's longer lines are broken); 8-bit bytes in
 * the returned message are kept and declared "Content-Transfer-Encoding:
 * 8bit" (part 3 and the top level).  With each NULL there is no part 3.
 * The parts are staged in buffers with out's limit, so out->max bounds
 * the memory used.
 */
#ifndef YOUJU_DSN_H
#define YOUJU_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DSN_RETURN_MAX	(64 * 1024)

#define DSN_ACTION_FAILED	1
#define DSN_ACTION_DELAYED	2
#define DSN_ACTION_DELIVERED	3	/* NOTIFY=SUCCESS: into a mailbox */
#define DSN_ACTION_RELAYED	4	/* ... to a server without DSN */

struct dsn_rcpt {
	const char	*addr;		/* final recipient */
	const char	*orcpt;		/* ORCPT as received (xtext), or "" */
	int		 action;	/* DSN_ACTION_* */
	const char	*status;	/* "5.1.1" */
	const char	*remote_mta;	/* host name, or "" */
	const char	*diag;		/* the remote reply or our reason */
};

struct dsn_report {
	const char	*reporting_mta;	/* myhostname */
	const char	*sender;	/* the bounce goes to this address */
	const char	*envid;		/* ENVID (xtext) or "" */
	const char	*qid;
	int64_t		 arrival;	/* seconds */
	int		 ret_full;	/* RET=FULL: return the whole message */
	const struct dsn_rcpt *rcpt;
	size_t		 nrcpt;
};

/*
 * dsn_body_each - how dsn_build reads the original message: call chunk(
 * chunk_arg, bytes, len) for each piece of the content in order, stop when
 * chunk returns -1 (dsn_build does once it has the headers, or
 * DSN_RETURN_MAX bytes); like qfile_body_each.
 */
typedef int (*dsn_body_each)(void *, int (*)(void *, const void *, size_t),
    void *);

/* dsn_build - the whole report into out (reset first); 0 or -1 (ENOSPC) */
int	 dsn_build(const struct dsn_report *, dsn_body_each, void *,
	    struct buf *);

/*
 * xtext (RFC 3461 4).  decode: into out (reset first), at most max bytes;
 * 0, or -1 with EINVAL (malformed: a byte outside "!".."~", "=", "+" not
 * followed by two hex digits -- lower case is accepted) or ENOSPC.
 * valid: 1 when decode would succeed, else 0.  encode: bytes into out
 * (reset first), "+XX" upper case for "+", "=", and bytes outside
 * "!".."~"; 0 or -1 (ENOSPC).
 */
int	 dsn_xtext_decode(const char *, struct buf *, size_t);
int	 dsn_xtext_valid(const char *);
int	 dsn_xtext_encode(const void *, size_t, struct buf *);
/*
 * NOTIFY=SUCCESS,FAILURE,DELAY | NEVER -> QFILE_NOTIFY_* bits; -1 bad
 * (EINVAL: empty item, unknown word, NEVER with another); any case,
 * repeated words allowed
 */
int	 dsn_parse_notify(const char *, unsigned *);
/*
 * dsn_format_notify - the bits back as a NOTIFY= value: "NEVER", or
 * "SUCCESS,FAILURE,DELAY" (those set, in that order) into out; 0, or -1
 * with EINVAL (no bit, an unknown bit, NEVER with another) or
 * ENAMETOOLONG (out too small; DSN_NOTIFY_BUFSZ is enough)
 */
#define DSN_NOTIFY_BUFSZ	sizeof("SUCCESS,FAILURE,DELAY")
int	 dsn_format_notify(unsigned, char *, size_t);

/*
 * The other RFC 3461 parameters, checked as they arrive on MAIL / RCPT.
 * dsn_parse_ret: RET= value "FULL" or "HDRS" in any case -> the static
 * upper-case word; NULL (EINVAL) for anything else.
 * dsn_envid_valid: ENVID= value: 1 to DSN_ENVID_MAX bytes of valid
 * xtext -> 1, else 0.
 * dsn_orcpt_valid: ORCPT= value: addr-type ";" xtext, addr-type an atom
 * (RFC 5322 atext, e.g. "rfc822"), the xtext valid and not empty, the
 * whole at most DSN_ORCPT_MAX bytes -> 1, else 0.
 * Neither looks at what the xtext decodes to: any byte may be encoded
 * (the report builder sanitises what it shows), so the value is kept
 * exactly as received.
 */
#define DSN_ENVID_MAX	100	/* RFC 3461 4.4 */
#define DSN_ORCPT_MAX	500	/* RFC 3461 4.2 */
const char *dsn_parse_ret(const char *);
int	 dsn_envid_valid(const char *);
int	 dsn_orcpt_valid(const char *);

#endif
