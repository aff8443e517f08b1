/*
 * smtpd_queue.c - smtpd's two internal peers: qmgr and the auth broker.
 *
 * qmgr: after each commit smtpd sends IPC_QMGR_NEW with the queue id.  The
 * notice is only a hint: the file is already durable.  If qmgr is away the
 * notice is dropped and the connection closed; the next connection's HELLO
 * makes qmgr rescan the queue, so nothing waits for the periodic scan.
 *
 * auth: IPC_AUTH_RCPT asks whether a local address exists, IPC_AUTH_LOGIN
 * checks credentials, IPC_AUTH_SENDER asks who owns a sender address,
 * IPC_DKIM_KEYS and IPC_DKIM_SIGN get the key table and signatures
 * (smtpd_dkim.c).  smtpd_auth_kinds[] gives each kind its answer type,
 * decoder, handler and wait.  The session pauses (SMTPD_PH_WAIT) until
 * the answer.  A request without an
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
#include "dkim.h"
#include "ipc.h"
#include "log.h"
#include "util.h"
#include "smtpd.h"

#define SMTPD_AUTH_TIMEOUT_MS	10000	/* address lookups */
#define SMTPD_LOGIN_TIMEOUT_MS	30000	/* logins: the broker may delay them */

/* one kind of request to the broker */
struct smtpd_auth_kind {
	int		 kind;		/* SMTPD_REQ_* */
	uint32_t	 reply;		/* the IPC type of its answer */
	int		(*decode)(struct ipc_in *, struct smtpd_answer *);
	void		(*done)(struct smtpd_sess *,
			    const struct smtpd_answer *);
	int		 tempfail;	/* result when the broker fails */
	uint64_t	 wait_ms;
};

static const struct smtpd_auth_kind *smtpd_auth_kind_of(int);

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
smtpd_auth_dispatch(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	const struct smtpd_auth_kind *k = smtpd_auth_kind_of(s->pend_kind);

	smtpd_auth_unlink(s->sd, s);
	s->pend_kind = 0;
	s->phase = SMTPD_PH_CMD;
	if (k != NULL)
		k->done(s, a);
	if (s->phase != SMTPD_PH_WAIT)	/* else: another request went out */
		smtpd_resume(s);
}

/* smtpd_auth_fail - the temporary failure answer of a session's request */
static void
smtpd_auth_fail(struct smtpd_sess *s)
{
	const struct smtpd_auth_kind *k = smtpd_auth_kind_of(s->pend_kind);
	struct smtpd_answer a;

	memset(&a, 0, sizeof(a));
	a.result = k != NULL ? k->tempfail : IPC_LOOKUP_TEMPFAIL;
	smtpd_auth_dispatch(s, &a);
}

/* smtpd_auth_fail_all - the broker is gone: every waiter gets 4xx */
static void
smtpd_auth_fail_all(struct smtpd *sd)
{
	while (sd->auth_wait != NULL)
		smtpd_auth_fail(sd->auth_wait);
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

/* smtpd_rcpt_lookup_answer - AUTH_RCPT answered: smtpd_proto.c */
static void
smtpd_rcpt_lookup_answer(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	smtpd_rcpt_lookup_done(s, a->result);
}

/* smtpd_sasl_answer - AUTH_LOGIN answered: smtpd_sasl.c */
static void
smtpd_sasl_answer(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	smtpd_sasl_done(s, a->result, a->canon != NULL ? a->canon : "");
}

/* smtpd_sender_answer - AUTH_SENDER answered: smtpd_sasl.c */
static void
smtpd_sender_answer(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	smtpd_sender_done(s, a->result, a->owners, a->nowners);
}

/* smtpd_dec_lookup - AUTH_RCPT_REPLY: u32 IPC_LOOKUP_* */
static int
smtpd_dec_lookup(struct ipc_in *in, struct smtpd_answer *a)
{
	a->result = (int)ipc_get_u32(in);
	return a->result > IPC_LOOKUP_TEMPFAIL ? -1 : 0;
}

/* smtpd_dec_login - AUTH_LOGIN_REPLY: u32 IPC_LOGIN_*, str login */
static int
smtpd_dec_login(struct ipc_in *in, struct smtpd_answer *a)
{
	a->result = (int)ipc_get_u32(in);
	a->canon = ipc_get_str(in, 1024);
	return a->canon == NULL || a->result > IPC_LOGIN_TEMPFAIL ? -1 : 0;
}

/* smtpd_dec_owners - AUTH_SENDER_REPLY: the owner list */
static int
smtpd_dec_owners(struct ipc_in *in, struct smtpd_answer *a)
{
	uint32_t k, cnt;

	a->result = (int)ipc_get_u32(in);
	cnt = ipc_get_u32(in);
	if (in->err || cnt > 64)
		return -1;
	a->owners = xcalloc(cnt + 1, sizeof(char *));
	for (k = 0; k < cnt; k++, a->nowners++)
		if ((a->owners[k] = ipc_get_str(in, 1024)) == NULL)
			return -1;
	return 0;
}

/* smtpd_dec_keys - DKIM_KEYS_REPLY: the broker's key table */
static int
smtpd_dec_keys(struct ipc_in *in, struct smtpd_answer *a)
{
	a->result = IPC_DKIM_OK;
	a->keys = ipc_get_dkim_keys(in, &a->nkeys);
	return a->keys == NULL ? -1 : 0;
}

/* smtpd_dec_sig - DKIM_SIGN_REPLY: u32 IPC_DKIM_*, bytes signature */
static int
smtpd_dec_sig(struct ipc_in *in, struct smtpd_answer *a)
{
	a->result = (int)ipc_get_u32(in);
	a->sig = ipc_get_bytes(in, DKIM_SIG_MAX, &a->siglen);
	return a->sig == NULL || a->result > IPC_DKIM_FAIL ||
	    (a->result == IPC_DKIM_OK && a->siglen == 0) ? -1 : 0;
}

/* the requests to the broker: answer type, decoder, handler, 4xx result */
static const struct smtpd_auth_kind smtpd_auth_kinds[] = {
	{ SMTPD_REQ_RCPT, IPC_AUTH_RCPT_REPLY, smtpd_dec_lookup,
	    smtpd_rcpt_lookup_answer, IPC_LOOKUP_TEMPFAIL,
	    SMTPD_AUTH_TIMEOUT_MS },
	{ SMTPD_REQ_LOGIN, IPC_AUTH_LOGIN_REPLY, smtpd_dec_login,
	    smtpd_sasl_answer, IPC_LOGIN_TEMPFAIL, SMTPD_LOGIN_TIMEOUT_MS },
	{ SMTPD_REQ_SENDER, IPC_AUTH_SENDER_REPLY, smtpd_dec_owners,
	    smtpd_sender_answer, IPC_LOOKUP_TEMPFAIL, SMTPD_AUTH_TIMEOUT_MS },
	{ SMTPD_REQ_DKIM_KEYS, IPC_DKIM_KEYS_REPLY, smtpd_dec_keys,
	    smtpd_dkim_keys_answer, IPC_DKIM_FAIL, SMTPD_AUTH_TIMEOUT_MS },
	{ SMTPD_REQ_DKIM_SIGN, IPC_DKIM_SIGN_REPLY, smtpd_dec_sig,
	    smtpd_dkim_sign_answer, IPC_DKIM_FAIL, SMTPD_AUTH_TIMEOUT_MS },
};

/* smtpd_auth_kind_of - the table row of a request kind */
static const struct smtpd_auth_kind *
smtpd_auth_kind_of(int kind)
{
	size_t	 i;

	for (i = 0; i < NELEM(smtpd_auth_kinds); i++)
		if (smtpd_auth_kinds[i].kind == kind)
			return &smtpd_auth_kinds[i];
	return NULL;
}

/* smtpd_answer_free - release what a decoder made */
static void
smtpd_answer_free(struct smtpd_answer *a)
{
	free(a->canon);
	if (a->owners != NULL)
		cfg_list_free(a->owners, a->nowners);
	free(a->keys);
}

/* smtpd_auth_reply - decode one answer of any kind; -1 = malformed */
static int
smtpd_auth_reply(struct smtpd *sd, const struct ipc_msg *m)
{
	const struct smtpd_auth_kind *k = NULL;
	struct smtpd_answer a;
	struct ipc_in in;
	struct smtpd_sess *s;
	uint32_t id;
	size_t	 i;
	int	 bad;

	for (i = 0; i < NELEM(smtpd_auth_kinds) && k == NULL; i++)
		if (smtpd_auth_kinds[i].reply == m->type)
			k = &smtpd_auth_kinds[i];
	if (k == NULL)
		return -1;
	memset(&a, 0, sizeof(a));
	ipc_in_init(&in, m);
	id = ipc_get_u32(&in);
	bad = k->decode(&in, &a) == -1;
	bad |= ipc_get_end(&in) == -1;
	if (!bad && (s = smtpd_auth_waiter(sd, id, k->kind)) != NULL)
		smtpd_auth_dispatch(s, &a);
	smtpd_answer_free(&a);
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
		else
			r = smtpd_auth_reply(sd, &m);
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
	const struct smtpd_auth_kind *k;
	struct smtpd_sess *s;
	uint64_t now = util_mono_ms(), limit;

again:
	for (s = sd->auth_wait; s != NULL; s = s->next_pending) {
		k = smtpd_auth_kind_of(s->pend_kind);
		limit = smtpd_wait_limit(sd, k != NULL ? k->wait_ms :
		    SMTPD_AUTH_TIMEOUT_MS);
		if (now - s->pend_since <= limit)
			continue;
		log_warn("auth: no answer within %llu ms; answering 4xx",
		    (unsigned long long)limit);
		smtpd_auth_fail(s);
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
