/*
 * local_maildir.c - Maildir delivery (https://cr.yp.to/proto/maildir.html).
 *
 * As the recipient's uid/gid (effective ids; the process stays root
 * between deliveries, like Postfix's local): create home and Maildir when
 * missing, write tmp/UNIQUE with Return-Path and Delivered-To followed by
 * the message with LF line ends, fsync it, rename it into new/, fsync new/.
 * Only then is the delivery reported as done.  Any failure removes the tmp
 * file and reports a temporary failure (the message stays queued).
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

/* local_become - switch effective ids to the recipient (or back to root) */
static int
local_become(uid_t uid, gid_t gid)
{
	if (seteuid(0) == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setegid(gid) == -1 ||
	    (uid != 0 && seteuid(uid) == -1))
		return -1;
	return 0;
}

/* local_unbecome - back to root */
static void
local_unbecome(void)
{
	gid_t	 g = 0;

	if (seteuid(0) == -1 || setegid(0) == -1 || setgroups(1, &g) == -1)
		log_fatal("cannot return to root privileges: %s",
		    strerror(errno));
}

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

/* local_mkdir_as - mkdir that accepts an existing directory */
static int
local_mkdir_as(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* local_home - create a missing home directory (as root, then chown) */
static int
local_home(const struct local_target *t)
{
	char	 parent[PATH_MAX], *slash;
	struct stat st;

	if (stat(t->home, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
	if (errno != ENOENT)
		return -1;
	if (util_strlcpy(parent, t->home, sizeof(parent)) >= sizeof(parent))
		return (errno = ENAMETOOLONG, -1);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (util_mkdir_p(parent, 0755) == -1)
			return -1;
	}
	if (mkdir(t->home, 0700) == -1 && errno != EEXIST)
		return -1;
	if (lstat(t->home, &st) == -1 || !S_ISDIR(st.st_mode))
		return (errno = ENOTDIR, -1);
	return chown(t->home, t->uid, t->gid);
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

/* local_maildir_deliver - deliver one copy; LOCAL_OK/TEMP with why */
int
local_maildir_deliver(int qfd, const struct qfile_msg *q,
    const struct local_target *t, char *why, size_t whylen)
{
	char	 dir[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX], name[768];
	int	 fd = -1, saved;
	static const char *subs[] = { "tmp", "new", "cur" };
	size_t	 i;

	if (local_home(t) == -1) {
		snprintf(why, whylen, "4.2.0 cannot create home directory "
		    "%s: %s", t->home, strerror(errno));
		return LOCAL_TEMP;
	}
	if (local_become(t->uid, t->gid) == -1) {
		saved = errno;
		local_unbecome();
		snprintf(why, whylen, "4.3.0 cannot switch to uid %ld: %s",
		    (long)t->uid, strerror(saved));
		return LOCAL_TEMP;
	}
	if (util_strlcpy(dir, t->maildir, sizeof(dir)) >= sizeof(dir) - 8) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (util_mkdir_p(dir, 0700) == -1)
		goto fail;
	for (i = 0; i < NELEM(subs); i++) {
		if (util_fmt(tmp, sizeof(tmp), "%s%s", dir, subs[i]) == -1 ||
		    local_mkdir_as(tmp, 0700) == -1)
			goto fail;
	}
	local_unique(name, sizeof(name));
	if (util_fmt(tmp, sizeof(tmp), "%stmp/%s", dir, name) == -1 ||
	    util_fmt(dst, sizeof(dst), "%snew/%s", dir, name) == -1)
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		goto fail;
	if (local_write_file(fd, qfd, q, t) == -1)
		goto fail_unlink;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	if (rename(tmp, dst) == -1)
		goto fail_unlink;
	if (util_fmt(tmp, sizeof(tmp), "%snew", dir) == -1 ||
	    util_fsync_dir(tmp) == -1) {
		saved = errno;
		local_unbecome();
		snprintf(why, whylen, "4.3.0 cannot sync %s: %s", tmp,
		    strerror(saved));
		return LOCAL_TEMP;
	}
	local_unbecome();
	snprintf(why, whylen, "2.0.0 delivered to maildir");
	return LOCAL_OK;
fail_unlink:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	local_unbecome();
	if (saved == EFBIG)
		snprintf(why, whylen, "4.2.2 message is larger than "
		    "mailbox_size_limit");
	else if (saved == ENOSPC || saved == EDQUOT)
		snprintf(why, whylen, "4.3.1 cannot write maildir %s: %s",
		    t->maildir, strerror(saved));
	else
		snprintf(why, whylen, "4.2.0 cannot write maildir %s: %s",
		    t->maildir, strerror(saved));
	return LOCAL_TEMP;
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
