/*
 * fuzz_maillog.c - libFuzzer target for lib/mail/maillog: maillog_about() and
 * maillog_parse() on a line of a mail log (which may hold anything).
 *
 * Input: the line's bytes (an exact-size copy for maillog_about, a
 * NUL-terminated one for maillog_parse); the queue id is fixed.
 *
 * Properties checked (abort when broken):
 *  - a line maillog_parse takes is one maillog_about takes;
 *  - the stamp is the line's first MAILLOG_STAMP_LEN bytes;
 *  - a RESULT has an address of at most MAILLOG_ADDR_MAX bytes that the
 *    line holds as "to=<ADDR>, ", a status word without a space, and
 *    rest inside the line; other kinds have none of them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "maillog.h"

#define FZ_QID	"4Q2K7D1B9C8E0F3A"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maillog_line l;
	char	*exact, *line, want[MAILLOG_ADDR_MAX + 8];
	int	 about;

	exact = malloc(size > 0 ? size : 1);
	FZ_CHECK(exact != NULL);
	memcpy(exact, data, size);
	about = maillog_about(exact, size, FZ_QID);
	FZ_CHECK(about == 0 || about == 1);
	free(exact);
	line = fz_cstr(data, size);
	if (maillog_parse(line, FZ_QID, &l) == 1) {
		FZ_CHECK(maillog_about(line, strlen(line), FZ_QID) == 1);
		FZ_CHECK(strncmp(line, l.stamp, MAILLOG_STAMP_LEN) == 0 &&
		    strlen(l.stamp) == MAILLOG_STAMP_LEN);
		if (l.kind == MAILLOG_RESULT) {
			FZ_CHECK(strlen(l.addr) <= MAILLOG_ADDR_MAX);
			snprintf(want, sizeof(want), "to=<%s>, ", l.addr);
			FZ_CHECK(strstr(line, want) != NULL);
			FZ_CHECK(l.status[0] != '\0' &&
			    strchr(l.status, ' ') == NULL);
			FZ_CHECK(l.rest > line && l.rest <= line +
			    strlen(line));
		} else {
			FZ_CHECK(l.kind == MAILLOG_REMOVED ||
			    l.kind == MAILLOG_OTHER);
			FZ_CHECK(l.addr[0] == '\0' && l.status[0] == '\0' &&
			    l.rest == NULL);
		}
	} else
		FZ_CHECK(maillog_parse(line, FZ_QID, &l) == 0);
	free(line);
	return 0;
}
