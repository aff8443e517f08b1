/*
 * sendmail_spool.c - the message, read to its end before pickup is asked.
 *
 * The input goes into an unnamed temporary file ($TMPDIR or /tmp with
 * O_TMPFILE, else an anonymous memory file), the user's own, so that
 * pickup never waits for a slow producer ("long_job | sendmail") and
 * sendmail learns the size and whether there are 8-bit bytes before the
 * envelope goes out.  Without -i a line that is a single "." ends the
 * input, as in Sendmail; the "." line is not part of the message.
 * More than message_size_limit stops the reading (over).
 *
 * Errors: -1 with errno (EFBIG for a message over the limit).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* O_TMPFILE, memfd_create */
#endif

#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "sendmail.h"

#define SENDMAIL_CHUNK	65536

/* sendmail_spool_open - an empty spool; limit: 0 for none */
int
sendmail_spool_open(struct sendmail_spool *sp, uint64_t limit)
{
	const char *dir = getenv("TMPDIR");

	memset(sp, 0, sizeof(*sp));
	sp->limit = limit;
	sp->bol = 1;
	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	sp->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (sp->fd == -1 && strcmp(dir, "/tmp") != 0)
		sp->fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (sp->fd == -1)
		sp->fd = memfd_create("sendmail", MFD_CLOEXEC);
	return sp->fd == -1 ? -1 : 0;
}

/* sendmail_spool_put - bytes of the message */
int
sendmail_spool_put(struct sendmail_spool *sp, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t	 i;

	if (sp->over || (sp->limit > 0 && sp->size + len > sp->limit)) {
		sp->over = 1;
		errno = EFBIG;
		return -1;
	}
	for (i = 0; i < len && !sp->eight; i++)
		sp->eight = s[i] >= 0x80;
	if (util_write_full(sp->fd, p, len) == -1)
		return -1;
	sp->size += len;
	return 0;
}

/*
 * sendmail_spool_dots - with dots: the bytes of one read; 1 when a "."
 * line ended the input, 0 for more, -1 on error
 */
static int
sendmail_spool_dots(struct sendmail_spool *sp, const char *p, size_t n)
{
	const char *nl;
	size_t	 i = 0, k;

	while (i < n) {
		if (sp->dot == 0 && sp->bol && p[i] == '.') {
			sp->dot = 1;
			i++;
			continue;
		}
		if (sp->dot > 0) {
			if (p[i] == '\n')
				return 1;
			if (sp->dot == 1 && p[i] == '\r') {
				sp->dot = 2;
				i++;
				continue;
			}
			if (sendmail_spool_put(sp, ".\r", (size_t)sp->dot) ==
			    -1)
				return -1;
			sp->dot = 0;
		}
		nl = memchr(p + i, '\n', n - i);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (sendmail_spool_put(sp, p + i, k - i) == -1)
			return -1;
		sp->bol = nl != NULL;
		i = k;
	}
	return 0;
}

/* sendmail_spool_input - see sendmail.h */
int
sendmail_spool_input(struct sendmail_spool *sp, int in, int dots)
{
	char	*b = xmalloc(SENDMAIL_CHUNK);
	ssize_t	 n;
	int	 r = 0;

	for (;;) {
		n = read(in, b, SENDMAIL_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : -1;
			break;
		}
		if (dots)
			r = sendmail_spool_dots(sp, b, (size_t)n);
		else
			r = sendmail_spool_put(sp, b, (size_t)n);
		if (r != 0)
			break;
	}
	free(b);
	/* a "." or ".\r" at the very end is the end mark without its LF */
	return r == -1 ? -1 : 0;
}

/* sendmail_spool_rewind - back to the start, to be read */
int
sendmail_spool_rewind(struct sendmail_spool *sp)
{
	return lseek(sp->fd, 0, SEEK_SET) == -1 ? -1 : 0;
}

/* sendmail_spool_close - the file goes with its descriptor */
void
sendmail_spool_close(struct sendmail_spool *sp)
{
	if (sp->fd != -1)
		close(sp->fd);
	sp->fd = -1;
}
