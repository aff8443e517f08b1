/*
 * maillog.c - reading back the mail log (see maillog.h).
 */
#include <string.h>

#include "maillog.h"
#include "util.h"

/* maillog_word - a letter or digit (a queue id's characters) */
static int
maillog_word(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* maillog_about - see maillog.h */
int
maillog_about(const char *line, size_t len, const char *qid)
{
	size_t	 n = strlen(qid), i;

	if (n == 0 || len < n)
		return 0;
	for (i = 0; i + n <= len; i++)
		if (memcmp(line + i, qid, n) == 0 &&
		    (i == 0 || !maillog_word(line[i - 1])) &&
		    (i + n == len || !maillog_word(line[i + n])))
			return 1;
	return 0;
}

/* maillog_result - "to=<ADDR>, ... status=WORD ..." into l; -1 if not */
static int
maillog_result(const char *msg, struct maillog_line *l)
{
	const char *end, *st;
	size_t	 n;

	if (strncmp(msg, "to=<", 4) != 0 ||
	    (end = strstr(msg + 4, ">, ")) == NULL ||
	    (n = (size_t)(end - msg - 4)) > MAILLOG_ADDR_MAX ||
	    (st = strstr(end, ", status=")) == NULL)
		return -1;
	memcpy(l->addr, msg + 4, n);
	l->addr[n] = '\0';
	st += 9;
	if ((n = strcspn(st, " ")) == 0 || n >= sizeof(l->status))
		return -1;
	memcpy(l->status, st, n);
	l->status[n] = '\0';
	l->rest = end + 3;
	return 0;
}

/* maillog_parse - see maillog.h */
int
maillog_parse(const char *line, const char *qid, struct maillog_line *l)
{
	const char *msg;
	size_t	 qlen = strlen(qid);

	memset(l, 0, sizeof(*l));
	if (qlen == 0 || strlen(line) <= MAILLOG_STAMP_LEN ||
	    (msg = strstr(line + MAILLOG_STAMP_LEN, "]: ")) == NULL)
		return 0;
	msg += 3;
	if (strncmp(msg, qid, qlen) != 0 || strncmp(msg + qlen, ": ", 2) != 0)
		return 0;
	memcpy(l->stamp, line, MAILLOG_STAMP_LEN);
	l->stamp[MAILLOG_STAMP_LEN] = '\0';
	msg += qlen + 2;
	if (strcmp(msg, "removed") == 0)
		l->kind = MAILLOG_REMOVED;
	else if (maillog_result(msg, l) == 0)
		l->kind = MAILLOG_RESULT;
	else {
		l->kind = MAILLOG_OTHER;
		l->addr[0] = '\0';
		l->status[0] = '\0';
		l->rest = NULL;
	}
	return 1;
}
