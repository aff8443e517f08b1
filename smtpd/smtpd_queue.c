/*
 * smtpd_queue.c - smtpd's two internal peers: qmgr and the auth broker.
 *
 * qmgr: after each commit smtpd sends IPC_QMGR_NEW with the queue id.  The
 * notice is only a hint: the file is already durable.  If qmgr is away the
 * notice is dropped and the connection closed; the next connection's HELLO
 * makes qmgr rescan the queue, so nothing waits for the periodic scan.
 *
 * auth: IPC_AUTH_RCPT asks whether a local address exists, IPC_AUTH_LOGIN
 * checks credentials, IPC_AUTH_SENDER asks who owns a sender address.  The
 * session pauses (SMTPD_PH_WAIT) until the answer.  A request without an
 * answer within SMTPD_AUTH_TIMEOUT_MS (SMTPD_LOGIN_TIMEOUT_MS for logins,
 * which the broker may hold back to slow down password guessing) gets a
 * temporary failure; a broken connection fails every waiting request
 * (fail closed, DESIGN rule 7).
 * Sockets are non-blocking; nothing here ever blocks the event loop.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "util.h"
#include "smtpd.h"

#define SMTPD_AUTH_TIMEOUT_MS	10000	/* address lookups */
#define SMTPD_LOGIN_TIMEOUT_MS	30000	/* logins: the broker may delay them */

/* smtpd_qmgr_close - forget the qmgr connection */
static void
smtpd_qmgr_close(struct smtpd *sd)
{
	if (sd->qmgr_ev != NULL)
		event_free(sd->qmgr_ev);
	sd->qmgr_ev = NULL;
	if (sd->qmgr_fd != -1)
		close(sd->qmgr_fd);
	sd->qmgr_fd = -1;
}

/* smtpd_qmgr_read - qmgr's HELLO answer, or its going away */
static void
smtpd_qmgr_read(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *sd = arg;
	struct ipc_msg m;
	int	 r;

	r = ipc_recv(sd->qmgr_fd, 0, &m);
	if (r == 1) {
		if (ipc_hello_check(&m, IPC_R_QMGR) == -1)
			smtpd_qmgr_close(sd);
		ipc_msg_free(&m);
		return;
	}
	if (r == -1 && errno == EAGAIN)
		return;
	smtpd_qmgr_close(sd);
}

/* smtpd_qmgr_notify - tell qmgr about a committed message */
void
smtpd_qmgr_notify(struct smtpd *sd, const char *qid)
{
	struct ipc_out o;
	int	 r;

	if (sd->qmgr_fd == -1) {
		sd->qmgr_fd = ipc_open("private/qmgr", IPC_R_SMTPD);
		if (sd->qmgr_fd == -1)
			return;
		sd->qmgr_ev = event_new(sd->base, sd->qmgr_fd,
		    EV_READ | EV_PERSIST, smtpd_qmgr_read, sd);
		event_add(sd->qmgr_ev, NULL);
	}
	ipc_out_init(&o);
	ipc_put_str(&o, qid);
	r = ipc_send_out(sd->qmgr_fd, IPC_QMGR_NEW, &o, -1);
	ipc_out_free(&o);
	if (r == -1) {
		log_warn("%s: qmgr notification failed (%s); qmgr will find "
		    "the message when it rescans", qid, strerror(errno));
		smtpd_qmgr_close(sd);
	}
}

/* smtpd_auth_unlink - take a session off the waiting list */
static void
smtpd_auth_unlink(struct smtpd *sd, struct smtpd_sess *s)
{
	struct smtpd_sess **pp;

	for (pp = &sd->auth_wait; *pp != NULL; pp = &(*pp)->next_pending)
		if (*pp == s) {
			*pp = s->next_pending;
			s->next_pending = NULL;
			return;
		}
}

/* smtpd_auth_dispatch - hand an answer to the waiting session's handler */
static void
smtpd_auth_dispatch(struct smtpd_sess *s, int result, const char *canon,
    char **owners, size_t nowners)
{
	int	 kind = s->pend_kind;

	smtpd_auth_unlink(s->sd, s);
	s->pend_kind = 0;
	s->phase = SMTPD_PH_CMD;
	if (kind == SMTPD_REQ_LOGIN)
		smtpd_sasl_done(s, result, canon);
	else if (kind == SMTPD_REQ_SENDER)
		smtpd_sender_done(s, result, owners, nowners);
	else
		smtpd_rcpt_lookup_done(s, result);
	smtpd_resume(s);
}

/* smtpd_auth_fail_all - the broker is gone: every waiter gets 4xx */
static void
smtpd_auth_fail_all(struct smtpd *sd)
{
	struct smtpd_sess *s;

	while ((s = sd->auth_wait) != NULL)
		smtpd_auth_dispatch(s, s->pend_kind == SMTPD_REQ_LOGIN ?
		    IPC_LOGIN_TEMPFAIL : IPC_LOOKUP_TEMPFAIL, "", NULL, 0);
}

/* smtpd_auth_close - forget the broker connection */
static void
smtpd_auth_close(struct smtpd *sd)
{
	if (sd->auth_ev != NULL)
		event_free(sd->auth_ev);
	sd->auth_ev = NULL;
	if (sd->auth_fd != -1)
		close(sd->auth_fd);
	sd->auth_fd = -1;
	smtpd_auth_fail_all(sd);
}

/* smtpd_auth_waiter - the session waiting for request id (and this type) */
static struct smtpd_sess *
smtpd_auth_waiter(struct smtpd *sd, uint32_t id, int kind)
{
	struct smtpd_sess *s;

	for (s = sd->auth_wait; s != NULL; s = s->next_pending)
		if (s->pend_id == id)
			return s->pend_kind == kind ? s : NULL;
	return NULL;
}

/* smtpd_auth_owners - the owner list of a SENDER answer; -1 = malformed */
static int
smtpd_auth_owners(struct ipc_in *in, char ***owners, size_t *n)
{
	uint32_t k, cnt = ipc_get_u32(in);

	*owners = NULL;
	*n = 0;
	if (in->err || cnt > 64)
		return -1;
	*owners = xcalloc(cnt + 1, sizeof(char *));
	for (k = 0; k < cnt; k++, (*n)++)
		if (((*owners)[k] = ipc_get_str(in, 1024)) == NULL)
			return -1;
	return 0;
}

/* smtpd_auth_reply - decode one answer of any kind; -1 = malformed */
static int
smtpd_auth_reply(struct smtpd *sd, const struct ipc_msg *m)
{
	struct ipc_in in;
	struct smtpd_sess *s;
	char	*canon = NULL, **owners = NULL;
	size_t	 n = 0;
	uint32_t id, result;
	int	 kind, bad;

	kind = m->type == IPC_AUTH_LOGIN_REPLY ? SMTPD_REQ_LOGIN :
	    m->type == IPC_AUTH_SENDER_REPLY ? SMTPD_REQ_SENDER :
	    SMTPD_REQ_RCPT;
	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	result = ipc_get_u32(&in);
	if (kind == SMTPD_REQ_LOGIN)
		bad = (canon = ipc_get_str(&in, 1024)) == NULL ||
		    result > IPC_LOGIN_TEMPFAIL;
	else if (kind == SMTPD_REQ_SENDER)
		bad = smtpd_auth_owners(&in, &owners, &n) == -1;
	else
		bad = result > IPC_LOOKUP_TEMPFAIL;
	bad |= ipc_get_end(&in) == -1;
	if (!bad && (s = smtpd_auth_waiter(sd, id, kind)) != NULL)
		smtpd_auth_dispatch(s, (int)result, canon, owners, n);
	free(canon);
	if (owners != NULL)
		cfg_list_free(owners, n);
	if (bad)
		log_warn("auth: malformed answer (type %u)", m->type);
	return bad ? -1 : 0;
}

/* smtpd_auth_read - frames from the broker */
static void
smtpd_auth_read(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *sd = arg;
	struct ipc_msg m;
	int	 r;

	for (;;) {
		r = ipc_recv(sd->auth_fd, IPC_R_AUTH, &m);
		if (r == -1 && errno == EAGAIN)
			return;
		if (r <= 0) {
			smtpd_auth_close(sd);
			return;
		}
		if (m.type == IPC_HELLO)
			r = ipc_hello_check(&m, IPC_R_AUTH) == -1 ? -1 : 0;
		else if (m.type == IPC_AUTH_RCPT_REPLY ||
		    m.type == IPC_AUTH_LOGIN_REPLY ||
		    m.type == IPC_AUTH_SENDER_REPLY)
			r = smtpd_auth_reply(sd, &m);
		else
			r = -1;
		ipc_msg_free(&m);
		if (r == -1) {
			smtpd_auth_close(sd);
			return;
		}
		if (sd->auth_fd == -1)
			return;
	}
}

/* smtpd_auth_tick - fail requests that waited too long */
static void
smtpd_auth_tick(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *sd = arg;
	struct smtpd_sess *s;
	uint64_t now = util_mono_ms(), limit;

again:
	for (s = sd->auth_wait; s != NULL; s = s->next_pending) {
		limit = smtpd_wait_limit(sd, s->pend_kind == SMTPD_REQ_LOGIN ?
		    SMTPD_LOGIN_TIMEOUT_MS : SMTPD_AUTH_TIMEOUT_MS);
		if (now - s->pend_since <= limit)
			continue;
		log_warn("auth: no answer within %llu ms; answering 4xx",
		    (unsigned long long)limit);
		smtpd_auth_dispatch(s, s->pend_kind == SMTPD_REQ_LOGIN ?
		    IPC_LOGIN_TEMPFAIL : IPC_LOOKUP_TEMPFAIL, "", NULL, 0);
		goto again;	/* the list changed */
	}
	smtpd_anvil_tick(sd);
}

/*
 * smtpd_auth_request - send a request (u32 id + body) to the broker; the
 * session waits for the answer.  0 = waiting, -1 = broker unreachable.
 */
int
smtpd_auth_request(struct smtpd_sess *s, int kind, uint32_t type,
    const struct ipc_out *body)
{
	struct smtpd *sd = s->sd;
	struct smtpd_sess **pp;
	struct ipc_out o;
	int	 r;

	if (sd->auth_fd == -1) {
		if ((sd->auth_fd = ipc_open("private/auth", IPC_R_SMTPD)) == -1) {
			log_warn("auth: cannot connect to private/auth: %s",
			    strerror(errno));
			return -1;
		}
		sd->auth_ev = event_new(sd->base, sd->auth_fd,
		    EV_READ | EV_PERSIST, smtpd_auth_read, sd);
		event_add(sd->auth_ev, NULL);
	}
	s->pend_id = ++sd->auth_next;
	ipc_out_init(&o);
	ipc_put_u32(&o, s->pend_id);
	if (body->b.len > 0)
		buf_append(&o.b, body->b.data, body->b.len);
	r = ipc_send_out(sd->auth_fd, type, &o, -1);
	ipc_out_free(&o);
	if (r == -1) {
		smtpd_auth_close(sd);
		return -1;
	}
	s->pend_kind = kind;
	s->pend_since = util_mono_ms();
	s->phase = SMTPD_PH_WAIT;
	for (pp = &sd->auth_wait; *pp != NULL; pp = &(*pp)->next_pending)
		;
	*pp = s;
	s->next_pending = NULL;
	return 0;
}

/* smtpd_auth_lookup - does a local address exist; 0 = session waits */
int
smtpd_auth_lookup(struct smtpd_sess *s, const struct addr *a)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, a->local);
	ipc_put_str(&o, a->domain);
	r = smtpd_auth_request(s, SMTPD_REQ_RCPT, IPC_AUTH_RCPT, &o);
	ipc_out_free(&o);
	return r;
}

/* smtpd_auth_forget - a session goes away while it may be waiting */
void
smtpd_auth_forget(struct smtpd_sess *s)
{
	smtpd_auth_unlink(s->sd, s);
}

/* smtpd_queue_init - no connections yet; they are made on first use */
void
smtpd_queue_init(struct smtpd *sd)
{
	struct timeval tv = { 1, 0 };

	sd->qmgr_fd = -1;
	sd->auth_fd = -1;
	sd->auth_timer = event_new(sd->base, -1, EV_PERSIST, smtpd_auth_tick,
	    sd);
	event_add(sd->auth_timer, &tv);
}
