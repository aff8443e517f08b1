/*
 * qmgr_dkim.c - DKIM signatures on the reports qmgr writes.
 *
 * A bounce, delay or success report is mail from this server (From:
 * MAILER-DAEMON@$myhostname), so it is signed like the mail users send
 * (smtpd_dkim.c): with the keys of the From domain or its closest parent
 * that has keys, every key of that domain, by the auth broker - qmgr
 * never sees a key.  qmgr asks for the key table once and keeps it; each
 * report costs one blocking request per key on a kept connection to
 * private/auth, at most QMGR_DKIM_WAIT_MS each.
 *
 * A report that cannot be signed (no broker, a timeout, a refusal) goes
 * out unsigned with a log line rather than not at all: a report that does
 * not arrive is worse than one a receiver may score down.  After such a
 * failure the broker is left alone for QMGR_DKIM_PAUSE seconds, so a
 * broker that hangs cannot slow the queue down report after report.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "dkim.h"
#include "ipc.h"
#include "log.h"
#include "qfile.h"
#include "util.h"
#include "qmgr.h"

#define QMGR_DKIM_WAIT_MS	3000
#define QMGR_DKIM_PAUSE		60

static struct {
	int		 fd;		/* to private/auth, or -1 */
	uint32_t	 id;
	int		 known;		/* the key table came */
	struct dkim_keyref *keys;
	size_t		 nkeys;
	time_t		 pause_until;
} qd = { -1, 0, 0, NULL, 0, 0 };

/* qmgr_dkim_drop - close the connection and pause after a failure */
static void
qmgr_dkim_drop(const char *qid, const char *what)
{
	log_warn("%s: not DKIM-signed: the auth broker %s (%s); reports "
	    "go out unsigned for %d s", qid, what, strerror(errno),
	    QMGR_DKIM_PAUSE);
	if (qd.fd != -1)
		close(qd.fd);
	qd.fd = -1;
	qd.pause_until = time(NULL) + QMGR_DKIM_PAUSE;
}

/* qmgr_dkim_out - a request's encoder, with its id */
static void
qmgr_dkim_out(struct ipc_out *o)
{
	ipc_out_init(o);
	ipc_put_u32(o, ++qd.id);
}

/*
 * qmgr_dkim_call - one request o (from qmgr_dkim_out) to the broker,
 * connecting first when needed; the answer's payload after its id is read
 * through in.  0, or -1 after qmgr_dkim_drop.  o is freed.
 */
static int
qmgr_dkim_call(const char *qid, uint32_t type, struct ipc_out *o,
    uint32_t reply, struct ipc_msg *m, struct ipc_in *in)
{
	int	 r = -1;

	if (qd.fd == -1) {
		if ((qd.fd = ipc_open("private/auth", IPC_R_QMGR)) == -1) {
			ipc_out_free(o);
			qmgr_dkim_drop(qid, "cannot be reached");
			return -1;
		}
		if (ipc_hello_wait(qd.fd, IPC_R_AUTH, util_mono_ms() +
		    QMGR_DKIM_WAIT_MS) == -1) {
			ipc_out_free(o);
			qmgr_dkim_drop(qid, "does not answer");
			return -1;
		}
	}
	r = ipc_call(qd.fd, type, o, reply, IPC_R_AUTH, util_mono_ms() +
	    QMGR_DKIM_WAIT_MS, m);
	ipc_out_free(o);
	if (r == -1) {
		qmgr_dkim_drop(qid, "does not answer");
		return -1;
	}
	ipc_in_init(in, m);
	if (ipc_get_u32(in) != qd.id || in->err) {
		ipc_msg_free(m);
		errno = EPROTO;
		qmgr_dkim_drop(qid, "answered out of turn");
		return -1;
	}
	return 0;
}

/* qmgr_dkim_table - the key table, asked for once; -1 when it did not come */
static int
qmgr_dkim_table(const char *qid)
{
	struct ipc_out o;
	struct ipc_msg m;
	struct ipc_in in;

	if (qd.known)
		return 0;
	qmgr_dkim_out(&o);
	if (qmgr_dkim_call(qid, IPC_DKIM_KEYS, &o, IPC_DKIM_KEYS_REPLY, &m,
	    &in) == -1)
		return -1;
	qd.keys = ipc_get_dkim_keys(&in, &qd.nkeys);
	if (qd.keys == NULL || ipc_get_end(&in) == -1) {
		free(qd.keys);
		qd.keys = NULL;
		ipc_msg_free(&m);
		errno = EPROTO;
		qmgr_dkim_drop(qid, "sent a malformed key table");
		return -1;
	}
	ipc_msg_free(&m);
	qd.known = 1;
	return 0;
}

/*
 * qmgr_dkim_one - sign with one key: the DKIM-Signature field into
 * field; 0, or -1 (logged)
 */
static int
qmgr_dkim_one(const char *qid, const struct dkim_keyref *k,
    const struct dkim_msg *dm, const unsigned char *bh, struct buf *field)
{
	struct dkim_signer sg;
	struct ipc_out o;
	struct ipc_msg m;
	struct ipc_in in;
	const unsigned char *sig;
	unsigned char d[DKIM_DIGEST];
	size_t	 siglen;
	uint32_t st;
	int	 r = -1;

	if (dkim_sign_begin(&sg, k->alg, k->domain, k->selector,
	    (int64_t)time(NULL), &dm->h, bh) == -1) {
		log_warn("%s: not DKIM-signed: the header block cannot be "
		    "signed", qid);
		dkim_signer_free(&sg);
		return -1;
	}
	dkim_sign_digest(&sg, d);
	qmgr_dkim_out(&o);
	ipc_put_dkim_sign(&o, k, d);
	if (qmgr_dkim_call(qid, IPC_DKIM_SIGN, &o, IPC_DKIM_SIGN_REPLY, &m,
	    &in) == 0) {
		st = ipc_get_u32(&in);
		sig = ipc_get_bytes(&in, DKIM_SIG_MAX, &siglen);
		if (sig == NULL || ipc_get_end(&in) == -1 ||
		    st != IPC_DKIM_OK || siglen == 0)
			log_warn("%s: not DKIM-signed: the auth broker did not "
			    "sign with DKIM key %s/%s", qid, k->domain,
			    k->selector);
		else if (dkim_sign_finish(&sg, sig, siglen, field) == -1)
			log_err("%s: cannot make the DKIM-Signature: %s", qid,
			    strerror(errno));
		else
			r = 0;
		ipc_msg_free(&m);
	}
	dkim_signer_free(&sg);
	return r;
}

/* qmgr_dkim_sign - see qmgr.h */
int
qmgr_dkim_sign(const char *qid, const struct buf *text,
    struct qfile_writer *w)
{
	struct dkim_msg dm;
	struct buf field;
	unsigned char bh[DKIM_DIGEST];
	char	 domain[256];
	const char *why;
	size_t	 i;
	int	 c, r = 0;

	if (!qmgr.dkim_on || time(NULL) < qd.pause_until ||
	    qmgr_dkim_table(qid) == -1 || qd.nkeys == 0)
		return 0;
	dkim_msg_init(&dm);
	dkim_msg_text(&dm, (const char *)text->data, text->len);
	dkim_body_final(&dm.b, bh);
	c = dkim_choose(&dm.h, qd.keys, qd.nkeys, domain, sizeof(domain),
	    &why);
	if (c == -1)
		log_info("%s: not DKIM-signed: %s", qid, why);
	for (i = 0; c == 1 && r == 0 && i < qd.nkeys; i++) {
		if (util_strcasecmp_ascii(qd.keys[i].domain, domain) != 0)
			continue;
		buf_init(&field, QFILE_P_MAX);
		if (qmgr_dkim_one(qid, &qd.keys[i], &dm, bh, &field) == 0) {
			if ((r = qfile_put_prepend(w, field.data, field.len)) ==
			    0)
				dkim_log_added(qid, &qd.keys[i]);
		} else
			c = 0;	/* the rest unsigned too: one reason logged */
		buf_free(&field);
	}
	dkim_msg_free(&dm);
	return r;
}
