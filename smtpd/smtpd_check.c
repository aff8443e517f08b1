/*
 * smtpd_check.c - access restrictions (Postfix's smtpd_*_restrictions).
 *
 * Lists are evaluated at RCPT time in Postfix's order: client, helo,
 * sender, relay, recipient (smtpd_delay_reject = yes, the default; with
 * "no" the first three are evaluated at MAIL FROM instead, see
 * smtpd_check_mail).  In each list the first restriction that decides
 * (permit / reject / defer) ends that list; "permit" lets the next list run.
 * The names, and how many arguments follow each, are lib/restr.c's table;
 * smtpd_restr_fn[] binds a handler to each.  master and mailctl check
 * refuse a list with a name that is not in the table, and so does
 * smtpd_check_config at start (a service cannot start with one); should
 * one reach a transaction anyway, it is answered "451 4.3.5 Server
 * configuration error", so mail is deferred, never let through.
 *
 * The handlers of the restrictions that read the DNS or the client name
 * are in smtpd_check_dns.c (the types they share: smtpd_check.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "addr.h"
#include "buf.h"
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
	snprintf(c->msg, c->msglen, "554 5.7.1 Access denied");
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_defer(struct smtpd_ctx *c, const char *arg)
{
	snprintf(c->msg, c->msglen, "450 4.7.1 Try again later");
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

/* smtpd_unauth_dest - see smtpd_check.h */
int
smtpd_unauth_dest(struct smtpd_ctx *c)
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

	if (!smtpd_unauth_dest(c))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "554 5.7.1 <%s>: Relay access denied",
	    smtpd_rcpt_text(c, b, sizeof(b)));
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_defer_unauth_dest(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (!smtpd_unauth_dest(c))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "454 4.7.1 <%s>: Relay access denied",
	    smtpd_rcpt_text(c, b, sizeof(b)));
	c->temp = 1;
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_nonfqdn_rcpt(struct smtpd_ctx *c, const char *arg)
{
	char	 b[600];

	if (c->rcpt == NULL || (!c->bare && (strchr(c->rcpt->domain, '.') !=
	    NULL || c->rcpt->literal)))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "504 5.5.2 <%s>: Recipient address "
	    "rejected: need fully-qualified address",
	    smtpd_rcpt_text(c, b, sizeof(b)));
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_nonfqdn_sender(struct smtpd_ctx *c, const char *arg)
{
	const char *sender = c->s->sender, *at;

	if (sender == NULL || *sender == '\0')
		return SMTPD_V_DUNNO;
	at = strrchr(sender, '@');
	if (at != NULL && (strchr(at, '.') != NULL || at[1] == '['))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "504 5.5.2 <%s>: Sender address "
	    "rejected: need fully-qualified address", log_str(sender));
	return SMTPD_V_REJECT;
}

/* smtpd_helo_valid - syntax of a HELO name: hostname or address literal */
static int
smtpd_helo_valid(const char *h)
{
	size_t	 len = strlen(h);

	if (len > 2 && h[0] == '[' && h[len - 1] == ']')
		return 1;
	return addr_valid_domain(h);
}

static enum smtpd_verdict
smtpd_r_invalid_helo(struct smtpd_ctx *c, const char *arg)
{
	const char *h = c->s->helo;

	if (h == NULL || smtpd_helo_valid(h))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "501 5.5.2 <%s>: Helo command rejected: "
	    "Invalid name", log_str(h));
	return SMTPD_V_REJECT;
}

static enum smtpd_verdict
smtpd_r_nonfqdn_helo(struct smtpd_ctx *c, const char *arg)
{
	const char *h = c->s->helo;

	if (h == NULL || h[0] == '[' || (strchr(h, '.') != NULL &&
	    smtpd_helo_valid(h)))
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "504 5.5.2 <%s>: Helo command rejected: "
	    "need fully-qualified hostname", log_str(h));
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

static enum smtpd_verdict
smtpd_r_dunno(struct smtpd_ctx *c, const char *arg)
{
	/* reject_unlisted_recipient: the local lookup always runs */
	return SMTPD_V_DUNNO;
}

/*
 * Access(5) actions (Postfix's check_table_result): the answer of a policy
 * server, and of any other restriction that finds an action, is applied
 * by smtpd_check_action.  REJECT and DEFER use Postfix's default
 * access_map_reject_code and access_map_defer_code.
 */
#define SMTPD_ACCESS_REJECT_CODE	554
#define SMTPD_ACCESS_DEFER_CODE		450

static enum smtpd_verdict smtpd_check_words(struct smtpd_ctx *, char **,
	    size_t, int);

/* smtpd_check_subject - what the list checks, for "<%s>: %s rejected" */
static const char *
smtpd_check_subject(struct smtpd_ctx *c, const char **cls, char *buf,
    size_t len)
{
	struct smtpd_sess *s = c->s;

	switch (c->list) {
	case 0:
		*cls = "Client host";
		snprintf(buf, len, "%s[%s]", s->client_name, s->client_addr);
		return buf;
	case 1:
		*cls = "Helo command";
		return log_str(s->helo != NULL ? s->helo : "");
	case 2:
		*cls = "Sender address";
		return log_str(s->sender != NULL ? s->sender : "");
	default:
		*cls = "Recipient address";
		return smtpd_rcpt_text(c, buf, len);
	}
}

/* smtpd_check_reply - "CODE X.Y.Z <subject>: Class rejected: text" */
static void
smtpd_check_reply(struct smtpd_ctx *c, char *out, size_t outlen, int code,
    const char *dsn, const char *text)
{
	const char *cls, *subj;
	char	 b[600];

	subj = smtpd_check_subject(c, &cls, b, sizeof(b));
	snprintf(out, outlen, "%d %s <%s>: %s rejected: %s", code, dsn, subj,
	    cls, *text != '\0' ? log_str(text) : "Access denied");
}

/* smtpd_check_bad_action - an action youju cannot apply: 451, logged */
static enum smtpd_verdict
smtpd_check_bad_action(struct smtpd_ctx *c, const char *what,
    const char *value, const char *why)
{
	log_warn("%s[%s]: %s: action \"%s\": %s", c->s->client_name,
	    c->s->client_addr,
	    what, log_str(value), why);
	snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration error");
	c->temp = 1;
	return SMTPD_V_REJECT;
}

/* smtpd_check_prepend - PREPEND: the header goes above our Received: */
static enum smtpd_verdict
smtpd_check_prepend(struct smtpd_ctx *c, const char *what,
    const char *value, const char *text)
{
	struct buf *p = &c->prep;

	if (c->s->prepend.len + p->len + strlen(text) + 2 > SMTPD_PREPEND_MAX)
		return smtpd_check_bad_action(c, what, value,
		    "too many PREPEND headers");
	(void)buf_puts(p, text);
	(void)buf_puts(p, "\r\n");
	return SMTPD_V_DUNNO;
}

/*
 * smtpd_check_action - apply an access(5) action (value) that a
 * restriction found; what names where it came from in the log ("policy
 * query").  DEFER_IF_PERMIT and DEFER_IF_REJECT are remembered and
 * decided when the lists end (smtpd_check_end).
 */
static enum smtpd_verdict
smtpd_check_action(struct smtpd_ctx *c, const char *what, const char *value)
{
	struct access_action a;
	enum smtpd_verdict v = SMTPD_V_DUNNO;
	char	 why[512];

	if (access_parse(value, NULL, &a, why, sizeof(why)) == -1)
		return smtpd_check_bad_action(c, what, value, why);
	switch (a.kind) {
	case ACCESS_OK:
		v = SMTPD_V_PERMIT;
		break;
	case ACCESS_REJECT:
	case ACCESS_DEFER:
	case ACCESS_CODE:
		c->temp = a.kind == ACCESS_DEFER || a.code / 100 == 4;
		smtpd_check_reply(c, c->msg, c->msglen, a.kind ==
		    ACCESS_REJECT ? SMTPD_ACCESS_REJECT_CODE : a.kind ==
		    ACCESS_DEFER ? SMTPD_ACCESS_DEFER_CODE : a.code, a.dsn,
		    a.text);
		v = SMTPD_V_REJECT;
		break;
	case ACCESS_DEFER_IF_PERMIT:
	case ACCESS_DEFER_IF_REJECT:
		smtpd_check_reply(c, a.kind == ACCESS_DEFER_IF_PERMIT ? c->dip :
		    c->dir, sizeof(c->dip), SMTPD_ACCESS_DEFER_CODE, a.dsn,
		    a.text);
		break;
	case ACCESS_WARN:
	case ACCESS_INFO:
		log_info("%s: %s[%s]: %s: %s", a.kind == ACCESS_WARN ?
		    "warn" : "info", c->s->client_name, c->s->client_addr, what,
		    log_str(a.text));
		break;
	case ACCESS_PREPEND:
		v = smtpd_check_prepend(c, what, value, a.text);
		break;
	case ACCESS_RESTRICT:
		v = smtpd_check_words(c, a.words, a.nwords, 1);
		break;
	case ACCESS_DUNNO:
		break;
	default:	/* DISCARD, HOLD: no queue support in smtpd */
		v = smtpd_check_bad_action(c, what, value, "not available "
		    "for this restriction");
		break;
	}
	access_free(&a);
	return v;
}

/*
 * smtpd_r_policy - check_policy_service: the server's answer (or the
 * default action) once smtpd_policy.c has it, applied as an action
 */
static enum smtpd_verdict
smtpd_r_policy(struct smtpd_ctx *c, const char *arg)
{
	const char *action;
	char	 b[600];

	if (arg == NULL)
		return SMTPD_V_DUNNO;
	if (smtpd_policy_ask(c->s, arg, c->rcpt != NULL ? "RCPT" : "MAIL",
	    c->rcpt != NULL ? smtpd_rcpt_text(c, b, sizeof(b)) : "",
	    &action) == -1)
		return SMTPD_V_WAIT;
	if (action == NULL)	/* a word from a policy server's answer */
		return smtpd_check_bad_action(c, "policy query", arg,
		    "check_policy_service only in restriction lists");
	return smtpd_check_action(c, "policy query", action);
}

/* the handler of each restriction (lib/restr.c has the names) */
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

/*
 * smtpd_check_config - every list checked as master and mailctl check do
 * (an unknown name is refused there; here it stops this service), and
 * every restriction has its handler (else: our own bug)
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
		if (restr_check_list(sd->restr[i], sd->nrestr[i], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", restr_lists[i], why);
			return -1;
		}
	return 0;
}

/* smtpd_check_uses - does any list name a restriction containing text */
int
smtpd_check_uses(struct smtpd *sd, const char *text)
{
	size_t	 i, k;

	for (i = 0; i < RESTR_NLISTS; i++)
		for (k = 0; k < sd->nrestr[i]; k++)
			if (strstr(sd->restr[i][k], text) != NULL)
				return 1;
	return 0;
}

/*
 * smtpd_check_words - run restriction words (a list, or an action's
 * restriction names when nested: check_policy_service is then refused,
 * its address must come from main.cf)
 */
static enum smtpd_verdict
smtpd_check_words(struct smtpd_ctx *c, char **v, size_t n, int nested)
{
	const struct restr_def *r;
	enum smtpd_verdict vd;
	size_t	 k;

	for (k = 0; k < n; k++) {
		if ((r = restr_find(v[k])) == NULL || (nested &&
		    r->id == RESTR_CHECK_POLICY_SERVICE)) {
			/* not nested: smtpd_check_config refused it at start */
			if (nested)
				log_warn("%s[%s]: check_policy_service in "
				    "an action is refused", c->s->client_name,
				    c->s->client_addr);
			snprintf(c->msg, c->msglen, "451 4.3.5 Server "
			    "configuration error");
			c->temp = 1;
			return SMTPD_V_REJECT;
		}
		vd = smtpd_restr_fn[r->id](c, k + 1 < n ? v[k + 1] : NULL);
		k += (size_t)r->nargs;
		if (vd != SMTPD_V_DUNNO)
			return vd;
	}
	return SMTPD_V_DUNNO;
}

/* smtpd_check_list - run one restriction list */
static enum smtpd_verdict
smtpd_check_list(struct smtpd_ctx *c, int idx)
{
	c->list = idx;
	return smtpd_check_words(c, c->s->sd->restr[idx],
	    c->s->sd->nrestr[idx], 0);
}

/*
 * smtpd_check_end - the lists' verdict with DEFER_IF_PERMIT and
 * DEFER_IF_REJECT applied; policy answers are forgotten once there is one
 */
static enum smtpd_res
smtpd_check_end(struct smtpd_ctx *c, enum smtpd_verdict v)
{
	if (v != SMTPD_V_WAIT && c->prep.len > 0)
		(void)buf_append(&c->s->prepend, c->prep.data, c->prep.len);
	buf_free(&c->prep);
	if (v == SMTPD_V_WAIT)
		return SMTPD_WAIT;
	smtpd_policy_clear(c->s);
	if (v == SMTPD_V_REJECT && !c->temp && c->dir[0] != '\0') {
		snprintf(c->msg, c->msglen, "%s", c->dir);
		return SMTPD_TEMPFAIL;
	}
	if (v == SMTPD_V_REJECT)
		return c->temp ? SMTPD_TEMPFAIL : SMTPD_PERMFAIL;
	if (c->dip[0] != '\0') {
		snprintf(c->msg, c->msglen, "%s", c->dip);
		return SMTPD_TEMPFAIL;
	}
	return SMTPD_OK;
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

/* smtpd_check_rcpt - every list for one recipient */
enum smtpd_res
smtpd_check_rcpt(struct smtpd_sess *s, const struct addr *rcpt, int bare,
    char *msg, size_t msglen)
{
	struct smtpd_ctx c = { .s = s, .rcpt = rcpt, .bare = bare, .msg = msg,
	    .msglen = msglen };
	enum smtpd_verdict v = SMTPD_V_DUNNO;
	int	 i;

	if (s->pregreet_enforce) {
		/* smtpd_greet_action = enforce (postscreen's reply) */
		snprintf(msg, msglen, "550 5.5.1 Protocol error");
		return SMTPD_PERMFAIL;
	}
	buf_init(&c.prep, SMTPD_PREPEND_MAX);
	for (i = s->sd->delay_reject ? 0 : 3; i < 5; i++)
		if ((v = smtpd_check_list(&c, i)) == SMTPD_V_REJECT ||
		    v == SMTPD_V_WAIT)
			break;
	return smtpd_check_end(&c, v);
}

/* smtpd_check_mail - client, helo, sender lists at MAIL (no delay_reject) */
enum smtpd_res
smtpd_check_mail(struct smtpd_sess *s, char *msg, size_t msglen)
{
	struct smtpd_ctx c = { .s = s, .msg = msg, .msglen = msglen };
	enum smtpd_verdict v = SMTPD_V_DUNNO;
	int	 i;

	if (s->sd->delay_reject)
		return SMTPD_OK;
	buf_init(&c.prep, SMTPD_PREPEND_MAX);
	for (i = 0; i < 3; i++)
		if ((v = smtpd_check_list(&c, i)) == SMTPD_V_REJECT ||
		    v == SMTPD_V_WAIT)
			break;
	return smtpd_check_end(&c, v);
}
