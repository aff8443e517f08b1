/*
 * mailctl_explain.c - "mailctl explain QUEUE_ID": one message's life in
 * one place.
 *
 *	queue:	what qmgr knows (its "explain" request, running or as
 *		"qmgr -x"): arrival (client, HELO, protocol, TLS, SASL user),
 *		sender, each recipient with its status and every temporary
 *		failure with the remote reply, and when the next attempt
 *		comes and what it waits for (back-off, busy transport,
 *		destination concurrency, hold)
 *	log:	every line of the mail log about the message: maillog_file
 *		when it is set, else the systemd journal (journalctl, mail
 *		facility), as they are
 *	outcome: from those lines, per recipient: its last status, how
 *		many times it was deferred, and whether the message left the
 *		queue ("removed")
 *
 * A message that was delivered long ago is no longer in the queue: the log
 * alone tells its story then.  mailctl only reads: the queue part comes
 * from qmgr over its control socket, the log is read as the admin running
 * the command (root for the queue part).
 * Exit status: 0 when the queue or the log knows the message, 1 when
 * neither does, 2 on a usage error.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "maillog.h"
#include "mailctl.h"
#include "qid.h"
#include "util.h"

#define EXPL_RCPT_MAX	10000	/* recipients the outcome lists */

struct expl_rcpt {
	char	*addr;
	char	*status;	/* the last status=WORD */
	char	*line;		/* the last to= line's message */
	char	 when[32];	/* its time stamp */
	unsigned deferred;
};

struct expl {
	const char	*qid;
	struct expl_rcpt *r;
	size_t		 nr;
	size_t		 lines;
	char		 removed[32];	/* time stamp of "QID: removed" */
	int		 removed_seen;
	int		 skip;		/* in a line too long to read */
};

/* expl_usage - exit status 2 */
static int
expl_usage(void)
{
	fprintf(stderr, "usage: mailctl [-c config_dir] explain QUEUE_ID\n");
	return 2;
}

/* expl_rcpt - the outcome entry of an address (added when new) */
static struct expl_rcpt *
expl_rcpt(struct expl *e, const char *addr, size_t len)
{
	size_t	 i;

	for (i = 0; i < e->nr; i++)
		if (strlen(e->r[i].addr) == len &&
		    memcmp(e->r[i].addr, addr, len) == 0)
			return &e->r[i];
	if (e->nr >= EXPL_RCPT_MAX)
		return NULL;
	e->r = xreallocarray(e->r, e->nr + 1, sizeof(*e->r));
	memset(&e->r[e->nr], 0, sizeof(*e->r));
	e->r[e->nr].addr = xstrndup(addr, len);
	return &e->r[e->nr++];
}

/*
 * expl_note - one log line about the message (lib/mail/maillog): a delivery
 * result updates its recipient's outcome, "removed" says it left
 */
static void
expl_note(struct expl *e, const char *line)
{
	struct maillog_line l;
	struct expl_rcpt *r;

	if (maillog_parse(line, e->qid, &l) != 1)
		return;
	if (l.kind == MAILLOG_REMOVED) {
		e->removed_seen = 1;
		util_strlcpy(e->removed, l.stamp, sizeof(e->removed));
		return;
	}
	if (l.kind != MAILLOG_RESULT ||
	    (r = expl_rcpt(e, l.addr, strlen(l.addr))) == NULL)
		return;
	free(r->status);
	r->status = xstrdup(l.status);
	free(r->line);
	r->line = xstrdup(l.rest);
	util_strlcpy(r->when, l.stamp, sizeof(r->when));
	if (strcmp(r->status, "deferred") == 0)
		r->deferred++;
}

/*
 * expl_feed - lines of log text: print and note the message's ones.  A
 * line longer than MAILLOG_LINE_MAX is skipped whole (skip: its rest is
 * still to come), never taken for a line of its own.
 */
static void
expl_feed(struct expl *e, struct buf *pending, const char *p, size_t len)
{
	const char *nl, *end;
	char	*line;
	size_t	 n;

	if (buf_append(pending, p, len) == -1) {
		buf_reset(pending);		/* cannot happen: bounded */
		e->skip = 1;
		return;
	}
	p = (const char *)pending->data;
	end = p + pending->len;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n = (size_t)(nl - p);
		if (!e->skip && n < MAILLOG_LINE_MAX &&
		    maillog_about(p, n, e->qid)) {
			line = xstrndup(p, n);
			printf("  %s\n", line);
			expl_note(e, line);
			e->lines++;
			free(line);
		}
		e->skip = 0;
		p = nl + 1;
	}
	n = (size_t)(p - (const char *)pending->data);
	buf_consume(pending, n);
	if (pending->len >= MAILLOG_LINE_MAX) {
		buf_reset(pending);
		e->skip = 1;
	}
}

/* expl_read_fd - feed everything from fd (streamed: memory stays small) */
static int
expl_read_fd(struct expl *e, int fd)
{
	struct buf pending;
	char	 b[MAILLOG_LINE_MAX];
	ssize_t	 n;

	/* at most a partial line (< MAILLOG_LINE_MAX) and one read */
	buf_init(&pending, MAILLOG_LINE_MAX * 2);
	while ((n = read(fd, b, sizeof(b))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			buf_free(&pending);
			return -1;
		}
		expl_feed(e, &pending, b, (size_t)n);
	}
	buf_free(&pending);
	return 0;
}

/* expl_file - the lines of maillog_file; -1 (said) when unreadable */
static int
expl_file(struct expl *e, const char *path)
{
	int	 fd, r;

	printf("log (maillog_file %s):\n", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		printf("  cannot read it: %s\n", strerror(errno));
		return -1;
	}
	r = expl_read_fd(e, fd);
	close(fd);
	if (r == -1)
		printf("  read error: %s\n", strerror(errno));
	return r;
}

/*
 * expl_journal - the lines of the systemd journal (no maillog_file: the
 * daemons log to syslog): journalctl run without a shell, the queue id
 * (checked: letters and digits) as its --grep pattern
 */
static int
expl_journal(struct expl *e)
{
	char	*argv[] = { "journalctl", "--no-pager", "--quiet",
	    "--output=short", "SYSLOG_FACILITY=2", "--grep", NULL, NULL };
	pid_t	 pid;
	int	 p[2], st;

	argv[6] = (char *)(uintptr_t)e->qid;
	printf("log (the systemd journal, mail facility):\n");
	fflush(stdout);
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		printf("  cannot run journalctl: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (dup2(p[1], 1) == -1)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	(void)expl_read_fd(e, p[0]);
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		printf("  journalctl is not available: with syslog, the lines "
		    "are where syslog puts mail (often /var/log/mail.log); "
		    "or set maillog_file\n");
		return -1;
	}
	if (e->lines == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		printf("  journalctl found nothing (exit status %d: no such "
		    "entries, or no --grep support)\n", WIFEXITED(st) ?
		    WEXITSTATUS(st) : -1);
	return 0;
}

/* expl_indent - qmgr's answer, each line indented */
static void
expl_indent(const struct buf *out)
{
	const char *p = (const char *)out->data, *end = p + out->len, *nl;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		printf("  %.*s\n", (int)(nl - p), p);
	}
}

/* expl_outcome - per recipient from the log, and whether it left */
static void
expl_outcome(struct expl *e, int in_queue)
{
	size_t	 i;

	printf("outcome:\n");
	for (i = 0; i < e->nr; i++) {
		printf("  <%s>: %s at %s", e->r[i].addr, e->r[i].status,
		    e->r[i].when);
		if (e->r[i].deferred > 0 && strcmp(e->r[i].status,
		    "deferred") != 0)
			printf(" (after %u deferral%s)", e->r[i].deferred,
			    e->r[i].deferred == 1 ? "" : "s");
		else if (e->r[i].deferred > 1)
			printf(" (deferred %u times)", e->r[i].deferred);
		printf(": %s\n", e->r[i].line);
	}
	if (e->removed_seen)
		printf("  left the queue at %s (every recipient is final)\n",
		    e->removed);
	else if (in_queue)
		printf("  still in the queue\n");
	else if (e->lines > 0)
		printf("  not in the queue, and the log does not say it left "
		    "(deleted, or the log was rotated)\n");
	else
		printf("  the log has no line about %s\n", e->qid);
}

/* mailctl_explain_main - see mailctl.h */
int
mailctl_explain_main(const struct cfg *cfg, const char *sock, int argc,
    char **argv)
{
	struct expl e;
	struct buf out;
	const char *logf = cfg_str(cfg, "maillog_file");
	char	*req[2];
	size_t	 i;
	int	 r, in_queue;

	if (argc != 2)
		return expl_usage();
	if (!qid_valid(argv[1])) {
		fprintf(stderr, "mailctl: explain: \"%s\" is not a queue id\n",
		    log_str(argv[1]));
		return expl_usage();
	}
	memset(&e, 0, sizeof(e));
	e.qid = argv[1];
	req[0] = "explain";
	req[1] = argv[1];
	buf_init(&out, (size_t)64 * 1024 * 1024);
	r = mailctl_queue_ask(cfg, sock, 2, req, NULL, &out);
	in_queue = r == 0;
	printf("queue:\n");
	if (r == -1)
		printf("  (the queue manager could not be asked)\n");
	else
		expl_indent(&out);
	buf_free(&out);
	if (*logf != '\0')
		(void)expl_file(&e, logf);
	else
		(void)expl_journal(&e);
	expl_outcome(&e, in_queue);
	for (i = 0; i < e.nr; i++) {
		free(e.r[i].addr);
		free(e.r[i].status);
		free(e.r[i].line);
	}
	free(e.r);
	return in_queue || e.lines > 0 ? 0 : 1;
}
