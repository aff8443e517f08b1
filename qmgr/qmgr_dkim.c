/*
 * qmgr_dkim.c - DKIM signatures on the reports qmgr writes.
 *
 * A bounce, delay or success report is mail from this server (From:
 * MAILER-DAEMON@$myhostname), so it is signed like the mail users send
 * (smtpd_dkim.c): with the keys of the From domain or its closest parent
 * that has keys, every key of that domain, by the auth broker - qmgr
 * never sees a key.  The requests are lib/server/dkim_client's (blocking, on a
 * kept connection to private/auth, at most DKIM_CLIENT_WAIT_MS each).
 *
 * A report that cannot be signed (no broker, a timeout, a refusal) goes
 * out unsigned with a log line rather than not at all: a report that does
 * not arrive is worse than one a receiver may score down.  After such a
 * failure the broker is left alone for QMGR_DKIM_PAUSE seconds, so a
 * broker that hangs cannot slow the queue down report after report.
 */
#include <stdint.h>

#include "buf.h"
#include "dkim.h"
#include "dkim_client.h"
#include "ipc.h"
#include "qfile.h"
#include "qmgr.h"

#define QMGR_DKIM_PAUSE		60

static struct dkim_client qmgr_dkim;
static int qmgr_dkim_ready;

/* qmgr_dkim_sign - see qmgr.h */
int
qmgr_dkim_sign(const char *qid, const struct buf *text,
    struct qfile_writer *w)
{
	struct dkim_msg dm;
	unsigned char bh[DKIM_DIGEST];
	int	 r;

	if (!qmgr.dkim_on)
		return 0;
	if (!qmgr_dkim_ready) {
		dkim_client_init(&qmgr_dkim, IPC_R_QMGR, QMGR_DKIM_PAUSE,
		    "reports go out unsigned");
		qmgr_dkim_ready = 1;
	}
	dkim_msg_init(&dm);
	dkim_msg_text(&dm, (const char *)text->data, text->len);
	dkim_body_final(&dm.b, bh);
	r = dkim_client_sign(&qmgr_dkim, qid, &dm, bh, w);
	dkim_msg_free(&dm);
	return r == -1 ? -1 : 0;
}
