/*
 * maillog.h - reading back the mail log youju writes, for "mailctl
 * explain": lines of maillog_file, or of the journal (journalctl
 * --output=short), both "STAMP HOST PROGRAM[PID]: MESSAGE" with STAMP
 * "Mon dd hh:mm:ss".
 *
 * maillog_about() says whether a line mentions a queue id as a whole word
 * (the message's own lines, and e.g. the bounce that names it).
 * maillog_parse() reads a line whose message begins with "QID: ": the
 * time stamp, and what kind of event it is:
 *	MAILLOG_REMOVED	"QID: removed" (the message left the queue)
 *	MAILLOG_RESULT	"QID: to=<ADDR>, ... status=WORD (...)" (one
 *			recipient's delivery attempt): ADDR, WORD and the text
 *			after "to=<ADDR>, "
 *	MAILLOG_OTHER	anything else about the message
 * The line is outside input (log lines carry escaped addresses and remote
 * replies, and a log file may hold anything): every field is bounded, and
 * a line that does not have the shape is "not about it" (0).
 */
#ifndef YOUJU_MAILLOG_H
#define YOUJU_MAILLOG_H

#include <stddef.h>

#define MAILLOG_LINE_MAX	8192	/* longer lines are skipped */
#define MAILLOG_ADDR_MAX	1024
#define MAILLOG_STAMP_LEN	15	/* "Dec  8 01:02:03" */

#define MAILLOG_OTHER		0
#define MAILLOG_REMOVED		1
#define MAILLOG_RESULT		2

struct maillog_line {
	char		 stamp[MAILLOG_STAMP_LEN + 1];
	int		 kind;			/* MAILLOG_* */
	char		 addr[MAILLOG_ADDR_MAX + 1];	/* RESULT */
	char		 status[32];		/* RESULT: sent, deferred, ... */
	const char	*rest;			/* RESULT: into the line */
};

/* maillog_about - does the line (len bytes) name qid as a whole word */
int	 maillog_about(const char *, size_t, const char *);
/*
 * maillog_parse - a NUL-terminated line: 1 when its message is about qid
 * (l filled in), 0 when it is not or the line has not the log's shape
 */
int	 maillog_parse(const char *, const char *, struct maillog_line *);

#endif
