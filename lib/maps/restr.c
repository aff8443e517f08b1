/*
 * restr.c - the names of the SMTP access restrictions and the check of a
 * restriction list (see restr.h).
 *
 * Interface: restr_find, restr_def_of, restr_check_list, restr_lists[].
 * Errors: restr_check_list returns -1 with a message naming the word.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "policy.h"
#include "restr.h"
#include "util.h"

const char *const restr_lists[RESTR_NLISTS] = {
	"smtpd_client_restrictions", "smtpd_helo_restrictions",
	"smtpd_sender_restrictions", "smtpd_relay_restrictions",
	"smtpd_recipient_restrictions", "smtpd_data_restrictions",
	"smtpd_end_of_data_restrictions"
};

/*
 * Postfix's older names (reject_unknown_hostname, reject_unknown_client)
 * share an id and come after the current name, which restr_def_of finds.
 */
static const struct restr_def restr_defs[] = {
	{ "permit", RESTR_PERMIT, 0 },
	{ "dunno", RESTR_DUNNO, 0 },
	{ "reject", RESTR_REJECT, 0 },
	{ "defer", RESTR_DEFER, 0 },
	{ "permit_mynetworks", RESTR_PERMIT_MYNETWORKS, 0 },
	{ "permit_sasl_authenticated", RESTR_PERMIT_SASL_AUTHENTICATED, 0 },
	{ "reject_unauth_destination", RESTR_REJECT_UNAUTH_DESTINATION, 0 },
	{ "defer_unauth_destination", RESTR_DEFER_UNAUTH_DESTINATION, 0 },
	{ "reject_non_fqdn_recipient", RESTR_REJECT_NON_FQDN_RECIPIENT, 0 },
	{ "reject_non_fqdn_sender", RESTR_REJECT_NON_FQDN_SENDER, 0 },
	{ "reject_invalid_helo_hostname", RESTR_REJECT_INVALID_HELO_HOSTNAME,
	    0 },
	{ "reject_non_fqdn_helo_hostname",
	    RESTR_REJECT_NON_FQDN_HELO_HOSTNAME, 0 },
	{ "reject_unlisted_recipient", RESTR_REJECT_UNLISTED_RECIPIENT, 0 },
	{ "reject_sender_login_mismatch", RESTR_REJECT_SENDER_LOGIN_MISMATCH,
	    0 },
	{ "reject_authenticated_sender_login_mismatch",
	    RESTR_REJECT_AUTH_SENDER_LOGIN_MISMATCH, 0 },
	{ "reject_unauthenticated_sender_login_mismatch",
	    RESTR_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH, 0 },
	{ "reject_rbl_client", RESTR_REJECT_RBL_CLIENT, 1 },
	{ "reject_unknown_sender_domain", RESTR_REJECT_UNKNOWN_SENDER_DOMAIN,
	    0 },
	{ "reject_unknown_recipient_domain",
	    RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN, 0 },
	{ "reject_unknown_helo_hostname", RESTR_REJECT_UNKNOWN_HELO_HOSTNAME,
	    0 },
	{ "reject_unknown_hostname", RESTR_REJECT_UNKNOWN_HELO_HOSTNAME, 0 },
	{ "reject_unknown_client_hostname",
	    RESTR_REJECT_UNKNOWN_CLIENT_HOSTNAME, 0 },
	{ "reject_unknown_client", RESTR_REJECT_UNKNOWN_CLIENT_HOSTNAME, 0 },
	{ "reject_unknown_reverse_client_hostname",
	    RESTR_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME, 0 },
	{ "reject_rhsbl_client", RESTR_REJECT_RHSBL_CLIENT, 1 },
	{ "reject_rhsbl_reverse_client", RESTR_REJECT_RHSBL_REVERSE_CLIENT,
	    1 },
	{ "reject_rhsbl_helo", RESTR_REJECT_RHSBL_HELO, 1 },
	{ "reject_rhsbl_sender", RESTR_REJECT_RHSBL_SENDER, 1 },
	{ "reject_rhsbl_recipient", RESTR_REJECT_RHSBL_RECIPIENT, 1 },
	{ "permit_dnswl_client", RESTR_PERMIT_DNSWL_CLIENT, 1 },
	{ "permit_rhswl_client", RESTR_PERMIT_RHSWL_CLIENT, 1 },
	{ "check_policy_service", RESTR_CHECK_POLICY_SERVICE, 1 },
	{ "warn_if_reject", RESTR_WARN_IF_REJECT, 0 },
	{ "defer_if_permit", RESTR_DEFER_IF_PERMIT, 0 },
	{ "defer_if_reject", RESTR_DEFER_IF_REJECT, 0 },
	{ "sleep", RESTR_SLEEP, 1 },
	{ "permit_auth_destination", RESTR_PERMIT_AUTH_DESTINATION, 0 },
	{ "reject_unauth_pipelining", RESTR_REJECT_UNAUTH_PIPELINING, 0 },
	{ "reject_unlisted_sender", RESTR_REJECT_UNLISTED_SENDER, 0 },
	{ "reject_multi_recipient_bounce",
	    RESTR_REJECT_MULTI_RECIPIENT_BOUNCE, 0 },
	{ "reject_plaintext_session", RESTR_REJECT_PLAINTEXT_SESSION, 0 },
	{ "check_client_access", RESTR_CHECK_CLIENT_ACCESS, 1 },
	{ "check_reverse_client_hostname_access",
	    RESTR_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS, 1 },
	{ "check_helo_access", RESTR_CHECK_HELO_ACCESS, 1 },
	{ "check_sender_access", RESTR_CHECK_SENDER_ACCESS, 1 },
	{ "check_recipient_access", RESTR_CHECK_RECIPIENT_ACCESS, 1 },
};

/* what the argument of a restriction must be, where it is not free text */
static const struct {
	enum restr_id	 id;
	int		 flags;
} restr_args[] = {
	{ RESTR_SLEEP, RESTR_F_NUMBER },
	{ RESTR_CHECK_CLIENT_ACCESS, RESTR_F_TABLE },
	{ RESTR_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS, RESTR_F_TABLE },
	{ RESTR_CHECK_HELO_ACCESS, RESTR_F_TABLE },
	{ RESTR_CHECK_SENDER_ACCESS, RESTR_F_TABLE },
	{ RESTR_CHECK_RECIPIENT_ACCESS, RESTR_F_TABLE },
};

/* restr_arg_flags - see restr.h */
int
restr_arg_flags(enum restr_id id)
{
	size_t	 i;

	for (i = 0; i < NELEM(restr_args); i++)
		if (restr_args[i].id == id)
			return restr_args[i].flags;
	return 0;
}

/* restr_find - see restr.h */
const struct restr_def *
restr_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NELEM(restr_defs); i++)
		if (strcmp(restr_defs[i].name, name) == 0)
			return &restr_defs[i];
	return NULL;
}

/* restr_def_of - see restr.h */
const struct restr_def *
restr_def_of(enum restr_id id)
{
	size_t	 i;

	for (i = 0; i < NELEM(restr_defs); i++)
		if (restr_defs[i].id == id)
			return &restr_defs[i];
	return NULL;
}

/* restr_check_policy - the argument of check_policy_service */
static int
restr_check_policy(const char *arg, char *err, size_t errlen)
{
	struct policy_spec sp;
	char	 why[512];

	if (policy_spec_parse(arg, &sp, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "check_policy_service: %s", why);
		return -1;
	}
	policy_spec_free(&sp);
	return 0;
}

/* restr_is_class - see restr.h */
int
restr_is_class(const char *w, const char *const *classes)
{
	size_t	 i;

	for (i = 0; classes != NULL && classes[i] != NULL; i++)
		if (strcmp(classes[i], w) == 0)
			return 1;
	return 0;
}

/* restr_check_arg - the argument of r: a table or a number when needed */
static int
restr_check_arg(const struct restr_def *r, const char *arg, char *err,
    size_t errlen)
{
	const char *p;
	int	 flags = restr_arg_flags(r->id);

	if ((flags & RESTR_F_TABLE) && ((p = strchr(arg, ':')) == NULL ||
	    p == arg || p[1] == '\0')) {
		snprintf(err, errlen, "%s needs a lookup table \"type:name\", "
		    "not \"%.200s\"", r->name, arg);
		return -1;
	}
	if (flags & RESTR_F_NUMBER) {
		for (p = arg; *p >= '0' && *p <= '9'; p++)
			;
		if (p == arg || *p != '\0' || p - arg > 4) {
			snprintf(err, errlen, "%s needs a number of seconds "
			    "(0-9999), not \"%.200s\"", r->name, arg);
			return -1;
		}
	}
	return 0;
}

/* restr_check_list - see restr.h */
int
restr_check_list(char **v, size_t n, char *err, size_t errlen)
{
	return restr_check_list_cls(v, n, NULL, err, errlen);
}

/* restr_check_list_cls - see restr.h */
int
restr_check_list_cls(char **v, size_t n, const char *const *classes,
    char *err, size_t errlen)
{
	const struct restr_def *r;
	size_t	 k;

	for (k = 0; k < n; k++) {
		if (restr_is_class(v[k], classes))
			continue;
		if ((r = restr_find(v[k])) == NULL) {
			snprintf(err, errlen, "unknown restriction \"%.200s\" "
			    "(see smtpd(8) for the ones youju knows)", v[k]);
			return -1;
		}
		if (k + (size_t)r->nargs >= n) {
			snprintf(err, errlen, "%s needs %d argument%s after "
			    "it", r->name, r->nargs, r->nargs == 1 ? "" : "s");
			return -1;
		}
		if (r->id == RESTR_CHECK_POLICY_SERVICE &&
		    restr_check_policy(v[k + 1], err, errlen) == -1)
			return -1;
		if (r->nargs > 0 && restr_check_arg(r, v[k + 1], err,
		    errlen) == -1)
			return -1;
		k += (size_t)r->nargs;
	}
	return 0;
}

/* one "$name" or "${name...}" of a template */
struct restr_ref {
	char		 name[64];
	char		 op;		/* '?', ':' or 0 */
	const char	*text;		/* of ${name?text} / ${name:text} */
	const char	*text_end;
};

/*
 * restr_expand_ref - the reference right after a '$' at p (before end):
 * the byte after it, or NULL with why in err
 */
static const char *
restr_expand_ref(const char *p, const char *end, struct restr_ref *r,
    char *err, size_t errlen)
{
	const char *q = p + (p < end && *p == '{');
	size_t	 n;
	int	 nest;

	for (n = 0; q + n < end && (isalnum((unsigned char)q[n]) ||
	    q[n] == '_'); n++)
		;
	if (n == 0 || n >= sizeof(r->name)) {
		snprintf(err, errlen, "\"$\" without a name (write $$ for a "
		    "dollar)");
		return NULL;
	}
	memcpy(r->name, q, n);
	r->name[n] = '\0';
	r->op = 0;
	if (q == p)			/* $name */
		return q + n;
	q += n;
	if (q < end && (*q == '?' || *q == ':')) {
		r->op = *q++;
		r->text = q;
		for (nest = 0; q < end && (*q != '}' || nest > 0); q++)
			nest += *q == '{' ? 1 : *q == '}' ? -1 : 0;
		r->text_end = q;
	}
	if (q >= end || *q != '}') {
		snprintf(err, errlen, "\"${%s\" without its \"}\"", r->name);
		return NULL;
	}
	return q + 1;
}

/* restr_expand_at - one level of restr_expand: the bytes [p, end) */
static int
restr_expand_at(const char *p, const char *end,
    const char *(*lookup)(void *, const char *), void *arg, struct buf *out,
    int depth, char *err, size_t errlen)
{
	struct restr_ref r;
	const char *q, *val;
	size_t	 n;

	if (depth > RESTR_EXPAND_DEPTH) {
		snprintf(err, errlen, "${...} nested more than %d deep",
		    RESTR_EXPAND_DEPTH);
		return -1;
	}
	while (p < end) {
		if (*p != '$') {
			q = memchr(p, '$', (size_t)(end - p));
			n = (size_t)((q != NULL ? q : end) - p);
			if (buf_append(out, p, n) == -1)
				goto long_;
			p += n;
			continue;
		}
		if (++p < end && *p == '$') {
			if (buf_putc(out, '$') == -1)
				goto long_;
			p++;
			continue;
		}
		if ((p = restr_expand_ref(p, end, &r, err, errlen)) == NULL)
			return -1;
		if ((val = lookup(arg, r.name)) == NULL) {
			snprintf(err, errlen, "unknown name \"$%s\"", r.name);
			return -1;
		}
		if (r.op == 0) {
			if (buf_puts(out, val) == -1)
				goto long_;
		} else if ((r.op == '?') == (*val != '\0') &&
		    restr_expand_at(r.text, r.text_end, lookup, arg, out,
		    depth + 1, err, errlen) == -1)
			return -1;
	}
	return 0;
long_:
	snprintf(err, errlen, "the result is longer than %zu bytes",
	    out->max);
	return -1;
}

/* restr_expand - see restr.h */
int
restr_expand(const char *tmpl, const char *(*lookup)(void *, const char *),
    void *arg, struct buf *out, char *err, size_t errlen)
{
	return restr_expand_at(tmpl, tmpl + strlen(tmpl), lookup, arg, out, 0,
	    err, errlen);
}

/* restr_rbl_names - see restr.h (Postfix's list for default_rbl_reply) */
const char *const restr_rbl_names[] = {
	"client", "client_address", "client_name", "reverse_client_name",
	"helo_name", "rbl_class", "rbl_code", "rbl_domain", "rbl_reason",
	"rbl_txt", "rbl_what", "recipient", "recipient_domain",
	"recipient_name", "sender", "sender_domain", "sender_name", NULL
};

/* restr_rbl_known - a lookup for the check: "x" for every known name */
static const char *
restr_rbl_known(void *arg, const char *name)
{
	size_t	 i;

	for (i = 0; restr_rbl_names[i] != NULL; i++)
		if (strcmp(restr_rbl_names[i], name) == 0)
			return "x";
	return NULL;
}

/* restr_check_rbl_reply - see restr.h */
int
restr_check_rbl_reply(const char *tmpl, char *err, size_t errlen)
{
	struct buf out;
	int	 r;

	buf_init(&out, 65536);
	r = restr_expand(tmpl, restr_rbl_known, NULL, &out, err, errlen);
	buf_free(&out);
	return r;
}
