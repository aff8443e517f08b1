/*
 * smtpd_proto.c - SMTP commands (RFC 5321) and the session's transaction.
 *
 * Dispatch is a table: command name, handler, and whether it counts as
 * junk when repeated.  Replies use enhanced status codes (RFC 3463).
 * Address checks go through smtpd_check.c; whether a local address exists
 * is asked of the auth broker (smtpd_auth.c), which pauses the session
 * until the answer comes back.
 *
 * MAIL parameters: SIZE, BODY, AUTH (ignored), RET and ENVID; RCPT
 * parameters: NOTIFY and ORCPT (DSN, RFC 3461).  A DSN parameter given
 * twice or malformed gets 501 5.5.4, an unknown one 555 5.5.4 (RFC 5321
 * 4.1.1.11).  ENVID and ORCPT are kept exactly as received (xtext) and
 * go into the queue file by smtpd_data.c.
 *
 * Longer than 800 lines on purpose: the commands and their parameters
 * are one state machine over the session's transaction (MAIL, RCPT and
 * their waits for restrictions and lookups hand over to each other);
 * the message body, AUTH and STARTTLS are in smtpd_data.c, smtpd_sasl.c
 * and smtpd_tls.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "addr.h"
#include "buf.h"
#include "dsn.h"
#include "ipc.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "smtpd.h"

struct smtpd_cmd {
	const char	*name;
	void		(*fn)(struct smtpd_sess *, char *);
	int		 junk;		/* counts toward smtpd_junk_command_limit */
	int		 last;		/* the client must wait for its reply
					   (reject_unauth_pipelining) */
};

static void smtpd_helo(struct smtpd_sess *, char *);
static void smtpd_ehlo(struct smtpd_sess *, char *);
static void smtpd_mail(struct smtpd_sess *, char *);
static void smtpd_rcpt(struct smtpd_sess *, char *);
static void smtpd_data(struct smtpd_sess *, char *);
static void smtpd_rset(struct smtpd_sess *, char *);
static void smtpd_noop(struct smtpd_sess *, char *);
static void smtpd_quit(struct smtpd_sess *, char *);
static void smtpd_vrfy(struct smtpd_sess *, char *);
static void smtpd_help(struct smtpd_sess *, char *);
static void smtpd_auth(struct smtpd_sess *, char *);
static void smtpd_mail_forget(struct smtpd_sess *);

static const struct smtpd_cmd smtpd_cmds[] = {
	{ "HELO", smtpd_helo, 0, 1 },
	{ "EHLO", smtpd_ehlo, 0, 1 },
	{ "MAIL", smtpd_mail, 0, 0 },
	{ "RCPT", smtpd_rcpt, 0, 0 },
	{ "DATA", smtpd_data, 0, 1 },
	{ "RSET", smtpd_rset, 1, 0 },
	{ "NOOP", smtpd_noop, 1, 0 },
	{ "QUIT", smtpd_quit, 0, 0 },
	{ "VRFY", smtpd_vrfy, 1, 0 },
	{ "HELP", smtpd_help, 1, 0 },
	{ "STARTTLS", smtpd_starttls, 0, 1 },
	{ "AUTH", smtpd_auth, 0, 1 },
};

/*
 * smtpd_greet - the 220 banner, or, without smtpd_delay_reject, the
 * client restrictions' refusal in its place (Postfix: every command but
 * QUIT then gets 503)
 */
void
smtpd_greet(struct smtpd_sess *s)
{
	char	 msg[1024];

	smtpd_check_pipelining(s, "CONNECT", 1);
	switch (smtpd_check_connect(s, msg, sizeof(msg))) {
	case SMTPD_SLEEP:
		if (smtpd_check_sleep(s, SMTPD_SW_CONNECT, NULL))
			return;
		break;
	case SMTPD_WAIT:
		/* the answers first, then this again (smtpd_rerun) */
		if (smtpd_check_wait(s, SMTPD_DW_CONNECT, NULL))
			return;
		s->client_later = 1;	/* cannot wait: the list runs at MAIL */
		break;
	case SMTPD_TEMPFAIL:
	case SMTPD_PERMFAIL:
		smtpd_whatsup(s, "reject", "CONNECT", NULL, NULL, msg);
		smtpd_reply(s, "%s", msg);
		s->access_denied = 1;
		return;
	default:
		break;
	}
	if (smtpd_peer_pregreet(s))
		return;			/* smtpd_greet_action = drop */
	smtpd_reply(s, "220 %s", s->sd->banner);
}

/* smtpd_txn_reset - forget the mail transaction */
void
smtpd_txn_reset(struct smtpd_sess *s)
{
	size_t	 i;

	for (i = 0; i < s->nrcpt; i++) {
		free(s->rcpt[i].addr);
		free(s->rcpt[i].orcpt);
	}
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
	s->rcpt_cap = 0;
	free(s->sender);
	s->sender = NULL;
	free(s->pend_orcpt);
	s->pend_orcpt = NULL;
	s->pend_notify = 0;
	smtpd_owners_forget(s);
	smtpd_check_txn_reset(s);
	s->in_mail = 0;
	smtpd_mail_forget(s);
	s->txn_seq++;
}

/* smtpd_mail_forget - forget the MAIL parameters */
static void
smtpd_mail_forget(struct smtpd_sess *s)
{
	s->body_8bit = 0;
	s->declared_size = 0;
	free(s->envid);
	s->envid = NULL;
	s->ret = NULL;
}

/* smtpd_command - run one command line */
void
smtpd_command(struct smtpd_sess *s, char *line, size_t len)
{
	char	 verb[9];
	char	*arg;
	size_t	 i, vlen;

	if (memchr(line, '\0', len) != NULL) {
		if (s->sasl_step != SMTPD_SASL_NONE) {	/* ends an exchange */
			free(s->sasl_login);
			s->sasl_login = NULL;
			s->sasl_step = SMTPD_SASL_NONE;
		}
		smtpd_reply(s, "500 5.5.2 Error: NUL in command");
		s->errors++;
		return;
	}
	if (s->sasl_step != SMTPD_SASL_NONE) {
		smtpd_sasl_line(s, line, len);
		return;
	}
	if (len > SMTPD_CMD_MAX && strncasecmp(line, "AUTH ", 5) != 0) {
		smtpd_reply(s, "500 5.5.2 Error: line too long");
		s->errors++;
		return;
	}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	arg = line + vlen;
	while (*arg == ' ')
		arg++;
	if (vlen < 4 || vlen > 8) {
		smtpd_reply(s, "502 5.5.2 Error: command not recognized");
		s->errors++;
		return;
	}
	for (i = 0; i < vlen; i++)
		verb[i] = (char)toupper((unsigned char)line[i]);
	verb[vlen] = '\0';
	for (i = 0; i < NELEM(smtpd_cmds); i++) {
		if (strcmp(verb, smtpd_cmds[i].name) != 0)
			continue;
		/* Postfix: past the limit each junk command is an error,
		 * which smtpd_soft/hard_error_limit act on; the count starts
		 * again after every accepted message */
		if (smtpd_cmds[i].junk && ++s->junk > s->sd->junk_limit)
			s->errors++;
		smtpd_check_pipelining(s, verb, smtpd_cmds[i].last);
		if (s->access_denied && smtpd_cmds[i].fn != smtpd_quit) {
			smtpd_reply(s, "503 5.7.0 Error: access denied for "
			    "%s[%s]", s->client_name, s->client_addr);
			s->errors++;
			return;
		}
		smtpd_cmds[i].fn(s, arg);
		return;
	}
	smtpd_reply(s, "502 5.5.2 Error: command not recognized");
	s->errors++;
}

/* smtpd_helo_arg - check and store the HELO/EHLO argument */
static int
smtpd_helo_arg(struct smtpd_sess *s, char *arg, const char *verb)
{
	char	*end, *helo, msg[1024], line[SMTPD_CMD_MAX + 8];

	end = arg + strlen(arg);
	while (end > arg && end[-1] == ' ')
		*--end = '\0';
	if (*arg == '\0' || strchr(arg, ' ') != NULL || strlen(arg) > 255) {
		smtpd_reply(s, "501 5.5.4 Syntax: %s hostname", verb);
		s->errors++;
		return -1;
	}
	(void)util_fmt(line, sizeof(line), "%s %s", verb, arg);
	helo = xstrdup(arg);
	/* it goes into our Received: header and the log: printable ASCII
	 * only, every other byte becomes '?' (Postfix does the same) */
	for (end = helo; *end != '\0'; end++)
		if ((unsigned char)*end < 0x21 || (unsigned char)*end > 0x7e)
			*end = '?';
	switch (smtpd_check_helo(s, helo, msg, sizeof(msg))) {
	case SMTPD_SLEEP:
		free(helo);
		if (smtpd_check_sleep(s, SMTPD_SW_LINE, line))
			return -1;
		smtpd_reply(s, "451 4.3.0 Error: try again");
		return -1;
	case SMTPD_TEMPFAIL:
	case SMTPD_PERMFAIL:
		free(helo);
		smtpd_reject(s, verb, NULL, NULL, "%s", msg);
		s->errors++;
		return -1;
	default:
		break;
	}
	free(s->helo);
	s->helo = helo;
	smtpd_txn_reset(s);
	return 0;
}

/* smtpd_helo - HELO */
static void
smtpd_helo(struct smtpd_sess *s, char *arg)
{
	if (smtpd_helo_arg(s, arg, "HELO") == -1)
		return;
	s->esmtp = 0;
	smtpd_reply(s, "250 %s", s->sd->hostname);
}

/* smtpd_ehlo - EHLO and the extensions we offer */
static void
smtpd_ehlo(struct smtpd_sess *s, char *arg)
{
	if (smtpd_helo_arg(s, arg, "EHLO") == -1)
		return;
	s->esmtp = 1;
	smtpd_reply(s, "250-%s", s->sd->hostname);
	smtpd_reply(s, "250-PIPELINING");
	if (s->sd->size_limit > 0)
		smtpd_reply(s, "250-SIZE %llu",
		    (unsigned long long)s->sd->size_limit);
	else
		smtpd_reply(s, "250-SIZE");
	if (s->sd->vrfy != 0)
		smtpd_reply(s, "250-VRFY");
	if (s->sd->tls_offer && s->tls == 0)
		smtpd_reply(s, "250-STARTTLS");
	if (s->sd->sasl_enable && (s->tls == 2 || !s->sd->sasl_tls_only))
		smtpd_reply(s, "250-AUTH PLAIN LOGIN");
	smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	smtpd_reply(s, "250-8BITMIME");
	smtpd_reply(s, "250 DSN");
}

/* smtpd_auth - AUTH (smtpd_sasl.c) */
static void
smtpd_auth(struct smtpd_sess *s, char *arg)
{
	smtpd_auth_cmd(s, arg);
}

/* smtpd_strip_prefix - "FROM:" / "TO:" case-insensitively; NULL if absent */
static char *
smtpd_strip_prefix(char *arg, const char *prefix)
{
	size_t	 n = strlen(prefix);

	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

/* smtpd_param - split the next "KEY=VALUE" off p; NULL at the end */
static char *
smtpd_param(char **p, char **value)
{
	char	*key, *eq;

	while (**p == ' ')
		(*p)++;
	if (**p == '\0')
		return NULL;
	key = *p;
	while (**p != '\0' && **p != ' ')
		(*p)++;
	if (**p == ' ')
		*(*p)++ = '\0';
	if ((eq = strchr(key, '=')) != NULL) {
		*eq = '\0';
		*value = eq + 1;
	} else
		*value = NULL;
	return key;
}

/* smtpd_param_dup - the reply to a parameter given twice; -1 */
static int
smtpd_param_dup(struct smtpd_sess *s, const char *key)
{
	smtpd_reply(s, "501 5.5.4 Error: duplicate %s parameter", key);
	return -1;
}

/* smtpd_param_unknown - the reply to a parameter not known; -1 */
static int
smtpd_param_unknown(struct smtpd_sess *s, const char *key)
{
	smtpd_reply(s, "555 5.5.4 Unsupported option: %s", log_str(key));
	return -1;
}

/* smtpd_mail_dsn - RET= or ENVID= (RFC 3461 4.3, 4.4); 0 ok, -1 replied */
static int
smtpd_mail_dsn(struct smtpd_sess *s, const char *key, const char *val)
{
	const char *ret;

	if (strcasecmp(key, "RET") == 0) {
		if (s->ret != NULL)
			return smtpd_param_dup(s, "RET");
		if ((ret = dsn_parse_ret(val)) == NULL) {
			smtpd_reply(s, "501 5.5.4 Error: bad RET parameter "
			    "syntax (RET=FULL or RET=HDRS)");
			return -1;
		}
		s->ret = ret;
		return 0;
	}
	if (s->envid != NULL)
		return smtpd_param_dup(s, "ENVID");
	if (!dsn_envid_valid(val)) {
		smtpd_reply(s, "501 5.5.4 Error: bad ENVID parameter syntax "
		    "(xtext of 1 to %d characters)", DSN_ENVID_MAX);
		return -1;
	}
	s->envid = xstrdup(val);
	return 0;
}

/*
 * smtpd_mail_params - SIZE, BODY, AUTH, RET, ENVID of the MAIL for sender;
 * 0 ok, -1 replied
 */
static int
smtpd_mail_params(struct smtpd_sess *s, char *p, const char *sender)
{
	char	*key, *val;
	long long n;

	smtpd_mail_forget(s);	/* a MAIL refused before left its own */
	while ((key = smtpd_param(&p, &val)) != NULL) {
		if (strcasecmp(key, "SIZE") == 0 && val != NULL &&
		    util_parse_ll(val, 0, (1LL << 62), &n) == 0) {
			if (s->sd->size_limit > 0 &&
			    (uint64_t)n > s->sd->size_limit) {
				smtpd_reject(s, "MAIL", sender, NULL, "552 "
				    "5.3.4 Message size exceeds fixed limit");
				return -1;
			}
			s->declared_size = (uint64_t)n;
		} else if (strcasecmp(key, "AUTH") == 0 && val != NULL &&
		    *val != '\0') {
			/* RFC 4954 5: the submitter's identity; not trusted */
			continue;
		} else if (strcasecmp(key, "BODY") == 0 && val != NULL &&
		    (strcasecmp(val, "8BITMIME") == 0 ||
		    strcasecmp(val, "7BIT") == 0)) {
			s->body_8bit = strcasecmp(val, "8BITMIME") == 0;
		} else if (strcasecmp(key, "RET") == 0 ||
		    strcasecmp(key, "ENVID") == 0) {
			if (smtpd_mail_dsn(s, key, val) == -1)
				return -1;
		} else
			return smtpd_param_unknown(s, key);
	}
	return 0;
}

/* smtpd_mail - MAIL FROM */
static void
smtpd_mail(struct smtpd_sess *s, char *arg)
{
	struct addr a;
	const char *why, *rest;
	char	 text[ADDR_PATH_MAX * 2 + 8], *p;
	char	 redo[SMTPD_CMD_MAX + 8] = "";

	/* the command as it came, to run again after anvil's count */
	if (s->sd->msg_rate > 0 && !s->anvil_mail_ok)
		(void)util_fmt(redo, sizeof(redo), "MAIL %s", arg);
	if (s->helo == NULL && s->sd->helo_required) {
		smtpd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		s->errors++;
		return;
	}
	if (s->sd->tls_required && s->tls != 2) {
		smtpd_reject(s, "MAIL", NULL, NULL, "530 5.7.0 Must issue a "
		    "STARTTLS command first");
		s->errors++;
		return;
	}
	if (s->in_mail) {
		smtpd_reply(s, "503 5.5.1 Error: nested MAIL command");
		s->errors++;
		return;
	}
	if ((p = smtpd_strip_prefix(arg, "FROM:")) == NULL) {
		smtpd_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		s->errors++;
		return;
	}
	if (addr_parse_path(p, ADDR_F_NULL_OK, &a, &rest, &why) == -1) {
		smtpd_reply(s, "%s", why);
		s->errors++;
		return;
	}
	if (smtpd_anvil_mail(s, redo))
		return;		/* runs again when anvil has counted it */
	addr_format(&a, text, sizeof(text));
	if (smtpd_mail_params(s, (char *)rest, text) == -1) {
		s->errors++;
		smtpd_mail_forget(s);
		return;
	}
	s->sender = xstrdup(text);
	smtpd_owners_forget(s);
	smtpd_check_txn_reset(s);
	if (s->sd->sender_owners && *s->sender != '\0') {
		/* who may use this sender: asked now, checked by restrictions */
		if (smtpd_sender_lookup(s) == 0)
			return;
		smtpd_sender_done(s, IPC_LOOKUP_TEMPFAIL, NULL, 0);
		return;
	}
	smtpd_mail_finish(s);
}

/*
 * smtpd_rerun - the DNS or policy answers a restriction waited for came:
 * run the waiting MAIL (kind SMTPD_DW_MAIL) or RCPT line again, then the
 * input that waited behind it
 */
void
smtpd_rerun(struct smtpd_sess *s, int kind, const char *line)
{
	char	*copy;

	s->phase = SMTPD_PH_CMD;
	if (kind == SMTPD_DW_CONNECT)
		smtpd_greet(s);
	else if (kind == SMTPD_DW_MAIL)
		smtpd_mail_finish(s);
	else if (line != NULL) {
		copy = xstrdup(line);
		smtpd_command(s, copy, strlen(copy));
		free(copy);
	}
	smtpd_resume(s);
}

/* smtpd_mail_finish - MAIL restrictions (no delay_reject) and 250 */
void
smtpd_mail_finish(struct smtpd_sess *s)
{
	char	 msg[1024];
	enum smtpd_res r;

	if (smtpd_check_listed(s))
		return;		/* the broker's answer runs this again */
	r = smtpd_check_mail(s, msg, sizeof(msg));
	if (r == SMTPD_SLEEP && smtpd_check_sleep(s, SMTPD_SW_MAIL, NULL))
		return;
	if (r == SMTPD_SLEEP) {
		snprintf(msg, sizeof(msg), "451 4.3.0 Error: try again");
		r = SMTPD_TEMPFAIL;
	}
	if (r == SMTPD_WAIT) {
		/* DNS or policy answers first, then this again */
		if (smtpd_check_wait(s, SMTPD_DW_MAIL, NULL))
			return;
		snprintf(msg, sizeof(msg), "451 4.3.0 Temporary lookup "
		    "failure");
		r = SMTPD_TEMPFAIL;
	}
	if (r != SMTPD_OK) {
		smtpd_reject(s, "MAIL", NULL, NULL, "%s", msg);
		free(s->sender);
		s->sender = NULL;
		s->errors++;
		return;
	}
	s->in_mail = 1;
	smtpd_reply(s, "250 2.1.0 Ok");
}

/*
 * smtpd_rcpt_params - NOTIFY= and ORCPT= (RFC 3461 4.1, 4.2) into
 * *notify (0 when not given) and *orcpt (points into p, NULL when not
 * given); 0 ok, -1 replied
 */
static int
smtpd_rcpt_params(struct smtpd_sess *s, char *p, const char **orcpt,
    unsigned *notify)
{
	char	*key, *val;
	int	 have_notify = 0;

	*orcpt = NULL;
	*notify = 0;
	while ((key = smtpd_param(&p, &val)) != NULL) {
		if (strcasecmp(key, "NOTIFY") == 0) {
			if (have_notify)
				return smtpd_param_dup(s, "NOTIFY");
			if (val == NULL || dsn_parse_notify(val, notify) == -1) {
				smtpd_reply(s, "501 5.5.4 Error: bad NOTIFY "
				    "parameter syntax (NEVER, or SUCCESS, "
				    "FAILURE, DELAY separated by commas)");
				return -1;
			}
			have_notify = 1;
		} else if (strcasecmp(key, "ORCPT") == 0) {
			if (*orcpt != NULL)
				return smtpd_param_dup(s, "ORCPT");
			if (!dsn_orcpt_valid(val)) {
				smtpd_reply(s, "501 5.5.4 Error: bad ORCPT "
				    "parameter syntax (addr-type;xtext, at most "
				    "%d characters)", DSN_ORCPT_MAX);
				return -1;
			}
			*orcpt = val;
		} else
			return smtpd_param_unknown(s, key);
	}
	return 0;
}

/*
 * smtpd_rcpt_dup - is addr already a recipient of this transaction with
 * the same DSN options (Postfix's duplicate filter, bounded by
 * duplicate_filter_limit); a second copy for the same mailbox is not
 * queued, a different NOTIFY or ORCPT keeps its own report
 */
static int
smtpd_rcpt_dup(struct smtpd_sess *s, const char *addr, const char *orcpt,
    unsigned notify)
{
	const char *at = strrchr(addr, '@');
	int	 fold = at != NULL && smtpd_is_mydest(s->sd, at + 1);
	size_t	 i;

	for (i = 0; i < s->nrcpt && i < s->sd->dup_limit; i++)
		if (s->rcpt[i].notify == notify &&
		    strcmp(s->rcpt[i].orcpt != NULL ? s->rcpt[i].orcpt : "",
		    orcpt != NULL ? orcpt : "") == 0 &&
		    addr_same(s->rcpt[i].addr, addr, fold))
			return 1;
	return 0;
}

/* smtpd_rcpt_add - remember an accepted recipient and its DSN options */
static void
smtpd_rcpt_add(struct smtpd_sess *s, const char *addr, const char *orcpt,
    unsigned notify)
{
	if (smtpd_rcpt_dup(s, addr, orcpt, notify)) {
		log_debug("duplicate recipient <%s> dropped", log_str(addr));
		return;
	}
	if (s->nrcpt == s->rcpt_cap) {
		s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 4;
		s->rcpt = xreallocarray(s->rcpt, s->rcpt_cap,
		    sizeof(*s->rcpt));
	}
	s->rcpt[s->nrcpt].addr = xstrdup(addr);
	s->rcpt[s->nrcpt].orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
	s->rcpt[s->nrcpt].notify = notify;
	s->nrcpt++;
}

/*
 * smtpd_rcpt_complete - a recipient without a domain: <postmaster> is
 * postmaster of the first mydestination domain (RFC 5321 4.5.1); any
 * other gets @$myorigin (Postfix's append_at_myorigin).  1: it had no
 * domain, 0: it had one, -1: it has none and must not be completed
 */
static int
smtpd_rcpt_complete(struct smtpd_sess *s, struct addr *a)
{
	if (a->domain[0] != '\0')
		return 0;
	if (!a->quoted && util_strcasecmp_ascii(a->local, "postmaster") == 0) {
		util_strlcpy(a->domain, s->sd->nmydest > 0 ?
		    s->sd->mydest[0] : s->sd->hostname, sizeof(a->domain));
		return 0;
	}
	if (!s->sd->append_myorigin)
		return -1;
	util_strlcpy(a->domain, s->sd->myorigin, sizeof(a->domain));
	return 1;
}

/*
 * smtpd_rcpt - RCPT TO.  (Long: one straight sequence of the checks in
 * the order RFC 5321 and Postfix reply to them - state, syntax, limit,
 * address, parameters, restrictions, local lookup - each ending the
 * command with its own reply.)
 */
static void
smtpd_rcpt(struct smtpd_sess *s, char *arg)
{
	struct addr a;
	const char *why, *rest, *orcpt;
	char	 text[ADDR_PATH_MAX * 2 + 8], msg[1024], *p;
	char	 redo[SMTPD_CMD_MAX + 8] = "";
	unsigned notify;
	enum smtpd_res r;
	int	 bare;

	/* the command as it came, to run again after DNS answers or a
	 * sleep restriction */
	(void)util_fmt(redo, sizeof(redo), "RCPT %s", arg);
	if (!s->in_mail) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		s->errors++;
		return;
	}
	if ((p = smtpd_strip_prefix(arg, "TO:")) == NULL) {
		smtpd_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		s->errors++;
		return;
	}
	if (s->nrcpt >= s->sd->rcpt_limit) {
		smtpd_reject(s, "RCPT", NULL, NULL, "452 4.5.3 Error: too many "
		    "recipients");
		return;
	}
	if (addr_parse_path(p, ADDR_F_POSTMASTER_OK | ADDR_F_LOCAL_OK, &a,
	    &rest, &why) == -1) {
		smtpd_reply(s, "%s", why);
		s->errors++;
		return;
	}
	if (smtpd_rcpt_params(s, (char *)rest, &orcpt, &notify) == -1) {
		s->errors++;
		return;
	}
	if ((bare = smtpd_rcpt_complete(s, &a)) == -1) {
		addr_format(&a, text, sizeof(text));
		smtpd_reject(s, "RCPT", NULL, text, "504 5.5.2 <%s>: Recipient "
		    "address rejected: need fully-qualified address",
		    log_str(text));
		s->errors++;
		return;
	}
	r = smtpd_check_rcpt(s, &a, bare, msg, sizeof(msg));
	if (r == SMTPD_SLEEP && smtpd_check_sleep(s, SMTPD_SW_LINE, redo))
		return;
	if (r == SMTPD_SLEEP) {
		snprintf(msg, sizeof(msg), "451 4.3.0 Error: try again");
		r = SMTPD_TEMPFAIL;
	}
	if (r == SMTPD_WAIT) {
		/* DNS or policy answers first, then this command again */
		if (redo[0] != '\0' && smtpd_check_wait(s, SMTPD_DW_RCPT, redo))
			return;
		snprintf(msg, sizeof(msg), "451 4.3.0 Temporary lookup "
		    "failure");
		r = SMTPD_TEMPFAIL;
	}
	if (r != SMTPD_OK) {
		addr_format(&a, text, sizeof(text));
		if (bare)	/* logged as given, like the reply */
			*strrchr(text, '@') = '\0';
		smtpd_reject(s, "RCPT", NULL, text, "%s", msg);
		s->errors++;
		return;
	}
	if (smtpd_is_mydest(s->sd, a.domain)) {
		/* local: ask the broker whether the address exists */
		s->pend = a;
		s->pend_vrfy = 0;
		free(s->pend_orcpt);
		s->pend_orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
		s->pend_notify = notify;
		if (smtpd_auth_lookup(s, &a) == 0)
			return;
		addr_format(&a, text, sizeof(text));
		smtpd_reject(s, "RCPT", NULL, text, "451 4.3.0 <%s>: Temporary "
		    "lookup failure", log_str(text));
		return;
	}
	addr_format(&a, text, sizeof(text));
	smtpd_rcpt_add(s, text, orcpt, notify);
	smtpd_reply(s, "250 2.1.5 Ok");
}

/* smtpd_rcpt_lookup_done - the broker answered for s->pend */
void
smtpd_rcpt_lookup_done(struct smtpd_sess *s, int result)
{
	char	 text[ADDR_PATH_MAX * 2 + 8];
	const char *t;

	addr_format(&s->pend, text, sizeof(text));
	t = log_str(text);
	if (s->pend_vrfy) {
		if (result == IPC_LOOKUP_OK)
			smtpd_reply(s, "250 2.0.0 <%s>", t);
		else if (result == IPC_LOOKUP_NOUSER)
			smtpd_reply(s, "550 5.1.1 <%s>: Recipient address "
			    "rejected: User unknown in local recipient table",
			    t);
		else
			smtpd_reply(s, "450 4.3.0 <%s>: Temporary lookup "
			    "failure", t);
		return;
	}
	switch (result) {
	case IPC_LOOKUP_OK:
		smtpd_rcpt_add(s, text, s->pend_orcpt, s->pend_notify);
		smtpd_reply(s, "250 2.1.5 Ok");
		break;
	case IPC_LOOKUP_NOUSER:
	case IPC_LOOKUP_NOTLOCAL:
		smtpd_reject(s, "RCPT", NULL, text, "550 5.1.1 <%s>: Recipient "
		    "address rejected: User unknown in local recipient table",
		    t);
		s->errors++;
		break;
	default:
		smtpd_reject(s, "RCPT", NULL, text, "451 4.3.0 <%s>: Temporary "
		    "lookup failure", t);
		break;
	}
	free(s->pend_orcpt);
	s->pend_orcpt = NULL;
	s->pend_notify = 0;
}

/*
 * smtpd_data_checks - smtpd_data_restrictions; 0 go on, -1 replied or
 * waiting (the DATA line runs again)
 */
static int
smtpd_data_checks(struct smtpd_sess *s)
{
	char	 msg[1024];
	enum smtpd_res r;

	r = smtpd_check_data(s, msg, sizeof(msg));
	if (r == SMTPD_SLEEP && smtpd_check_sleep(s, SMTPD_SW_LINE, "DATA"))
		return -1;
	if (r == SMTPD_WAIT && smtpd_check_wait(s, SMTPD_DW_RCPT, "DATA"))
		return -1;
	if (r == SMTPD_SLEEP || r == SMTPD_WAIT) {
		snprintf(msg, sizeof(msg), "451 4.3.0 Temporary lookup "
		    "failure");
		r = SMTPD_TEMPFAIL;
	}
	if (r == SMTPD_OK)
		return 0;
	/* Postfix names no recipient when there are several */
	smtpd_reject(s, "DATA", NULL, s->nrcpt == 1 ? s->rcpt[0].addr : NULL,
	    "%s", msg);
	s->errors++;
	return -1;
}

/* smtpd_data - DATA */
static void
smtpd_data(struct smtpd_sess *s, char *arg)
{
	if (*arg != '\0') {
		smtpd_reply(s, "501 5.5.4 Syntax: DATA");
		s->errors++;
		return;
	}
	if (!s->in_mail) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		s->errors++;
		return;
	}
	if (s->nrcpt == 0) {
		smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
		s->errors++;
		return;
	}
	if (smtpd_data_checks(s) == -1)
		return;
	if (smtpd_data_begin(s) == -1) {
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
		smtpd_txn_reset(s);
		return;
	}
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* smtpd_rset - RSET */
static void
smtpd_rset(struct smtpd_sess *s, char *arg)
{
	smtpd_txn_reset(s);
	smtpd_reply(s, "250 2.0.0 Ok");
}

/* smtpd_noop - NOOP */
static void
smtpd_noop(struct smtpd_sess *s, char *arg)
{
	smtpd_reply(s, "250 2.0.0 Ok");
}

/* smtpd_quit - QUIT */
static void
smtpd_quit(struct smtpd_sess *s, char *arg)
{
	smtpd_reply(s, "221 2.0.0 Bye");
	smtpd_close(s);
}

/* smtpd_vrfy - VRFY: disabled, 252, or a real lookup */
static void
smtpd_vrfy(struct smtpd_sess *s, char *arg)
{
	struct addr a;
	const char *why, *rest;
	char	 buf[ADDR_PATH_MAX + 8];

	if (s->sd->vrfy == 0) {
		smtpd_reply(s, "502 5.5.1 VRFY command is disabled");
		return;
	}
	if (*arg == '\0') {
		smtpd_reply(s, "501 5.5.4 Syntax: VRFY address");
		s->errors++;
		return;
	}
	if (s->sd->vrfy == 1) {
		smtpd_reply(s, "252 2.0.0 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		return;
	}
	if (*arg != '<')
		snprintf(buf, sizeof(buf), "<%s>", arg);
	else
		util_strlcpy(buf, arg, sizeof(buf));
	if (addr_parse_path(buf, ADDR_F_POSTMASTER_OK, &a, &rest, &why) ==
	    -1 || *rest != '\0') {
		smtpd_reply(s, "501 5.1.3 Bad address syntax");
		return;
	}
	if (a.domain[0] == '\0')
		util_strlcpy(a.domain, s->sd->nmydest > 0 ? s->sd->mydest[0] :
		    s->sd->hostname, sizeof(a.domain));
	if (!smtpd_is_mydest(s->sd, a.domain)) {
		smtpd_reply(s, "252 2.0.0 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		return;
	}
	s->pend = a;
	s->pend_vrfy = 1;
	if (smtpd_auth_lookup(s, &a) == -1)
		smtpd_reply(s, "450 4.3.0 Temporary lookup failure");
}

/* smtpd_help - HELP */
static void
smtpd_help(struct smtpd_sess *s, char *arg)
{
	smtpd_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET "
	    "NOOP QUIT VRFY HELP");
}

/* smtpd_is_mydest - is a (lowercase) domain in mydestination */
int
smtpd_is_mydest(struct smtpd *sd, const char *domain)
{
	size_t	 i;

	for (i = 0; i < sd->nmydest; i++)
		if (util_strcasecmp_ascii(sd->mydest[i], domain) == 0)
			return 1;
	return 0;
}

/* smtpd_in_mynetworks - is the client address in mynetworks */
int
smtpd_in_mynetworks(struct smtpd *sd, const char *addr)
{
	return net_match(sd->mynet, sd->nmynet, addr);
}
