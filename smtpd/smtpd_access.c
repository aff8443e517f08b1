/*
 * smtpd_access.c - the access tables of the restriction lists
 * (check_client_access, check_reverse_client_hostname_access,
 * check_helo_access, check_sender_access, check_recipient_access) and
 * the restrictions of Postfix's evaluation rules (warn_if_reject,
 * defer_if_permit, defer_if_reject, sleep, permit_auth_destination,
 * reject_unauth_pipelining, reject_unlisted_sender,
 * reject_multi_recipient_bounce, reject_plaintext_session).
 *
 * Tables are opened before the jail (smtpd_check_open) and looked up in
 * Postfix's orders (lib/maps); a table's value is an access(5) action
 * (lib/maps/access).  OK/PERMIT permit, DUNNO goes on, REJECT, DEFER and
 * 4NN/5NN reject with "<NAME>: CLASS rejected: TEXT", DEFER_IF_* arm
 * the deferral, DISCARD permits and drops the message after DATA (250
 * all the same), HOLD puts it in the hold queue (hold/, released with
 * "mailctl queue release"), PREPEND adds a header above our Received:,
 * WARN and INFO log, and a list of restrictions (or classes) runs in
 * place of the lookup.  Replies name what the table looked up (the
 * client, "Unverified Client host" for the reverse name, the HELO name,
 * sender, recipient), whatever list it is in; a permit from
 * check_reverse_client_hostname_access is a configuration error (451
 * 4.3.5), as in Postfix.  A table that cannot answer now gives 451 4.3.0.
 *
 * Interface: smtpd_r_* (smtpd_check.h), smtpd_check_open,
 * smtpd_check_maps_changed, smtpd_check_txn_reset, smtpd_check_forget,
 * smtpd_check_sleep, smtpd_check_listed, smtpd_check_pipelining.
 */
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "access.h"
#include "addr.h"
#include "buf.h"
#include "cfg.h"
#include "ipc.h"
#include "log.h"
#include "maps.h"
#include "restr.h"
#include "util.h"
#include "smtpd.h"
#include "smtpd_check.h"

/* what a table looks up; SMTPD_SUBJ_CLIENT + each is its reply subject */
#define SMTPD_ACC_CLIENT	0
#define SMTPD_ACC_REV		1
#define SMTPD_ACC_HELO		2
#define SMTPD_ACC_SENDER	3
#define SMTPD_ACC_RCPT		4


/* smtpd_defer_set - see smtpd_check.h */
void
smtpd_defer_set(struct smtpd_defer *d, const char *fmt, ...)
{
	va_list	 ap;

	if (d->active)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	d->active = 1;
}

/* smtpd_acc_reject - a reject of this restriction: "<NAME>: CLASS
   rejected: text" with code and enhanced status code */
static enum smtpd_verdict
smtpd_acc_reject(struct smtpd_ctx *c, int code, const char *dsn,
    const char *text)
{
	const char *cls, *name;
	char	 b[600];

	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	snprintf(c->msg, c->msglen, "%d %s <%s>: %s rejected: %s", code, dsn,
	    name, cls, text);
	c->temp = code / 100 == 4;
	return SMTPD_V_REJECT;
}

enum smtpd_verdict
smtpd_r_warn_if_reject(struct smtpd_ctx *c, const char *arg)
{
	return SMTPD_V_DUNNO;	/* smtpd_ck_eval arms it */
}

enum smtpd_verdict
smtpd_r_defer_if_permit(struct smtpd_ctx *c, const char *arg)
{
	const char *cls, *name;
	char	 b[600];

	/* Postfix's reply is 450 4.7.0 whatever defer_code says */
	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	smtpd_defer_set(&c->dip, "450 4.7.0 <%s>: %s rejected: "
	    "defer_if_permit requested", name, cls);
	return SMTPD_V_DUNNO;
}

enum smtpd_verdict
smtpd_r_defer_if_reject(struct smtpd_ctx *c, const char *arg)
{
	const char *cls, *name;
	char	 b[600];

	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	smtpd_defer_set(&c->dir, "450 4.7.0 <%s>: %s rejected: "
	    "defer_if_reject requested", name, cls);
	return SMTPD_V_DUNNO;
}

/*
 * smtpd_r_sleep - sleep N: the stage pauses N seconds and then runs again
 * from the start, skipping the sleeps it has done (s->sleep_done)
 */
enum smtpd_verdict
smtpd_r_sleep(struct smtpd_ctx *c, const char *arg)
{
	long long n;

	if (++c->nsleep <= c->s->sleep_done)
		return SMTPD_V_DUNNO;
	if (arg == NULL || util_parse_ll(arg, 0, 9999, &n) == -1)
		return SMTPD_V_DUNNO;	/* restr_check_list refused it */
	if (n == 0)
		return SMTPD_V_DUNNO;
	c->s->sleep_secs = (int)n;
	return SMTPD_V_SLEEP;
}

enum smtpd_verdict
smtpd_r_auth_dest(struct smtpd_ctx *c, const char *arg)
{
	if (c->rcpt == NULL || smtpd_ck_unauth_dest(c))
		return SMTPD_V_DUNNO;
	return SMTPD_V_PERMIT;
}

enum smtpd_verdict
smtpd_r_pipelining(struct smtpd_ctx *c, const char *arg)
{
	if (!c->s->ill_pipelining)
		return SMTPD_V_DUNNO;
	return smtpd_acc_reject(c, 503, "5.5.0", "Improper use of SMTP "
	    "command pipelining");
}

/*
 * smtpd_r_unlisted_sender - a sender in one of our domains must exist
 * (the broker was asked at MAIL FROM, smtpd_check_listed)
 */
enum smtpd_verdict
smtpd_r_unlisted_sender(struct smtpd_ctx *c, const char *arg)
{
	const char *sender = c->s->sender;

	if (sender == NULL || *sender == '\0' || c->s->sender_listed <= 1)
		return SMTPD_V_DUNNO;
	if (c->s->sender_listed == 3) {
		snprintf(c->msg, c->msglen, "451 4.3.0 <%s>: Sender address "
		    "rejected: Temporary lookup failure", log_str(sender));
		c->temp = 1;
		return SMTPD_V_REJECT;
	}
	snprintf(c->msg, c->msglen, "%d %c.1.0 <%s>: Sender address "
	    "rejected: User unknown in local recipient table",
	    c->s->sd->local_rcpt_code, c->s->sd->local_rcpt_code / 100 == 4 ?
	    '4' : '5', log_str(sender));
	c->temp = c->s->sd->local_rcpt_code / 100 == 4;
	return SMTPD_V_REJECT;
}

enum smtpd_verdict
smtpd_r_multi_bounce(struct smtpd_ctx *c, const char *arg)
{
	struct smtpd_sess *s = c->s;
	const char *cls, *name;
	char	 b[600];

	/* at RCPT: a second recipient; at DATA and after: more than one */
	if (s->sender == NULL || *s->sender != '\0' ||
	    s->nrcpt <= (size_t)(c->rcpt == NULL ? 1 : 0))
		return SMTPD_V_DUNNO;
	/* Postfix names what the list is about: <DATA>: Data command, ... */
	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	return smtpd_refuse(c, s->sd->mul_rcpt_code, "5.5.3", "<%s>: %s "
	    "rejected: Multi-recipient bounce", name, cls);
}

enum smtpd_verdict
smtpd_r_plaintext(struct smtpd_ctx *c, const char *arg)
{
	int	 code = c->s->sd->plaintext_code;

	if (c->s->tls == 2)
		return SMTPD_V_DUNNO;
	snprintf(c->msg, c->msglen, "%d %c.7.1 Session encryption is "
	    "required", code, code / 100 == 4 ? '4' : '5');
	c->temp = code / 100 == 4;
	return SMTPD_V_REJECT;
}

/* smtpd_acc_map - the table of a check_*_access, opened at start */
static struct map *
smtpd_acc_map(const struct smtpd *sd, const char *spec)
{
	size_t	 i;

	for (i = 0; i < sd->nmaps; i++)
		if (strcmp(sd->maps[i].spec, spec) == 0)
			return sd->maps[i].m;
	return NULL;
}

/* smtpd_acc_acts - where HOLD, DISCARD, PREPEND of this stage go */
static struct smtpd_acts *
smtpd_acc_acts(struct smtpd_ctx *c)
{
	if (strcmp(c->stage, "CONNECT") == 0 || strcmp(c->stage, "HELO") == 0)
		return &c->s->acts_sess;
	return &c->s->acts_txn;
}

/*
 * smtpd_acc_prepend - a header for the message; it is kept once the
 * evaluation has a verdict (smtpd_ck_keep), so a stage that runs again
 * after a DNS or policy wait or a sleep does not add it twice
 */
static void
smtpd_acc_prepend(struct smtpd_ctx *c, const char *hdr)
{
	size_t	 len = strlen(hdr);

	if (smtpd_acc_acts(c)->prepend_len + c->prep.len + len + 2 >
	    SMTPD_PREPEND_MAX || buf_append(&c->prep, hdr, len) == -1 ||
	    buf_append(&c->prep, "\r\n", 2) == -1) {
		log_warn("PREPEND: more than %d bytes of headers for one "
		    "message: \"%s\" not added", SMTPD_PREPEND_MAX,
		    log_str(hdr));
		return;
	}
}

/* smtpd_ck_keep - see smtpd_check.h */
void
smtpd_ck_keep(struct smtpd_ctx *c)
{
	struct smtpd_acts *a;

	if (c->prep.len == 0)
		return;
	a = smtpd_acc_acts(c);
	a->prepend = xrealloc(a->prepend, a->prepend_len + c->prep.len + 1);
	memcpy(a->prepend + a->prepend_len, c->prep.data, c->prep.len);
	a->prepend_len += c->prep.len;
	a->prepend[a->prepend_len] = '\0';
	buf_reset(&c->prep);
}

/*
 * smtpd_acc_note - DISCARD, HOLD (action: "<NAME>: CLASS text", text by
 * default "triggers ACTION action"), WARN, INFO (action NULL: the text
 * alone): the log line Postfix writes, with to= during RCPT
 */
static void
smtpd_acc_note(struct smtpd_ctx *c, const char *what, const char *text,
    const char *action)
{
	const char *cls, *name;
	char	 b[600], line[1200], rb[600];

	name = smtpd_ck_name(c, b, sizeof(b), &cls);
	if (action == NULL)
		util_strlcpy(line, text, sizeof(line));
	else if (*text != '\0')
		snprintf(line, sizeof(line), "<%s>: %s %s", name, cls, text);
	else
		snprintf(line, sizeof(line), "<%s>: %s triggers %s action",
		    name, cls, action);
	smtpd_whatsup(c->s, what, c->stage, NULL, c->rcpt != NULL ?
	    smtpd_rcpt_text(c, rb, sizeof(rb)) : NULL, line);
}

/*
 * smtpd_acc_redirect - REDIRECT (the message goes to addr instead of its
 * recipients) and BCC (a copy to addr): the last one of each counts, as
 * in Postfix.  The recipients are written when DATA begins, so after the
 * content (smtpd_end_of_data_restrictions) neither can be applied: that
 * is a configuration error, answered 451 and logged.
 */
static enum smtpd_verdict
smtpd_acc_redirect(struct smtpd_ctx *c, const char *spec, int kind,
    const char *addr)
{
	struct smtpd_acts *acts = smtpd_acc_acts(c);
	const char *word = kind == ACCESS_REDIRECT ? "REDIRECT" : "BCC";
	char	 act[600];
	char	**slot = kind == ACCESS_REDIRECT ? &acts->redirect : &acts->bcc;

	if (c->list == RESTR_L_EOD) {
		log_err("%s: %s %s: the recipients are already written at "
		    "end of data; use it in an earlier restriction list",
		    spec, word, log_str(addr));
		snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration "
		    "error");
		c->temp = c->conferr = 1;
		return SMTPD_V_REJECT;
	}
	free(*slot);
	*slot = xstrdup(addr);
	/* Postfix's words: "... triggers REDIRECT user@domain" */
	snprintf(act, sizeof(act), "triggers %s %s", word, addr);
	smtpd_acc_note(c, kind == ACCESS_REDIRECT ? "redirect" : "bcc", act,
	    word);
	return SMTPD_V_DUNNO;
}

/*
 * smtpd_ck_action - see smtpd_check.h.  (Long: one case per access(5)
 * action, each a line or two, in the order of youju-tables(5).)
 */
enum smtpd_verdict
smtpd_ck_action(struct smtpd_ctx *c, const char *spec, const char *value)
{
	struct smtpd *sd = c->s->sd;
	struct access_action a;
	enum smtpd_verdict v = SMTPD_V_DUNNO;
	const char *cls, *name, *text;
	char	 err[512], b[600];

	if (access_parse(value, sd->class_names, &a, err, sizeof(err)) == -1) {
		log_err("%s: %s", spec, err);
		snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration "
		    "error");
		c->temp = c->conferr = 1;
		return SMTPD_V_REJECT;
	}
	text = *a.text != '\0' ? a.text : "Access denied";
	switch (a.kind) {
	case ACCESS_OK:
		v = SMTPD_V_PERMIT;
		break;
	case ACCESS_REJECT:
		v = smtpd_acc_reject(c, sd->access_reject_code, a.dsn, text);
		break;
	case ACCESS_DEFER:
		v = smtpd_acc_reject(c, sd->access_defer_code, a.dsn, text);
		break;
	case ACCESS_CODE:
		v = smtpd_acc_reject(c, a.code, a.dsn, text);
		break;
	case ACCESS_DEFER_IF_REJECT:
	case ACCESS_DEFER_IF_PERMIT:
		/* Postfix's text for these is not "Access denied" */
		name = smtpd_ck_name(c, b, sizeof(b), &cls);
		smtpd_defer_set(a.kind == ACCESS_DEFER_IF_REJECT ? &c->dir :
		    &c->dip, "%d %s <%s>: %s rejected: %s",
		    sd->access_defer_code, a.dsn, name, cls, *a.text != '\0' ?
		    a.text : "Service unavailable");
		break;
	case ACCESS_DISCARD:
		smtpd_acc_acts(c)->discard = 1;
		smtpd_acc_note(c, "discard", a.text, "DISCARD");
		v = SMTPD_V_PERMIT;
		break;
	case ACCESS_HOLD:
		smtpd_acc_acts(c)->hold = 1;
		smtpd_acc_note(c, "hold", a.text, "HOLD");
		break;
	case ACCESS_WARN:
	case ACCESS_INFO:
		smtpd_acc_note(c, a.kind == ACCESS_WARN ? "warn" : "info",
		    a.text, NULL);
		break;
	case ACCESS_PREPEND:
		smtpd_acc_prepend(c, a.text);
		break;
	case ACCESS_REDIRECT:
	case ACCESS_BCC:
		v = smtpd_acc_redirect(c, spec, a.kind, a.text);
		break;
	case ACCESS_RESTRICT:
		c->depth++;
		v = smtpd_ck_eval(c, a.words, a.nwords);
		c->depth--;
		break;
	default:
		break;
	}
	access_free(&a);
	return v;
}

/*
 * smtpd_acc_find - look what a check_*_access looks at up in its table,
 * in Postfix's order for it: MAPS_FOUND (value in val), _NOTFOUND,
 * _TEMPFAIL
 */
static int
smtpd_acc_find(struct smtpd_ctx *c, struct map *m, int what, struct buf *val,
    struct buf *key)
{
	struct smtpd_sess *s = c->s;
	struct smtpd *sd = s->sd;
	struct maps_order o = { sd->delims, sd->parent_access, sd->null_key };
	const char *name;
	char	 ab[ADDR_PATH_MAX * 2 + 8];

	switch (what) {
	case SMTPD_ACC_CLIENT:
	case SMTPD_ACC_REV:
		name = what == SMTPD_ACC_CLIENT ? s->client_name :
		    s->reverse_name;
		return maps_find_client(m, &o, strcmp(name, "unknown") == 0 ?
		    NULL : name, s->client_addr, val, key);
	case SMTPD_ACC_HELO:
		return s->helo == NULL ? MAPS_NOTFOUND :
		    maps_find_domain(m, &o, s->helo, val, key);
	case SMTPD_ACC_SENDER:
		return s->sender == NULL ? MAPS_NOTFOUND :
		    maps_find_addr(m, &o, s->sender, val, key);
	default:
		if (c->rcpt == NULL)
			return MAPS_NOTFOUND;
		addr_format(c->rcpt, ab, sizeof(ab));
		return maps_find_addr(m, &o, ab, val, key);
	}
}

/* smtpd_acc_check - look the stage's subject up in a table, act on it */
static enum smtpd_verdict
smtpd_acc_check(struct smtpd_ctx *c, const char *spec, int what)
{
	struct smtpd_sess *s = c->s;
	struct smtpd *sd = s->sd;
	struct buf val, key;
	struct map *m;
	const char *name, *cls;
	char	 nb[600];
	enum smtpd_verdict v = SMTPD_V_DUNNO;
	int	 r, saved;

	if (spec == NULL || (m = smtpd_acc_map(sd, spec)) == NULL) {
		log_err("%s: table not opened at start", spec != NULL ? spec :
		    "(none)");
		snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration "
		    "error");
		c->temp = c->conferr = 1;
		return SMTPD_V_REJECT;
	}
	buf_init(&val, MAPS_VALUE_MAX + 1);
	buf_init(&key, MAPS_KEY_MAX + 1);
	r = smtpd_acc_find(c, m, what, &val, &key);
	if (maps_stale(m))
		sd->maps_stale = 1;
	/* replies name what this table looked up (Postfix's reply_name
	   and reply_class), also from inside the result's restrictions */
	saved = c->subj;
	c->subj = SMTPD_SUBJ_CLIENT + what;
	if (r == MAPS_TEMPFAIL) {
		log_warn("%s: lookup failed: %s", spec, maps_error(m));
		name = smtpd_ck_name(c, nb, sizeof(nb), &cls);
		snprintf(c->msg, c->msglen, "451 4.3.0 <%s>: %s rejected: "
		    "Temporary lookup failure", name, cls);
		c->temp = 1;
		v = SMTPD_V_REJECT;
	} else if (r == MAPS_FOUND)
		v = smtpd_ck_action(c, spec, buf_cstr(&val));
	c->subj = saved;
	if (v == SMTPD_V_PERMIT && what == SMTPD_ACC_REV) {
		/* Postfix: a name the client chose cannot allow anything */
		log_warn("restriction check_reverse_client_hostname_access "
		    "returns OK for %s", log_str(s->reverse_name));
		log_warn("this is not allowed for security reasons");
		log_warn("use DUNNO instead of OK if you want to make an "
		    "exception");
		snprintf(c->msg, c->msglen, "451 4.3.5 Server configuration "
		    "error");
		c->temp = c->conferr = 1;
		v = SMTPD_V_REJECT;
	}
	buf_free(&val);
	buf_free(&key);
	return v;
}

enum smtpd_verdict
smtpd_r_client_access(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_acc_check(c, arg, SMTPD_ACC_CLIENT);
}

enum smtpd_verdict
smtpd_r_rev_client_access(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_acc_check(c, arg, SMTPD_ACC_REV);
}

enum smtpd_verdict
smtpd_r_helo_access(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_acc_check(c, arg, SMTPD_ACC_HELO);
}

enum smtpd_verdict
smtpd_r_sender_access(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_acc_check(c, arg, SMTPD_ACC_SENDER);
}

enum smtpd_verdict
smtpd_r_rcpt_access(struct smtpd_ctx *c, const char *arg)
{
	return smtpd_acc_check(c, arg, SMTPD_ACC_RCPT);
}

/* smtpd_acc_open_list - open the tables a list names (once each) */
static int
smtpd_acc_open_list(struct smtpd *sd, char **v, size_t n, char *err,
    size_t errlen)
{
	const struct restr_def *r;
	struct map *m;
	size_t	 k;

	for (k = 0; k + 1 < n; k++) {
		if ((r = restr_find(v[k])) == NULL || r->nargs == 0)
			continue;
		if ((restr_arg_flags(r->id) & RESTR_F_TABLE) &&
		    smtpd_acc_map(sd, v[k + 1]) == NULL) {
			if ((m = maps_open(v[k + 1], NULL, err, errlen)) ==
			    NULL)
				return -1;
			sd->maps = xreallocarray(sd->maps, sd->nmaps + 1,
			    sizeof(*sd->maps));
			sd->maps[sd->nmaps].spec = xstrdup(v[k + 1]);
			sd->maps[sd->nmaps++].m = m;
		}
		k += (size_t)r->nargs;
	}
	return 0;
}

/*
 * smtpd_check_open - the lists, the classes and every table they name,
 * read before the jail (the tables are usually outside it); a name that
 * is not known, a class without a definition, a table that cannot be
 * opened: -1 with why, and the service does not start
 */
int
smtpd_check_open(struct smtpd *sd, char *err, size_t errlen)
{
	const char *val;
	char	 why[1024];
	size_t	 i, n;
	char	**names;

	for (i = 0; i < RESTR_NLISTS; i++)
		sd->restr[i] = cfg_list(sd->cfg, restr_lists[i],
		    &sd->nrestr[i]);
	names = cfg_list(sd->cfg, "smtpd_restriction_classes", &n);
	sd->classes = xcalloc(n + 1, sizeof(*sd->classes));
	sd->class_names = xcalloc(n + 1, sizeof(*sd->class_names));
	for (i = 0; i < n; i++) {
		if ((val = cfg_lookup(sd->cfg, names[i])) == NULL) {
			snprintf(err, errlen, "smtpd_restriction_classes: "
			    "class \"%s\" is not defined in main.cf",
			    log_str(names[i]));
			cfg_list_free(names, n);
			return -1;
		}
		sd->classes[i].name = xstrdup(names[i]);
		sd->classes[i].v = cfg_split_list(val, &sd->classes[i].n);
		sd->class_names[i] = sd->classes[i].name;
	}
	sd->nclasses = n;
	cfg_list_free(names, n);
	if (smtpd_check_config(sd, err, errlen) == -1)
		return -1;
	for (i = 0; i < RESTR_NLISTS; i++)
		if (smtpd_acc_open_list(sd, sd->restr[i], sd->nrestr[i], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", restr_lists[i], why);
			return -1;
		}
	for (i = 0; i < sd->nclasses; i++)
		if (smtpd_acc_open_list(sd, sd->classes[i].v,
		    sd->classes[i].n, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", sd->classes[i].name,
			    why);
			return -1;
		}
	return 0;
}

/*
 * smtpd_check_maps_changed - is a table changed that cannot be read
 * again from inside the jail (Postfix: "table has changed -- restarting")
 */
int
smtpd_check_maps_changed(struct smtpd *sd)
{
	size_t	 i;

	for (i = 0; i < sd->nmaps && !sd->maps_stale; i++)
		if (maps_update(sd->maps[i].m)) {
			log_info("table %s has changed -- restarting",
			    sd->maps[i].spec);
			sd->maps_stale = 1;
		}
	return sd->maps_stale;
}

/* smtpd_acc_acts_free - forget HOLD, DISCARD, PREPEND, REDIRECT, BCC */
static void
smtpd_acc_acts_free(struct smtpd_acts *a)
{
	free(a->prepend);
	free(a->redirect);
	free(a->bcc);
	memset(a, 0, sizeof(*a));
}

/* smtpd_check_txn_reset - a new transaction: its own actions */
void
smtpd_check_txn_reset(struct smtpd_sess *s)
{
	smtpd_acc_acts_free(&s->acts_txn);
	s->sender_listed = 0;
}

/* smtpd_check_forget - the session ends */
void
smtpd_check_forget(struct smtpd_sess *s)
{
	smtpd_acc_acts_free(&s->acts_txn);
	smtpd_acc_acts_free(&s->acts_sess);
	free(s->sleep_line);
	s->sleep_line = NULL;
	if (s->sleep_ev != NULL)
		event_free(s->sleep_ev);
	s->sleep_ev = NULL;
}

/* smtpd_acc_wake - a sleep is over: run the stage again */
static void
smtpd_acc_wake(evutil_socket_t fd, short ev, void *arg)
{
	struct smtpd_sess *s = arg;
	char	*line;

	if (s->phase != SMTPD_PH_WAIT || s->sleep_kind == 0)
		return;
	s->phase = SMTPD_PH_CMD;
	s->sleep_done++;
	line = s->sleep_line;
	s->sleep_line = NULL;
	switch (s->sleep_kind) {
	case SMTPD_SW_CONNECT:
		s->sleep_kind = 0;
		smtpd_greet(s);
		break;
	case SMTPD_SW_LINE:
		s->sleep_kind = 0;
		smtpd_command(s, line, strlen(line));
		break;
	case SMTPD_SW_MAIL:
		s->sleep_kind = 0;
		smtpd_mail_finish(s);
		break;
	default:
		s->sleep_kind = 0;
		smtpd_data_eod(s);
		break;
	}
	free(line);
	if (s->phase != SMTPD_PH_WAIT)
		smtpd_resume(s);
}

/* smtpd_check_sleep - see smtpd.h */
int
smtpd_check_sleep(struct smtpd_sess *s, int kind, const char *line)
{
	struct timeval tv = { s->sleep_secs, 0 };

	if (s->sleep_ev == NULL && (s->sleep_ev = evtimer_new(s->sd->base,
	    smtpd_acc_wake, s)) == NULL)
		return 0;
	free(s->sleep_line);
	s->sleep_line = line != NULL ? xstrdup(line) : NULL;
	s->sleep_kind = kind;
	s->phase = SMTPD_PH_WAIT;
	evtimer_add(s->sleep_ev, &tv);
	return 1;
}

/*
 * smtpd_check_listed - reject_unlisted_sender in a list and the sender in
 * one of our domains: ask the broker whether it exists (1: waiting; the
 * answer runs smtpd_mail_finish again)
 */
int
smtpd_check_listed(struct smtpd_sess *s)
{
	struct addr a;
	const char *why, *rest;
	char	 path[ADDR_PATH_MAX + 8];

	if (s->sender_listed != 0 || s->sender == NULL || *s->sender == '\0' ||
	    !smtpd_check_uses(s->sd, "reject_unlisted_sender"))
		return 0;
	s->sender_listed = 1;
	if (util_fmt(path, sizeof(path), "<%s>", s->sender) == -1 ||
	    addr_parse_path(path, 0, &a, &rest, &why) == -1 ||
	    !smtpd_is_mydest(s->sd, a.domain))
		return 0;
	if (smtpd_auth_lookup_kind(s, &a, SMTPD_REQ_LISTED) == 0)
		return 1;
	s->sender_listed = 3;
	return 0;
}

/* smtpd_check_listed_done - the broker answered: finish the MAIL */
void
smtpd_check_listed_done(struct smtpd_sess *s, int result)
{
	s->sender_listed = result == IPC_LOOKUP_OK ? 1 :
	    result == IPC_LOOKUP_TEMPFAIL ? 3 : 2;
	smtpd_mail_finish(s);
}

/*
 * smtpd_check_pipelining - before cmd runs: input that is already there
 * where the client must wait for our reply (after HELO, EHLO, DATA,
 * STARTTLS, AUTH, at connect, or anywhere without EHLO) is improper
 * pipelining (Postfix's rule), noted once for reject_unauth_pipelining
 */
void
smtpd_check_pipelining(struct smtpd_sess *s, const char *cmd, int last)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	int	 pending = 0, fd;

	if (s->ill_pipelining || (s->esmtp && !last))
		return;
	if (evbuffer_get_length(in) == 0) {
		fd = (int)bufferevent_getfd(s->bev);
		if (fd == -1 || ioctl(fd, FIONREAD, &pending) == -1 ||
		    pending <= 0)
			return;
	}
	s->ill_pipelining = 1;
	log_info("improper command pipelining after %s from %s[%s]", cmd,
	    s->client_name, s->client_addr);
}
