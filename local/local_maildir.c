/*
 * local_maildir.c - Maildir delivery (https://cr.yp.to/proto/maildir.html).
 *
 * The home is opened (and created) by local_dir_home without following a
 * path someone else controls; then, with the recipient's uid/gid
 * (effective ids; the process stays root between deliveries, like
 * Postfix's local) and only through descriptors: create the Maildir when
 * missing, write tmp/UNIQUE with Return-Path and Delivered-To followed by
 * the message with LF line ends, fsync it, rename it into new/, fsync new/.
 * Only then is the delivery reported as done.  Any failure removes the tmp
 * file and reports a temporary failure (the message stays queued), except
 * a file that would grow beyond mailbox_size_limit: that is permanent
 * (5.2.2), as in Postfix's local(8), since trying again cannot help.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "qfile.h"
#include "util.h"
#include "local.h"

struct local_wr {
	int		 fd;
	int		 cr;		/* previous chunk ended in CR */
	uint64_t	 size;
	uint64_t	 limit;
	int		 err;
	unsigned char	 out[QFILE_CHUNK + 2];
};

/* local_flush - write the converted chunk */
static int
local_flush(struct local_wr *w, size_t n)
{
	w->size += n;
	if (w->limit > 0 && w->size > w->limit) {
		w->err = EFBIG;
		return -1;
	}
	if (util_write_full(w->fd, w->out, n) == -1) {
		w->err = errno;
		return -1;
	}
	return 0;
}

/* local_body_cb - CRLF -> LF while copying the content */
static int
local_body_cb(void *arg, const void *p, size_t len)
{
	struct local_wr *w = arg;
	const unsigned char *s = p;
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		if (w->cr) {
			w->cr = 0;
			if (s[i] != '\n')
				w->out[o++] = '\r';
		}
		if (s[i] == '\r') {
			w->cr = 1;
			continue;
		}
		w->out[o++] = s[i];
		if (o >= QFILE_CHUNK) {
			if (local_flush(w, o) == -1)
				return -1;
			o = 0;
		}
	}
	return o > 0 ? local_flush(w, o) : 0;
}

/* local_unique - a Maildir unique name: sec.MusecPpidQn.host */
static void
local_unique(char *out, size_t len)
{
	struct timeval tv;
	char	 host[512];
	size_t	 i, o = 0;

	for (i = 0; local.hostname[i] != '\0' && o + 5 < sizeof(host); i++) {
		if (local.hostname[i] == '/') {
			memcpy(host + o, "\\057", 4);
			o += 4;
		} else if (local.hostname[i] == ':') {
			memcpy(host + o, "\\072", 4);
			o += 4;
		} else
			host[o++] = local.hostname[i];
	}
	host[o] = '\0';
	gettimeofday(&tv, NULL);
	snprintf(out, len, "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++local.count, host);
}

/* local_write_file - tmp file with our headers and the content */
static int
local_write_file(int fd, int qfd, const struct qfile_msg *q,
    const struct local_target *t)
{
	struct local_wr *w;
	struct buf h;
	int	 r = 0;

	buf_init(&h, 4096);
	buf_printf(&h, "Return-Path: <%s>\nDelivered-To: %s\n", t->sender,
	    t->rcpt);
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->limit = local.size_limit;
	memcpy(w->out, h.data, h.len);
	if (local_flush(w, h.len) == -1 ||
	    qfile_body_each(qfd, q, local_body_cb, w) == -1 ||
	    (w->cr && (w->out[0] = '\r', local_flush(w, 1) == -1)) ||
	    fsync(fd) == -1) {
		errno = w->err != 0 ? w->err : (errno != 0 ? errno : EIO);
		r = -1;
	}
	free(w);
	buf_free(&h);
	return r;
}

/*
 * local_maildir_fail - the reason for a failed write, as "X.Y.Z text":
 * LOCAL_PERM for a message over mailbox_size_limit, else LOCAL_TEMP
 */
static int
local_maildir_fail(const struct local_target *t, int err, char *why,
    size_t whylen)
{
	if (err == EFBIG && local.size_limit > 0) {
		snprintf(why, whylen, "5.2.2 maildir delivery failed: message "
		    "is larger than mailbox_size_limit (%llu bytes)",
		    (unsigned long long)local.size_limit);
		return LOCAL_PERM;
	}
	if (err == EFBIG) {		/* the file system's own limit */
		snprintf(why, whylen, "5.2.2 cannot write maildir %s: %s",
		    t->maildir, strerror(err));
		return LOCAL_PERM;
	}
	if (err == ENOSPC || err == EDQUOT)
		snprintf(why, whylen, "4.3.1 cannot write maildir %s: %s",
		    t->maildir, strerror(err));
	else if (err == ELOOP)
		snprintf(why, whylen, "4.2.0 cannot write maildir %s: a "
		    "symbolic link on the way", t->maildir);
	else
		snprintf(why, whylen, "4.2.0 cannot write maildir %s: %s",
		    t->maildir, strerror(err));
	return LOCAL_TEMP;
}

/*
 * local_maildir_put - as the recipient, below the home's descriptor:
 * Maildir directories, tmp/NAME written and fsynced, renamed into new/,
 * new/ fsynced.  0 or -1 with errno
 */
static int
local_maildir_put(int hfd, int qfd, const struct qfile_msg *q,
    const struct local_target *t)
{
	static const char *subs[] = { "tmp", "new", "cur" };
	char	 name[768];
	int	 md, sub[3] = { -1, -1, -1 }, fd = -1, r = -1, saved;
	size_t	 i;

	if ((md = local_dir_sub(hfd, local.home_mailbox)) == -1)
		return -1;
	for (i = 0; i < NELEM(subs); i++)
		if ((sub[i] = local_dir_sub(md, subs[i])) == -1)
			goto out;
	local_unique(name, sizeof(name));
	fd = openat(sub[0], name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		goto out;
	if (local_write_file(fd, qfd, q, t) == -1 || close(fd) == -1 ||
	    (fd = -1, renameat(sub[0], name, sub[1], name) == -1)) {
		saved = errno;
		(void)unlinkat(sub[0], name, 0);
		errno = saved;
		goto out;
	}
	r = fsync(sub[1]);
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	for (i = 0; i < NELEM(subs); i++)
		if (sub[i] != -1)
			close(sub[i]);
	close(md);
	errno = saved;
	return r;
}

/* local_maildir_deliver - deliver one copy; LOCAL_OK/TEMP/PERM with why */
int
local_maildir_deliver(int qfd, const struct qfile_msg *q,
    const struct local_target *t, char *why, size_t whylen)
{
	int	 hfd, r, saved;

	if ((hfd = local_dir_home(t, why, whylen)) == -1) {
		log_warn("cannot deliver to %s: %s", log_str(t->rcpt), why);
		return LOCAL_TEMP;
	}
	if (local_become(t->uid, t->gid) == -1) {
		saved = errno;
		local_unbecome();
		close(hfd);
		snprintf(why, whylen, "4.3.0 cannot switch to uid %ld: %s",
		    (long)t->uid, strerror(saved));
		return LOCAL_TEMP;
	}
	r = local_maildir_put(hfd, qfd, q, t);
	saved = errno;
	local_unbecome();
	close(hfd);
	if (r == -1)
		return local_maildir_fail(t, saved, why, whylen);
	snprintf(why, whylen, "2.0.0 delivered to maildir");
	return LOCAL_OK;
}

struct local_dt {
	const char	*rcpt;
	struct buf	 line;
	int		 found;
	int		 done;
};

/* local_dt_line - one header line: is it Delivered-To: rcpt */
static void
local_dt_line(struct local_dt *d)
{
	const char *p = buf_cstr(&d->line);
	size_t	 n = d->line.len;

	if (n == 0) {
		d->done = 1;
		return;
	}
	if (n > 13 && strncasecmp(p, "Delivered-To:", 13) == 0) {
		p += 13;
		while (*p == ' ' || *p == '\t')
			p++;
		if (util_strcasecmp_ascii(p, d->rcpt) == 0)
			d->found = 1;
	}
}

/* local_dt_cb - scan the header section for our Delivered-To */
static int
local_dt_cb(void *arg, const void *p, size_t len)
{
	struct local_dt *d = arg;
	const unsigned char *s = p;
	size_t	 i;

	for (i = 0; i < len && !d->done && !d->found; i++) {
		if (s[i] == '\n') {
			if (d->line.len > 0 &&
			    d->line.data[d->line.len - 1] == '\r')
				d->line.data[--d->line.len] = '\0';
			local_dt_line(d);
			buf_reset(&d->line);
		} else if (buf_putc(&d->line, s[i]) == -1)
			buf_reset(&d->line);	/* over-long: not ours */
	}
	return d->done || d->found ? -1 : 0;
}

/* local_has_delivered_to - mail loop check (Postfix's local does it too) */
int
local_has_delivered_to(int qfd, const struct qfile_msg *q, const char *rcpt)
{
	struct local_dt d;

	memset(&d, 0, sizeof(d));
	d.rcpt = rcpt;
	buf_init(&d.line, 4096);
	(void)qfile_body_each(qfd, q, local_dt_cb, &d);
	buf_free(&d.line);
	return d.found;
}
