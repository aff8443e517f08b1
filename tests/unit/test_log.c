/*
 * test_log.c - unit tests of lib/util/log.c: escaping of untrusted text and the
 * line format written to maillog_file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "t.h"

/* t_escape - control bytes, backslash, 8-bit, truncation */
static void
t_escape(void)
{
	char	 out[64], tiny[6];

	T_EQ_STR(log_escape(out, sizeof(out), "plain", 5), "plain", "plain");
	T_EQ_STR(log_escape(out, sizeof(out), "a\r\nb", 4), "a\\x0d\\x0ab",
	    "CR LF escaped");
	T_EQ_STR(log_escape(out, sizeof(out), "a\0b", 3), "a\\x00b",
	    "NUL escaped");
	T_EQ_STR(log_escape(out, sizeof(out), "\\", 1), "\\\\",
	    "backslash doubled");
	T_EQ_STR(log_escape(out, sizeof(out), "\xff\x7f", 2), "\\xff\\x7f",
	    "8-bit and DEL escaped");
	T_EQ_STR(log_escape(tiny, sizeof(tiny), "abcdefgh", 8), "abcde",
	    "truncated to the buffer");
	T_EQ_STR(log_escape(tiny, sizeof(tiny), "ab\ncd", 5), "ab",
	    "escape not split");
	T_EQ_STR(log_str("x\ty"), "x\\x09y", "log_str");
	T_EQ_STR(log_str(NULL), "", "log_str(NULL)");
}

/* t_file - a line in maillog_file has the Postfix shape */
static void
t_file(void)
{
	char	 dir[] = "/tmp/test_log.XXXXXX", path[128], line[512];
	FILE	*f;

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/maillog", dir);
	log_open("youju/test", 0, path);
	log_info("%s: from=<%s>, size=%d", "QID", log_str("a@b\r\n"), 10);
	log_warn("careful");
	log_close();
	f = fopen(path, "r");
	T_OK(f != NULL, "maillog_file created");
	if (f == NULL)
		return;
	T_OK(fgets(line, sizeof(line), f) != NULL, "first line");
	T_OK(strstr(line, " youju/test[") != NULL, "program name and pid");
	T_OK(strstr(line, "]: QID: from=<a@b\\x0d\\x0a>, size=10\n") != NULL,
	    "message escaped, one line");
	T_OK(fgets(line, sizeof(line), f) != NULL, "second line");
	T_OK(strstr(line, "]: warning: careful\n") != NULL, "warning prefix");
	T_OK(fgets(line, sizeof(line), f) == NULL, "exactly two lines");
	fclose(f);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	t_plan(16);
	t_escape();
	t_file();
	return t_done();
}
