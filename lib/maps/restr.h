/*
 * restr.h - the SMTP access restrictions youju knows (Postfix's
 * smtpd_*_restrictions names), and the check of a restriction list.
 *
 * The table here is the one list of names: smtpd binds a handler to each
 * id (smtpd_check.c), and mailctl check and master refuse a list with a
 * name or an argument that is not here, so a mistake is found at the
 * console, never by a client getting 451.
 */
#ifndef YOUJU_RESTR_H
#define YOUJU_RESTR_H

#include <stddef.h>

enum restr_id {
	RESTR_PERMIT,
	RESTR_DUNNO,
	RESTR_REJECT,
	RESTR_DEFER,
	RESTR_PERMIT_MYNETWORKS,
	RESTR_PERMIT_SASL_AUTHENTICATED,
	RESTR_REJECT_UNAUTH_DESTINATION,
	RESTR_DEFER_UNAUTH_DESTINATION,
	RESTR_REJECT_NON_FQDN_RECIPIENT,
	RESTR_REJECT_NON_FQDN_SENDER,
	RESTR_REJECT_INVALID_HELO_HOSTNAME,
	RESTR_REJECT_NON_FQDN_HELO_HOSTNAME,
	RESTR_REJECT_UNLISTED_RECIPIENT,
	RESTR_REJECT_SENDER_LOGIN_MISMATCH,
	RESTR_REJECT_AUTH_SENDER_LOGIN_MISMATCH,
	RESTR_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH,
	RESTR_REJECT_RBL_CLIENT,
	RESTR_REJECT_UNKNOWN_SENDER_DOMAIN,
	RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
	/* client names, HELO names, DNS lists (smtpd_peer.c, smtpd_dns.c) */
	RESTR_REJECT_UNKNOWN_HELO_HOSTNAME,
	RESTR_REJECT_UNKNOWN_CLIENT_HOSTNAME,
	RESTR_REJECT_UNKNOWN_REVERSE_CLIENT_HOSTNAME,
	RESTR_REJECT_RHSBL_CLIENT,
	RESTR_REJECT_RHSBL_REVERSE_CLIENT,
	RESTR_REJECT_RHSBL_HELO,
	RESTR_REJECT_RHSBL_SENDER,
	RESTR_REJECT_RHSBL_RECIPIENT,
	RESTR_PERMIT_DNSWL_CLIENT,
	RESTR_PERMIT_RHSWL_CLIENT,
	/* policy services (smtpd_policy.c) */
	RESTR_CHECK_POLICY_SERVICE,
	/* the evaluation rules and access tables (smtpd_access.c) */
	RESTR_WARN_IF_REJECT,
	RESTR_DEFER_IF_PERMIT,
	RESTR_DEFER_IF_REJECT,
	RESTR_SLEEP,
	RESTR_PERMIT_AUTH_DESTINATION,
	RESTR_REJECT_UNAUTH_PIPELINING,
	RESTR_REJECT_UNLISTED_SENDER,
	RESTR_REJECT_MULTI_RECIPIENT_BOUNCE,
	RESTR_REJECT_PLAINTEXT_SESSION,
	RESTR_CHECK_CLIENT_ACCESS,
	RESTR_CHECK_REVERSE_CLIENT_HOSTNAME_ACCESS,
	RESTR_CHECK_HELO_ACCESS,
	RESTR_CHECK_SENDER_ACCESS,
	RESTR_CHECK_RECIPIENT_ACCESS,
	RESTR_N
};

struct restr_def {
	const char	*name;
	enum restr_id	 id;
	int		 nargs;		/* words that follow it in the list */
};

#define RESTR_F_TABLE	0x01	/* the argument is a lookup table */
#define RESTR_F_NUMBER	0x02	/* the argument is a number (sleep) */

/*
 * the parameters that hold restriction lists, in evaluation order:
 * client, helo, sender, relay, recipient (RCPT), data (DATA), end of
 * data (the final dot)
 */
#define RESTR_NLISTS	7
#define RESTR_L_CLIENT	0
#define RESTR_L_HELO	1
#define RESTR_L_SENDER	2
#define RESTR_L_RELAY	3
#define RESTR_L_RCPT	4
#define RESTR_L_DATA	5
#define RESTR_L_EOD	6
#define RESTR_DEPTH_MAX	20	/* classes and access results inside
				   each other */
extern const char *const restr_lists[RESTR_NLISTS];

/* restr_find - the row of a restriction name (exact, lower case) or NULL */
const struct restr_def *restr_find(const char *);
/* restr_arg_flags - RESTR_F_* of an id's argument (0: free text) */
int	 restr_arg_flags(enum restr_id);
/* restr_def_of - the row of an id */
const struct restr_def *restr_def_of(enum restr_id);
/*
 * restr_check_list - a restriction list's words (cfg_split_list): every
 * name known and followed by its arguments.  0, or -1 with why (the word
 * and what is wrong) in err
 */
int	 restr_check_list(char **, size_t, char *, size_t);
/*
 * restr_check_list_cls - the same, where the NULL-terminated classes
 * (smtpd_restriction_classes) are names too; a table argument
 * (check_*_access) must be "type:name"
 */
int	 restr_check_list_cls(char **, size_t, const char *const *, char *,
	    size_t);
/* restr_is_class - is a word one of the classes (NULL: none) */
int	 restr_is_class(const char *, const char *const *);

/*
 * restr_expand - Postfix's substitution in a reply template
 * (default_rbl_reply, rbl_reply_maps): $name and ${name} are the value
 * lookup(arg, name) gives (NULL: the name is unknown, an error),
 * ${name?text} is text when the value is not empty, ${name:text} when it
 * is, and $$ is one '$'; text may use $name again (nested at most
 * RESTR_EXPAND_DEPTH deep).  Names are letters, digits and '_'.  The
 * result is appended to out (its max bounds it).  0, or -1 with why in
 * err (out then holds a part).
 */
#define RESTR_EXPAND_DEPTH	4
/* the names a DNS list's reply template may use (smtpd gives them) */
extern const char *const restr_rbl_names[];
/*
 * restr_check_rbl_reply - a reply template with only those names, well
 * formed; 0, or -1 with why
 */
int	 restr_check_rbl_reply(const char *, char *, size_t);
struct buf;
int	 restr_expand(const char *, const char *(*)(void *, const char *),
	    void *, struct buf *, char *, size_t);

#endif
