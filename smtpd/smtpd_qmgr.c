/*
 * smtpd_qmgr.c - smtpd's notices to qmgr.
 *
 * After each commit smtpd sends IPC_QMGR_NEW with the queue id.  The
 * notice is only a hint: the file is already durable.  If qmgr is away the
 * notice is dropped and the connection closed; the next connection's HELLO
 * makes qmgr rescan the queue, so nothing waits for the periodic scan.
 * The connection is lib/server/ipc_client's (no request waits for an answer).
 */
#include <errno.h>
#include <string.h>

#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "smtpd.h"

/* smtpd_qmgr_notify - tell qmgr about a committed message */
void
smtpd_qmgr_notify(struct smtpd *sd, const char *qid)
{
	struct ipc_out o;
	int	 r;

	ipc_out_init(&o);
	ipc_put_str(&o, qid);
	r = ipc_client_send(sd->qmgr, IPC_QMGR_NEW, &o, NULL, 0, 0, NULL);
	ipc_out_free(&o);
	if (r == -1 && errno != ENOENT && errno != ECONNREFUSED)
		log_warn("%s: qmgr notification failed (%s); qmgr will find "
		    "the message when it rescans", qid, strerror(errno));
}

/* smtpd_qmgr_init - qmgr's client; connected on first use */
void
smtpd_qmgr_init(struct smtpd *sd)
{
	sd->qmgr = ipc_client_new(sd->base, "private/qmgr", IPC_R_SMTPD,
	    IPC_R_QMGR, "qmgr");
}
