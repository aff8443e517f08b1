/*
 * smtpd_dkim.c - DKIM-signing of outbound mail (RFC 6376, RFC 8463).
 *
 * Which mail: from a client that logged in or is in mynetworks (mail that
 * leaves from here), never mail from the internet; with dkim_signing =
 * yes and a key for the From domain (or its closest parent domain that
 * has keys, so MAILER-DAEMON@mail.example.com is signed with example.com's
 * keys).  The From header must hold exactly one mailbox; otherwise the
 * message goes unsigned and a line says why.
 *
 * How: while DATA streams in, the header block is kept (bounded) and the
 * body is canonicalized (relaxed) and hashed, so nothing is read twice.
 * At the final dot, for every key of the domain (RSA and Ed25519: dual
 * signing), the DKIM-Signature without its b= value is built here, the
 * SHA-256 digest of what it covers goes to the broker (IPC_DKIM_SIGN),
 * and the signature that comes back completes the field, which is
 * written into the queue file as a P record before the commit: a message
 * is signed once, whatever retries follow.  The key table (domain,
 * selector, algorithm) is asked for once per process (IPC_DKIM_KEYS).
 *
 * Errors: when keys exist for the domain but the broker cannot sign, the
 * message is refused with 451 (sent unsigned it could be refused by
 * receivers with DMARC): the client tries again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cfg.h"
#include "dkim.h"
#include "ipc.h"
#include "log.h"
#include "qfile.h"
#include "util.h"
#include "smtpd.h"

struct smtpd_dkim {
	struct dkim_msg	 m;
	unsigned char	 bh[DKIM_DIGEST];
	char		 domain[256];	/* d=: the key's domain */
	size_t		 next;		/* index into sd->dkim_keys */
	struct dkim_signer sg;		/* the signature being made */
	int		 have_sg;
	int		 nsigned;
};

/* smtpd_dkim_start - at DATA: keep headers and hash the body? */
void
smtpd_dkim_start(struct smtpd_sess *s)
{
	struct smtpd *sd = s->sd;

	smtpd_dkim_forget(s);
	if (!sd->dkim_on || (s->sasl_user == NULL && !s->mynetworks) ||
	    (sd->dkim_known && sd->dkim_nkeys == 0))
		return;
	s->dkim = xcalloc(1, sizeof(*s->dkim));
	dkim_msg_init(&s->dkim->m);
}

/* smtpd_dkim_line - one content line (without its CR LF) */
void
smtpd_dkim_line(struct smtpd_sess *s, const unsigned char *p, size_t len)
{
	if (s->dkim != NULL)
		dkim_msg_line(&s->dkim->m, (const char *)p, len);
}

/* smtpd_dkim_forget - drop the state */
void
smtpd_dkim_forget(struct smtpd_sess *s)
{
	struct smtpd_dkim *k = s->dkim;

	if (k == NULL)
		return;
	dkim_msg_free(&k->m);
	if (k->have_sg)
		dkim_signer_free(&k->sg);
	free(k);
	s->dkim = NULL;
}

/*
 * smtpd_dkim_next - sign with the next key of the domain: 1 when a request
 * went out (the session waits), 0 when all are done, -1 on failure
 */
static int
smtpd_dkim_next(struct smtpd_sess *s)
{
	struct smtpd *sd = s->sd;
	struct smtpd_dkim *k = s->dkim;
	const struct dkim_keyref *key;
	unsigned char d[DKIM_DIGEST];
	struct ipc_out o;
	int	 r;

	for (; k->next < sd->dkim_nkeys; k->next++)
		if (util_strcasecmp_ascii(sd->dkim_keys[k->next].domain,
		    k->domain) == 0)
			break;
	if (k->next >= sd->dkim_nkeys)
		return 0;
	key = &sd->dkim_keys[k->next];
	if (k->have_sg)
		dkim_signer_free(&k->sg);
	k->have_sg = 1;
	if (dkim_sign_begin(&k->sg, key->alg, key->domain, key->selector,
	    (int64_t)time(NULL), &k->m.h, k->bh) == -1) {
		log_warn("%s: not DKIM-signed: the header block cannot be "
		    "signed (too many fields)", s->qw.qid);
		return 0;
	}
	dkim_sign_digest(&k->sg, d);
	ipc_out_init(&o);
	ipc_put_dkim_sign(&o, key, d);
	r = smtpd_auth_request(s, SMTPD_REQ_DKIM_SIGN, IPC_DKIM_SIGN, &o);
	ipc_out_free(&o);
	return r == 0 ? 1 : -1;
}

/*
 * smtpd_dkim_choose - after the key table is known: which domain signs,
 * and the first signature; as smtpd_dkim_end
 */
static int
smtpd_dkim_choose(struct smtpd_sess *s)
{
	struct smtpd_dkim *k = s->dkim;
	const char *why;

	switch (dkim_choose(&k->m.h, s->sd->dkim_keys, s->sd->dkim_nkeys,
	    k->domain, sizeof(k->domain), &why)) {
	case 1:
		k->next = 0;
		return smtpd_dkim_next(s);
	case -1:
		log_info("%s: not DKIM-signed: %s", s->qw.qid, why);
		break;
	}
	return 0;
}

/*
 * smtpd_dkim_end - the final dot: 1 when the session waits for the
 * broker (smtpd_data_commit follows), 0 to commit now (unsigned, or no
 * signing for this message), -1 when it cannot be signed now (451)
 */
int
smtpd_dkim_end(struct smtpd_sess *s)
{
	struct smtpd_dkim *k = s->dkim;
	struct ipc_out o;
	int	 r;

	if (k == NULL)
		return 0;
	dkim_body_final(&k->m.b, k->bh);
	if (s->sd->dkim_known)
		return smtpd_dkim_choose(s);
	ipc_out_init(&o);
	r = smtpd_auth_request(s, SMTPD_REQ_DKIM_KEYS, IPC_DKIM_KEYS, &o);
	ipc_out_free(&o);
	return r == 0 ? 1 : -1;
}

/* smtpd_dkim_continue - after an answer: next step, commit, or 451 */
static void
smtpd_dkim_continue(struct smtpd_sess *s, int r)
{
	if (r == 1)
		return;			/* another request is out */
	smtpd_dkim_forget(s);
	if (r == 0)
		smtpd_data_commit(s);
	else
		smtpd_data_fail(s, SMTPD_DKIM_FAIL);
}

/* smtpd_dkim_keys_answer - the key table came (or not) */
void
smtpd_dkim_keys_answer(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	struct smtpd *sd = s->sd;

	if (s->dkim == NULL)
		return;
	if (a->result != IPC_DKIM_OK) {
		log_warn("%s: the DKIM key table cannot be had from the auth "
		    "broker; the message is refused for now", s->qw.qid);
		smtpd_dkim_continue(s, -1);
		return;
	}
	if (!sd->dkim_known) {
		sd->dkim_keys = xcalloc(a->nkeys + 1, sizeof(*sd->dkim_keys));
		memcpy(sd->dkim_keys, a->keys, a->nkeys *
		    sizeof(*sd->dkim_keys));
		sd->dkim_nkeys = a->nkeys;
		sd->dkim_known = 1;
	}
	smtpd_dkim_continue(s, smtpd_dkim_choose(s));
}

/* smtpd_dkim_sign_answer - a signature came (or not) */
void
smtpd_dkim_sign_answer(struct smtpd_sess *s, const struct smtpd_answer *a)
{
	struct smtpd_dkim *k = s->dkim;
	struct buf field;
	int	 ok;

	if (k == NULL)
		return;
	if (a->result != IPC_DKIM_OK) {
		log_warn("%s: the auth broker did not sign with DKIM key %s/%s",
		    s->qw.qid, k->sg.domain, k->sg.selector);
		smtpd_dkim_continue(s, -1);
		return;
	}
	buf_init(&field, QFILE_P_MAX);
	ok = dkim_sign_finish(&k->sg, a->sig, a->siglen, &field) == 0 &&
	    qfile_put_prepend(&s->qw, field.data, field.len) == 0;
	buf_free(&field);
	if (!ok) {
		log_err("%s: cannot add the DKIM-Signature: %s", s->qw.qid,
		    strerror(errno));
		smtpd_dkim_continue(s, -1);
		return;
	}
	dkim_log_added(s->qw.qid, &s->sd->dkim_keys[k->next]);
	k->nsigned++;
	k->next++;
	smtpd_dkim_continue(s, smtpd_dkim_next(s));
}
