/*
 * sendmail_args.c - the sendmail command line, as Postfix's sendmail(1)
 * takes it.
 *
 * Options come first, letters may be grouped ("-ti"), an option's
 * argument is the rest of its word or the next word ("-fme", "-f me");
 * "--" or the first word that does not start with '-' ends them, and the
 * words after are the recipients.  The program's name decides first:
 * "mailq" is -bp, "newaliases" is -bi.
 *
 *	-bm (default), -bp, -bs, -bi / -I	what to do
 *	-bd, -bh, -bl, -bv			refused (no daemon mode here)
 *	-t, -i, -oi, -v				as in Postfix
 *	-f / -r SENDER, -F NAME, -C DIR		sender, full name, instance
 *						(-C DIR/main.cf means DIR)
 *	-q, -qRsite, -qSsite			flush the queue (or one site)
 *	-B, -h, -L, -N, -O, -R, -V, -X ARG	taken and ignored
 *	-o ARG (but -oi), -qINTERVAL, -G, -U, -m, -n, -c, -x, -7, -8
 *						ignored
 *
 * Errors: -1 and a message for the user; the caller exits EX_USAGE.
 */
#include <stdio.h>
#include <string.h>

#include "sendmail.h"

/* the options that take an argument, and those that are ignored */
#define SENDMAIL_ARG_OPTS	"BCFLNORVXbfhor"
#define SENDMAIL_NOP_OPTS	"GUmncx78"

/* sendmail_b - -bX */
static int
sendmail_b(struct sendmail_opts *o, const char *arg, char *err,
    size_t errlen)
{
	static const struct {
		const char	*name;
		int		 mode;
	} modes[] = {
		{ "m", SENDMAIL_M_MAIL }, { "p", SENDMAIL_M_QUEUE },
		{ "s", SENDMAIL_M_SMTP }, { "i", SENDMAIL_M_ALIASES },
	};
	size_t	 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(arg, modes[i].name) == 0) {
			o->mode = modes[i].mode;
			return 0;
		}
	if (strcmp(arg, "d") == 0 || strcmp(arg, "h") == 0 ||
	    strcmp(arg, "l") == 0 || strcmp(arg, "v") == 0)
		snprintf(err, errlen, "-b%s is not supported by youju", arg);
	else
		snprintf(err, errlen, "unknown mode -b%.20s", arg);
	return -1;
}

/* sendmail_arg_opt - an option with its argument */
static int
sendmail_arg_opt(struct sendmail_opts *o, char c, const char *arg,
    char *err, size_t errlen)
{
	size_t	 n;

	switch (c) {
	case 'b':
		return sendmail_b(o, arg, err, errlen);
	case 'f':
	case 'r':
		o->sender = arg;
		return 0;
	case 'F':
		o->fullname = arg;
		return 0;
	case 'C':
		/* Postfix: a directory; Sendmail: a file - its directory */
		n = strlen(arg);
		if (n >= sizeof(o->cdir)) {
			snprintf(err, errlen, "-C: name too long");
			return -1;
		}
		memcpy(o->cdir, arg, n + 1);
		if (n > 8 && strcmp(o->cdir + n - 8, "/main.cf") == 0)
			o->cdir[n - 8] = '\0';
		o->config_dir = o->cdir;
		return 0;
	case 'o':
		if (strcmp(arg, "i") == 0)
			o->dots = 0;
		return 0;
	default:		/* B h L N O R V X: accepted, no effect */
		return 0;
	}
}

/* sendmail_q - -q, -qRsite, -qSsite; -qINTERVAL is ignored */
static void
sendmail_q(struct sendmail_opts *o, const char *rest)
{
	if (*rest == '\0') {
		o->mode = SENDMAIL_M_FLUSH;
	} else if ((*rest == 'R' || *rest == 'S') && rest[1] != '\0') {
		o->mode = SENDMAIL_M_FLUSH;
		o->site = rest + 1;
	}
}

/* sendmail_word - one option word (without its '-'); *i may advance */
static int
sendmail_word(struct sendmail_opts *o, int argc, char **argv, int *i,
    char *err, size_t errlen)
{
	const char *w = argv[*i] + 1;
	char	 c;

	for (; (c = *w) != '\0'; w++) {
		if (c == 'q') {
			sendmail_q(o, w + 1);
			return 0;
		}
		if (strchr(SENDMAIL_ARG_OPTS, c) != NULL) {
			if (w[1] != '\0')
				return sendmail_arg_opt(o, c, w + 1, err,
				    errlen);
			if (*i + 1 >= argc) {
				snprintf(err, errlen, "option -%c needs an "
				    "argument", c);
				return -1;
			}
			return sendmail_arg_opt(o, c, argv[++*i], err, errlen);
		}
		if (c == 't')
			o->extract = 1;
		else if (c == 'i')
			o->dots = 0;
		else if (c == 'v')
			o->verbose++;
		else if (c == 'I')
			o->mode = SENDMAIL_M_ALIASES;
		else if (strchr(SENDMAIL_NOP_OPTS, c) == NULL) {
			snprintf(err, errlen, "unknown option -%c", c);
			return -1;
		}
	}
	return 0;
}

/* sendmail_args - see sendmail.h */
int
sendmail_args(int argc, char **argv, struct sendmail_opts *o, char *err,
    size_t errlen)
{
	const char *name = argc > 0 && argv[0] != NULL ? argv[0] : "sendmail";
	int	 i;

	memset(o, 0, sizeof(*o));
	o->dots = 1;
	if (strrchr(name, '/') != NULL)
		name = strrchr(name, '/') + 1;
	if (strcmp(name, "mailq") == 0)
		o->mode = SENDMAIL_M_QUEUE;
	else if (strcmp(name, "newaliases") == 0)
		o->mode = SENDMAIL_M_ALIASES;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break;
		if (sendmail_word(o, argc, argv, &i, err, errlen) == -1)
			return -1;
	}
	o->rcpt = argv + i;
	o->nrcpt = argc - i;
	return 0;
}
