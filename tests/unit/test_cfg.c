/*
 * test_cfg.c - unit tests of lib/conf/cfg.c and the parameter table.
 *
 * Malformed input first (each must fail with a message naming the place
 * and the reason), then well-formed input, overrides, copies, the helpers
 * and the table itself.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "buf.h"
#include "log.h"
#include "util.h"
#include "t.h"

struct bad_case {
	const char	*what;
	const char	*text;
	const char	*want;		/* substring of the error message */
};

static const struct bad_case bad_cases[] = {
	{ "missing '='", "myhostname mail.example.com\n",
	  "main.cf:1: missing '=' in \"myhostname mail.example.com\"" },
	{ "missing '=' after comments", "# c\n\nmail_name = x\nbad line\n",
	  "main.cf:4: missing '='" },
	{ "leading white space", "  mail_name = x\n",
	  "main.cf:1: line starts with white space but continues no "
	  "parameter" },
	{ "bad name", "my.host = x\n",
	  "main.cf:1: bad parameter name \"my.host\"" },
	{ "empty name", " = x\n", "line starts with white space" },
	{ "empty name 2", "= x\n", "main.cf:1: bad parameter name \"\"" },
	{ "bad int", "smtpd_recipient_limit = abc\n",
	  "main.cf:1: smtpd_recipient_limit: bad value \"abc\": expected an "
	  "integer from 1 to 1000000" },
	{ "int with unit", "smtpd_recipient_limit = 10k\n",
	  "bad value \"10k\"" },
	{ "int over max", "hash_queue_depth = 5\n",
	  "hash_queue_depth: bad value \"5\": expected an integer from 1 "
	  "to 4" },
	{ "int under min", "hash_queue_depth = 0\n", "from 1 to 4" },
	{ "negative size", "message_size_limit = -1\n",
	  "message_size_limit: bad value \"-1\"" },
	{ "size over 2^40", "message_size_limit = 1099511627777\n",
	  "from 0 to 1099511627776" },
	{ "empty int", "smtpd_recipient_limit =\n", "bad value \"\"" },
	{ "bad time unit", "smtpd_timeout = 5x\n",
	  "smtpd_timeout: bad value \"5x\": expected a time from 1s to 1h" },
	{ "time two units", "smtpd_timeout = 5mm\n", "expected a time" },
	{ "time over max", "smtpd_timeout = 2h\n", "expected a time" },
	{ "time negative", "queue_run_delay = -5s\n", "expected a time" },
	{ "time default unit in message", "maximal_queue_lifetime = x\n",
	  "no unit means d" },
	{ "bad bool", "smtpd_helo_required = maybe\n",
	  "smtpd_helo_required: bad value \"maybe\": expected yes or no" },
	{ "bad choice", "smtpd_forbid_bare_newline = sometimes\n",
	  "expected one of: normalize, yes, reject, no" },
	{ "bad list choice", "inet_protocols = ipv4, ipv5\n",
	  "inet_protocols: bad value \"ipv4, ipv5\"" },
	{ "bad tls level", "smtpd_tls_security_level = dane\n",
	  "none, may, encrypt or empty" },
	{ "home_mailbox not a Maildir", "home_mailbox = Mailbox\n",
	  "home_mailbox: bad value \"Mailbox\": expected a Maildir path" },
	{ "home_mailbox absolute", "home_mailbox = /var/mail/x/\n",
	  "expected a Maildir path" },
	{ "home_mailbox empty", "home_mailbox =\n", "expected a Maildir path" },
	{ "empty queue_directory", "queue_directory =\n",
	  "queue_directory: bad value \"\": expected a non-empty value" },
	{ "empty myhostname", "myhostname =\n",
	  "myhostname: bad value \"\": expected a non-empty value" },
	{ "empty via undefined ref", "mail_owner = $nobody\n",
	  "mail_owner: bad value \"\" (from \"$nobody\"): expected a "
	  "non-empty value" },
	{ "relative queue_directory", "queue_directory = spool\n",
	  "queue_directory: bad value \"spool\": expected an absolute path" },
	{ "value via expansion", "x = abc\nsmtpd_recipient_limit = $x\n",
	  "main.cf:2: smtpd_recipient_limit: bad value \"abc\" (from \"$x\")" },
	{ "self loop", "myorigin = $myorigin\n",
	  "main.cf:1: myorigin: parameter expansion loop: $myorigin -> "
	  "$myorigin" },
	{ "loop via users", "a = $b\nb = ${a}\nmyorigin = $(a)\n",
	  "main.cf:3: myorigin: parameter expansion loop: $a -> $b -> $a" },
	{ "loop via default", "myhostname = x.$mydomain\n",
	  "loop: $myhostname -> $mydomain -> $myhostname (main.cf:1: "
	  "myhostname)" },
	{ "lone $", "smtpd_banner = costs 5$\n",
	  "smtpd_banner: '$' not followed by a parameter name (write $$" },
	{ "$ space", "smtpd_banner = a $ b\n", "'$' not followed" },
	{ "missing }", "smtpd_banner = ${mail_name\n", "missing '}' after ${" },
	{ "missing )", "smtpd_banner = $(mail_name\n", "missing ')' after $(" },
	{ "empty ${}", "smtpd_banner = ${}\n", "missing parameter name" },
	{ "bad ${a!b}", "smtpd_banner = ${mail_name!x}\n",
	  "bad character '!' after ${mail_name" },
	{ "Postfix 3 ${a?{x}:{y}}", "smtpd_banner = ${mail_name?{x}:{y}}\n",
	  "the form ${mail_name?{...}} is not supported" },
	{ "error in ${?} text", "smtpd_banner = ${mail_name?$}\n",
	  "'$' not followed" },
};

/* t_parse - a fresh cfg with text parsed into it, or NULL */
static struct cfg *
t_parse(const char *text, char *err, size_t errlen)
{
	struct cfg *c = cfg_new();

	err[0] = '\0';
	if (cfg_parse_buf(c, text, strlen(text), "main.cf", err, errlen) == 0)
		return c;
	cfg_free(c);
	return NULL;
}

/* t_bad_cases - every malformed input fails with the right message */
static void
t_bad_cases(void)
{
	struct cfg *c;
	char	 err[1024];
	size_t	 i;

	for (i = 0; i < NELEM(bad_cases); i++) {
		c = t_parse(bad_cases[i].text, err, sizeof(err));
		T_OK(c == NULL && strstr(err, bad_cases[i].want) != NULL,
		    "bad: %s: \"%s\"", bad_cases[i].what, err);
		cfg_free(c);
	}
}

/* t_bad_lengths - over-long lines, NUL bytes, nesting and blow-up */
static void
t_bad_lengths(void)
{
	struct buf b;
	struct cfg *c;
	char	 err[1024];
	int	 i;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "mail_name = x\nsmtpd_banner = ");
	for (i = 0; i < CFG_LINE_MAX; i++)
		buf_putc(&b, 'a');
	c = t_parse(buf_cstr(&b), err, sizeof(err));
	T_OK(c == NULL && strstr(err, "main.cf:2: line longer than 65536"),
	    "physical line over 64 KiB: %s", err);
	cfg_free(c);

	buf_reset(&b);
	buf_puts(&b, "smtpd_banner = ");
	for (i = 0; i < 3; i++) {
		buf_puts(&b, "\n ");
		while (b.len % 30000 != 0)
			buf_putc(&b, 'b');
	}
	c = t_parse(buf_cstr(&b), err, sizeof(err));
	T_OK(c == NULL && strstr(err, "main.cf:1: logical line"),
	    "logical line over 64 KiB: %s", err);
	cfg_free(c);

	buf_reset(&b);
	buf_puts(&b, "smtpd_banner = ");
	while (b.len < CFG_LINE_MAX)
		buf_putc(&b, 'c');
	c = t_parse(buf_cstr(&b), err, sizeof(err));
	T_OK(c != NULL, "a line of exactly 64 KiB is fine: %s", err);
	cfg_free(c);

	c = cfg_new();
	T_EQ_INT(cfg_parse_buf(c, "mail_name = a\0b\n", 16, "m.cf", err,
	    sizeof(err)), -1, "NUL byte rejected");
	T_OK(strstr(err, "m.cf:1: NUL byte") != NULL, "NUL message: %s", err);
	cfg_free(c);

	/* a chain of 25 references nests deeper than CFG_DEPTH_MAX */
	buf_reset(&b);
	for (i = 0; i < 25; i++)
		buf_printf(&b, "v%d = $v%d\n", i, i + 1);
	buf_puts(&b, "v25 = end\nsmtpd_banner = $v0\n");
	c = t_parse(buf_cstr(&b), err, sizeof(err));
	T_OK(c == NULL && strstr(err, "nests deeper than 20 levels"),
	    "deep nesting: %s", err);
	cfg_free(c);

	/* doubling 1000 bytes 7 times passes 64 KiB; memoised, so fast */
	buf_reset(&b);
	buf_puts(&b, "d0 = ");
	for (i = 0; i < 1000; i++)
		buf_putc(&b, 'd');
	for (i = 1; i <= 7; i++)
		buf_printf(&b, "\nd%d = $d%d$d%d", i, i - 1, i - 1);
	buf_puts(&b, "\nsmtpd_banner = $d7\n");
	c = t_parse(buf_cstr(&b), err, sizeof(err));
	T_OK(c == NULL && strstr(err, "longer than 65536"),
	    "expansion blow-up: %s", err);
	cfg_free(c);
	buf_free(&b);
}

/* t_failed_parse_keeps - a failed parse or set leaves the cfg as it was */
static void
t_failed_parse_keeps(void)
{
	struct cfg *c;
	char	 err[1024];
	const char *bad = "myhostname = other.example\nbroken\n";

	c = t_parse("myhostname = mail.example.com\n", err, sizeof(err));
	T_OK(c != NULL, "parse ok");
	T_EQ_INT(cfg_parse_buf(c, bad, strlen(bad), "x.cf", err, sizeof(err)),
	    -1, "second parse fails");
	T_EQ_STR(cfg_str(c, "myhostname"), "mail.example.com",
	    "value kept after a failed parse");
	T_EQ_INT(cfg_set(c, "smtpd_timeout", "1y", err, sizeof(err)), -1,
	    "cfg_set of a bad time fails");
	T_OK(strstr(err, "smtpd_timeout: bad value \"1y\": expected a time") !=
	    NULL, "cfg_set message: %s", err);
	T_EQ_INT(cfg_time(c, "smtpd_timeout"), 300, "value kept after set");
	T_EQ_INT(cfg_set(c, "smtpd_recipient_limit", "", err, sizeof(err)), -1,
	    "-o name= on an int fails");
	T_EQ_INT(cfg_set(c, "bad name", "x", err, sizeof(err)), -1,
	    "cfg_set of a bad name fails");
	T_EQ_INT(cfg_set(c, "smtpd_banner", "a\nb", err, sizeof(err)), -1,
	    "cfg_set of a value with a newline fails");
	cfg_free(c);
}

/* t_syntax - comments, continuation, white space, CR LF, odd values */
static void
t_syntax(void)
{
	const char *text =
	    "# comment\n"
	    "   # indented comment\n"
	    "\n"
	    "mydestination = a,\n"
	    "    b\n"
	    "# a comment inside a continued value\n"
	    "\tc\n"
	    "myhostname=mail.example.com\r\n"
	    "smtpd_banner   =   x = y # not a comment   \n"
	    "mail_name =\n"
	    "smtpd_helo_required = YES\n"
	    "smtpd_delay_reject = False\n"
	    "smtpd_use_tls = true";
	struct cfg *c;
	char	 err[1024], **v;
	size_t	 n;

	c = t_parse(text, err, sizeof(err));
	T_OK(c != NULL, "syntax sample parses: %s", err);
	if (c == NULL)
		return;
	T_EQ_STR(cfg_str(c, "mydestination"), "a, b c", "continuation joined");
	v = cfg_list(c, "mydestination", &n);
	T_EQ_INT(n, 3, "list of three");
	T_EQ_STR(v[2], "c", "third element");
	T_OK(v[3] == NULL, "list is NULL-terminated");
	cfg_list_free(v, n);
	T_EQ_STR(cfg_str(c, "myhostname"), "mail.example.com", "CR LF line");
	T_EQ_STR(cfg_str(c, "smtpd_banner"), "x = y # not a comment",
	    "'=' and '#' inside a value");
	T_EQ_STR(cfg_str(c, "mail_name"), "", "empty value");
	T_EQ_INT(cfg_bool(c, "smtpd_helo_required"), 1, "YES");
	T_EQ_INT(cfg_bool(c, "smtpd_delay_reject"), 0, "False");
	T_EQ_INT(cfg_bool(c, "smtpd_use_tls"), 1, "last line without LF");
	cfg_free(c);
}

struct exp_case {
	const char	*text;
	const char	*name;
	const char	*want;
};

static const struct exp_case exp_cases[] = {
	{ "myhostname = mail.example.com", "mydomain", "example.com" },
	{ "myhostname = mail.example.com", "myorigin", "mail.example.com" },
	{ "myhostname = mail.example.com", "mydestination",
	  "mail.example.com, localhost.example.com, localhost" },
	{ "myhostname = mail.example.com", "smtpd_banner",
	  "mail.example.com ESMTP youju" },
	{ "myhostname = mail.example.com", "smtp_helo_name",
	  "mail.example.com" },
	{ "myhostname = localhost", "mydomain", "localdomain" },
	{ "myhostname = a.b\nmydomain = example.org", "mydomain",
	  "example.org" },
	{ "mydomain = example.org\nmyhostname = mx.$mydomain", "myhostname",
	  "mx.example.org" },
	{ "smtpd_banner = cost $$5 $$$mail_name $$$$", "smtpd_banner",
	  "cost $5 $youju $$" },
	{ "smtpd_banner = ${mail_name}x $(mail_name)y", "smtpd_banner",
	  "youjux youjuy" },
	{ "smtpd_banner = [${mail_name?set}] [${mail_name:unset}]",
	  "smtpd_banner", "[set] []" },
	{ "smtpd_banner = [${nothere?set}] [${nothere:unset $mail_name}]",
	  "smtpd_banner", "[] [unset youju]" },
	{ "smtpd_banner = ${mail_name?${mail_name?a$(mail_name)}}",
	  "smtpd_banner", "ayouju" },
	{ "smtpd_banner = $nothere!", "smtpd_banner", "!" },
	{ "smtpd_banner = $mail_name.$mail_name-x", "smtpd_banner",
	  "youju.youju-x" },
	{ "mua = permit_sasl_authenticated, reject\n"
	  "smtpd_client_restrictions = $mua", "smtpd_client_restrictions",
	  "permit_sasl_authenticated, reject" },
	{ "smtpd_tls_cert_file = /etc/c.pem", "smtpd_tls_key_file",
	  "/etc/c.pem" },
	{ "mail_owner = vmail", "mailbox_owner", "vmail" },
	{ "", "home_mailbox", "Maildir/" },
	{ "", "queue_directory", "/var/spool/youju" },
	{ "", "smtpd_relay_restrictions",
	  "permit_mynetworks, permit_sasl_authenticated, "
	  "reject_unauth_destination" },
	{ "", "mynetworks", "127.0.0.0/8 [::1]/128" },
	{ "", "smtpd_forbid_bare_newline", "normalize" },
	{ "", "smtp_tls_security_level", "may" },
	{ "", "syslog_name", "youju" },
};

/* t_expansion - $name forms and computed defaults */
static void
t_expansion(void)
{
	struct cfg *c;
	char	 err[1024];
	size_t	 i;

	for (i = 0; i < NELEM(exp_cases); i++) {
		c = t_parse(exp_cases[i].text, err, sizeof(err));
		T_OK(c != NULL, "parse %zu: %s", i, err);
		if (c == NULL)
			continue;
		T_EQ_STR(cfg_str(c, exp_cases[i].name), exp_cases[i].want,
		    exp_cases[i].name);
		cfg_free(c);
	}
	c = cfg_new();
	T_OK(strchr(cfg_str(c, "myhostname"), '.') != NULL,
	    "computed myhostname is qualified: %s", cfg_str(c, "myhostname"));
	T_OK(cfg_str(c, "mydomain")[0] != '\0', "computed mydomain: %s",
	    cfg_str(c, "mydomain"));
	T_EQ_STR(cfg_raw(c, "myorigin"), "$myhostname", "cfg_raw unexpanded");
	T_EQ_STR(cfg_raw(c, "users_file"), "$config_directory/users",
	    "cfg_raw of a default");
	cfg_free(c);
}

/* t_numbers - sizes, counts and times with units */
static void
t_numbers(void)
{
	const char *text =
	    "message_size_limit = 0\n"
	    "mailbox_size_limit = 1099511627776\n"
	    "maximal_queue_lifetime = 2\n"
	    "bounce_queue_lifetime = 1w\n"
	    "delay_warning_time = 4\n"
	    "smtpd_timeout = 5m\n"
	    "queue_run_delay = 1H\n"
	    "smtpd_client_connection_count_limit = 10\n"
	    "smtpd_client_message_rate_limit = 100\n";
	struct cfg *c;
	char	 err[1024];

	c = t_parse(text, err, sizeof(err));
	T_OK(c != NULL, "numbers parse: %s", err);
	if (c == NULL)
		return;
	T_EQ_INT(cfg_int(c, "message_size_limit"), 0, "0 = unlimited");
	T_EQ_INT(cfg_int(c, "mailbox_size_limit"), 1099511627776LL, "2^40");
	T_EQ_INT(cfg_time(c, "maximal_queue_lifetime"), 2 * 86400,
	    "bare number in the default unit d");
	T_EQ_INT(cfg_time(c, "bounce_queue_lifetime"), 7 * 86400, "1w");
	T_EQ_INT(cfg_time(c, "delay_warning_time"), 4 * 3600, "unit h");
	T_EQ_INT(cfg_time(c, "smtpd_timeout"), 300, "5m");
	T_EQ_INT(cfg_int(c, "queue_run_delay"), 3600, "1H, cfg_int of time");
	T_EQ_INT(cfg_int(c, "smtpd_client_connection_count_limit"), 10, "int");
	T_EQ_INT(cfg_int(c, "smtpd_client_message_rate_limit"), 100, "int");
	T_EQ_INT(cfg_int(c, "smtpd_recipient_limit"), 1000, "int default");
	T_EQ_INT(cfg_time(c, "anvil_rate_time_unit"), 60, "time default");
	cfg_free(c);
}

/* t_unknown - user-defined names, undefined refs, duplicates */
static void
t_unknown(void)
{
	const char *text =
	    "mua_client_restrictions = permit_sasl_authenticated, reject\n"
	    "mua_helo_restrictions = permit\n"
	    "not_a_parameter = 1\n"
	    "smtpd_client_restrictions = $mua_client_restrictions\n"
	    "smtpd_banner = $undefined_one\n"
	    "mail_name = a\n"
	    "mail_name = b\n"
	    "config_directory = /elsewhere\n";
	const char *const *u;
	struct cfg *c;
	char	 err[1024], warn[4096];
	size_t	 n;
	int	 nw, ne;

	c = t_parse(text, err, sizeof(err));
	T_OK(c != NULL, "unknown names parse: %s", err);
	if (c == NULL)
		return;
	u = cfg_unknown(c, &n);
	T_EQ_INT(n, 3, "three user-defined names");
	T_EQ_STR(u[0], "mua_client_restrictions", "first unknown");
	T_OK(u[3] == NULL, "unknown list NULL-terminated");
	T_EQ_STR(cfg_lookup(c, "not_a_parameter"), "1", "cfg_lookup user");
	T_EQ_STR(cfg_lookup(c, "mail_name"), "b", "cfg_lookup known");
	T_OK(cfg_lookup(c, "never_set") == NULL, "cfg_lookup unset");
	T_EQ_STR(cfg_str(c, "smtpd_banner"), "",
	    "undefined ref expands to \"\"");
	T_EQ_STR(cfg_str(c, "mail_name"), "b", "last setting wins");
	T_OK(strcmp(cfg_str(c, "config_directory"), "/elsewhere") != 0,
	    "config_directory in main.cf ignored");

	nw = cfg_check(c, warn, sizeof(warn), &ne);
	T_OK(strstr(warn, "warning: main.cf:3: not_a_parameter: unknown "
	    "parameter") != NULL, "unused unknown name reported");
	T_OK(strstr(warn, "warning: main.cf:2: mua_helo_restrictions: "
	    "unknown") != NULL, "unreferenced mua_helo_restrictions reported");
	T_OK(strstr(warn, "mua_client_restrictions") == NULL,
	    "referenced user-defined name not reported");
	T_OK(strstr(warn, "warning: main.cf:5: smtpd_banner: undefined "
	    "parameter $undefined_one\n") != NULL, "undefined $ref reported");
	T_OK(strstr(warn, "warning: main.cf:7: mail_name overrides the "
	    "setting at main.cf:6") != NULL, "duplicate reported");
	T_OK(strstr(warn, "warning: main.cf:8: config_directory is ignored") !=
	    NULL, "config_directory note");
	T_EQ_INT(nw, 5, "five findings");
	T_EQ_INT(ne, 0, "all of them warnings");

	cfg_mark_used(c, "permit, ${mua_helo_restrictions}");
	nw = cfg_check(c, warn, sizeof(warn), NULL);
	T_EQ_INT(nw, 4, "cfg_mark_used silences one");
	T_OK(strstr(warn, "mua_helo_restrictions") == NULL, "marked as used");
	nw = cfg_check(c, warn, 16, NULL);
	T_OK(strlen(warn) < 16, "cfg_check truncates to the buffer");
	cfg_free(c);

	/* an undefined name in a restriction list is an error */
	c = t_parse("smtpd_sender_restrictions = $mua_sender_restrictions\n"
	    "indirect = $nowhere, permit\n"
	    "smtpd_helo_restrictions = $indirect\n"
	    "smtpd_relay_restrictions = ${maybe?$maybe} "
	    "permit_mynetworks, reject\n", err, sizeof(err));
	T_OK(c != NULL, "restriction sample parses");
	if (c == NULL)
		return;
	nw = cfg_check(c, warn, sizeof(warn), &ne);
	T_OK(strstr(warn, "error: main.cf:1: smtpd_sender_restrictions: "
	    "undefined parameter $mua_sender_restrictions (in a restriction "
	    "list") != NULL, "direct undefined ref in a list: error");
	T_OK(strstr(warn, "warning: main.cf:2: indirect: undefined parameter "
	    "$nowhere\n") != NULL, "the indirect one named where it is");
	T_OK(strstr(warn, "error: main.cf:3: smtpd_helo_restrictions: refers "
	    "through other parameters to an undefined one") != NULL,
	    "indirect undefined ref in a list: error");
	T_OK(strstr(warn, "smtpd_relay_restrictions") == NULL,
	    "${name?...} of an undefined name is no mistake");
	T_EQ_INT(ne, 2, "two errors");
	T_EQ_INT(nw, 3, "three findings");
	T_OK(cfg_set(c, "smtpd_sender_restrictions", "$also_missing", err,
	    sizeof(err)) == 0, "-o with an undefined name applies");
	cfg_check(c, warn, sizeof(warn), &ne);
	T_OK(strstr(warn, "error: smtpd_sender_restrictions: undefined "
	    "parameter $also_missing") != NULL, "-o value: named without "
	    "a file");
	cfg_free(c);

	c = t_parse("mailbox_size_limit = 1000\nminimal_backoff_time = 5000s\n"
	    "smtpd_tls_security_level = encrypt\n", err, sizeof(err));
	T_OK(c != NULL, "cross sample parses");
	if (c == NULL)
		return;
	cfg_check(c, warn, sizeof(warn), &ne);
	T_OK(strstr(warn, "error: mailbox_size_limit (1000) is smaller") !=
	    NULL, "mailbox < message: error");
	T_OK(strstr(warn, "warning: minimal_backoff_time is larger") != NULL,
	    "backoff warned");
	T_OK(strstr(warn, "error: TLS is enabled") != NULL &&
	    strstr(warn, "smtpd_tls_cert_file or smtpd_tls_key_file is "
	    "empty") != NULL, "TLS without cert: error");
	T_EQ_INT(ne, 2, "two errors");
	T_OK(cfg_set(c, "message_size_limit", "0", err, sizeof(err)) == 0,
	    "no message limit");
	cfg_check(c, warn, sizeof(warn), &ne);
	T_OK(strstr(warn, "warning: mailbox_size_limit (1000) is set but "
	    "message_size_limit is 0") != NULL, "no message limit: warning");
	T_OK(cfg_set(c, "mailbox_size_limit", "0", err, sizeof(err)) == 0 &&
	    cfg_set(c, "message_size_limit", "2000", err, sizeof(err)) == 0,
	    "no mailbox limit");
	cfg_check(c, warn, sizeof(warn), &ne);
	T_OK(strstr(warn, "mailbox_size_limit") == NULL,
	    "no mailbox limit: nothing said");
	cfg_free(c);

	c = cfg_new();
	T_EQ_INT(cfg_check(c, warn, sizeof(warn), &ne), 0,
	    "defaults: no warnings");
	T_EQ_STR(warn, "", "defaults: empty check");
	cfg_unknown(c, &n);
	T_EQ_INT(n, 0, "defaults: no unknown names");
	cfg_free(c);
}

/* t_set_dup - -o overrides with cfg_set; cfg_dup independence */
static void
t_set_dup(void)
{
	struct cfg *c, *d;
	char	 err[1024];

	c = t_parse("myhostname = mail.example.com\nmua = permit\n", err,
	    sizeof(err));
	T_OK(c != NULL, "parse for set");
	if (c == NULL)
		return;
	d = cfg_dup(c);
	T_EQ_INT(cfg_set(d, "smtpd_tls_security_level", "encrypt", err,
	    sizeof(err)), 0, "-o smtpd_tls_security_level=encrypt");
	T_EQ_INT(cfg_set(d, "smtpd_sasl_auth_enable", "yes", err,
	    sizeof(err)), 0, "-o smtpd_sasl_auth_enable=yes");
	T_EQ_INT(cfg_set(d, "smtpd_client_restrictions", "$mua", err,
	    sizeof(err)), 0, "-o with a $reference");
	T_EQ_INT(cfg_set(d, "syslog_name", "youju/submission", err,
	    sizeof(err)), 0, "-o syslog_name");
	T_EQ_INT(cfg_set(d, "myhostname", "other.example.net", err,
	    sizeof(err)), 0, "-o myhostname");
	T_EQ_INT(cfg_set(d, "smtpd_banner", "", err, sizeof(err)), 0,
	    "-o name= (empty)");
	T_EQ_INT(cfg_set(d, "my_own", "v", err, sizeof(err)), 0,
	    "-o of a user-defined name");
	T_EQ_STR(cfg_str(d, "smtpd_tls_security_level"), "encrypt", "set");
	T_EQ_INT(cfg_bool(d, "smtpd_sasl_auth_enable"), 1, "set bool");
	T_EQ_STR(cfg_str(d, "smtpd_client_restrictions"), "permit",
	    "set expands");
	T_EQ_STR(cfg_str(d, "mydomain"), "example.net",
	    "dependent default follows the override");
	T_EQ_STR(cfg_str(d, "smtpd_banner"), "", "set empty");
	T_EQ_STR(cfg_lookup(d, "my_own"), "v", "user-defined set");
	T_EQ_STR(cfg_str(c, "smtpd_tls_security_level"), "",
	    "original unchanged");
	T_EQ_INT(cfg_bool(c, "smtpd_sasl_auth_enable"), 0, "original bool");
	T_EQ_STR(cfg_str(c, "mydomain"), "example.com", "original mydomain");
	T_OK(cfg_lookup(c, "my_own") == NULL, "original has no my_own");
	cfg_free(c);
	T_EQ_STR(cfg_str(d, "syslog_name"), "youju/submission",
	    "copy survives the original");
	cfg_free(d);
}

/* t_files - cfg_load_dir and cfg_load on real files */
static void
t_files(void)
{
	char	 dir[] = "/tmp/test_cfg.XXXXXX", path[256], err[1024];
	struct cfg *c;
	FILE	*f;

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	c = cfg_load_dir(dir, err, sizeof(err));
	T_OK(c == NULL && strstr(err, "no main.cf in") != NULL &&
	    strstr(err, "-c DIR") != NULL, "missing main.cf: %s", err);
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	if ((f = fopen(path, "w")) == NULL) {
		T_OK(0, "fopen");
		return;
	}
	fputs("myhostname = mail.example.com\nalias_maps = hash:$config_"
	    "directory/aliases\nsmtpd_recipient_limit = 0\n", f);
	fclose(f);
	c = cfg_load_dir(dir, err, sizeof(err));
	T_OK(c == NULL && strstr(err, path) != NULL &&
	    strstr(err, ":3: smtpd_recipient_limit") != NULL,
	    "error names the file: %s", err);
	if ((f = fopen(path, "w")) == NULL) {
		T_OK(0, "fopen");
		return;
	}
	fputs("myhostname = mail.example.com\nalias_maps = hash:$config_"
	    "directory/aliases\n", f);
	fclose(f);
	c = cfg_load_dir(dir, err, sizeof(err));
	T_OK(c != NULL, "cfg_load_dir: %s", err);
	if (c != NULL) {
		T_EQ_STR(cfg_dir(c), dir, "cfg_dir");
		T_EQ_STR(cfg_str(c, "config_directory"), dir,
		    "config_directory = -c DIR");
		snprintf(path, sizeof(path), "%s/users", dir);
		T_EQ_STR(cfg_str(c, "users_file"), path, "users_file");
		snprintf(path, sizeof(path), "hash:%s/aliases", dir);
		T_EQ_STR(cfg_str(c, "alias_maps"), path, "alias_maps");
		cfg_free(c);
	}
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	c = cfg_load(path, err, sizeof(err));
	T_OK(c != NULL && strcmp(cfg_dir(c), dir) == 0, "cfg_load: %s", err);
	cfg_free(c);
	c = cfg_load(dir, err, sizeof(err));
	T_OK(c == NULL && strstr(err, "not a regular file"),
	    "cfg_load of a directory: %s", err);
	unlink(path);
	rmdir(dir);
	c = cfg_new();
	T_EQ_STR(cfg_dir(c), "", "cfg_dir of a new cfg");
	cfg_set_dir(c, "relative/dir");
	T_OK(cfg_dir(c)[0] == '/' && strstr(cfg_dir(c), "/relative/dir"),
	    "relative -c made absolute: %s", cfg_dir(c));
	cfg_set_dir(c, "/a$b");
	T_EQ_STR(cfg_str(c, "config_directory"), "/a$b", "'$' in dir kept");
	cfg_free(c);
}

struct time_case {
	const char	*in;
	char		 unit;
	int		 ok;
	long long	 want;
};

static const struct time_case time_cases[] = {
	{ "", 0, 0, 0 }, { "s", 0, 0, 0 }, { "10x", 0, 0, 0 },
	{ "10ss", 0, 0, 0 }, { "-1", 0, 0, 0 }, { "+1", 0, 0, 0 },
	{ " 1", 0, 0, 0 }, { "1 ", 0, 0, 0 }, { "1.5h", 0, 0, 0 },
	{ "99999999999999999999", 0, 0, 0 }, { "99999999999999w", 0, 0, 0 },
	{ "5", 'x', 0, 0 },
	{ "0", 0, 1, 0 }, { "10", 0, 1, 10 }, { "10s", 'd', 1, 10 },
	{ "2m", 0, 1, 120 }, { "3h", 0, 1, 10800 }, { "1d", 0, 1, 86400 },
	{ "1w", 0, 1, 604800 }, { "5D", 0, 1, 432000 }, { "5", 'd', 1, 432000 },
	{ "5", 'h', 1, 18000 },
};

struct list_case {
	const char	*in;
	size_t		 n;
	const char	*last;
};

static const struct list_case list_cases[] = {
	{ "", 0, NULL }, { " ,, \t", 0, NULL }, { "a", 1, "a" },
	{ "a,b", 2, "b" }, { " a , b ,, c ", 3, "c" }, { "a\tb\nc", 3, "c" },
	{ "permit_mynetworks, reject_rbl_client zen.spamhaus.org", 3,
	  "zen.spamhaus.org" },
	{ "check_policy_service { inet:127.0.0.1:9, timeout=10s }, x", 3,
	  "x" },
	{ "a { b, c }", 2, "{ b, c }" },
	{ "[::1]/128 127.0.0.0/8", 2, "127.0.0.0/8" },
};

/* t_helpers - cfg_parse_time, cfg_parse_bool, cfg_split_list */
static void
t_helpers(void)
{
	static const char *const yes[] = { "yes", "YES", "True", "true" };
	static const char *const no[] = { "no", "No", "FALSE", "false" };
	static const char *const neither[] = { "", "y", "1", "0", "yess" };
	long long v;
	char	**l;
	size_t	 i, n;
	int	 b, r;

	for (i = 0; i < NELEM(time_cases); i++) {
		v = -1;
		r = cfg_parse_time(time_cases[i].in, time_cases[i].unit, &v);
		T_OK(r == (time_cases[i].ok ? 0 : -1) &&
		    (!time_cases[i].ok || v == time_cases[i].want),
		    "time \"%s\" unit %c -> %d %lld", time_cases[i].in,
		    time_cases[i].unit ? time_cases[i].unit : '-', r, v);
	}
	for (i = 0; i < NELEM(yes); i++)
		T_OK(cfg_parse_bool(yes[i], &b) == 0 && b == 1, "bool %s",
		    yes[i]);
	for (i = 0; i < NELEM(no); i++)
		T_OK(cfg_parse_bool(no[i], &b) == 0 && b == 0, "bool %s",
		    no[i]);
	for (i = 0; i < NELEM(neither); i++)
		T_OK(cfg_parse_bool(neither[i], &b) == -1, "bool \"%s\" bad",
		    neither[i]);
	for (i = 0; i < NELEM(list_cases); i++) {
		l = cfg_split_list(list_cases[i].in, &n);
		T_OK(n == list_cases[i].n && l[n] == NULL &&
		    (n == 0 || strcmp(l[n - 1], list_cases[i].last) == 0),
		    "list \"%s\" -> %zu \"%s\"", log_str(list_cases[i].in), n,
		    n > 0 ? l[n - 1] : "");
		cfg_list_free(l, n);
	}
	cfg_list_free(NULL, 0);
}

/* t_table - sorted, unique, sane bounds, docs, defaults that check */
static void
t_table(void)
{
	const struct cfg_param *p;
	size_t	 i;
	int	 sorted = 1, sane = 1, found = 1;

	T_OK(cfg_nparams > 100, "table has %zu entries", cfg_nparams);
	for (i = 0; i < cfg_nparams; i++) {
		p = &cfg_params[i];
		if (i > 0 && strcmp(cfg_params[i - 1].name, p->name) >= 0) {
			sorted = 0;
			printf("# not sorted: %s\n", p->name);
		}
		if (p->doc == NULL || p->doc[0] == '\0' || p->def == NULL ||
		    p->min > p->max || (p->type == CFG_TIME && p->unit != 0 &&
		    strchr("smhdw", p->unit) == NULL)) {
			sane = 0;
			printf("# not sane: %s\n", p->name);
		}
		if (cfg_param_find(p->name) != p)
			found = 0;
	}
	T_OK(sorted, "table sorted and unique");
	T_OK(sane, "docs, defaults, bounds, units");
	T_OK(found, "cfg_param_find finds every entry");
	T_OK(cfg_param_find("no_such_parameter") == NULL, "find unknown");
	T_OK(cfg_param_find("dns_server_address") != NULL &&
	    (cfg_param_find("dns_server_address")->flags & CFG_F_YOUJU),
	    "dns_server_address is youju-only");
	T_OK(cfg_param_find("biff") != NULL &&
	    (cfg_param_find("biff")->flags & CFG_F_ACCEPTED),
	    "biff is accepted");
	T_EQ_INT(cfg_param_find("message_size_limit")->max, 1LL << 40,
	    "message_size_limit max 2^40");
}

static struct cfg *t_child_cfg;	/* global: no leak report in the child */

/* t_fatal - a getter of a name outside the table is fatal */
static void
t_fatal(void)
{
	pid_t	 pid;
	int	 status = 0;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		log_open("test_cfg", 0, NULL);
		t_child_cfg = cfg_new();
		(void)cfg_str(t_child_cfg, "no_such_parameter");
		_exit(0);
	}
	waitpid(pid, &status, 0);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "cfg_str of an unknown name exits 1");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		log_open("test_cfg", 0, NULL);
		t_child_cfg = cfg_new();
		(void)cfg_bool(t_child_cfg, "mail_name");
		_exit(0);
	}
	waitpid(pid, &status, 0);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "cfg_bool of a string exits 1");
}

int
main(void)
{
	t_plan(262);
	t_bad_cases();
	t_bad_lengths();
	t_failed_parse_keeps();
	t_syntax();
	t_expansion();
	t_numbers();
	t_unknown();
	t_set_dup();
	t_files();
	t_helpers();
	t_table();
	t_fatal();
	return t_done();
}
