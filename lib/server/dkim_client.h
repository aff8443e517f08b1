/*
 * dkim_client.h - DKIM signatures from the auth broker, asked for with
 * blocking requests.
 *
 * The broker holds the private keys (auth_dkim.c); a process with a
 * message hashes it (struct dkim_msg), sends the digest of what each
 * signature covers (IPC_DKIM_SIGN) and gets the signature back.  This is
 * the blocking client of qmgr (the reports it writes) and pickup (mail
 * local users submit); smtpd, which must never block, asks through
 * lib/server/ipc_client instead (smtpd_dkim.c).
 *
 * One connection to private/auth, made on first use and kept; the key
 * table (domain, selector, algorithm) is asked for once and kept; each
 * request waits at most DKIM_CLIENT_WAIT_MS.  After a failure (no
 * broker, a timeout, a malformed answer, a refusal) the broker is left
 * alone for the client's pause, so a broker that hangs costs one wait,
 * not one per message; meanwhile dkim_client_sign answers
 * DKIM_CLIENT_BROKER at once.
 *
 * The signatures (every key of the From domain, or of its closest parent
 * that has keys) go into the queue file as P records before its commit.
 * Errors: see dkim_client_sign.
 */
#ifndef YOUJU_DKIM_CLIENT_H
#define YOUJU_DKIM_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dkim.h"

struct qfile_writer;

#define DKIM_CLIENT_WAIT_MS	3000

struct dkim_client {
	int		 fd;		/* to private/auth, or -1 */
	unsigned	 role;		/* our IPC_R_* */
	uint32_t	 id;		/* the last request's */
	int		 known;		/* the key table came */
	struct dkim_keyref *keys;
	size_t		 nkeys;
	time_t		 pause_until;
	int		 pause;		/* seconds after a failure */
	const char	*meanwhile;	/* for the log: "reports go out
					   unsigned", ... */
};

void	 dkim_client_init(struct dkim_client *, unsigned, int, const char *);
void	 dkim_client_free(struct dkim_client *);

#define DKIM_CLIENT_DONE	0	/* signed, or nothing to sign */
#define DKIM_CLIENT_BROKER	1	/* not (all) signed: the broker
					   failed or is paused (logged) */
/*
 * dkim_client_sign - sign the message hashed in dm (bh: its body hash)
 * and add each DKIM-Signature to w as a P record.  DKIM_CLIENT_DONE also
 * when no key fits or the message cannot be signed (no single From: a
 * line says why); DKIM_CLIENT_BROKER when it could not be asked or did
 * not sign (signatures made before the failure stay in w); -1 when w
 * failed (errno).  The caller decides what an unsigned message means.
 */
int	 dkim_client_sign(struct dkim_client *, const char *,
	    const struct dkim_msg *, const unsigned char *,
	    struct qfile_writer *);

#endif
