/*
 * smtpd_check.c - access restrictions (Postfix's smtpd_*_restrictions):
 * the evaluation of the lists, and the built-in restrictions.
 *
 * Postfix's rules (SMTPD_ACCESS_README, postconf(5)):
 *  - Lists and when they run: smtpd_client_restrictions at connect,
 *    smtpd_helo_restrictions at HELO/EHLO, smtpd_sender_restrictions at
 *    MAIL FROM - or all three at each RCPT TO with smtpd_delay_reject =
 *    yes (the default) -; smtpd_relay_restrictions then
 *    smtpd_recipient_restrictions at RCPT TO, smtpd_data_restrictions at
 *    DATA, smtpd_end_of_data_restrictions after the final dot.
 *  - In a list the first restriction that decides ends the list: a
 *    reject (or defer) ends the whole stage with its reply, a permit
 *    ends that list only and the next list runs.
 *  - warn_if_reject: the next restriction's reject is only logged
 *    ("reject_warning"); defer_if_reject: a later 5xx reject of this
 *    stage becomes the 450 armed here; defer_if_permit: when the stage
 *    ends without a reject, the 450 armed here is the answer (the client,
 *    helo and sender lists' arms are kept for RCPT, as Postfix keeps
 *    them).
 *  - A restriction class (smtpd_restriction_classes) or an access-table
 *    result that is a list of restrictions runs like a list in place of
 *    the one word; RESTR_DEPTH_MAX bounds the nesting.
 * The names, and how many arguments follow each, are lib/maps/restr.c's table;
 * smtpd_restr_fn[] binds a handler to each.  master and mailctl check
 * refuse a list with a name that is not in the table, and so does
 * smtpd_check_config at start (a service cannot start with one); should
 * one reach a transaction anyway, it is answered "451 4.3.5 Server
 * configuration error", so mail is deferred, never let through.
 *
 * The handlers of the restrictions that read the DNS or the client name
 * are in smtpd_check_dns.c, those of name syntax (HELO, non-FQDN) in
 * smtpd_check_syntax.c; the access tables, the access(5) actions and
 * the other evaluation-rule restrictions in smtpd_access.c;
 * check_policy_service asks through smtpd_policy.c (smtpd_r_policy here).
 * A restriction that waits for an answer (DNS, a policy server) makes
 * the stage answer SMTPD_WAIT: the command runs again once the answer
 * is in (smtpd_check_wait).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dns.h"
#include "log.h"
#include "restr.h"
#include "util.h"
#include "smtpd.h"
#include "smtpd_check.h"

/* smtpd_rcpt_text - see smtpd_check.h */
const char *
smtpd_rcpt_text(struct smtpd_ctx *c, char *buf, size_t len)
{
	struct addr bare;

	if (c->rcpt == NULL)
		return "";
	if (c->bare) {
		bare = *c->rcpt;
		bare.domain[0] = '\0';
		addr_format(&bare, buf, len);
	} else
		addr_format(c->rcpt, buf, len);
	return log_str(buf);
}

static enum smtpd_verdict
smtpd_r_permit(struct smtpd_ctx *c, const char *arg)
{
	return SMTPD_V_PERMIT;
}

static enum smtpd_verdict
smtpd_r_reject(struct smtpd_ctx *c, const char *arg)
{
	const char *cls, *name;
	char	 b[600];

	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	snprintf(c->msg, c->msglen, "%d 5.7.1 <%s>: %s rejected: Access "
	    "denied", c->s->sd->reject_code, name, cls);
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_defer(struct smtpd_ctx *c, const char *arg)
{
	const char *cls, *name;
	char	 b[600];

	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	snprintf(c->msg, c->msglen, "%d 4.3.2 <%s>: %s rejected: Try again "
	    "later", c->s->sd->defer_code, name, cls);
	c->temp = 1;
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_mynetworks(struct smtpd_ctx *c, const char *arg)
{
	return c->s->mynetworks ? SMTPD_V_PERMIT : SMTPD_V_DUNNO;
}

static enum smtpd_verdict
smtpd_r_sasl(struct smtpd_ctx *c, const char *arg)
{
	return c->s->sasl_user != NULL ? SMTPD_V_PERMIT : SMTPD_V_DUNNO;
}

/* smtpd_owned - is the session's login among the sender's owners */
static int
smtpd_owned(const struct smtpd_sess *s)
{
	size_t	 i;

	for (i = 0; i < s->nowners; i++)
		if (util_strcasecmp_ascii(s->owners[i], s->sasl_user) == 0)
			return 1;
	return 0;
}

/*
 * smtpd_login_mismatch - the three reject_*sender_login_mismatch forms:
 * which = 'a' (any: both checks), 'l' (logged-in clients only), 'u'
 * (clients that are not logged in only).  The owners were looked up at
 * MAIL FROM; the null sender is never checked.
 */
static enum smtpd_verdict
smtpd_login_mismatch(struct smtpd_ctx *c, int which)
{
	const struct smtpd_sess *s = c->s;

	if (s->sender == NULL || *s->sender == '\0')
		return SMTPD_V_DUNNO;
	if (!s->owners_known) {
		snprintf(c->msg, c->msglen, "451 4.3.0 <%s>: Temporary lookup "
		    "failure", log_str(s->sender));
		c->temp = 1;
		return SMTPD_V_REJECT;
	}
	if (s->sasl_user == NULL) {
		if (which == 'l' || s->nowners == 0)
			return SMTPD_V_DUNNO;
		snprintf(c->msg, c->msglen, "553 5.7.1 <%s>: Sender address "
		    "rejected: not logged in", log_str(s->sender));
		return SMTPD_V_REJECT;
	}
	if (which == 'u' || smtpd_owned(s))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "553 5.7.1 <%s>: Sender address rejected: "
	    "not owned by user %s", log_str(s->sender), log_str(s->sasl_user));
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_login_mismatch(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_login_mismatch(c, 'a');
}

static enum smtpd_verdict
smtpd_r_auth_login_mismatch(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_login_mismatch(c, 'l');
}

static enum smtpd_verdict
smtpd_r_unauth_login_mismatch(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_login_mismatch(c, 'u');
}

/* smtpd_ck_unauth_dest - see smtpd_check.h */
int
smtpd_ck_unauth_dest(struct smtpd_ctx *c)
{
	if (c->rcpt == NULL)
		return 0;
	/* user%host@our.domain and friends are never routing for us */
	if (addr_has_routing(c->rcpt))
		return 1;
	return !smtpd_is_mydest(c->s->sd, c->rcpt->domain);
}

static enum smtpd_verdict
smtpd_r_unauth_dest(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (!smtpd_ck_unauth_dest(c))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "554 5.7.1 <%s>: Relay access denied",
	    smtpd_rcpt_text(c, b, sizeof(b)));
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_defer_unauth_dest(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (!smtpd_ck_unauth_dest(c))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "454 4.7.1 <%s>: Relay access denied",
	    smtpd_rcpt_text(c, b, sizeof(b)));
	c->temp = 1;
	return SMTPD_V_REJECT;
}

/*
 * smtpd_refuse - a reply "CODE X.Y.Z text": the class digit of the
 * status follows the code (Postfix's smtpd_check_reject does the same)
 */
enum smtpd_verdict
smtpd_refuse(struct smtpd_ctx *c, int code, const char *dsn,
    const char *fmt, ...)
{
	char	 text[600];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(c->msg, c->msglen, "%d %c%s %s", code, '0' + code / 100,
	    dsn + 1, text);
	c->temp = code / 100 == 4;
	return SMTPD_V_REJECT;
}

/*
 * smtpd_r_policy - check_policy_service: the server's answer (or the
 * default action) once smtpd_policy.c has it, applied as an access(5)
 * action; within an answer's own restriction names it is refused (a
 * server cannot name another one)
 */
static enum smtpd_verdict
smtpd_r_policy(struct smtpd_ctx *c, const char *arg)
{
	enum smtpd_verdict v;
	const char *action = NULL;
	char	 b[600];

	if (arg == NULL)
		return SMTPD_V_DUNNO;
	if (!c->in_action) {
		if (smtpd_policy_ask(c->s, arg, c->stage, c->rcpt != NULL ?
		    smtpd_rcpt_text(c, b, sizeof(b)) : "", &action) == -1)
			return SMTPD_V_WAIT;
		if (action != NULL) {
			c->in_action = 1;
			v = smtpd_ck_action(c, "policy query", action);
			c->in_action = 0;
			return v;
		}
	}
	/* in a policy server's answer, or not set up at start */
	log_warn("%s[%s]: check_policy_service %s in an action is refused",
	    c->s->client_name, c->s->client_addr, log_str(arg));
	snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration error");
	c->temp = c->conferr = 1;
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_dunno(struct smtpd_ctx *c, const char *arg)
{
	/* reject_unlisted_recipient: the local lookup always runs */
	return SMTPD_V_DUNNO;
}

/* the handler of each restriction (lib/maps/restr.c has the names) */
static enum smtpd_verdict (*const smtpd_restr_fn[RESTR_N])(
    struct smtpd_ctx *, const char *) = {
	[RESTR_PERMIT] = smtpd_r_permit,
	[RESTR_DUNNO] = smtpd_r_dunno,
	[RESTR_REJECT] = smtpd_r_reject,
	[RESTR_DEFER] = smtpd_r_defer,
	[RESTR_PERMIT_MYNETWORKS] = smtpd_r_mynetworks,
	[RESTR_PERMIT_SASL_AUTHENTICATED] = smtpd_r_sasl,
	[RESTR_REJECT_UNAUTH_DESTINATION] = smtpd_r_unauth_dest,
	[RESTR_DEFER_UNAUTH_DESTINATION] = smtpd_r_defer_unauth_dest,
	[RESTR_REJECT_NON_FQDN_RECIPIENT] = smtpd_r_nonfqdn_rcpt,
	[RESTR_REJECT_NON_FQDN_SENDER] = smtpd_r_nonfqdn_sender,
	[RESTR_REJECT_INVALID_HELO_HOSTNAME] = smtpd_r_invalid_helo,
	[RESTR_REJECT_NON_FQDN_HELO_HOSTNAME] = smtpd_r_nonfqdn_helo,
	[RESTR_REJECT_UNLISTED_RECIPIENT] = smtpd_r_dunno,
	[RESTR_REJECT_SENDER_LOGIN_MISMATCH] = smtpd_r_login_mismatch,
	[RESTR_REJECT_AUTH_SENDER_LOGIN_MISMATCH] =
	    smtpd_r_auth_login_mismatch,
	[RESTR_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH] =
	    smtpd_r_unauth_login_mismatch,
	[RESTR_REJECT_RBL_CLIENT] = smtpd_r_rbl,
	[RESTR_REJECT_UNKNOWN_SENDER_DOMAIN] = smtpd_r_unknown_sender,
	[RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN] = smtpd_r_unknown_rcpt,
	[RESTR_WARN_IF_REJECT] = smtpd_r_warn_if_reject,
	[RESTR_DEFER_IF_PERMIT] = smtpd_r_defer_if_permit,
	[RESTR_DEFER_IF_REJECT] = smtpd_r_defer_if_reject,
	[RESTR_SLEEP] = smtpd_r_sleep,
	[RESTR_PERMIT_AUTH_DESTINATION] = smtpd_r_auth_dest,
	[RESTR_REJECT_UNAUTH_PIPELINING] = smtpd_r_pipelining,
	[RESTR_REJECT_UNLISTED_SENDER] = smtpd_r_unlisted_sender,
	[RESTR_REJECT_MULTI_RECIPIENT_BOUNCE] = smtpd_r_multi_bounce,
	[RESTR_REJECT_PLAINTEXT_SESSION] = smtpd_r_plaintext,
	[RESTR_CHECK_CLIENT_ACCESS] = smtpd_r_client_access,
	[RESTR_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS] =
	    smtpd_r_rev_client_access,
	[RESTR_CHECK_HELO_ACCESS] = smtpd_r_helo_access,
	[RESTR_CHECK_SENDER_ACCESS] = smtpd_r_sender_access,
	[RESTR_CHECK_RECIPIENT_ACCESS] = smtpd_r_rcpt_access,
	[RESTR_REJECT_UNKNOWN_HELO_HOSTNAME] = smtpd_r_unknown_helo,
	[RESTR_REJECT_UNKNOWN_CLIENT_HOSTNAME] = smtpd_r_unknown_client,
	[RESTR_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME] =
	    smtpd_r_unknown_reverse,
	[RESTR_REJECT_RHSBL_CLIENT] = smtpd_r_rhsbl_client,
	[RESTR_REJECT_RHSBL_REVERSE_CLIENT] = smtpd_r_rhsbl_reverse,
	[RESTR_REJECT_RHSBL_HELO] = smtpd_r_rhsbl_helo,
	[RESTR_REJECT_RHSBL_SENDER] = smtpd_r_rhsbl_sender,
	[RESTR_REJECT_RHSBL_RECIPIENT] = smtpd_r_rhsbl_rcpt,
	[RESTR_PERMIT_DNSWL_CLIENT] = smtpd_r_dnswl,
	[RESTR_PERMIT_RHSWL_CLIENT] = smtpd_r_rhswl,
	[RESTR_CHECK_POLICY_SERVICE] = smtpd_r_policy,
};

/* smtpd_ck_name - see smtpd_check.h */
const char *
smtpd_ck_name(struct smtpd_ctx *c, char *buf, size_t len, const char **cls)
{
	struct smtpd_sess *s = c->s;
	int	 what = c->list;

	switch (c->subj) {
	case SMTPD_SUBJ_CLIENT:
	case SMTPD_SUBJ_REV:
		what = RESTR_L_CLIENT;
		break;
	case SMTPD_SUBJ_HELO:
		what = RESTR_L_HELO;
		break;
	case SMTPD_SUBJ_SENDER:
		what = RESTR_L_SENDER;
		break;
	case SMTPD_SUBJ_RCPT:
		what = RESTR_L_RCPT;
		break;
	default:
		break;
	}
	switch (what) {
	case RESTR_L_CLIENT:
		*cls = c->subj == SMTPD_SUBJ_REV ? "Unverified Client host" :
		    "Client host";
		snprintf(buf, len, "%s[%s]", s->client_name, s->client_addr);
		return buf;
	case RESTR_L_HELO:
		*cls = "Helo command";
		return log_str(s->helo != NULL ? s->helo : "");
	case RESTR_L_SENDER:
		*cls = "Sender address";
		return log_str(s->sender != NULL ? s->sender : "");
	case RESTR_L_DATA:
		*cls = "Data command";
		return "DATA";
	case RESTR_L_EOD:
		*cls = "End-of-data";
		return "END-OF-MESSAGE";
	default:
		*cls = "Recipient address";
		return smtpd_rcpt_text(c, buf, len);
	}
}

/* smtpd_ck_class - see smtpd_check.h */
const struct smtpd_class *
smtpd_ck_class(const struct smtpd *sd, const char *name)
{
	size_t	 i;

	for (i = 0; i < sd->nclasses; i++)
		if (strcmp(sd->classes[i].name, name) == 0)
			return &sd->classes[i];
	return NULL;
}

/*
 * smtpd_check_config - every list and class checked as master and
 * mailctl check do (an unknown name is refused there; here it stops this
 * service), and every restriction has its handler (else: our own bug)
 */
int
smtpd_check_config(struct smtpd *sd, char *err, size_t errlen)
{
	char	 why[512];
	size_t	 i;

	for (i = 0; i < RESTR_N; i++)
		if (smtpd_restr_fn[i] == NULL || restr_def_of(i) == NULL) {
			snprintf(err, errlen, "restriction %zu has no handler "
			    "or no name", i);
			return -1;
		}
	for (i = 0; i < RESTR_NLISTS; i++)
		if (restr_check_list_cls(sd->restr[i], sd->nrestr[i],
		    sd->class_names, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", restr_lists[i], why);
			return -1;
		}
	for (i = 0; i < sd->nclasses; i++)
		if (restr_check_list_cls(sd->classes[i].v, sd->classes[i].n,
		    sd->class_names, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", sd->classes[i].name,
			    why);
			return -1;
		}
	return 0;
}

/* smtpd_check_uses - does any list or class name a restriction with text */
int
smtpd_check_uses(struct smtpd *sd, const char *text)
{
	size_t	 i, k;

	for (i = 0; i < RESTR_NLISTS; i++)
		for (k = 0; k < sd->nrestr[i]; k++)
			if (strstr(sd->restr[i][k], text) != NULL)
				return 1;
	for (i = 0; i < sd->nclasses; i++)
		for (k = 0; k < sd->classes[i].n; k++)
			if (strstr(sd->classes[i].v[k], text) != NULL)
				return 1;
	return 0;
}

/* smtpd_ck_rcpt_text - the recipient of the context for a log line */
static const char *
smtpd_ck_rcpt_log(struct smtpd_ctx *c, char *b, size_t len)
{
	return c->rcpt != NULL ? smtpd_rcpt_text(c, b, len) : NULL;
}

/*
 * smtpd_ck_rejected - a restriction rejected: under warn_if_reject only
 * log it and go on (DUNNO); under defer_if_reject a 5xx becomes the 450
 * armed there.  Configuration errors are never softened.
 */
static enum smtpd_verdict
smtpd_ck_rejected(struct smtpd_ctx *c)
{
	char	 b[600];

	if (c->conferr)
		return SMTPD_V_REJECT;
	if (c->warn_at != 0) {
		smtpd_whatsup(c->s, "reject_warning", c->stage, NULL,
		    smtpd_ck_rcpt_log(c, b, sizeof(b)), c->msg);
		c->msg[0] = '\0';
		c->temp = 0;
		return SMTPD_V_DUNNO;
	}
	if (c->dir.active && c->msg[0] == '5') {
		util_strlcpy(c->msg, c->dir.msg, c->msglen);
		c->temp = 1;
	}
	return SMTPD_V_REJECT;
}

/* smtpd_ck_conferr - a name the checks at start should have refused */
static enum smtpd_verdict
smtpd_ck_conferr(struct smtpd_ctx *c, const char *why)
{
	log_err("%s: restriction list cannot be evaluated: %s", c->stage,
	    why);
	snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration error");
	c->temp = 1;
	c->conferr = 1;
	return SMTPD_V_REJECT;
}

/* smtpd_ck_eval - see smtpd_check.h */
enum smtpd_verdict
smtpd_ck_eval(struct smtpd_ctx *c, char **v, size_t n)
{
	const struct smtpd_class *cl;
	const struct restr_def *r;
	enum smtpd_verdict res;
	size_t	 k;

	if (c->depth >= RESTR_DEPTH_MAX)
		return smtpd_ck_conferr(c, "classes or access results nested "
		    "too deeply");
	for (k = 0; k < n; k++) {
		if ((cl = smtpd_ck_class(c->s->sd, v[k])) != NULL) {
			c->depth++;
			res = smtpd_ck_eval(c, cl->v, cl->n);
			c->depth--;
			r = NULL;
		} else if ((r = restr_find(v[k])) == NULL)
			return smtpd_ck_conferr(c, "unknown restriction");
		else
			res = smtpd_restr_fn[r->id](c, k + 1 < n ? v[k + 1] :
			    NULL);
		if (res == SMTPD_V_REJECT)
			res = smtpd_ck_rejected(c);
		/* warn_if_reject covers the one restriction after it */
		if (r == NULL || r->id != RESTR_WARN_IF_REJECT) {
			if (c->warn_at == c->depth + 1)
				c->warn_at = 0;
		} else if (c->warn_at == 0)
			c->warn_at = c->depth + 1;
		if (r != NULL)
			k += (size_t)r->nargs;
		if (res != SMTPD_V_DUNNO)
			return res;
	}
	return SMTPD_V_DUNNO;
}

/*
 * smtpd_ck_run - the lists [from, to] of one stage, each in its own
 * right: a permit ends only its list.  Results: DUNNO (every list passed),
 * REJECT, WAIT or SLEEP
 */
static enum smtpd_verdict
smtpd_ck_run(struct smtpd_ctx *c, int from, int to)
{
	struct smtpd *sd = c->s->sd;
	enum smtpd_verdict v;
	int	 i;

	for (i = from; i <= to; i++) {
		c->list = i;
		c->warn_at = 0;
		v = smtpd_ck_eval(c, sd->restr[i], sd->nrestr[i]);
		if (i <= RESTR_L_SENDER)	/* kept for RCPT */
			c->s->dip_stage[i] = c->dip;
		if (v != SMTPD_V_DUNNO && v != SMTPD_V_PERMIT)
			return v;
	}
	return SMTPD_V_DUNNO;
}

/*
 * smtpd_ck_result - the stage's verdict as a reply: a pass becomes the
 * 450 of an armed defer_if_permit (this stage's, or with stages kept, the
 * client, helo and sender lists')
 */
static enum smtpd_res
smtpd_ck_result(struct smtpd_ctx *c, enum smtpd_verdict v, int kept)
{
	struct smtpd_sess *s = c->s;
	const struct smtpd_defer *d = NULL;
	int	 i;

	if (v != SMTPD_V_SLEEP)
		s->sleep_done = 0;
	if (v != SMTPD_V_SLEEP && v != SMTPD_V_WAIT) {
		/* a verdict: the answers are used, the PREPENDs stay */
		smtpd_ck_keep(c);
		smtpd_policy_clear(s);
	}
	buf_free(&c->prep);
	switch (v) {
	case SMTPD_V_REJECT:
		return c->temp ? SMTPD_TEMPFAIL : SMTPD_PERMFAIL;
	case SMTPD_V_WAIT:
		return SMTPD_WAIT;
	case SMTPD_V_SLEEP:
		return SMTPD_SLEEP;
	default:
		break;
	}
	for (i = 0; kept && i < 3 && d == NULL; i++)
		if (s->dip_stage[i].active)
			d = &s->dip_stage[i];
	if (d == NULL && c->dip.active)
		d = &c->dip;
	if (d == NULL)
		return SMTPD_OK;
	util_strlcpy(c->msg, d->msg, c->msglen);
	return SMTPD_TEMPFAIL;
}

/* smtpd_ck_init - a context for a stage */
static void
smtpd_ck_init(struct smtpd_ctx *c, struct smtpd_sess *s, const char *stage,
    char *msg, size_t msglen)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->stage = stage;
	c->msg = msg;
	c->msglen = msglen;
	msg[0] = '\0';
	buf_init(&c->prep, SMTPD_PREPEND_MAX);
}

/* smtpd_check_connect - the client list at connect (no delay_reject) */
enum smtpd_res
smtpd_check_connect(struct smtpd_sess *s, char *msg, size_t msglen)
{
	struct smtpd_ctx c;
	enum smtpd_res r;

	if (s->sd->delay_reject)
		return SMTPD_OK;
	smtpd_ck_init(&c, s, "CONNECT", msg, msglen);
	/* SMTPD_WAIT: the banner waits for DNS or a policy server, as in
	   Postfix (smtpd_greet) */
	r = smtpd_ck_result(&c, smtpd_ck_run(&c, RESTR_L_CLIENT,
	    RESTR_L_CLIENT), 0);
	return r == SMTPD_OK && c.dip.active ? SMTPD_OK : r;
}

/* smtpd_check_helo - the helo list at HELO/EHLO (no delay_reject) */
enum smtpd_res
smtpd_check_helo(struct smtpd_sess *s, const char *helo, char *msg,
    size_t msglen)
{
	struct smtpd_ctx c;
	enum smtpd_res r;
	char	*saved = s->helo;

	if (s->sd->delay_reject)
		return SMTPD_OK;
	smtpd_ck_init(&c, s, "HELO", msg, msglen);
	s->helo = (char *)helo;		/* what the list looks at */
	r = smtpd_ck_result(&c, smtpd_ck_run(&c, RESTR_L_HELO,
	    RESTR_L_HELO), 0);
	s->helo = saved;
	if (r == SMTPD_WAIT) {
		s->helo_later = 1;
		return SMTPD_OK;
	}
	return r;
}

/*
 * smtpd_check_mail - at MAIL without delay_reject: the sender list (and
 * the client and helo lists when they waited for DNS at connect or HELO)
 */
enum smtpd_res
smtpd_check_mail(struct smtpd_sess *s, char *msg, size_t msglen)
{
	struct smtpd_ctx c;
	enum smtpd_verdict v = SMTPD_V_DUNNO;

	if (s->sd->delay_reject)
		return SMTPD_OK;
	smtpd_ck_init(&c, s, "MAIL", msg, msglen);
	if (s->client_later)
		v = smtpd_ck_run(&c, RESTR_L_CLIENT, RESTR_L_CLIENT);
	memset(&c.dip, 0, sizeof(c.dip));
	if (v == SMTPD_V_DUNNO && s->helo_later)
		v = smtpd_ck_run(&c, RESTR_L_HELO, RESTR_L_HELO);
	memset(&c.dip, 0, sizeof(c.dip));
	memset(&c.dir, 0, sizeof(c.dir));
	if (v == SMTPD_V_DUNNO)
		v = smtpd_ck_run(&c, RESTR_L_SENDER, RESTR_L_SENDER);
	if (v == SMTPD_V_DUNNO)
		s->client_later = s->helo_later = 0;
	/* an armed defer_if_permit answers at RCPT */
	memset(&c.dip, 0, sizeof(c.dip));
	return smtpd_ck_result(&c, v, 0);
}

/*
 * smtpd_check_wait - a restriction waits (SMTPD_WAIT): 1 when the
 * session now waits for DNS or a policy server and runs the command again
 * (smtpd_rerun), 0 when it cannot (answer 4xx)
 */
int
smtpd_check_wait(struct smtpd_sess *s, int kind, const char *line)
{
	if (smtpd_dns_wait(s, kind, line) || smtpd_policy_wait(s, kind, line))
		return 1;
	smtpd_policy_clear(s);
	return 0;
}

/* smtpd_check_rcpt - the lists of RCPT for one recipient */
enum smtpd_res
smtpd_check_rcpt(struct smtpd_sess *s, const struct addr *rcpt, int bare,
    char *msg, size_t msglen)
{
	struct smtpd_ctx c;
	enum smtpd_verdict v = SMTPD_V_DUNNO;
	int	 i;

	if (s->pregreet_enforce) {
		/* smtpd_greet_action = enforce (postscreen's reply) */
		snprintf(msg, msglen, "550 5.5.1 Protocol error");
		return SMTPD_PERMFAIL;
	}
	smtpd_ck_init(&c, s, "RCPT", msg, msglen);
	c.rcpt = rcpt;
	c.bare = bare;
	if (s->sd->delay_reject)
		for (i = RESTR_L_CLIENT; i <= RESTR_L_SENDER &&
		    v == SMTPD_V_DUNNO; i++) {
			/* each of these is a stage of its own in Postfix */
			memset(&c.dip, 0, sizeof(c.dip));
			memset(&c.dir, 0, sizeof(c.dir));
			v = smtpd_ck_run(&c, i, i);
		}
	memset(&c.dip, 0, sizeof(c.dip));
	memset(&c.dir, 0, sizeof(c.dir));
	if (v == SMTPD_V_DUNNO)
		v = smtpd_ck_run(&c, RESTR_L_RELAY, RESTR_L_RCPT);
	return smtpd_ck_result(&c, v, 1);
}

/* smtpd_check_data - smtpd_data_restrictions at DATA */
enum smtpd_res
smtpd_check_data(struct smtpd_sess *s, char *msg, size_t msglen)
{
	struct smtpd_ctx c;

	smtpd_ck_init(&c, s, "DATA", msg, msglen);
	return smtpd_ck_result(&c, smtpd_ck_run(&c, RESTR_L_DATA,
	    RESTR_L_DATA), 0);
}

/* smtpd_check_eod - smtpd_end_of_data_restrictions after the final dot */
enum smtpd_res
smtpd_check_eod(struct smtpd_sess *s, char *msg, size_t msglen)
{
	struct smtpd_ctx c;

	smtpd_ck_init(&c, s, "END-OF-MESSAGE", msg, msglen);
	return smtpd_ck_result(&c, smtpd_ck_run(&c, RESTR_L_EOD,
	    RESTR_L_EOD), 0);
}
