/*
 * test_cfg_edit.c - unit tests of lib/conf/cfg_edit.c (mailctl config -e/-X).
 *
 * Each case edits a main.cf text and compares the result byte for byte:
 * an entry replaced with comments and other entries kept, a multi-line
 * entry with a comment among its continuation lines, duplicates (the
 * first replaced, the later ones removed), an entry appended (a missing
 * final newline added first), removal, names that only start alike,
 * CR LF files; then the refusals (bad names, line breaks, NUL bytes); and
 * every result read back by cfg_parse_buf gives the new value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_edit.h"
#include "log.h"
#include "util.h"
#include "t.h"

static const struct {
	const char *what, *in, *name, *value, *out;
	int	 changed;
} cases[] = {
	{ "replaced, the rest kept",
	  "# top\nmyhostname = a.example\n\nmydomain = example\n",
	  "myhostname", "b.example",
	  "# top\nmyhostname = b.example\n\nmydomain = example\n", 1 },
	{ "no spaces around =",
	  "myhostname=a\nmydomain=x\n", "myhostname", "b",
	  "myhostname = b\nmydomain=x\n", 1 },
	{ "continuation lines and a comment among them go; the next stay",
	  "smtpd_recipient_restrictions = permit_mynetworks,\n"
	  "# reject the rest\n    reject_unauth_destination\n"
	  "# after\nmydomain = x\n",
	  "smtpd_recipient_restrictions", "reject",
	  "smtpd_recipient_restrictions = reject\n# after\nmydomain = x\n",
	  1 },
	{ "duplicates: the first replaced, the later removed",
	  "a = 1\nb = 2\na = 3\n  continued\nc = 4\n", "a", "9",
	  "a = 9\nb = 2\nc = 4\n", 2 },
	{ "appended", "a = 1\n", "b", "2", "a = 1\nb = 2\n", 0 },
	{ "appended after a last line without newline", "a = 1", "b", "2",
	  "a = 1\nb = 2\n", 0 },
	{ "appended to an empty file", "", "b", "2", "b = 2\n", 0 },
	{ "removed, every one", "a = 1\nb = 2\n  x\na = 3\n", "a", NULL,
	  "b = 2\n  x\n", 2 },
	{ "removing what is not there", "a = 1\n", "b", NULL, "a = 1\n", 0 },
	{ "a name that only starts alike is another",
	  "myhostname2 = x\nmyhostname = y\n", "myhostname", "z",
	  "myhostname2 = x\nmyhostname = z\n", 1 },
	{ "a value that names it is not an entry",
	  "x = $myhostname\n#myhostname = old\n", "myhostname", "new",
	  "x = $myhostname\n#myhostname = old\nmyhostname = new\n", 0 },
	{ "CR LF kept",
	  "a = 1\r\nb = 2\r\n", "a", "3", "a = 3\r\nb = 2\r\n", 1 },
	{ "CR LF appended", "a = 1\r\n", "c", "3", "a = 1\r\nc = 3\r\n", 0 },
	{ "an empty value", "a = 1\n", "a", "", "a = \n", 1 },
	{ "user-defined names", "mua_x = reject\n", "mua_x", "permit",
	  "mua_x = permit\n", 1 },
};

static const struct {
	const char *what, *name, *value;
} bad[] = {
	{ "empty name", "", "x" },
	{ "blank in the name", "my hostname", "x" },
	{ "= in the name", "a=b", "x" },
	{ "$ in the name", "$a", "x" },
	{ "64 characters", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaa", "x" },
	{ "a line break in the value", "a", "1\nb = 2" },
	{ "a CR in the value", "a", "1\rb" },
};

int
main(void)
{
	struct buf out;
	struct cfg *c;
	const char *val;
	char	 err[512];
	size_t	 i;
	int	 changed, set;

	t_plan(58);
	log_open("test_cfg_edit", LOG_TO_STDERR, NULL);
	for (i = 0; i < NELEM(cases); i++) {
		buf_init(&out, 1 << 20);
		T_EQ_INT(cfg_edit(cases[i].in, strlen(cases[i].in),
		    cases[i].name, cases[i].value, &out, &changed, err,
		    sizeof(err)), 0, cases[i].what);
		T_OK(out.len == strlen(cases[i].out) &&
		    memcmp(out.data, cases[i].out, out.len) == 0,
		    "%s: the text (got \"%.*s\")", cases[i].what, (int)out.len,
		    out.data != NULL ? (const char *)out.data : "");
		T_EQ_INT(changed, cases[i].changed, cases[i].what);
		buf_free(&out);
	}
	for (i = 0; i < NELEM(bad); i++) {
		buf_init(&out, 1 << 20);
		err[0] = '\0';
		T_OK(cfg_edit("a = 1\n", 6, bad[i].name, bad[i].value, &out,
		    &changed, err, sizeof(err)) == -1 && err[0] != '\0',
		    "refused: %s (%s)", bad[i].what, err);
		buf_free(&out);
	}
	buf_init(&out, 1 << 20);
	T_OK(cfg_edit("a = 1\n\0b = 2\n", 13, "a", "2", &out, &changed, err,
	    sizeof(err)) == -1, "a NUL byte in the file: refused");
	buf_free(&out);
	/* what main.cf says after an edit is what was set */
	buf_init(&out, 1 << 20);
	T_EQ_INT(cfg_edit(cases[2].in, strlen(cases[2].in), "mydomain",
	    "example.org", &out, &changed, err, sizeof(err)), 0,
	    "edit for the read-back");
	c = cfg_new();
	T_EQ_INT(cfg_parse_buf(c, (const char *)out.data, out.len, "t",
	    err, sizeof(err)), 0, "the result parses");
	T_OK(cfg_value(c, "mydomain", 0, &val, &set) == 0 && set &&
	    strcmp(val, "example.org") == 0, "mydomain read back");
	T_OK(cfg_value(c, "smtpd_recipient_restrictions", 0, &val, &set) ==
	    0 && strcmp(val, "permit_mynetworks, reject_unauth_destination") ==
	    0, "the other entry read back whole (%s)", val);
	T_EQ_INT(cfg_value(c, "no_such_name", 0, &val, &set), -1,
	    "cfg_value: an unknown name");
	cfg_free(c);
	buf_free(&out);
	return t_done();
}
