/*
 * test_buf.c - unit tests of lib/util/buf.c (bounded buffer) and the string and
 * number helpers of lib/util/util.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "t.h"

/* t_limits - the maximum is never exceeded, failures change nothing */
static void
t_limits(void)
{
	struct buf b;
	char	 big[100];

	memset(big, 'x', sizeof(big));
	buf_init(&b, 10);
	T_EQ_INT(buf_append(&b, big, 11), -1, "append over max fails");
	T_EQ_INT(errno, ENOSPC, "errno ENOSPC");
	T_EQ_INT(b.len, 0, "failed append leaves buffer empty");
	T_EQ_INT(buf_append(&b, big, 10), 0, "append exactly max");
	T_EQ_INT(buf_putc(&b, 'y'), -1, "one more byte fails");
	T_EQ_INT(b.len, 10, "length stays at max");
	T_EQ_INT(buf_reserve(&b, SIZE_MAX), -1, "huge reserve fails");
	T_EQ_INT(buf_printf(&b, "%s", "z"), -1, "printf over max fails");
	T_EQ_INT(b.len, 10, "still max after failed printf");
	T_OK(b.data[b.len] == '\0', "NUL after data");
	buf_free(&b);

	buf_init(&b, 0);
	T_EQ_INT(buf_putc(&b, 'a'), -1, "max 0 holds nothing");
	T_EQ_STR(buf_cstr(&b), "", "cstr of empty buffer");
	buf_free(&b);
}

/* t_ops - append, printf, consume, detach */
static void
t_ops(void)
{
	struct buf b;
	char	*p;
	int	 i;

	buf_init(&b, 1 << 20);
	T_EQ_INT(buf_puts(&b, "hello"), 0, "puts");
	T_EQ_INT(buf_printf(&b, " %d %s", 42, "x"), 0, "printf");
	T_EQ_STR(buf_cstr(&b), "hello 42 x", "contents");
	buf_consume(&b, 6);
	T_EQ_STR(buf_cstr(&b), "42 x", "consume front");
	buf_consume(&b, 100);
	T_EQ_INT(b.len, 0, "consume more than len empties");
	for (i = 0; i < 100000; i++)
		if (buf_putc(&b, 'a' + i % 26) == -1)
			break;
	T_EQ_INT(b.len, 100000, "grows to 100000");
	T_OK(b.data[99999] == 'a' + 99999 % 26, "last byte kept");
	T_EQ_INT(buf_append(&b, "\0\1", 2), 0, "binary bytes");
	T_EQ_INT(b.len, 100002, "binary length");
	buf_reset(&b);
	T_EQ_INT(b.len, 0, "reset");
	buf_puts(&b, "abc");
	p = buf_detach(&b);
	T_EQ_STR(p, "abc", "detach returns the string");
	T_OK(b.data == NULL && b.len == 0, "detach empties buffer");
	free(p);
	p = buf_detach(&b);
	T_OK(p != NULL && p[0] == '\0', "detach of never-written buffer is \"\"");
	free(p);
	buf_free(&b);
}

/* t_util - strlcpy, util_fmt, parse_ll, trim, case compare */
static void
t_util(void)
{
	char	 small[4], s[32];
	long long v;

	T_EQ_INT(util_strlcpy(small, "abcdef", sizeof(small)), 6,
	    "strlcpy returns source length");
	T_EQ_STR(small, "abc", "strlcpy truncates");
	T_EQ_INT(util_fmt(small, sizeof(small), "%s", "abcd"), -1,
	    "util_fmt refuses to truncate");
	T_EQ_INT(util_fmt(small, sizeof(small), "%s", "abc"), 0, "fits");
	T_EQ_INT(util_parse_ll("", 0, 10, &v), -1, "empty number");
	T_EQ_INT(util_parse_ll(" 1", 0, 10, &v), -1, "leading space");
	T_EQ_INT(util_parse_ll("1x", 0, 10, &v), -1, "trailing junk");
	T_EQ_INT(util_parse_ll("11", 0, 10, &v), -1, "over max");
	T_EQ_INT(util_parse_ll("-1", 0, 10, &v), -1, "under min");
	T_EQ_INT(util_parse_ll("99999999999999999999", 0, LLONG_MAX, &v), -1,
	    "overflow");
	T_EQ_INT(util_parse_ll("7", 0, 10, &v), 0, "good number");
	T_EQ_INT(v, 7, "value");
	util_strlcpy(s, " \t x y \r\n", sizeof(s));
	T_EQ_STR(util_trim(s), "x y", "trim");
	T_EQ_INT(util_strcasecmp_ascii("ExAmple.COM", "example.com"), 0,
	    "ascii case-insensitive");
	T_OK(util_strcasecmp_ascii("a", "b") != 0, "different strings");
	util_strlcpy(s, "MiXeD", sizeof(s));
	util_lowercase(s);
	T_EQ_STR(s, "mixed", "lowercase");
}

int
main(void)
{
	t_plan(41);
	t_limits();
	t_ops();
	t_util();
	return t_done();
}
