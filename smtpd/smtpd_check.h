/*
 * smtpd_check.h - what the restriction handlers share (smtpd_check.c,
 * which evaluates the lists, and smtpd_check_dns.c, the handlers of the
 * restrictions that read the DNS or the client name).  Private to smtpd.
 *
 * A handler gets the evaluation context and the word after its name in
 * the list (its argument, or NULL at the end of the list) and answers
 * with a verdict; a reject fills c->msg with the whole reply and sets
 * c->temp for a 4xx.
 */
#ifndef YOUJU_SMTPD_CHECK_H
#define YOUJU_SMTPD_CHECK_H

#include <stddef.h>

#include "buf.h"

struct addr;
struct smtpd_sess;

enum smtpd_verdict {
	SMTPD_V_DUNNO = 0,
	SMTPD_V_PERMIT,
	SMTPD_V_REJECT,		/* reply text filled in */
	SMTPD_V_WAIT		/* DNS lookups started: ask again later */
};

struct smtpd_ctx {
	struct smtpd_sess *s;
	const struct addr *rcpt;	/* NULL at MAIL time */
	int		 bare;		/* rcpt was given without a domain
					   (completed with @$myorigin) */
	char		*msg;
	size_t		 msglen;
	int		 temp;		/* the reply is a 4xx */
	int		 list;		/* restr_lists[] index being evaluated */
	char		 dip[600];	/* DEFER_IF_PERMIT's reply, or "" */
	char		 dir[600];	/* DEFER_IF_REJECT's reply, or "" */
	struct buf	 prep;		/* PREPEND headers of this evaluation:
					   kept only once it has a verdict (a
					   rerun would apply them again) */
};

/* smtpd_check.c */
/* smtpd_rcpt_text - the recipient as the client gave it, for replies */
const char *smtpd_rcpt_text(struct smtpd_ctx *, char *, size_t);
/* smtpd_unauth_dest - would this recipient be relaying */
int	 smtpd_unauth_dest(struct smtpd_ctx *);
/* smtpd_refuse - reject with "CODE X.Y.Z text", X following the code */
enum smtpd_verdict smtpd_refuse(struct smtpd_ctx *, int, const char *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

/* smtpd_check_dns.c: the handlers (see smtpd(8) for what each does) */
#define SMTPD_HANDLER(name) \
	enum smtpd_verdict name(struct smtpd_ctx *, const char *)
SMTPD_HANDLER(smtpd_r_rbl);
SMTPD_HANDLER(smtpd_r_unknown_sender);
SMTPD_HANDLER(smtpd_r_unknown_rcpt);
SMTPD_HANDLER(smtpd_r_unknown_client);
SMTPD_HANDLER(smtpd_r_unknown_reverse);
SMTPD_HANDLER(smtpd_r_unknown_helo);
SMTPD_HANDLER(smtpd_r_rhsbl_client);
SMTPD_HANDLER(smtpd_r_rhsbl_reverse);
SMTPD_HANDLER(smtpd_r_rhsbl_helo);
SMTPD_HANDLER(smtpd_r_rhsbl_sender);
SMTPD_HANDLER(smtpd_r_rhsbl_rcpt);
SMTPD_HANDLER(smtpd_r_dnswl);
SMTPD_HANDLER(smtpd_r_rhswl);

#endif
