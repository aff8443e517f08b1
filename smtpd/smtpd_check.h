/*
 * smtpd_check.h - what the restriction handlers share (smtpd_check.c
 * evaluates the lists, smtpd_access.c has the access tables and the
 * restrictions of Postfix's evaluation rules); private to smtpd.
 *
 * A handler gets the evaluation context and the word after its name (the
 * argument, NULL at the end of the list) and returns a verdict.  A
 * rejection fills in c->msg (the whole reply, "554 5.7.1 ...") and
 * c->temp; smtpd_check.c then applies warn_if_reject and defer_if_reject
 * to it, so a handler never needs to know about those.
 */
#ifndef YOUJU_SMTPD_CHECK_H
#define YOUJU_SMTPD_CHECK_H

#include <stddef.h>

#include "addr.h"
#include "smtpd.h"

enum smtpd_verdict {
	SMTPD_V_DUNNO = 0,
	SMTPD_V_PERMIT,
	SMTPD_V_REJECT,		/* reply text filled in */
	SMTPD_V_WAIT,		/* DNS lookups started: ask again later */
	SMTPD_V_SLEEP		/* sleep: pause, then run the stage again */
};

struct smtpd_ctx {
	struct smtpd_sess *s;
	const struct addr *rcpt;	/* NULL before RCPT */
	int		 bare;		/* rcpt was given without a domain
					   (completed with @$myorigin) */
	char		*msg;
	size_t		 msglen;
	int		 temp;		/* the reply is a 4xx */
	int		 list;		/* RESTR_L_* being evaluated */
	const char	*stage;		/* "CONNECT", "HELO", "RCPT", ... */
	int		 depth;		/* classes and access results */
	int		 warn_at;	/* warn_if_reject armed at this depth
					   + 1, or 0 */
	int		 nsleep;	/* sleep restrictions met so far */
	int		 conferr;	/* the reply is a configuration error:
					   never a warning */
	struct smtpd_defer dir;		/* defer_if_reject of this stage */
	struct smtpd_defer dip;		/* defer_if_permit of this stage */
};

/* smtpd_check.c */
/* smtpd_ck_eval - evaluate a list of words (a class, an access result) */
enum smtpd_verdict smtpd_ck_eval(struct smtpd_ctx *, char **, size_t);
/*
 * smtpd_ck_name - what a reply names for the list being evaluated
 * ("unknown[192.0.2.1]", the HELO name, the sender, the recipient) into
 * buf, and the class ("Client host", "Helo command", ...)
 */
const char *smtpd_ck_name(struct smtpd_ctx *, char *, size_t, const char **);
/* smtpd_ck_client_name - the client's (verified) name, "unknown" if none */
const char *smtpd_ck_client_name(const struct smtpd_sess *);
/* smtpd_ck_rev_name - the client's unverified reverse name, or "unknown" */
const char *smtpd_ck_rev_name(const struct smtpd_sess *);
/* smtpd_ck_unauth_dest - would the recipient be relaying */
int	 smtpd_ck_unauth_dest(struct smtpd_ctx *);
/* smtpd_ck_class - the words of a restriction class, or NULL */
const struct smtpd_class *smtpd_ck_class(const struct smtpd *,
	    const char *);

/* smtpd_access.c: the handlers of the evaluation-rule restrictions */
enum smtpd_verdict smtpd_r_warn_if_reject(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_defer_if_permit(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_defer_if_reject(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_sleep(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_auth_dest(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_pipelining(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_unlisted_sender(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_multi_bounce(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_plaintext(struct smtpd_ctx *, const char *);
/* ... and of the access tables (check_*_access TYPE:TABLE) */
enum smtpd_verdict smtpd_r_client_access(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_rev_client_access(struct smtpd_ctx *,
	    const char *);
enum smtpd_verdict smtpd_r_helo_access(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_sender_access(struct smtpd_ctx *, const char *);
enum smtpd_verdict smtpd_r_rcpt_access(struct smtpd_ctx *, const char *);
/* smtpd_defer_set - arm a defer_if_* with the reply for it (first wins) */
void	 smtpd_defer_set(struct smtpd_defer *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
