/*
 * sendmail_smtp.c - sendmail -bs: an SMTP session on stdin and stdout,
 * for programs that submit that way (some MUAs, batch scripts).
 *
 * Commands: HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, VRFY (252), HELP,
 * QUIT; anything else is 502.  Lines end in LF or CR LF and are at most
 * SENDMAIL_SMTP_LINE bytes (500 and the rest of the line dropped).  A
 * transaction is handed to pickup(8) at the final dot, exactly like a
 * message on the command line: MAIL FROM is the -f sender (pickup keeps
 * it only for root and mail_owner), and the reply to the dot is pickup's,
 * 250 only once the message is committed; "451 4.3.0" when the mail
 * system is not running.  The session ends with QUIT or at the end of
 * the input (a message not yet ended is dropped, never acknowledged).
 *
 * Exit status: 0, or EX_CANTCREAT / EX_IOERR when the session could not
 * go on.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "cfg.h"
#include "header.h"
#include "ipc.h"
#include "util.h"
#include "sendmail.h"

#define SENDMAIL_SMTP_LINE	2048	/* a command line, CR LF included */
#define SENDMAIL_SMTP_DATA	65536	/* a content line */

struct sendmail_smtp_s {
	const struct sendmail_user *u;
	struct buf	 in;		/* read, not yet used */
	int		 eof;
	int		 in_mail;
	char		*sender;	/* MAIL FROM's path, as written */
	char		**rcpt;		/* RCPT TO's paths, as written */
	size_t		 nrcpt;
	int		 quit;
};

/* sendmail_smtp_reply - one reply line, flushed */
static void __attribute__((format(printf, 1, 2)))
sendmail_smtp_reply(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\r\n");
	fflush(stdout);
}

/*
 * sendmail_smtp_line - the next line (without its LF, and a CR before
 * it) into out, at most max bytes: 1, 0 at the end of the input, -1 for a
 * longer line (its rest is dropped)
 */
static int
sendmail_smtp_line(struct sendmail_smtp_s *st, struct buf *out, size_t max)
{
	unsigned char b[4096];
	const unsigned char *nl;
	ssize_t	 n;
	size_t	 k;
	int	 over = 0;

	buf_reset(out);
	for (;;) {
		nl = st->in.len > 0 ? memchr(st->in.data, '\n', st->in.len) :
		    NULL;
		k = nl != NULL ? (size_t)(nl - st->in.data) : st->in.len;
		if (!over && out->len + k <= max)
			buf_append(out, st->in.data, k);
		else
			over = 1;
		buf_consume(&st->in, nl != NULL ? k + 1 : k);
		if (nl != NULL)
			break;
		if (st->eof && out->len == 0 && !over)
			return 0;
		if (st->eof)
			break;		/* a last line without its LF */
		n = read(0, b, sizeof(b));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			st->eof = 1;
		else
			buf_append(&st->in, b, (size_t)n);
	}
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		out->data[--out->len] = '\0';	/* buf_cstr stays right */
	return over ? -1 : 1;
}

/* sendmail_smtp_reset - forget the transaction */
static void
sendmail_smtp_reset(struct sendmail_smtp_s *st)
{
	size_t	 i;

	for (i = 0; i < st->nrcpt; i++)
		free(st->rcpt[i]);
	free(st->rcpt);
	free(st->sender);
	st->rcpt = NULL;
	st->nrcpt = 0;
	st->sender = NULL;
	st->in_mail = 0;
}

/*
 * sendmail_smtp_path - "FROM:<a>" / "TO:<a>" after the verb: the path as
 * written (with its brackets) into a new string, or NULL after a reply
 */
static char *
sendmail_smtp_path(const char *arg, const char *kw, int flags)
{
	struct addr a;
	const char *rest, *why, *p;
	size_t	 n = strlen(kw);

	if (util_strncasecmp_ascii(arg, kw, n) != 0) {
		sendmail_smtp_reply("501 5.5.4 Syntax: %s<address>", kw);
		return NULL;
	}
	for (p = arg + n; *p == ' '; p++)
		;
	if (addr_parse_path(p, flags | ADDR_F_LOCAL_OK | ADDR_F_LENIENT, &a,
	    &rest, &why) == -1) {
		sendmail_smtp_reply("%s", why);
		return NULL;
	}
	/* ESMTP parameters (SIZE, BODY) after it are not needed here */
	return xstrndup(p, (size_t)(rest - p));
}

/* sendmail_smtp_mail - MAIL FROM */
static void
sendmail_smtp_mail(struct sendmail_smtp_s *st, const char *arg)
{
	if (st->in_mail) {
		sendmail_smtp_reply("503 5.5.1 Error: nested MAIL command");
		return;
	}
	if ((st->sender = sendmail_smtp_path(arg, "FROM:", ADDR_F_NULL_OK |
	    ADDR_F_SENDER)) == NULL)
		return;
	st->in_mail = 1;
	sendmail_smtp_reply("250 2.1.0 Ok");
}

/* sendmail_smtp_rcpt - RCPT TO */
static void
sendmail_smtp_rcpt(struct sendmail_smtp_s *st, const char *arg)
{
	char	*p;

	if (!st->in_mail) {
		sendmail_smtp_reply("503 5.5.1 Error: need MAIL command");
		return;
	}
	if (st->nrcpt >= HEADER_RCPT_MAX) {
		sendmail_smtp_reply("452 4.5.3 Error: too many recipients");
		return;
	}
	if ((p = sendmail_smtp_path(arg, "TO:", ADDR_F_POSTMASTER_OK)) ==
	    NULL)
		return;
	st->rcpt = xreallocarray(st->rcpt, st->nrcpt + 1, sizeof(*st->rcpt));
	st->rcpt[st->nrcpt++] = p;
	sendmail_smtp_reply("250 2.1.5 Ok");
}

/* sendmail_smtp_content - DATA's lines up to the dot, into the spool */
static int
sendmail_smtp_content(struct sendmail_smtp_s *st, struct sendmail_spool *sp)
{
	struct buf line;
	int	 r;

	buf_init(&line, SENDMAIL_SMTP_DATA + 1);
	while ((r = sendmail_smtp_line(st, &line, SENDMAIL_SMTP_DATA)) != 0) {
		if (r == 1 && line.len == 1 && line.data[0] == '.')
			break;
		if (r == -1) {
			sp->over = 1;	/* a line too long: refused below */
			continue;
		}
		if (line.len > 0 && line.data[0] == '.')
			buf_consume(&line, 1);
		if (sendmail_spool_put(sp, line.data, line.len) == -1 ||
		    sendmail_spool_put(sp, "\n", 1) == -1) {
			if (errno != EFBIG)
				break;
		}
	}
	buf_free(&line);
	return r == 0 ? -1 : 0;		/* the input ended inside DATA */
}

/* sendmail_smtp_submit - the transaction to pickup; the reply to the dot */
static void
sendmail_smtp_submit(struct sendmail_smtp_s *st, struct sendmail_spool *sp)
{
	struct sendmail_sub sub;

	memset(&sub, 0, sizeof(sub));
	sub.queue_dir = cfg_str(st->u->cfg, "queue_directory");
	sub.flags = IPC_PF_SENDER | (sp->eight ? IPC_PF_8BIT : 0);
	sub.sender = st->sender;
	sub.fullname = st->u->fullname;
	sub.rcpt = st->rcpt;
	sub.nrcpt = st->nrcpt;
	sub.fd = sp->fd;
	if (sendmail_submit(&sub) == 0 &&
	    sendmail_sender_kept(st->u->cfg, st->sender, sub.used))
		sendmail_smtp_reply("250 2.0.0 Ok: queued as %s", sub.qid);
	else if (sub.code == 250)
		sendmail_smtp_reply("250 2.0.0 Ok: queued as %s, sent as <%s>: "
		    "only root and the mail system may choose the sender",
		    sub.qid, sub.used);
	else if (sub.down)
		sendmail_smtp_reply("451 4.3.0 Error: the mail system is not "
		    "running; try again later");
	else if (sub.code < 400)
		sendmail_smtp_reply("451 4.3.0 Error: %s; try again later",
		    sub.text);
	else
		sendmail_smtp_reply("%u %s", sub.code, sub.text);
}

/* sendmail_smtp_data - DATA */
static void
sendmail_smtp_data(struct sendmail_smtp_s *st, const char *arg)
{
	struct sendmail_spool sp;

	if (!st->in_mail || st->nrcpt == 0) {
		sendmail_smtp_reply("503 5.5.1 Error: need %s command",
		    st->in_mail ? "RCPT" : "MAIL");
		return;
	}
	if (sendmail_spool_open(&sp, (uint64_t)cfg_int(st->u->cfg,
	    "message_size_limit")) == -1) {
		sendmail_smtp_reply("451 4.3.0 Error: cannot make a temporary "
		    "file");
		st->quit = EX_CANTCREAT;
		return;
	}
	sendmail_smtp_reply("354 End data with <CR><LF>.<CR><LF>");
	if (sendmail_smtp_content(st, &sp) == -1) {
		st->quit = EX_OK;	/* the input ended: nothing taken */
	} else if (sp.over)
		sendmail_smtp_reply("552 5.3.4 Error: message too large or "
		    "a line too long");
	else if (sendmail_spool_rewind(&sp) == -1)
		sendmail_smtp_reply("451 4.3.0 Error: %s", strerror(errno));
	else
		sendmail_smtp_submit(st, &sp);
	sendmail_spool_close(&sp);
	sendmail_smtp_reset(st);
}

/* the commands without a transaction of their own */
static void
sendmail_smtp_helo(struct sendmail_smtp_s *st, const char *arg)
{
	sendmail_smtp_reply("250 %s", cfg_str(st->u->cfg, "myhostname"));
}

static void
sendmail_smtp_ehlo(struct sendmail_smtp_s *st, const char *arg)
{
	printf("250-%s\r\n250-PIPELINING\r\n250-SIZE %lld\r\n"
	    "250-8BITMIME\r\n", cfg_str(st->u->cfg, "myhostname"),
	    cfg_int(st->u->cfg, "message_size_limit"));
	sendmail_smtp_reply("250 ENHANCEDSTATUSCODES");
}

static void
sendmail_smtp_rset(struct sendmail_smtp_s *st, const char *arg)
{
	sendmail_smtp_reset(st);
	sendmail_smtp_reply("250 2.0.0 Ok");
}

static void
sendmail_smtp_noop(struct sendmail_smtp_s *st, const char *arg)
{
	sendmail_smtp_reply("250 2.0.0 Ok");
}

static void
sendmail_smtp_vrfy(struct sendmail_smtp_s *st, const char *arg)
{
	sendmail_smtp_reply("252 2.0.0 Cannot VRFY; send some mail");
}

static void
sendmail_smtp_help(struct sendmail_smtp_s *st, const char *arg)
{
	sendmail_smtp_reply("214 2.0.0 HELO EHLO MAIL RCPT DATA RSET NOOP "
	    "VRFY QUIT");
}

static void
sendmail_smtp_quit(struct sendmail_smtp_s *st, const char *arg)
{
	sendmail_smtp_reply("221 2.0.0 Bye");
	st->quit = EX_OK;
}

static const struct {
	const char	*verb;
	void		(*fn)(struct sendmail_smtp_s *, const char *);
} sendmail_smtp_cmds[] = {
	{ "HELO", sendmail_smtp_helo }, { "EHLO", sendmail_smtp_ehlo },
	{ "MAIL", sendmail_smtp_mail }, { "RCPT", sendmail_smtp_rcpt },
	{ "DATA", sendmail_smtp_data }, { "RSET", sendmail_smtp_rset },
	{ "NOOP", sendmail_smtp_noop }, { "VRFY", sendmail_smtp_vrfy },
	{ "HELP", sendmail_smtp_help }, { "QUIT", sendmail_smtp_quit },
};

/* sendmail_smtp_command - one command line through the table */
static void
sendmail_smtp_command(struct sendmail_smtp_s *st, const char *line)
{
	const char *arg;
	size_t	 n, i;

	for (n = 0; line[n] != '\0' && line[n] != ' '; n++)
		;
	for (arg = line + n; *arg == ' '; arg++)
		;
	for (i = 0; i < NELEM(sendmail_smtp_cmds); i++)
		if (n == 4 && util_strncasecmp_ascii(line,
		    sendmail_smtp_cmds[i].verb, 4) == 0) {
			sendmail_smtp_cmds[i].fn(st, arg);
			return;
		}
	sendmail_smtp_reply("502 5.5.2 Error: command not recognized");
}

/* sendmail_smtp - see sendmail.h */
int
sendmail_smtp(const struct sendmail_user *u)
{
	struct sendmail_smtp_s st;
	struct buf line;
	int	 r;

	memset(&st, 0, sizeof(st));
	st.u = u;
	st.quit = -1;
	buf_init(&st.in, SENDMAIL_SMTP_DATA * 2);
	buf_init(&line, SENDMAIL_SMTP_LINE + 1);
	sendmail_smtp_reply("220 %s ESMTP %s", cfg_str(u->cfg, "myhostname"),
	    cfg_str(u->cfg, "mail_name"));
	while (st.quit == -1 && (r = sendmail_smtp_line(&st, &line,
	    SENDMAIL_SMTP_LINE)) != 0) {
		if (r == -1)
			sendmail_smtp_reply("500 5.5.0 Error: line too long");
		else if (memchr(line.data, '\0', line.len) != NULL)
			sendmail_smtp_reply("500 5.5.2 Error: NUL in a "
			    "command");
		else
			sendmail_smtp_command(&st, buf_cstr(&line));
	}
	sendmail_smtp_reset(&st);
	buf_free(&line);
	buf_free(&st.in);
	return st.quit == -1 ? EX_OK : st.quit;
}
