/*
 * dkim_client.c - DKIM signatures from the auth broker, blocking (see
 * dkim_client.h).
 *
 * Interface: dkim_client_init, dkim_client_sign, dkim_client_free.
 * Errors: a broker that cannot be reached, does not answer in time or
 * answers out of turn is logged once per failure and then left alone for
 * the client's pause; only a queue file write error is -1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dkim.h"
#include "dkim_client.h"
#include "ipc.h"
#include "log.h"
#include "qfile.h"
#include "util.h"

/* dkim_client_init - no connection yet; pause: seconds after a failure */
void
dkim_client_init(struct dkim_client *c, unsigned role, int pause,
    const char *meanwhile)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->role = role;
	c->pause = pause;
	c->meanwhile = meanwhile;
}

/* dkim_client_free - close and forget the key table */
void
dkim_client_free(struct dkim_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->keys);
	dkim_client_init(c, c->role, c->pause, c->meanwhile);
}

/* dkim_client_drop - close the connection and pause after a failure */
static void
dkim_client_drop(struct dkim_client *c, const char *qid, const char *what)
{
	log_warn("%s: not DKIM-signed: the auth broker %s (%s); %s for %d s",
	    qid, what, strerror(errno), c->meanwhile, c->pause);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->pause_until = time(NULL) + c->pause;
}

/* dkim_client_out - a request's encoder, with its id */
static void
dkim_client_out(struct dkim_client *c, struct ipc_out *o)
{
	ipc_out_init(o);
	ipc_put_u32(o, ++c->id);
}

/*
 * dkim_client_call - one request o (from dkim_client_out) to the broker,
 * connecting first when needed; the answer's payload after its id is read
 * through in.  0, or -1 after dkim_client_drop.  o is freed.
 */
static int
dkim_client_call(struct dkim_client *c, const char *qid, uint32_t type,
    struct ipc_out *o, uint32_t reply, struct ipc_msg *m, struct ipc_in *in)
{
	int	 r;

	if (c->fd == -1) {
		if ((c->fd = ipc_open("private/auth", c->role)) == -1) {
			ipc_out_free(o);
			dkim_client_drop(c, qid, "cannot be reached");
			return -1;
		}
		if (ipc_hello_wait(c->fd, IPC_R_AUTH, util_mono_ms() +
		    DKIM_CLIENT_WAIT_MS) == -1) {
			ipc_out_free(o);
			dkim_client_drop(c, qid, "does not answer");
			return -1;
		}
	}
	r = ipc_call(c->fd, type, o, reply, IPC_R_AUTH, util_mono_ms() +
	    DKIM_CLIENT_WAIT_MS, m);
	ipc_out_free(o);
	if (r == -1) {
		dkim_client_drop(c, qid, "does not answer");
		return -1;
	}
	ipc_in_init(in, m);
	if (ipc_get_u32(in) != c->id || in->err) {
		ipc_msg_free(m);
		errno = EPROTO;
		dkim_client_drop(c, qid, "answered out of turn");
		return -1;
	}
	return 0;
}

/* dkim_client_table - the key table, asked for once; -1 if it did not come */
static int
dkim_client_table(struct dkim_client *c, const char *qid)
{
	struct ipc_out o;
	struct ipc_msg m;
	struct ipc_in in;

	if (c->known)
		return 0;
	dkim_client_out(c, &o);
	if (dkim_client_call(c, qid, IPC_DKIM_KEYS, &o, IPC_DKIM_KEYS_REPLY,
	    &m, &in) == -1)
		return -1;
	c->keys = ipc_get_dkim_keys(&in, &c->nkeys);
	if (c->keys == NULL || ipc_get_end(&in) == -1) {
		free(c->keys);
		c->keys = NULL;
		c->nkeys = 0;
		ipc_msg_free(&m);
		errno = EPROTO;
		dkim_client_drop(c, qid, "sent a malformed key table");
		return -1;
	}
	ipc_msg_free(&m);
	c->known = 1;
	return 0;
}

/*
 * dkim_client_one - sign with one key: the DKIM-Signature field into
 * field; 0, 1 when the header block cannot be signed (too many fields:
 * the message goes unsigned, as from smtpd), -1 when the broker did not
 * sign (logged)
 */
static int
dkim_client_one(struct dkim_client *c, const char *qid,
    const struct dkim_keyref *k, const struct dkim_msg *dm,
    const unsigned char *bh, struct buf *field)
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
		    "signed (too many fields)", qid);
		dkim_signer_free(&sg);
		return 1;
	}
	dkim_sign_digest(&sg, d);
	dkim_client_out(c, &o);
	ipc_put_dkim_sign(&o, k, d);
	if (dkim_client_call(c, qid, IPC_DKIM_SIGN, &o, IPC_DKIM_SIGN_REPLY,
	    &m, &in) == 0) {
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

/* dkim_client_sign - see dkim_client.h */
int
dkim_client_sign(struct dkim_client *c, const char *qid,
    const struct dkim_msg *dm, const unsigned char *bh,
    struct qfile_writer *w)
{
	struct buf field;
	char	 domain[256];
	const char *why;
	size_t	 i;
	int	 r = DKIM_CLIENT_DONE, one = 0;

	if (time(NULL) < c->pause_until || dkim_client_table(c, qid) == -1)
		return DKIM_CLIENT_BROKER;
	if (c->nkeys == 0)
		return DKIM_CLIENT_DONE;
	switch (dkim_choose(&dm->h, c->keys, c->nkeys, domain, sizeof(domain),
	    &why)) {
	case -1:
		log_info("%s: not DKIM-signed: %s", qid, why);
		/* FALLTHROUGH */
	case 0:
		return DKIM_CLIENT_DONE;
	}
	for (i = 0; r == DKIM_CLIENT_DONE && one == 0 && i < c->nkeys; i++) {
		if (util_strcasecmp_ascii(c->keys[i].domain, domain) != 0)
			continue;
		buf_init(&field, QFILE_P_MAX);
		one = dkim_client_one(c, qid, &c->keys[i], dm, bh, &field);
		if (one == -1)
			r = DKIM_CLIENT_BROKER;	/* one reason logged */
		else if (one == 0 &&
		    qfile_put_prepend(w, field.data, field.len) == -1)
			r = -1;
		else if (one == 0)
			dkim_log_added(qid, &c->keys[i]);
		buf_free(&field);
	}
	return r;
}
