/*
 * sendmail_submit.c - one message to pickup(8), and what the outcome
 * means as an exit status.
 *
 *	connect queue_directory/public/pickup, HELLO
 *	PICKUP_MAIL, PICKUP_RCPT..., PICKUP_BEGIN	-> 354 (or a refusal)
 *	PICKUP_DATA... (the spool), PICKUP_END		-> 250 once committed
 *
 * pickup may refuse at any point and close; whatever it said last is the
 * outcome.  A pickup that cannot be reached means the mail system is not
 * running: nothing was queued, and the caller exits EX_TEMPFAIL so that
 * the program that called sendmail keeps the message (youju has no
 * maildrop directory to spool into: a world-writable drop directory is
 * what a set-gid postdrop guards in Postfix, and youju has no set-id
 * program).
 *
 * Errors: -1 with sub->down, sub->code and sub->text saying why.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "cfg.h"
#include "ipc.h"
#include "util.h"
#include "sendmail.h"

#define SENDMAIL_WAIT_MS	120000	/* for a reply; DKIM, fsync */
#define SENDMAIL_DATA_MAX	IPC_MAX_PAYLOAD

/* sendmail_fail - what went wrong, as the outcome's text; -1 */
static int __attribute__((format(printf, 2, 3)))
sendmail_fail(struct sendmail_sub *sub, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(sub->text, sizeof(sub->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* sendmail_reply - wait for PICKUP_REPLY: its code, or -1 */
static int
sendmail_reply(struct sendmail_sub *sub, int fd)
{
	uint64_t deadline = util_mono_ms() + SENDMAIL_WAIT_MS;
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct ipc_msg m;
	struct ipc_in in;
	char	*text = NULL, *used = NULL;
	int	 r;

	sub->code = 0;		/* no answer (yet): nothing is queued */
	for (;;) {
		if (util_mono_ms() >= deadline)
			return sendmail_fail(sub, "pickup did not answer in "
			    "%d s", SENDMAIL_WAIT_MS / 1000);
		r = poll(&pfd, 1, (int)(deadline - util_mono_ms()));
		if (r == -1 && errno != EINTR)
			return sendmail_fail(sub, "poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if ((r = ipc_recv(fd, IPC_R_PICKUP, &m)) == 1)
			break;
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			return sendmail_fail(sub, "pickup closed the "
			    "connection without an answer");
	}
	ipc_in_init(&in, &m);
	sub->code = ipc_get_u32(&in);
	text = ipc_get_str(&in, 1024);
	used = ipc_get_str(&in, 1024);
	r = ipc_get_end(&in) == -1 || m.type != IPC_PICKUP_REPLY ||
	    sub->code < 200 || sub->code > 599 ? -1 : 0;
	if (r == 0) {
		util_strlcpy(sub->text, text, sizeof(sub->text));
		if (sub->code == 354)	/* only the 354 names it */
			util_strlcpy(sub->used, used, sizeof(sub->used));
	} else {
		sub->code = 0;
		sendmail_fail(sub, "malformed answer from pickup");
	}
	free(text);
	free(used);
	ipc_msg_free(&m);
	return r == 0 ? (int)sub->code : -1;
}

/* sendmail_rcpts - the recipients in as few PICKUP_RCPT frames as fit */
static int
sendmail_rcpts(struct sendmail_sub *sub, int fd)
{
	struct ipc_out o;
	size_t	 i = 0, k, room;
	int	 r = 0;

	while (r == 0 && i < sub->nrcpt) {
		room = IPC_MAX_PAYLOAD - 4;
		for (k = i; k < sub->nrcpt && 4 + strlen(sub->rcpt[k]) <= room;
		    k++)
			room -= 4 + strlen(sub->rcpt[k]);
		if (k == i)
			return sendmail_fail(sub, "recipient too long");
		ipc_out_init(&o);
		ipc_put_u32(&o, (uint32_t)(k - i));
		for (; i < k; i++)
			ipc_put_str(&o, sub->rcpt[i]);
		r = ipc_send_out(fd, IPC_PICKUP_RCPT, &o, -1);
		ipc_out_free(&o);
	}
	return r;
}

/* sendmail_envelope - MAIL, RCPT..., BEGIN; 0 after a 354 */
static int
sendmail_envelope(struct sendmail_sub *sub, int fd)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_u32(&o, sub->flags);
	ipc_put_str(&o, sub->sender != NULL ? sub->sender : "");
	ipc_put_str(&o, sub->fullname != NULL ? sub->fullname : "");
	r = ipc_send_out(fd, IPC_PICKUP_MAIL, &o, -1);
	ipc_out_free(&o);
	if (r == -1 || sendmail_rcpts(sub, fd) == -1 ||
	    ipc_send(fd, IPC_PICKUP_BEGIN, NULL, 0, -1) == -1) {
		/* pickup may have refused and closed: its reason first */
		if (sendmail_reply(sub, fd) == -1 && sub->text[0] == '\0')
			sendmail_fail(sub, "sending the envelope: %s",
			    strerror(errno));
		return -1;
	}
	return sendmail_reply(sub, fd) == 354 ? 0 : -1;
}

/* sendmail_content - the spool in PICKUP_DATA frames, then PICKUP_END */
static int
sendmail_content(struct sendmail_sub *sub, int fd)
{
	char	*b = xmalloc(SENDMAIL_DATA_MAX);
	ssize_t	 n;
	int	 r = 0;

	while (r == 0 && (n = util_read_full(sub->fd, b,
	    SENDMAIL_DATA_MAX)) > 0)
		r = ipc_send(fd, IPC_PICKUP_DATA, b, (size_t)n, -1);
	free(b);
	if (r == 0 && n == -1) {
		sendmail_fail(sub, "reading the spooled message: %s",
		    strerror(errno));
		return -1;
	}
	if (r == 0)
		r = ipc_send(fd, IPC_PICKUP_END, NULL, 0, -1);
	/* a refusal on the way closes the connection: read why */
	return sendmail_reply(sub, fd) == 250 ? 0 : -1;
}

/* sendmail_submit - see sendmail.h */
int
sendmail_submit(struct sendmail_sub *sub)
{
	struct timeval tv = { SENDMAIL_WAIT_MS / 1000, 0 };
	char	 path[4096];
	const char *q;
	int	 fd, r;

	sub->down = 0;
	sub->code = 0;
	sub->text[0] = sub->used[0] = sub->qid[0] = '\0';
	if (util_fmt(path, sizeof(path), "%s/%s", sub->queue_dir,
	    IPC_PICKUP_SOCKET) == -1)
		return sendmail_fail(sub, "queue_directory name too long");
	if ((fd = ipc_connect(path)) == -1) {
		sub->down = 1;
		return sendmail_fail(sub, "cannot connect to %s: %s", path,
		    strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (ipc_hello_client(fd, IPC_R_SENDMAIL, IPC_R_PICKUP) == -1) {
		sub->down = 1;
		close(fd);
		return sendmail_fail(sub, "%s does not answer: %s", path,
		    strerror(errno));
	}
	r = sendmail_envelope(sub, fd);
	if (r == 0)
		r = sendmail_content(sub, fd);
	close(fd);
	if (r == 0 && (q = strstr(sub->text, "queued as ")) != NULL)
		util_strlcpy(sub->qid, q + 10, sizeof(sub->qid));
	return r;
}

/* sendmail_sender_kept - did pickup take the sender asked for (want) */
int
sendmail_sender_kept(const struct cfg *cfg, const char *want,
    const char *used)
{
	char	 a[ADDR_BUFSZ];
	const char *why;

	if (addr_local(want, ADDR_F_SENDER | ADDR_F_NULL_OK,
	    cfg_bool(cfg, "append_at_myorigin") ? cfg_str(cfg, "myorigin") :
	    NULL, a, &why) == -1)
		return 0;
	return strcmp(a, used) == 0;
}

/* the exit status of a refusal, by its enhanced status code */
static const struct {
	const char	*prefix;
	int		 status;
} sendmail_exits[] = {
	{ "5.1.", EX_NOUSER },		/* a bad or unknown address */
	{ "5.3.4", EX_DATAERR },	/* too large */
	{ "5.6.", EX_DATAERR },		/* malformed content */
	{ "5.5.1 no recipients", EX_USAGE },
	{ "5.7.", EX_NOPERM },
};

/* sendmail_exit - see sendmail.h */
int
sendmail_exit(const struct sendmail_sub *sub)
{
	size_t	 i;

	if (sub->down || sub->code == 0 || (sub->code >= 400 &&
	    sub->code < 500))
		return EX_TEMPFAIL;	/* nothing queued: try again */
	for (i = 0; i < NELEM(sendmail_exits); i++)
		if (strncmp(sub->text, sendmail_exits[i].prefix,
		    strlen(sendmail_exits[i].prefix)) == 0)
			return sendmail_exits[i].status;
	if (sub->code == 501 || sub->code == 503)
		return EX_SOFTWARE;	/* pickup and sendmail disagree */
	return EX_UNAVAILABLE;
}
