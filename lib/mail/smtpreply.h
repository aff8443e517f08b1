/*
 * smtpreply.h - reading SMTP replies from a remote server, safely
 * (DESIGN rule 12: the outbound side is attack surface too).
 *
 * smtpreply_parse() looks at the bytes received so far and, when they hold
 * one complete reply, fills in its code (200..599), its enhanced status
 * code if the text starts with one (RFC 3463 class.subject.detail, class
 * matching the code's first digit), and its text (the lines' texts joined
 * with "\n", control characters replaced by '?', at most SMTPREPLY_TEXT_MAX
 * bytes kept).  It returns the number of bytes the reply used, 0 when more
 * bytes are needed, or -1 for a malformed reply: a first line without a
 * valid three-digit code followed by ' ', '-' or the line end, a later
 * line that starts with another valid code, a line over
 * SMTPREPLY_LINE_MAX, more than SMTPREPLY_LINES_MAX lines.  A bare LF
 * ends a line; a bare CR is data.  A later line of a multi-line reply that
 * does not start with a code (the rest of a line a bare LF split, a bare
 * CR after the code, plain garbage) is "garbled": it goes into the text
 * like any other and is counted in garbled, and the reply goes on until a
 * well-formed last line with the reply's code.  Callers must not trust a
 * garbled reply's code beyond what a mistake can cost (smtp(8) takes only
 * a garbled 5xx, as permanent).  Every byte outside printable ASCII (CR,
 * NUL, TAB, 8-bit) becomes '?' in text and extarg.
 *
 * EHLO keywords are always collected: ext[0..next) holds the first word of
 * lines 2..n when it is a valid keyword (ALPHA/DIGIT, then also "-", at
 * most 31 bytes), upper-cased, and extarg[i] the rest of that line (its
 * parameters, e.g. "10240000" for SIZE, "PLAIN LOGIN" for AUTH), at most
 * SMTPREPLY_EXTARG_MAX - 1 bytes; at most SMTPREPLY_EXT_MAX keywords.
 */
#ifndef YOUJU_SMTPREPLY_H
#define YOUJU_SMTPREPLY_H

#include <stddef.h>

#define SMTPREPLY_LINE_MAX	4096	/* RFC 5321: 512; be lenient */
#define SMTPREPLY_LINES_MAX	200
#define SMTPREPLY_TEXT_MAX	2048
#define SMTPREPLY_EXT_MAX	16
#define SMTPREPLY_EXTARG_MAX	256

struct smtpreply {
	int		 code;
	char		 dsn[16];	/* "5.1.1" or "" */
	char		 text[SMTPREPLY_TEXT_MAX + 1];
	int		 nlines;
	int		 garbled;	/* lines 2..n-1 without a code */
	char		 ext[SMTPREPLY_EXT_MAX][32];	/* EHLO keywords,
					   upper-cased (first word of lines
					   2..n) */
	int		 next;		/* number of ext[] entries */
	char		 extarg[SMTPREPLY_EXT_MAX][SMTPREPLY_EXTARG_MAX];
					/* each keyword's parameters, or "" */
};

long	 smtpreply_parse(const char *, size_t, struct smtpreply *);
/*
 * smtpreply_has - EHLO reply offers keyword (e.g. "STARTTLS", "SIZE"),
 * compared without case: its parameters ("" when none), or NULL
 */
const char *smtpreply_has(const struct smtpreply *, const char *);

#endif
