/*
 * fuzz_smtpreply.c - libFuzzer target for lib/mail/smtpreply: smtpreply_parse()
 * on bytes as a remote SMTP server might send them, smtpreply_has() on
 * what it found.
 *
 * Input: the received bytes (an exact-size copy: the parser takes a
 * length, so ASan sees any read past it).
 *
 * Properties checked (abort when broken):
 *  - the result is -1, 0, or 1..len, and a reply ends with a LF;
 *  - a reply has a code 200..599, 1..SMTPREPLY_LINES_MAX lines, a text
 *    NUL-terminated within SMTPREPLY_TEXT_MAX bytes and free of control
 *    characters except the '\n' between lines (one per extra line at
 *    most), an enhanced code that is "" or class.subject.detail with the
 *    code's class; garbled lines only between the first and the last
 *    (0 <= garbled <= nlines - 2);
 *  - EHLO keywords: at most SMTPREPLY_EXT_MAX, upper-case [A-Z0-9-]
 *    starting with a letter or digit, NUL-terminated; parameters
 *    printable; smtpreply_has() finds each;
 *  - prefixes: the reply's bytes alone give the same result, the reply
 *    without its last byte needs more (0); a malformed input stays
 *    malformed with CRLF appended.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "smtpreply.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_smtpreply_dsn - "" or class.subject.detail of the right class */
static void
fuzz_smtpreply_dsn(const struct smtpreply *r)
{
	const char	*s = r->dsn;
	size_t		 n;
	int		 part;

	FZ_CHECK(memchr(r->dsn, '\0', sizeof(r->dsn)) != NULL);
	if (s[0] == '\0')
		return;
	FZ_CHECK(s[0] - '0' == r->code / 100 && s[0] != '3' && s[1] == '.');
	s += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			n++;
		FZ_CHECK(n >= 1 && n <= 3);
		FZ_CHECK(*s == (part == 0 ? '.' : '\0'));
		s++;
	}
}

/* fuzz_smtpreply_check - the properties of one parsed reply */
static void
fuzz_smtpreply_check(const struct smtpreply *r)
{
	const char	*s;
	size_t		 n, nl = 0;
	int		 i;

	FZ_CHECK(r->code >= 200 && r->code <= 599);
	FZ_CHECK(r->nlines >= 1 && r->nlines <= SMTPREPLY_LINES_MAX);
	FZ_CHECK(r->garbled >= 0 &&
	    (r->garbled == 0 || r->garbled <= r->nlines - 2));
	FZ_CHECK(memchr(r->text, '\0', sizeof(r->text)) != NULL);
	for (s = r->text; *s != '\0'; s++) {
		FZ_CHECK(*s == '\n' || (*s >= 32 && *s <= 126));
		nl += *s == '\n';
	}
	FZ_CHECK(nl <= (size_t)r->nlines - 1);
	fuzz_smtpreply_dsn(r);
	FZ_CHECK(r->next >= 0 && r->next <= SMTPREPLY_EXT_MAX);
	for (i = 0; i < r->next; i++) {
		n = strnlen(r->ext[i], sizeof(r->ext[i]));
		FZ_CHECK(n >= 1 && n < sizeof(r->ext[i]));
		for (s = r->ext[i]; *s != '\0'; s++)
			FZ_CHECK((*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') ||
			    (*s == '-' && s != r->ext[i]));
		FZ_CHECK(memchr(r->extarg[i], '\0', sizeof(r->extarg[i])) !=
		    NULL);
		for (s = r->extarg[i]; *s != '\0'; s++)
			FZ_CHECK(*s >= 32 && *s <= 126);
		FZ_CHECK(smtpreply_has(r, r->ext[i]) != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpreply *r, *r2;
	char		*in, *more;
	long		 ret, ret2;

	r = malloc(sizeof(*r));
	r2 = malloc(sizeof(*r2));
	if (r == NULL || r2 == NULL)
		abort();
	in = fz_memdup(data, size);
	ret = smtpreply_parse(in, size, r);
	fz_trace("smtpreply: %ld of %zu bytes, code %d, %d lines", ret, size,
	    ret > 0 ? r->code : 0, ret > 0 ? r->nlines : 0);
	FZ_CHECK(ret >= -1 && ret <= (long)size);
	if (ret > 0) {
		FZ_CHECK(in[ret - 1] == '\n');
		fuzz_smtpreply_check(r);
		ret2 = smtpreply_parse(in, (size_t)ret, r2);
		FZ_CHECK(ret2 == ret && r2->code == r->code &&
		    r2->garbled == r->garbled &&
		    strcmp(r2->text, r->text) == 0);
		FZ_CHECK(smtpreply_parse(in, (size_t)ret - 1, r2) == 0);
	} else if (ret == -1) {
		more = malloc(size + 2);
		if (more == NULL)
			abort();
		if (size > 0)
			memcpy(more, in, size);
		memcpy(more + size, "\r\n", 2);
		FZ_CHECK(smtpreply_parse(more, size + 2, r2) == -1);
		free(more);
	}
	free(in);
	free(r);
	free(r2);
	return 0;
}
