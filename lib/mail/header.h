/*
 * header.h - the header block of a message a local user submits, and the
 * RFC 5322 address-list parser.
 *
 * pickup hands each line of a submitted message's header block (without
 * its line end) to header_line.  The block ends at an empty line
 * (HEADER_END) or at the first line that is neither a header field nor
 * the continuation of one (HEADER_BODY: that line is the body's first,
 * and the caller puts an empty line before it).  A first line that starts
 * with "From " (the mbox separator some programs write) is dropped.
 * The fields are kept in order, except Bcc and Resent-Bcc, which are
 * never passed on; "have" says which of From, Date and Message-ID the
 * block has (pickup adds the missing ones, as Postfix's cleanup does).
 * With HEADER_F_EXTRACT (sendmail -t) the addresses of To, Cc and Bcc are
 * the recipients - or those of Resent-To, Resent-Cc and Resent-Bcc when
 * the block has any of them (header_rcpt).
 *
 * header_addr_list reads an address-list (RFC 5322 3.4): display names,
 * comments, groups ("undisclosed-recipients:;") and source routes go; each
 * address comes out as its addr-spec with the white space and comments
 * outside quotes removed ("John <john @ example.com>" -> "john@example.com").
 * Whether an addr-spec is a valid address is lib/mail/addr's question: this
 * parser only finds them.
 *
 * Bounds: the block at most max bytes (header_size_limit; a line counts
 * its length + 2), HEADER_RCPT_MAX addresses, HEADER_ADDR_MAX bytes an
 * address.  Errors: -1 and a reason in err (static text): a block over
 * the bounds, a NUL, or with HEADER_F_EXTRACT an address field that is
 * malformed (an unbalanced quote, comment or angle bracket, a display name
 * without an address, text after an angle address, a nested group).
 */
#ifndef YOUJU_HEADER_H
#define YOUJU_HEADER_H

#include <stddef.h>

#include "buf.h"

#define HEADER_MORE		0	/* still in the header block */
#define HEADER_END		1	/* the empty line ended it */
#define HEADER_BODY		2	/* this line is the body's first */

#define HEADER_F_EXTRACT	0x01	/* -t: recipients from the fields */

#define HEADER_HAVE_FROM	0x01
#define HEADER_HAVE_DATE	0x02
#define HEADER_HAVE_MSGID	0x04

#define HEADER_RCPT_MAX		10000
#define HEADER_ADDR_MAX		1024

struct header_list {
	char		**v;
	size_t		 n;
};

struct header_block {
	int		 flags;
	size_t		 max;		/* bytes of the block */
	size_t		 bytes;
	size_t		 lines;
	int		 done;		/* the block has ended */
	struct buf	 cur;		/* the field being read */
	char		**f;		/* the fields kept, lines joined by
					   CR LF, without the last CR LF */
	size_t		 nf;
	unsigned	 have;		/* HEADER_HAVE_* */
	struct header_list to;		/* from To, Cc, Bcc */
	struct header_list resent;	/* from Resent-To, -Cc, -Bcc */
	int		 has_resent;
	const char	*err;
};

void	 header_init(struct header_block *, int, size_t);
/* header_line - one line: HEADER_MORE, _END, _BODY, or -1 (err) */
int	 header_line(struct header_block *, const char *, size_t);
/*
 * header_finish - the block is complete (after _END or _BODY, or at the
 * end of a message that is all header): takes in the last field; 0 or -1
 */
int	 header_finish(struct header_block *);
/* header_rcpt - the -t recipients (valid until header_free) */
char	**header_rcpt(const struct header_block *, size_t *);
/* header_value - the value of the first field of this name, or NULL */
const char *header_value(const struct header_block *, const char *);
void	 header_free(struct header_block *);

/* header_name_len - the length of a field name at the start of s, before
 * optional white space and ':'; 0 when s is not a header field */
size_t	 header_name_len(const char *, size_t);
/*
 * header_addr_list - the addresses of an address-list of len bytes,
 * appended to *v / *n (malloc'ed; *n stays at most max): 0, or -1 with a
 * reason in *why (what was appended stays)
 */
int	 header_addr_list(const char *, size_t, char ***, size_t *, size_t,
	    const char **);

#endif
