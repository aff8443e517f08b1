/*
 * test_restr.c - unit tests of lib/maps/restr.c (restriction names and lists)
 * and lib/server/cfcheck.c (the checks mailctl check prints and master
 * applies).
 *
 * Malformed lists first (unknown names, names of restrictions youju does
 * not have yet, missing arguments), then the table, then whole
 * configurations: the seed article's submission line with its undefined
 * $mua_* names, a bad -o value, TLS files that do not exist, and findings
 * of main.cf reported once, not again for every service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfcheck.h"
#include "cfg.h"
#include "log.h"
#include "mcf.h"
#include "restr.h"
#include "util.h"
#include "t.h"

/* t_list - restr_check_list of a list written as main.cf would have it */
static int
t_list(const char *text, char *err, size_t errlen)
{
	char	**v;
	size_t	 n;
	int	 r;

	err[0] = '\0';
	v = cfg_split_list(text, &n);
	r = restr_check_list(v, n, err, errlen);
	cfg_list_free(v, n);
	return r;
}

/* t_bad_lists - each is refused with the word named */
static void
t_bad_lists(void)
{
	static const struct {
		const char	*list;
		const char	*want;
	} bad[] = {
		{ "reject_unknown_helo_hostnames",
		  "unknown restriction \"reject_unknown_helo_hostnames\"" },
		{ "permit_mynetworks, reject_unknown_client_name",
		  "unknown restriction \"reject_unknown_client_name\"" },
		{ "reject_rhsbl_sender", "reject_rhsbl_sender needs 1 argument "
		  "after it" },
		{ "reject_unauth_pipelinin", "\"reject_unauth_pipelinin\"" },
		{ "check_sender_access /etc/youju/sender_access",
		  "check_sender_access needs a lookup table" },
		{ "sleep x", "sleep needs a number of seconds" },
		{ "sleep 100000", "sleep needs a number of seconds" },
		{ "check_client_access", "check_client_access needs 1 "
		  "argument" },
		{ "permit_mynetworks reject_rbl_client",
		  "reject_rbl_client needs 1 argument after it" },
		{ "Permit_mynetworks", "unknown restriction "
		  "\"Permit_mynetworks\"" },
		{ "permit_mynetworks,,reject_unauth_destination, x",
		  "unknown restriction \"x\"" },
		{ "reject_unauth_destination\x01", "unknown restriction" },
	};
	char	 err[512];
	size_t	 i;

	for (i = 0; i < NELEM(bad); i++) {
		T_EQ_INT(t_list(bad[i].list, err, sizeof(err)), -1, bad[i].list);
		T_OK(strstr(err, bad[i].want) != NULL, "\"%s\": %s",
		    bad[i].list, err);
	}
}

/* t_good_lists - the seed article's and Postfix's common lists */
static void
t_good_lists(void)
{
	static const char *good[] = {
		"",
		"permit_mynetworks, reject_rbl_client zen.spamhaus.org",
		"permit_mynetworks, reject_rbl_client zen.spamhaus.org="
		    "127.0.0.[2..11], reject",
		"permit_mynetworks, reject_sender_login_mismatch",
		"permit_mynetworks, reject_non_fqdn_recipient, "
		    "reject_unknown_recipient_domain",
		"permit_mynetworks permit_sasl_authenticated "
		    "reject_unauth_destination",
		"reject_rbl_client reject_rbl_client",	/* a zone named so */
		/* the reverse-DNS and DNS-list lines of the tutorials */
		"permit_mynetworks, reject_unknown_helo_hostname, "
		    "reject_unknown_client_hostname, "
		    "reject_unknown_reverse_client_hostname, "
		    "reject_unknown_hostname, reject_unknown_client",
		"permit_dnswl_client list.dnswl.org=127.0.[0..255].[1..3], "
		    "permit_rhswl_client wl.test, reject_rhsbl_client dbl.test, "
		    "reject_rhsbl_reverse_client dbl.test, reject_rhsbl_helo "
		    "dbl.test, reject_rhsbl_sender dbl.spamhaus.org=127.0.1.2, "
		    "reject_rhsbl_recipient dbl.test",
	};
	char	 err[512];
	size_t	 i;

	for (i = 0; i < NELEM(good); i++)
		T_EQ_INT(t_list(good[i], err, sizeof(err)), 0, good[i]);
}

/* t_table - names and ids agree both ways */
static void
t_table(void)
{
	const struct restr_def *r;
	int	 i, ok = 1;

	for (i = 0; i < RESTR_N; i++) {
		r = restr_def_of((enum restr_id)i);
		if (r == NULL || (int)r->id != i || restr_find(r->name) != r)
			ok = 0;
	}
	T_OK(ok, "every id has a row whose name finds it");
	T_OK(restr_find("") == NULL && restr_find("permit ") == NULL,
	    "no row for \"\" or a padded name");
	T_EQ_INT(restr_find("reject_rbl_client")->nargs, 1,
	    "reject_rbl_client takes an argument");
	T_EQ_STR(restr_lists[0], "smtpd_client_restrictions", "first list");
	T_EQ_STR(restr_lists[4], "smtpd_recipient_restrictions", "RCPT list");
}

/* t_check - cfcheck_config on main.cf and master.cf texts */
static int
t_check(const char *maincf, const char *mastercf, struct cfcheck *ck)
{
	struct cfg *c = cfg_new();
	struct mcf mcf;
	char	 err[1024];

	cfcheck_init(ck);
	if (cfg_parse_buf(c, maincf, strlen(maincf), "main.cf", err,
	    sizeof(err)) == -1 || mcf_parse_buf(mastercf, strlen(mastercf),
	    "master.cf", 100, &mcf, err, sizeof(err)) == -1) {
		cfg_free(c);
		printf("# %s\n", err);
		return -1;
	}
	cfcheck_config(ck, c, &mcf, "master.cf");
	mcf_free(&mcf);
	cfg_free(c);
	return 0;
}

/* t_cfcheck - whole configurations */
static void
t_cfcheck(void)
{
	struct cfcheck ck;
	const char *out;

	/* the seed article's submission line, $mua_* never defined */
	T_EQ_INT(t_check("myhostname = mail.example.com\n",
	    "smtp inet n - y - - smtpd\n"
	    "submission inet n - y - - smtpd -o syslog_name=postfix/submission"
	    " -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes"
	    " -o smtpd_tls_cert_file=/nonexistent/cert.pem"
	    " -o smtpd_tls_key_file=/nonexistent/key.pem"
	    " -o smtpd_client_restrictions=$mua_client_restrictions"
	    " -o smtpd_sender_restrictions=$mua_sender_restrictions\n", &ck),
	    0, "seed sample parses");
	out = buf_cstr(&ck.out);
	T_OK(strstr(out, "error: master.cf:2: service submission: "
	    "smtpd_sender_restrictions: undefined parameter "
	    "$mua_sender_restrictions (in a restriction list") != NULL,
	    "undefined $mua_sender_restrictions in -o: error with the line");
	T_OK(strstr(out, "error: master.cf:2: service submission: "
	    "smtpd_client_restrictions: undefined parameter "
	    "$mua_client_restrictions") != NULL, "and the client list");
	T_OK(strstr(out, "error: master.cf:2: service submission: "
	    "smtpd_tls_cert_file: /nonexistent/cert.pem: No such file") !=
	    NULL, "a TLS file of the service that does not exist");
	T_EQ_INT(ck.nerr, 4, "four errors");
	T_OK(strstr(out, "service smtp:") == NULL,
	    "nothing about the service without -o");
	cfcheck_free(&ck);

	/* a mistake in main.cf is reported once, not for every service */
	T_EQ_INT(t_check("smtpd_recipient_restrictions = permit_mynetworks, "
	    "reject_unknown_helo_hostnames\nmua = permit\n",
	    "smtp inet n - y - - smtpd\n"
	    "submission inet n - y - - smtpd -o smtpd_sasl_auth_enable=yes "
	    "-o smtpd_client_restrictions=$mua\n"
	    "smtps inet n - y - - smtpd -o smtpd_helo_restrictions=reject_x "
	    "-o smtpd_recipient_limit=abc\n", &ck), 0, "sample parses");
	out = buf_cstr(&ck.out);
	T_OK(strstr(out, "error: main.cf:1: smtpd_recipient_restrictions: "
	    "unknown restriction \"reject_unknown_helo_hostnames\"") != NULL,
	    "unknown name in main.cf with its line");
	T_OK(strstr(out, "service submission") == NULL,
	    "not repeated for a service that inherits it");
	T_OK(strstr(out, "error: master.cf:3: service smtps: "
	    "smtpd_helo_restrictions: unknown restriction \"reject_x\"") !=
	    NULL, "unknown name in -o");
	T_OK(strstr(out, "error: master.cf:3: service smtps: -o "
	    "smtpd_recipient_limit: ") != NULL, "bad -o value");
	T_OK(strstr(out, "mua") == NULL, "$mua used by -o: not unknown");
	T_EQ_INT(ck.nerr, 3, "three errors");
	T_EQ_INT(ck.nwarn, 0, "no warnings");
	cfcheck_free(&ck);

	/* a bad network list, and a clean configuration */
	T_EQ_INT(t_check("mynetworks = 127.0.0.0/8 10.0.0.0/33\n",
	    "smtp inet n - y - - smtpd\n", &ck), 0, "net sample parses");
	T_OK(strstr(buf_cstr(&ck.out), "error: main.cf:1: mynetworks: ") !=
	    NULL, "bad network list");
	cfcheck_free(&ck);
	T_EQ_INT(t_check("", "smtp inet n - y - - smtpd\n", &ck), 0,
	    "defaults parse");
	T_EQ_INT(ck.nerr + ck.nwarn, 0, "defaults: nothing found");
	T_EQ_STR(buf_cstr(&ck.out), "", "defaults: no text");
	cfcheck_free(&ck);
}

/* t_var - the values of t_expand's templates */
static const char *
t_var(void *arg, const char *name)
{
	if (strcmp(name, "rbl_code") == 0)
		return "554";
	if (strcmp(name, "rbl_domain") == 0)
		return "zen.example";
	if (strcmp(name, "rbl_reason") == 0)
		return arg != NULL ? "listed" : "";
	if (strcmp(name, "empty") == 0)
		return "";
	return NULL;
}

/* t_expand - reply templates (default_rbl_reply, rbl_reply_maps) */
static void
t_expand(void)
{
	static const struct {
		const char	*tmpl;
		int		 reason;
		const char	*want;	/* NULL: refused */
	} tab[] = {
		{ "$rbl_code Service unavailable; blocked using "
		  "$rbl_domain${rbl_reason?; $rbl_reason}", 1,
		  "554 Service unavailable; blocked using zen.example; "
		  "listed" },
		{ "$rbl_code Service unavailable; blocked using "
		  "$rbl_domain${rbl_reason?; $rbl_reason}", 0,
		  "554 Service unavailable; blocked using zen.example" },
		{ "${rbl_code} x${empty:none}y", 0, "554 xnoney" },
		{ "a$$b $$$rbl_code", 0, "a$b $554" },
		{ "${rbl_reason?{$rbl_domain}}", 1, "{zen.example}" },
		{ "${rbl_reason:${empty:${rbl_code}}}", 0, "554" },
		{ "plain text", 0, "plain text" },
		{ "", 0, "" },
		/* malformed */
		{ "$nosuch", 0, NULL },
		{ "${nosuch}", 0, NULL },
		{ "${rbl_code", 0, NULL },
		{ "${rbl_reason?unclosed", 1, NULL },
		{ "trailing $", 0, NULL },
		{ "$ space", 0, NULL },
		{ "${}", 0, NULL },
		{ "${rbl_code?${rbl_code?${rbl_code?${rbl_code?${rbl_code?"
		  "${rbl_code?x}}}}}}", 0, NULL },
	};
	struct buf out;
	char	 err[256];
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(tab); i++) {
		buf_init(&out, 1024);
		err[0] = '\0';
		r = restr_expand(tab[i].tmpl, t_var, tab[i].reason ? "x" : NULL,
		    &out, err, sizeof(err));
		if (tab[i].want == NULL)
			T_OK(r == -1 && err[0] != '\0', "refused: \"%s\" (%s)",
			    tab[i].tmpl, err);
		else
			T_OK(r == 0 && strcmp(buf_cstr(&out), tab[i].want) == 0,
			    "\"%s\" -> \"%s\" %s", tab[i].tmpl, buf_cstr(&out),
			    err);
		buf_free(&out);
	}
	buf_init(&out, 8);
	T_OK(restr_expand("$rbl_domain", t_var, NULL, &out, err,
	    sizeof(err)) == -1 && strstr(err, "longer") != NULL,
	    "a result over the buffer's maximum is refused");
	buf_free(&out);
}

int
main(void)
{
	t_plan(57 + 16 + 1);
	log_open("test_restr", LOG_TO_STDERR, NULL);
	t_bad_lists();
	t_good_lists();
	t_table();
	t_cfcheck();
	t_expand();
	return t_done();
}
