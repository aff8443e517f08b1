/*
 * test_maillog.c - lib/mail/maillog: reading back the mail log for "mailctl
 * explain".  Malformed lines first: nothing that lacks the log's shape is
 * taken as a line about the message.
 */
#include <string.h>

#include "maillog.h"
#include "util.h"
#include "t.h"

#define QID	"4Q2K7D1B9C8E0F3A"

/* test_bad - lines that are not about QID, or not log lines at all */
static void
test_bad(void)
{
	static const char *const tab[] = {
		"",
		"short",
		"Dec  8 01:02:03",
		"Dec  8 01:02:03 host youju/qmgr[1]:",
		"Dec  8 01:02:03 host youju/qmgr[1]: " QID,
		"Dec  8 01:02:03 host youju/qmgr[1]: " QID ":removed",
		"Dec  8 01:02:03 host youju/qmgr[1]: x" QID ": removed",
		"Dec  8 01:02:03 host youju/qmgr[1]: 4Q2K7D1B9C8E0F3: removed",
		"Dec  8 01:02:03 host youju/qmgr[1] " QID ": removed",
		"]: " QID ": removed",
		"Dec  8 01:02:03 host youju/qmgr[1]: 0000000000000000: removed",
	};
	struct maillog_line l;
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++)
		T_EQ_INT(maillog_parse(tab[i], QID, &l), 0, tab[i]);
	T_EQ_INT(maillog_parse("Dec  8 01:02:03 h p[1]: " QID ": removed", "",
	    &l), 0, "empty queue id");
}

/* test_results - to= lines: malformed ones are OTHER, never RESULT */
static void
test_results(void)
{
	static const struct {
		const char	*msg;
		int		 kind;
		const char	*addr, *status;
	} tab[] = {
		{ "removed", MAILLOG_REMOVED, "", "" },
		{ "removed ", MAILLOG_OTHER, "", "" },
		{ "client=unknown[127.0.0.1]", MAILLOG_OTHER, "", "" },
		{ "to=<a@b.test>, relay=x, delay=1, dsn=2.0.0, status=sent "
		    "(250 ok)", MAILLOG_RESULT, "a@b.test", "sent" },
		{ "to=<a@b.test>, orig_to=<c@d.test>, relay=none, delay=0, "
		    "dsn=4.4.1, status=deferred (connect: refused)",
		    MAILLOG_RESULT, "a@b.test", "deferred" },
		{ "to=<>, relay=x, status=bounced (x)", MAILLOG_RESULT, "",
		    "bounced" },
		{ "to=<a@b.test> relay=x, status=sent (x)", MAILLOG_OTHER,
		    "", "" },
		{ "to=<a@b.test>, relay=x", MAILLOG_OTHER, "", "" },
		{ "to=<a@b.test>, relay=x, status=", MAILLOG_OTHER, "", "" },
		{ "to=<a@b.test>, relay=x, status= (x)", MAILLOG_OTHER, "",
		    "" },
		{ "to=<a@b.test>, status=averyveryveryveryverylongstatusword "
		    "(x)", MAILLOG_OTHER, "", "" },
		{ "to=a@b.test>, status=sent (x)", MAILLOG_OTHER, "", "" },
	};
	struct maillog_line l;
	char	 line[4096];
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++) {
		snprintf(line, sizeof(line), "Dec  8 01:02:03 mx youju/qmgr"
		    "[42]: %s: %s", QID, tab[i].msg);
		T_EQ_INT(maillog_parse(line, QID, &l), 1, tab[i].msg);
		T_EQ_INT(l.kind, tab[i].kind, tab[i].msg);
		T_EQ_STR(l.addr, tab[i].addr, tab[i].msg);
		T_EQ_STR(l.status, tab[i].status, tab[i].msg);
		T_EQ_STR(l.stamp, "Dec  8 01:02:03", "stamp");
	}
	snprintf(line, sizeof(line), "Dec  8 01:02:03 mx youju/qmgr[42]: %s: "
	    "to=<a@b.test>, relay=r, status=sent (250 2.0.0 ok)", QID);
	(void)maillog_parse(line, QID, &l);
	T_EQ_STR(l.rest, "relay=r, status=sent (250 2.0.0 ok)", "rest");
}

/* long_line - a to= line with an address of n bytes */
static void
long_line(char *line, size_t size, size_t n)
{
	size_t	 k;

	k = (size_t)snprintf(line, size, "Dec  8 01:02:03 h p[1]: %s: to=<",
	    QID);
	memset(line + k, 'a', n);
	snprintf(line + k + n, size - k - n, ">, status=sent (x)");
}

/* test_long_addr - an address longer than MAILLOG_ADDR_MAX is no RESULT */
static void
test_long_addr(void)
{
	struct maillog_line l;
	char	 line[MAILLOG_ADDR_MAX + 200];

	long_line(line, sizeof(line), MAILLOG_ADDR_MAX + 1);
	T_EQ_INT(maillog_parse(line, QID, &l), 1, "long address: about it");
	T_EQ_INT(l.kind, MAILLOG_OTHER, "long address: not a result");
	long_line(line, sizeof(line), MAILLOG_ADDR_MAX);
	T_EQ_INT(maillog_parse(line, QID, &l), 1, "limit: about it");
	T_EQ_INT(l.kind, MAILLOG_RESULT, "address at the limit: a result");
	T_EQ_INT(strlen(l.addr), MAILLOG_ADDR_MAX, "its length");
	T_EQ_STR(l.status, "sent", "its status");
}

/* test_about - a whole word, anywhere in the line */
static void
test_about(void)
{
	static const struct {
		const char	*line;
		int		 about;
	} tab[] = {
		{ "", 0 },
		{ QID, 1 },
		{ "x " QID ": to=<a>", 1 },
		{ "sender non-delivery notification: " QID, 1 },
		{ "x" QID, 0 },
		{ QID "x", 0 },
		{ "4Q2K7D1B9C8E0F3", 0 },
		{ "(" QID ")", 1 },
	};
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++)
		T_EQ_INT(maillog_about(tab[i].line, strlen(tab[i].line), QID),
		    tab[i].about, tab[i].line);
	T_EQ_INT(maillog_about(QID "x", strlen(QID), QID), 1,
	    "the length given, not the NUL");
	T_EQ_INT(maillog_about(QID, strlen(QID), ""), 0, "empty id");
}

int
main(void)
{
	t_plan(12 + 12 * 5 + 1 + 6 + 8 + 2);
	test_bad();
	test_results();
	test_long_addr();
	test_about();
	return t_done();
}
