/*
 * smtpd_check.h - what the restriction handlers share; private to smtpd.
 * smtpd_check.c evaluates the lists (stages, classes, warn_if_reject,
 * defer_if_*) and has the built-in restrictions and check_policy_service;
 * smtpd_check_dns.c the restrictions that read the DNS or the client
 * name; smtpd_access.c the access tables, the access(5) actions (of a
 * table or a policy server) and the restrictions of Postfix's evaluation
 * rules.
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
#include "buf.h"
#include "smtpd.h"

enum smtpd_verdict {
	SMTPD_V_DUNNO = 0,
	SMTPD_V_PERMIT,
	SMTPD_V_REJECT,		/* reply text filled in */
	SMTPD_V_WAIT,		/* DNS or a policy server: ask again later */
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
	int		 in_action;	/* evaluating a policy server's answer:
					   check_policy_service is refused */
	int		 subj;		/* what replies name: SMTPD_SUBJ_* (an
					   access table's own subject while
					   its result is applied) */
	struct smtpd_defer dir;		/* defer_if_reject of this stage */
	struct smtpd_defer dip;		/* defer_if_permit of this stage */
	struct buf	 prep;		/* PREPEND headers of this evaluation:
					   kept only once it has a verdict (a
					   rerun would add them again) */
};

/*
 * What a reply names (Postfix's reply_name and reply_class): the list's
 * own subject, or while a check_*_access result is applied, what that
 * table looked up, whatever list it is in
 */
#define SMTPD_SUBJ_LIST		0
#define SMTPD_SUBJ_CLIENT	1	/* "Client host" */
#define SMTPD_SUBJ_REV		2	/* "Unverified Client host" */
#define SMTPD_SUBJ_HELO		3
#define SMTPD_SUBJ_SENDER	4
#define SMTPD_SUBJ_RCPT		5

/* smtpd_check.c */
/* smtpd_ck_eval - evaluate a list of words (a class, an access result) */
enum smtpd_verdict smtpd_ck_eval(struct smtpd_ctx *, char **, size_t);
/*
 * smtpd_ck_name - what a reply names for the list being evaluated
 * ("NAME[192.0.2.1]", the HELO name, the sender, the recipient) into
 * buf, and the class ("Client host", "Helo command", ...)
 */
const char *smtpd_ck_name(struct smtpd_ctx *, char *, size_t, const char **);
/* smtpd_rcpt_text - the recipient as the client gave it, for replies */
const char *smtpd_rcpt_text(struct smtpd_ctx *, char *, size_t);
/* smtpd_ck_unauth_dest - would the recipient be relaying */
int	 smtpd_ck_unauth_dest(struct smtpd_ctx *);
/* smtpd_ck_class - the words of a restriction class, or NULL */
const struct smtpd_class *smtpd_ck_class(const struct smtpd *,
	    const char *);
/* smtpd_ck_literal_ok - "[1.2.3.4]" or "[IPv6:...]" holds a valid address */
int	 smtpd_ck_literal_ok(const char *);
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

/* smtpd_check_syntax.c: the name syntax restrictions */
SMTPD_HANDLER(smtpd_r_invalid_helo);
SMTPD_HANDLER(smtpd_r_nonfqdn_helo);
SMTPD_HANDLER(smtpd_r_nonfqdn_sender);
SMTPD_HANDLER(smtpd_r_nonfqdn_rcpt);

/* smtpd_access.c: the handlers of the evaluation-rule restrictions */
SMTPD_HANDLER(smtpd_r_warn_if_reject);
SMTPD_HANDLER(smtpd_r_defer_if_permit);
SMTPD_HANDLER(smtpd_r_defer_if_reject);
SMTPD_HANDLER(smtpd_r_sleep);
SMTPD_HANDLER(smtpd_r_auth_dest);
SMTPD_HANDLER(smtpd_r_pipelining);
SMTPD_HANDLER(smtpd_r_unlisted_sender);
SMTPD_HANDLER(smtpd_r_multi_bounce);
SMTPD_HANDLER(smtpd_r_plaintext);
/* ... and of the access tables (check_*_access TYPE:TABLE) */
SMTPD_HANDLER(smtpd_r_client_access);
SMTPD_HANDLER(smtpd_r_rev_client_access);
SMTPD_HANDLER(smtpd_r_helo_access);
SMTPD_HANDLER(smtpd_r_sender_access);
SMTPD_HANDLER(smtpd_r_rcpt_access);
/*
 * smtpd_ck_action - apply an access(5) action (Postfix's
 * check_table_result) found by a table or a policy server; where names
 * its source in the log
 */
enum smtpd_verdict smtpd_ck_action(struct smtpd_ctx *, const char *,
	    const char *);
/* smtpd_ck_keep - the evaluation has its verdict: keep its PREPENDs */
void	 smtpd_ck_keep(struct smtpd_ctx *);
/* smtpd_defer_set - arm a defer_if_* with the reply for it (first wins) */
void	 smtpd_defer_set(struct smtpd_defer *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
