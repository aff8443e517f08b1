/*
 * smtpd_auth.c - smtpd's requests to the auth broker.
 *
 * IPC_AUTH_RCPT asks whether a local address exists, IPC_AUTH_LOGIN
 * checks credentials, IPC_AUTH_SENDER asks who owns a sender address,
 * IPC_DKIM_KEYS and IPC_DKIM_SIGN get the key table and signatures
 * (smtpd_dkim.c).  smtpd_auth_kinds[] gives each kind its answer type,
 * decoder, handler and wait.  The connection and the waiting are
 * lib/server/ipc_client's: the session pauses (SMTPD_PH_WAIT) with its
 * ipc_pending on the connection's list until the answer.  A request
 * without an answer within SMTPD_AUTH_TIMEOUT_MS (SMTPD_LOGIN_TIMEOUT_MS
 * for logins, which the broker may hold back to slow down password
 * guessing; both capped below smtpd_timeout by smtpd_wait_limit) gets a
 * temporary failure; a broken connection fails every waiting request
 * (fail closed, DESIGN rule 7).  Nothing here blocks.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cfg.h"
#include "dkim.h"
#include "ipc.h"
#include "ipc_client.h"
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

/* smtpd_auth_dispatch - hand an answer to the waiting session's handler */
static void
smtpd_auth_dispatch(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	const struct smtpd_auth_kind *k = smtpd_auth_kind_of(s->pend_kind);

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

/* smtpd_listed_answer - AUTH_RCPT answered for the sender */
static void
smtpd_listed_answer(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	smtpd_check_listed_done(s, a->result);
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
	{ SMTPD_REQ_LISTED, IPC_AUTH_RCPT_REPLY, smtpd_dec_lookup,
	    smtpd_listed_answer, IPC_LOOKUP_TEMPFAIL, SMTPD_AUTH_TIMEOUT_MS },
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

/*
 * smtpd_auth_answer - lib/server/ipc_client: the answer (in, after the
 * id), or a timeout or a broken connection (4xx for the session)
 */
static int
smtpd_auth_answer(struct ipc_pending *p, int status, struct ipc_in *in)
{
	struct smtpd_sess *s = (struct smtpd_sess *)(void *)((char *)p -
	    offsetof(struct smtpd_sess, auth_pend));
	const struct smtpd_auth_kind *k = smtpd_auth_kind_of(s->pend_kind);
	struct smtpd_answer a;
	int	 r;

	if (status == IPC_CLIENT_TIMEOUT)
		log_warn("auth: no answer within %llu ms; answering 4xx",
		    (unsigned long long)p->wait_ms);
	if (status != IPC_CLIENT_OK || k == NULL) {
		smtpd_auth_fail(s);
		return 0;
	}
	memset(&a, 0, sizeof(a));
	if ((r = k->decode(in, &a)) == -1 || ipc_get_end(in) == -1) {
		log_warn("auth: malformed answer (type %u)", k->reply);
		smtpd_auth_fail(s);
		r = -1;
	} else
		smtpd_auth_dispatch(s, &a);
	smtpd_answer_free(&a);
	return r;
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
	const struct smtpd_auth_kind *k = smtpd_auth_kind_of(kind);

	if (k == NULL)
		return -1;
	if (ipc_client_send(sd->auth, type, body, &s->auth_pend, k->reply,
	    smtpd_wait_limit(sd, k->wait_ms), smtpd_auth_answer) == -1) {
		log_warn("auth: cannot reach private/auth: %s",
		    strerror(errno));
		return -1;
	}
	s->pend_kind = kind;
	s->phase = SMTPD_PH_WAIT;
	return 0;
}

/* smtpd_auth_lookup - does a local address exist; 0 = session waits */
int
smtpd_auth_lookup(struct smtpd_sess *s, const struct addr *a)
{
	return smtpd_auth_lookup_kind(s, a, SMTPD_REQ_RCPT);
}

/* smtpd_auth_lookup_kind - the same, answered to kind's handler */
int
smtpd_auth_lookup_kind(struct smtpd_sess *s, const struct addr *a, int kind)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, a->local);
	ipc_put_str(&o, a->domain);
	r = smtpd_auth_request(s, kind, IPC_AUTH_RCPT, &o);
	ipc_out_free(&o);
	return r;
}

/* smtpd_auth_forget - a session goes away while it may be waiting */
void
smtpd_auth_forget(struct smtpd_sess *s)
{
	ipc_client_cancel(&s->auth_pend);
}

/* smtpd_auth_init - the broker's client; connected on first use */
void
smtpd_auth_init(struct smtpd *sd)
{
	sd->auth = ipc_client_new(sd->base, "private/auth", IPC_R_SMTPD,
	    IPC_R_AUTH, "auth");
}
