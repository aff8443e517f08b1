/*
 * qview.h - a queued message as the admin sees it: the lines of "mailctl
 * queue list" (text or JSON Lines) and the report of "mailctl queue show".
 * qmgr answers every "mailctl queue" request (running, or once with -x
 * while the mail system is stopped), so the two look the same.
 *
 * Every byte that came from outside (addresses, replies, header lines) is
 * escaped: controls and invalid UTF-8 never reach the admin's terminal or
 * break a JSON string.  Times are UTC.
 */
#ifndef YOUJU_QVIEW_H
#define YOUJU_QVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct qfile_msg;

struct qview {
	const struct qfile_msg *q;
	const char	*state;		/* "active", "deferred", "hold" */
	uint32_t	 attempts;
	int64_t		 next_try;	/* 0: none planned */
};

/* qview_list_header - the column titles of the text list */
void	 qview_list_header(struct buf *);
/* qview_list - one message: a text line and its pending recipients, or
 * one JSON object on one line */
void	 qview_list(struct buf *, const struct qview *, int);
/* qview_list_footer - "-- N messages, N KB in the queue" (text only) */
void	 qview_list_footer(struct buf *, size_t, uint64_t);
/*
 * qview_deleted - the answer to "delete ALL [queue]": "deleted N
 * [deferred|held|active] messages", and how many more go when their
 * delivery attempt ends (queue is NULL for all of them)
 */
void	 qview_deleted(struct buf *, const char *, size_t, size_t);
/* qview_queue_name - "active", "deferred" or "hold" (1), or not (0) */
int	 qview_queue_name(const char *);
/*
 * qview_show - envelope, recipients with status, the history records, and
 * the message's header lines (bounded); fd is the queue file.  0, or -1
 * when the file could not be read (what was read is kept in out).
 */
int	 qview_show(struct buf *, int, const struct qview *);
/*
 * qview_explain - "mailctl explain": state, arrival (client, HELO,
 * protocol, TLS, SASL user), sender, and each recipient with its status
 * and every temporary failure (the H records) under it; fd is the queue
 * file.  0, or -1 when its trail could not be read.
 */
int	 qview_explain(struct buf *, int, const struct qview *);
/* qview_has_domain - does a pending recipient end in @domain (any case) */
int	 qview_has_domain(const struct qfile_msg *, const char *);
/* qview_rcpt_match - does a pending recipient match the pattern
 * (addr_pattern_match) */
int	 qview_rcpt_match(const struct qfile_msg *, const char *);
/* qview_json_str - a JSON string of untrusted bytes, quotes included */
void	 qview_json_str(struct buf *, const char *);

#endif
