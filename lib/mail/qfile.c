/*
 * qfile.c - the queue file: writer with durable commit, strict reader,
 * appenders (see qfile.h for the record layout and the commit state table).
 *
 * Interface: qfile_create .. qfile_commit/qfile_abort (smtpd), qfile_read,
 * qfile_body_each (everyone), qfile_append_* (qmgr).
 *
 * Errors: writer calls return -1 with errno and stay failed (the first
 * errno is kept in w->err); a failed commit leaves no file behind.  The
 * reader returns QFILE_EIO with errno or QFILE_CORRUPT with a reason.
 *
 * The writer refuses to produce anything its own reader would reject
 * (order, limits, names), so a committed file always reads back.
 *
 * Longer than 800 lines on purpose: writer, reader and appenders share the
 * record encoding, the limits and the name rules; split, those would have
 * to move into an internal header that every part depends on anyway.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pread, fdatasync under -std=c11 */
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qfile.h"
#include "qid.h"
#include "util.h"

/* see qfile.h; master_queue.c's header comment shows the tree */
const struct qfile_dir qfile_dirs[] = {
	{ "incoming", 1, 0700 },
	{ "queue", 1, 0700 },
	{ "corrupt", 1, 0700 },
	{ "hold", 1, 0700 },
	{ "index", 1, 0700 },
	{ "private", 1, 0700 },
	{ "public", 0, 0711 },
	{ "pid", 0, 0755 },
	{ "empty", 0, 0555 },
};
const size_t qfile_ndirs = NELEM(qfile_dirs);

/* writer states: which record may come next */
#define QFILE_W_NEW	0	/* V, Q written; header next */
#define QFILE_W_HDR	1	/* T, S written; A or R next */
#define QFILE_W_RCPT	2	/* at least one R; more R or body */
#define QFILE_W_BODY	3	/* body started */
#define QFILE_W_PREP	4	/* P records after the body: E next */
#define QFILE_W_DONE	5	/* committed or given up */

/* R payload bounds */
#define QFILE_R_MIN	(2 + 1 + 2 + 0 + 1)
#define QFILE_R_MAX	(2 + QFILE_ADDR_MAX + 2 + QFILE_ORCPT_MAX + 1)
#define QFILE_D_MAX	(4 + 1 + 2 + QFILE_TEXT_MAX)
#define QFILE_H_MAX	(4 + 8 + 2 + QFILE_TEXT_MAX)
#define QFILE_T_MAX	32
#define QFILE_NOTIFY_ALL	(QFILE_NOTIFY_NEVER | QFILE_NOTIFY_SUCCESS | \
			    QFILE_NOTIFY_FAILURE | QFILE_NOTIFY_DELAY)
#define QFILE_RBUF	65536	/* reader window: holds any non-B record */

/* qfile_encode_record - type, length, payload into out; bytes used or -1 */
int
qfile_encode_record(unsigned char *out, size_t outlen, int type,
    const void *p, size_t len)
{
	if (len > UINT32_MAX || len > INT_MAX - QFILE_HDR ||
	    outlen < QFILE_HDR || len > outlen - QFILE_HDR) {
		errno = ENOSPC;
		return -1;
	}
	out[0] = (unsigned char)type;
	util_put_be(out + 1, (uint32_t)len, 4);
	if (len > 0)
		memcpy(out + QFILE_HDR, p, len);
	return (int)(QFILE_HDR + len);
}

/* qfile_path - "queue/" hash "/" qid, relative to queue_directory */
int
qfile_path(const char *qid, int depth, char *out, size_t outlen)
{
	char	 hash[2 * QID_MAX_DEPTH + 1];
	int	 n;

	if (qid == NULL || !qid_valid(qid) || depth < 0 ||
	    depth > QID_MAX_DEPTH ||
	    qid_hash_dir(qid, depth, hash, sizeof(hash)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (depth == 0)
		n = snprintf(out, outlen, "queue/%s", qid);
	else
		n = snprintf(out, outlen, "queue/%s/%s", hash, qid);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* ---- writer ---------------------------------------------------------- */

/* qfile_fail - make the writer fail for good with err */
static int
qfile_fail(struct qfile_writer *w, int err)
{
	if (!w->failed) {
		w->failed = 1;
		w->err = err;
	}
	errno = w->err;
	return -1;
}

/* qfile_writev_all - write all iovecs, resuming after short writes */
static int
qfile_writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	 r;
	size_t	 done;

	while (n > 0) {
		r = writev(fd, iov, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		done = (size_t)r;
		for (; n > 0 && done >= iov->iov_len; iov++, n--)
			done -= iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

/* qfile_hflush - write the staged envelope records */
static int
qfile_hflush(struct qfile_writer *w)
{
	if (w->hbuflen == 0)
		return 0;
	if (util_write_full(w->fd, w->hbuf, w->hbuflen) == -1)
		return qfile_fail(w, errno);
	w->hbuflen = 0;
	return 0;
}

/* qfile_emit - one record: staged when it fits, else written with the stage */
static int
qfile_emit(struct qfile_writer *w, int type, const void *p, size_t len)
{
	unsigned char hdr[QFILE_HDR];
	struct iovec iov[3];
	int	 n = 0;

	if (w->failed)
		return qfile_fail(w, w->err);
	if (len <= QFILE_HBUF - QFILE_HDR &&
	    w->hbuflen <= QFILE_HBUF - QFILE_HDR - len) {
		(void)qfile_encode_record(w->hbuf + w->hbuflen,
		    QFILE_HBUF - w->hbuflen, type, p, len);
		w->hbuflen += QFILE_HDR + len;
		return 0;
	}
	hdr[0] = (unsigned char)type;
	util_put_be(hdr + 1, (uint32_t)len, 4);
	if (w->hbuflen > 0) {
		iov[n].iov_base = w->hbuf;
		iov[n++].iov_len = w->hbuflen;
	}
	iov[n].iov_base = hdr;
	iov[n++].iov_len = sizeof(hdr);
	if (len > 0) {
		iov[n].iov_base = (void *)(uintptr_t)p;
		iov[n++].iov_len = len;
	}
	if (qfile_writev_all(w->fd, iov, n) == -1)
		return qfile_fail(w, errno);
	w->hbuflen = 0;
	return 0;
}

/* qfile_create - open incoming/QID exclusively and write V and Q */
int
qfile_create(struct qfile_writer *w, const char *qid, int depth)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->state = QFILE_W_DONE;
	if (qid == NULL ||
	    qfile_path(qid, depth, w->path, sizeof(w->path)) == -1)
		return qfile_fail(w, errno);
	w->hash_depth = depth;
	util_strlcpy(w->qid, qid, sizeof(w->qid));
	(void)snprintf(w->tmppath, sizeof(w->tmppath), "incoming/%s", qid);
	w->fd = open(w->tmppath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (w->fd == -1) {
		w->tmppath[0] = '\0';	/* not ours: never unlink it */
		return qfile_fail(w, errno);
	}
	w->chunk = xmalloc(QFILE_CHUNK);
	w->hbuf = xmalloc(QFILE_HBUF);
	w->state = QFILE_W_NEW;
	if (qfile_emit(w, 'V', "1", 1) == -1 ||
	    qfile_emit(w, 'Q', qid, QID_LEN) == -1) {
		qfile_abort(w);
		return -1;
	}
	return 0;
}

/* qfile_wcheck - the writer may take a record in state want (or later) */
static int
qfile_wcheck(struct qfile_writer *w, int lo, int hi)
{
	if (w->failed)
		return qfile_fail(w, w->err);
	if (w->state < lo || w->state > hi)
		return qfile_fail(w, EINVAL);
	return 0;
}

/* qfile_put_header - arrival time (T) and envelope sender (S) */
int
qfile_put_header(struct qfile_writer *w, int64_t sec, int32_t usec,
    const char *sender)
{
	char	 t[QFILE_T_MAX];
	size_t	 slen;
	int	 n;

	if (qfile_wcheck(w, QFILE_W_NEW, QFILE_W_NEW) == -1)
		return -1;
	if (sec < 0 || usec < 0 || usec > 999999 || sender == NULL)
		return qfile_fail(w, EINVAL);
	if ((slen = strlen(sender)) > QFILE_ADDR_MAX)
		return qfile_fail(w, ENAMETOOLONG);
	n = snprintf(t, sizeof(t), "%" PRId64 ".%06" PRId32, sec, usec);
	if (qfile_emit(w, 'T', t, (size_t)n) == -1 ||
	    qfile_emit(w, 'S', sender, slen) == -1)
		return -1;
	w->state = QFILE_W_HDR;
	return 0;
}

/* qfile_attr_name_ok - [a-z0-9_]{1,64} */
static int
qfile_attr_name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > QFILE_ATTR_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* qfile_put_attr - "name=value"; the value is opaque bytes */
int
qfile_put_attr(struct qfile_writer *w, const char *name, const void *value,
    size_t vlen)
{
	unsigned char rec[QFILE_ATTR_MAX];
	size_t	 nlen;

	if (qfile_wcheck(w, QFILE_W_HDR, QFILE_W_HDR) == -1)
		return -1;
	if (name == NULL || (value == NULL && vlen > 0) ||
	    !qfile_attr_name_ok(name, (nlen = strlen(name))))
		return qfile_fail(w, EINVAL);
	if (vlen > QFILE_ATTR_MAX - nlen - 1)
		return qfile_fail(w, EMSGSIZE);
	if (w->nattr >= QFILE_MAX_ATTR)
		return qfile_fail(w, E2BIG);
	memcpy(rec, name, nlen);
	rec[nlen] = '=';
	if (vlen > 0)
		memcpy(rec + nlen + 1, value, vlen);
	if (qfile_emit(w, 'A', rec, nlen + 1 + vlen) == -1)
		return -1;
	w->nattr++;
	return 0;
}

/* qfile_rcpt_encode - R payload; its length, or -1 (errno) */
static int
qfile_rcpt_encode(unsigned char *p, const char *addr, const char *orcpt,
    unsigned notify)
{
	size_t	 alen, olen;

	if (addr == NULL || (notify & ~(unsigned)QFILE_NOTIFY_ALL) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (orcpt == NULL)
		orcpt = "";
	alen = strlen(addr);
	olen = strlen(orcpt);
	if (alen == 0) {
		errno = EINVAL;
		return -1;
	}
	if (alen > QFILE_ADDR_MAX || olen > QFILE_ORCPT_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	p[0] = (unsigned char)(alen >> 8);
	p[1] = (unsigned char)alen;
	memcpy(p + 2, addr, alen);
	p[2 + alen] = (unsigned char)(olen >> 8);
	p[3 + alen] = (unsigned char)olen;
	memcpy(p + 4 + alen, orcpt, olen);
	p[4 + alen + olen] = (unsigned char)notify;
	return (int)(5 + alen + olen);
}

/* qfile_put_rcpt - one recipient (ORCPT may be NULL) */
int
qfile_put_rcpt(struct qfile_writer *w, const char *addr, const char *orcpt,
    unsigned notify)
{
	unsigned char rec[QFILE_R_MAX];
	int	 n;

	if (qfile_wcheck(w, QFILE_W_HDR, QFILE_W_RCPT) == -1)
		return -1;
	if (w->nrcpt >= QFILE_MAX_RCPT)
		return qfile_fail(w, E2BIG);
	if ((n = qfile_rcpt_encode(rec, addr, orcpt, notify)) == -1)
		return qfile_fail(w, errno);
	if (qfile_emit(w, 'R', rec, (size_t)n) == -1)
		return -1;
	w->nrcpt++;
	w->state = QFILE_W_RCPT;
	return 0;
}

/* qfile_write_body - content bytes, written out as B records of a chunk */
int
qfile_write_body(struct qfile_writer *w, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t	 n;

	if (qfile_wcheck(w, QFILE_W_RCPT, QFILE_W_BODY) == -1)
		return -1;
	w->state = QFILE_W_BODY;
	while (len > 0) {
		if (w->chunklen == 0 && len >= QFILE_CHUNK) {
			/* a whole chunk straight from the caller: no copy */
			if (qfile_emit(w, 'B', s, QFILE_CHUNK) == -1)
				return -1;
			n = QFILE_CHUNK;
		} else {
			n = QFILE_CHUNK - w->chunklen;
			if (n > len)
				n = len;
			memcpy(w->chunk + w->chunklen, s, n);
			w->chunklen += n;
			if (w->chunklen == QFILE_CHUNK) {
				if (qfile_emit(w, 'B', w->chunk,
				    QFILE_CHUNK) == -1)
					return -1;
				w->chunklen = 0;
			}
		}
		s += n;
		len -= n;
		w->size += n;
	}
	return 0;
}

/* qfile_release - close and free; unlink the file unless it was committed */
static void
qfile_release(struct qfile_writer *w, const char *unlink_path)
{
	if (w->fd != -1)
		(void)close(w->fd);
	w->fd = -1;
	if (unlink_path != NULL && *unlink_path != '\0')
		(void)unlink(unlink_path);
	w->tmppath[0] = '\0';
	free(w->chunk);
	free(w->hbuf);
	w->chunk = w->hbuf = NULL;
	w->chunklen = w->hbuflen = 0;
	w->state = QFILE_W_DONE;
}

/* qfile_mkhash - create the hash directories, fsync each new entry's parent */
static int
qfile_mkhash(const char *dir)
{
	char	 p[64], parent[64];
	char	*s;

	if (util_strlcpy(p, dir, sizeof(p)) >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (s = p;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == 0) {
			/* a new entry is durable once its parent is synced */
			util_strlcpy(parent, p, sizeof(parent));
			if (strrchr(parent, '/') != NULL)
				*strrchr(parent, '/') = '\0';
			else
				util_strlcpy(parent, ".", sizeof(parent));
			if (util_fsync_dir(parent) == -1)
				return -1;
		} else if (errno != EEXIST)
			return -1;
		if (s - p == (ptrdiff_t)strlen(dir))
			return 0;
		*s = '/';
	}
}

/*
 * qfile_put_prepend - header lines that go in front of the content when
 * it is read (a DKIM-Signature made at the end of DATA: the body records
 * are written by then); after the body, before the commit
 */
int
qfile_put_prepend(struct qfile_writer *w, const void *p, size_t len)
{
	if (qfile_wcheck(w, QFILE_W_RCPT, QFILE_W_PREP) == -1)
		return -1;
	if (len == 0 || len > QFILE_P_MAX || w->prepend + len > QFILE_P_TOTAL)
		return qfile_fail(w, EMSGSIZE);
	if (w->chunklen > 0 && qfile_emit(w, 'B', w->chunk, w->chunklen) == -1)
		return -1;
	w->chunklen = 0;
	if (qfile_emit(w, 'P', p, len) == -1)
		return -1;
	w->prepend += len;
	w->state = QFILE_W_PREP;
	return 0;
}

/* qfile_finish - E, flush, fsync: the file is complete in incoming/ */
static int
qfile_finish(struct qfile_writer *w)
{
	if (w->chunklen > 0 && qfile_emit(w, 'B', w->chunk, w->chunklen) == -1)
		return -1;
	w->chunklen = 0;
	if (qfile_emit(w, 'E', "", 0) == -1 || qfile_hflush(w) == -1)
		return -1;
	if (FAILPOINT("qfile-before-fsync"))
		return qfile_fail(w, EIO);
	if (fsync(w->fd) == -1)
		return qfile_fail(w, errno);
	return 0;
}

/*
 * qfile_commit - the commit point (qfile.h state table): write E, fsync,
 * rename into queue/H/H (creating the hash directory when missing), fsync
 * that directory.  Any failure removes the file, wherever it is by then,
 * so a 4xx never leaves a message that would later be delivered too.
 */
int
qfile_commit(struct qfile_writer *w)
{
	char	 dir[sizeof(w->path)];
	int	 r;

	if (qfile_wcheck(w, QFILE_W_RCPT, QFILE_W_PREP) == -1 ||
	    qfile_finish(w) == -1)
		goto fail;
	util_strlcpy(dir, w->path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	if (FAILPOINT("qfile-before-rename")) {
		qfile_fail(w, EIO);
		goto fail;
	}
	r = rename(w->tmppath, w->path);
	if (r == -1 && errno == ENOENT && access(w->tmppath, F_OK) == 0) {
		if (qfile_mkhash(dir) == -1) {
			qfile_fail(w, errno);
			goto fail;
		}
		r = rename(w->tmppath, w->path);
	}
	if (r == -1) {
		qfile_fail(w, errno);
		goto fail;
	}
	/* renamed: from here on a failure must remove the queue file */
	util_strlcpy(w->tmppath, w->path, sizeof(w->tmppath));
	if (FAILPOINT("qfile-after-rename")) {
		qfile_fail(w, EIO);
		goto fail;
	}
	if (util_fsync_dir(dir) == -1) {
		qfile_fail(w, errno);
		goto fail;
	}
	qfile_release(w, NULL);
	return 0;
fail:
	qfile_release(w, w->tmppath);
	errno = w->err;
	return -1;
}

/* qfile_abort - give up: close and remove the unfinished file */
void
qfile_abort(struct qfile_writer *w)
{
	if (w->state == QFILE_W_DONE && w->fd == -1 && w->chunk == NULL)
		return;
	qfile_release(w, w->tmppath);
}

/* qfile_to_hold - see qfile.h */
int
qfile_to_hold(struct qfile_writer *w)
{
	if (qfile_wcheck(w, QFILE_W_RCPT, QFILE_W_PREP) == -1)
		return -1;
	if (util_fmt(w->path, sizeof(w->path), "%s/%s", QFILE_HOLD_DIR,
	    w->qid) == -1)
		return qfile_fail(w, ENAMETOOLONG);
	return 0;
}

/* qfile_parent - the directory part of a relative path ("." for none) */
static void
qfile_parent(const char *path, char *dir, size_t len)
{
	util_strlcpy(dir, path, len);
	if (strrchr(dir, '/') != NULL)
		*strrchr(dir, '/') = '\0';
	else
		util_strlcpy(dir, ".", len);
}

/* qfile_move - see qfile.h */
int
qfile_move(const char *from, const char *to)
{
	char	 dfrom[64], dto[64];

	if (strlen(from) >= sizeof(dfrom) || strlen(to) >= sizeof(dto)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	qfile_parent(from, dfrom, sizeof(dfrom));
	qfile_parent(to, dto, sizeof(dto));
	if (qfile_mkhash(dto) == -1 || rename(from, to) == -1 ||
	    util_fsync_dir(dto) == -1)
		return -1;
	if (strcmp(dfrom, dto) != 0 && util_fsync_dir(dfrom) == -1)
		return -1;
	return 0;
}

/* ---- reader ---------------------------------------------------------- */

struct qfile_rd {
	int		 fd;
	off_t		 size;		/* fstat at the start */
	unsigned char	*win;		/* QFILE_RBUF bytes of the file */
	off_t		 woff;
	size_t		 wlen;
	int		 state;		/* QFILE_S_* */
	struct qfile_msg *m;
	char		*err;
	size_t		 errlen;
};

/* reader states (bit numbers for the table's masks) */
#define QFILE_S_START	0
#define QFILE_S_V	1
#define QFILE_S_Q	2
#define QFILE_S_T	3
#define QFILE_S_S	4
#define QFILE_S_A	5
#define QFILE_S_R	6
#define QFILE_S_B	7
#define QFILE_S_E	8
#define QFILE_S_P	9
#define QFILE_M(s)	(1u << (s))

/* qfile_pread_full - pread n bytes, fewer only at EOF; -1 on error */
static ssize_t
qfile_pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t	 got = 0;
	ssize_t	 r;

	while (got < n) {
		r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* qfile_fetch - len bytes at off via the window; 0 ok, 1 short (EOF), -1 */
static int
qfile_fetch(struct qfile_rd *rd, off_t off, size_t len,
    const unsigned char **pp)
{
	ssize_t	 r;

	if (off < rd->woff || (size_t)(off - rd->woff) > rd->wlen ||
	    len > rd->wlen - (size_t)(off - rd->woff)) {
		r = qfile_pread_full(rd->fd, rd->win, QFILE_RBUF, off);
		if (r == -1)
			return -1;
		rd->woff = off;
		rd->wlen = (size_t)r;
		if (len > rd->wlen)
			return 1;
	}
	*pp = rd->win + (off - rd->woff);
	return 0;
}

/* qfile_corrupt - record the reason; always QFILE_CORRUPT */
static int
qfile_corrupt(struct qfile_rd *rd, off_t off, int type, const char *why)
{
	if (rd->err != NULL && rd->errlen > 0)
		(void)snprintf(rd->err, rd->errlen,
		    "offset %lld, record 0x%02x: %s", (long long)off,
		    type & 0xff, why);
	errno = EBADMSG;
	return QFILE_CORRUPT;
}

/* qfile_strcopy - NUL-terminated copy; NULL when the bytes contain a NUL */
static char *
qfile_strcopy(const unsigned char *p, size_t len)
{
	char	*s;

	if (memchr(p, '\0', len) != NULL)
		return NULL;
	s = xmalloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* qfile_rd_v - version "1" */
static const char *
qfile_rd_v(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	(void)rd;
	(void)len;
	return p[0] == '1' ? NULL : "unsupported version";
}

/* qfile_rd_q - the queue id */
static const char *
qfile_rd_q(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	(void)len;
	memcpy(rd->m->qid, p, QID_LEN);
	rd->m->qid[QID_LEN] = '\0';
	return qid_valid(rd->m->qid) ? NULL : "invalid queue id";
}

/* qfile_rd_t - arrival time: digits "." six digits, no sign, no padding */
static const char *
qfile_rd_t(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	int64_t	 sec = 0;
	int32_t	 usec = 0;
	size_t	 i = 0;

	if (p[0] == '0' && len > 1 && p[1] != '.')
		return "bad arrival time";
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (sec > (INT64_MAX - (p[i] - '0')) / 10)
			return "bad arrival time";
		sec = sec * 10 + (p[i] - '0');
	}
	if (i == 0 || i + 7 != len || p[i] != '.')
		return "bad arrival time";
	for (i++; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return "bad arrival time";
		usec = usec * 10 + (p[i] - '0');
	}
	rd->m->arrival_sec = sec;
	rd->m->arrival_usec = usec;
	return NULL;
}

/* qfile_rd_s - envelope sender */
static const char *
qfile_rd_s(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	if ((rd->m->sender = qfile_strcopy(p, len)) == NULL)
		return "NUL in sender";
	return NULL;
}

/* qfile_rd_a - attribute "name=value" */
static const char *
qfile_rd_a(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	struct qfile_msg *m = rd->m;
	struct qfile_attr *a;
	const unsigned char *eq;
	size_t	 nlen;

	if ((eq = memchr(p, '=', len)) == NULL)
		return "attribute without '='";
	nlen = (size_t)(eq - p);
	if (!qfile_attr_name_ok((const char *)p, nlen))
		return "bad attribute name";
	if (m->nattr >= QFILE_MAX_ATTR)
		return "too many attributes";
	if ((m->nattr & (m->nattr - 1)) == 0)	/* 0, 1, 2, 4, ...: grow */
		m->attr = xreallocarray(m->attr, m->nattr == 0 ? 1 :
		    m->nattr * 2, sizeof(*m->attr));
	a = &m->attr[m->nattr++];
	a->name = xstrndup((const char *)p, nlen);
	a->vlen = len - nlen - 1;
	a->value = xmalloc(a->vlen + 1);
	memcpy(a->value, eq + 1, a->vlen);
	a->value[a->vlen] = '\0';
	return NULL;
}

/* qfile_rcpt_add - parse an R payload of exactly len bytes into a new slot */
static const char *
qfile_rcpt_add(struct qfile_rd *rd, const unsigned char *p, size_t len,
    uint32_t parent)
{
	struct qfile_msg *m = rd->m;
	struct qfile_rcpt *r;
	size_t	 alen, olen;

	alen = (size_t)p[0] << 8 | p[1];
	if (alen == 0 || alen > QFILE_ADDR_MAX || alen + 5 > len)
		return "bad recipient address length";
	olen = (size_t)p[2 + alen] << 8 | p[3 + alen];
	if (olen > QFILE_ORCPT_MAX || alen + olen + 5 != len)
		return "bad recipient ORCPT length";
	if ((p[len - 1] & ~QFILE_NOTIFY_ALL) != 0)
		return "bad NOTIFY flags";
	if (memchr(p + 2, '\0', alen) != NULL ||
	    memchr(p + 4 + alen, '\0', olen) != NULL)
		return "NUL in recipient";
	if (m->nrcpt >= QFILE_MAX_RCPT)
		return "too many recipients";
	if ((m->nrcpt & (m->nrcpt - 1)) == 0)
		m->rcpt = xreallocarray(m->rcpt, m->nrcpt == 0 ? 1 :
		    m->nrcpt * 2, sizeof(*m->rcpt));
	r = &m->rcpt[m->nrcpt++];
	r->addr = qfile_strcopy(p + 2, alen);
	r->orcpt = qfile_strcopy(p + 4 + alen, olen);
	r->notify = p[len - 1];
	r->parent = parent;
	r->status = QFILE_ST_PENDING;
	r->text = NULL;
	return NULL;
}

/* qfile_rd_r - recipient */
static const char *
qfile_rd_r(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	return qfile_rcpt_add(rd, p, len, UINT32_MAX);
}

/* qfile_rd_b - body chunk: only counted here, read by qfile_body_each */
static const char *
qfile_rd_b(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	(void)p;
	rd->m->body_size += len;
	return NULL;
}

/* qfile_rd_p - header lines to put in front of the content */
static const char *
qfile_rd_p(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	struct qfile_msg *m = rd->m;

	if (m->prepend_len + len > QFILE_P_TOTAL)
		return "prepended headers too long";
	m->prepend = xrealloc(m->prepend, m->prepend_len + len + 1);
	memcpy(m->prepend + m->prepend_len, p, len);
	m->prepend_len += len;
	m->prepend[m->prepend_len] = '\0';
	return NULL;
}

/* qfile_rd_e - end record */
static const char *
qfile_rd_e(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	(void)rd;
	(void)p;
	(void)len;
	return NULL;
}

/*
 * qfile_rd_text - the text that ends a D or H record: u16 length at
 * p[off - 2], the text from p[off] to the end of the record; NULL, or why
 * the record is corrupt
 */
static const char *
qfile_rd_text(const unsigned char *p, size_t len, size_t off, char **text)
{
	size_t	 tlen = (size_t)p[off - 2] << 8 | p[off - 1];

	if (tlen + off != len || tlen > QFILE_TEXT_MAX)
		return "bad text length";
	if ((*text = qfile_strcopy(p + off, tlen)) == NULL)
		return "NUL in text";
	return NULL;
}

/*
 * qfile_rd_rcpt - the recipient a D (final) or H record names (u32 index
 * first) and the record's text; a D record's status is checked too
 */
static const char *
qfile_rd_rcpt(struct qfile_rd *rd, const unsigned char *p, size_t len,
    int final, struct qfile_rcpt **r, char **text)
{
	uint32_t idx = (uint32_t)util_get_be(p, 4);

	if (idx >= rd->m->nrcpt)
		return final ? "done record for a recipient that does not "
		    "exist" : "history record for a recipient that does not "
		    "exist";
	if (final && (p[4] < QFILE_ST_DELIVERED || p[4] > QFILE_ST_BOUNCE_SENT))
		return "bad recipient status";
	*r = &rd->m->rcpt[idx];
	return qfile_rd_text(p, len, final ? 7 : 14, text);
}

/* qfile_rd_d - a recipient's final status, after E */
static const char *
qfile_rd_d(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	struct qfile_rcpt *r;
	const char *why;
	char	*text;

	if ((why = qfile_rd_rcpt(rd, p, len, 1, &r, &text)) != NULL)
		return why;
	r->status = p[4];
	free(r->text);
	r->text = text;
	return NULL;
}

/* qfile_rd_h - a temporary failure of one recipient, after E */
static const char *
qfile_rd_h(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	struct qfile_rcpt *r;
	const char *why;
	char	*text;

	if ((why = qfile_rd_rcpt(rd, p, len, 0, &r, &text)) != NULL)
		return why;
	rd->m->nhist++;
	r->last_try = (int64_t)util_get_be(p + 4, 8);
	if (r->status != QFILE_ST_PENDING) {
		free(text);	/* a final result stays the last word */
		return NULL;
	}
	free(r->text);
	r->text = text;
	return NULL;
}

/* qfile_rd_w - the delay notice went out (i64 time), after E */
static const char *
qfile_rd_w(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	(void)len;
	rd->m->warned = (int64_t)util_get_be(p, 8);
	if (rd->m->warned <= 0)
		rd->m->warned = 1;
	return NULL;
}

/* qfile_rd_x - a recipient added after E: R payload + u32 parent */
static const char *
qfile_rd_x(struct qfile_rd *rd, const unsigned char *p, size_t len)
{
	uint32_t parent;

	parent = (uint32_t)util_get_be(p + len - 4, 4);
	if (parent >= rd->m->nrcpt)
		return "added recipient with a parent that does not exist";
	return qfile_rcpt_add(rd, p, len - 4, parent);
}

/* the decoder's table: length bounds, the states it may follow, handler */
static const struct qfile_rec {
	int		 type;
	size_t		 minlen, maxlen;
	unsigned	 from;		/* QFILE_M() of the allowed states */
	int		 to;
	const char	*(*fn)(struct qfile_rd *, const unsigned char *,
			    size_t);
} qfile_recs[] = {
	{ 'V', 1, 1, QFILE_M(QFILE_S_START), QFILE_S_V, qfile_rd_v },
	{ 'Q', QID_LEN, QID_LEN, QFILE_M(QFILE_S_V), QFILE_S_Q, qfile_rd_q },
	{ 'T', 8, QFILE_T_MAX, QFILE_M(QFILE_S_Q), QFILE_S_T, qfile_rd_t },
	{ 'S', 0, QFILE_ADDR_MAX, QFILE_M(QFILE_S_T), QFILE_S_S, qfile_rd_s },
	{ 'A', 2, QFILE_ATTR_MAX, QFILE_M(QFILE_S_S) | QFILE_M(QFILE_S_A),
	    QFILE_S_A, qfile_rd_a },
	{ 'R', QFILE_R_MIN, QFILE_R_MAX, QFILE_M(QFILE_S_S) |
	    QFILE_M(QFILE_S_A) | QFILE_M(QFILE_S_R), QFILE_S_R, qfile_rd_r },
	{ 'B', 1, QFILE_CHUNK, QFILE_M(QFILE_S_R) | QFILE_M(QFILE_S_B),
	    QFILE_S_B, qfile_rd_b },
	{ 'P', 1, QFILE_P_MAX, QFILE_M(QFILE_S_R) | QFILE_M(QFILE_S_B) |
	    QFILE_M(QFILE_S_P), QFILE_S_P, qfile_rd_p },
	{ 'E', 0, 0, QFILE_M(QFILE_S_R) | QFILE_M(QFILE_S_B) |
	    QFILE_M(QFILE_S_P), QFILE_S_E,
	    qfile_rd_e },
	{ 'D', 7, QFILE_D_MAX, QFILE_M(QFILE_S_E), QFILE_S_E, qfile_rd_d },
	{ 'X', QFILE_R_MIN + 4, QFILE_R_MAX + 4, QFILE_M(QFILE_S_E), QFILE_S_E,
	    qfile_rd_x },
	{ 'H', 14, QFILE_H_MAX, QFILE_M(QFILE_S_E), QFILE_S_E, qfile_rd_h },
	{ 'W', 8, 8, QFILE_M(QFILE_S_E), QFILE_S_E, qfile_rd_w },
};

/* qfile_rec_find - the table row of a record type, or NULL */
static const struct qfile_rec *
qfile_rec_find(int type)
{
	size_t	 i;

	for (i = 0; i < NELEM(qfile_recs); i++)
		if (qfile_recs[i].type == type)
			return &qfile_recs[i];
	return NULL;
}

/*
 * qfile_read_rec - one record at *off.  0: decoded, *off advanced; 1: end
 * of the file (or a torn record after E, which is ignored); QFILE_EIO or
 * QFILE_CORRUPT otherwise.
 */
static int
qfile_read_rec(struct qfile_rd *rd, off_t *off)
{
	const struct qfile_rec *rec;
	const unsigned char *p = NULL;
	const char *why;
	uint32_t len;
	int	 r, type;

	if ((r = qfile_fetch(rd, *off, QFILE_HDR, &p)) == -1)
		return QFILE_EIO;
	if (r == 1) {
		if (rd->state == QFILE_S_E)
			return 1;	/* clean end, or torn header: ignored */
		return qfile_corrupt(rd, *off, 0, rd->wlen == 0 ?
		    "missing end record" : "truncated record");
	}
	type = p[0];
	len = (uint32_t)util_get_be(p + 1, 4);
	if ((rec = qfile_rec_find(type)) == NULL)
		return qfile_corrupt(rd, *off, type, "unknown record type");
	if ((rec->from & QFILE_M(rd->state)) == 0)
		return qfile_corrupt(rd, *off, type, "record out of order");
	if (len < rec->minlen || len > rec->maxlen)
		return qfile_corrupt(rd, *off, type, "bad record length");
	if (type == 'B') {
		/* not read here: only check that it is all there */
		r = rd->size - *off - QFILE_HDR < (off_t)len ? 1 : 0;
	} else if ((r = qfile_fetch(rd, *off + QFILE_HDR, len, &p)) == -1)
		return QFILE_EIO;
	if (r == 1) {
		if (rd->state == QFILE_S_E)
			return 1;	/* torn append: ignored, retried */
		return qfile_corrupt(rd, *off, type, "truncated record");
	}
	if ((type == 'B' || type == 'E' || type == 'P') &&
	    rd->state == QFILE_S_R)
		rd->m->body_off = *off;
	if ((why = rec->fn(rd, p, len)) != NULL)
		return qfile_corrupt(rd, *off, type, why);
	rd->state = rec->to;
	*off += QFILE_HDR + (off_t)len;
	if (type == 'E')
		rd->m->end_off = *off;
	return 0;
}

/* qfile_read - parse a queue file's envelope and find its body */
int
qfile_read(int fd, struct qfile_msg *m, char *err, size_t errlen)
{
	struct qfile_rd rd;
	struct stat st;
	off_t	 off = 0;
	int	 r, saved;

	memset(m, 0, sizeof(*m));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (fstat(fd, &st) == -1)
		return QFILE_EIO;
	memset(&rd, 0, sizeof(rd));
	rd.fd = fd;
	rd.size = st.st_size;
	rd.win = xmalloc(QFILE_RBUF);
	rd.woff = 0;
	rd.wlen = 0;
	rd.state = QFILE_S_START;
	rd.m = m;
	rd.err = err;
	rd.errlen = errlen;
	while ((r = qfile_read_rec(&rd, &off)) == 0)
		;
	free(rd.win);
	if (r != 1) {
		saved = errno;
		if (r == QFILE_EIO && err != NULL && errlen > 0)
			(void)snprintf(err, errlen, "read: %s",
			    strerror(saved));
		qfile_msg_free(m);
		errno = saved;
		return r;
	}
	m->file_size = st.st_size > off ? st.st_size : off;
	m->valid_size = off;
	return QFILE_OK;
}

/* qfile_msg_free - release a parsed message; leaves it empty */
void
qfile_msg_free(struct qfile_msg *m)
{
	size_t	 i;

	for (i = 0; i < m->nattr; i++) {
		free(m->attr[i].name);
		free(m->attr[i].value);
	}
	for (i = 0; i < m->nrcpt; i++) {
		free(m->rcpt[i].addr);
		free(m->rcpt[i].orcpt);
		free(m->rcpt[i].text);
	}
	free(m->attr);
	free(m->rcpt);
	free(m->sender);
	free(m->prepend);
	memset(m, 0, sizeof(*m));
}

/* qfile_attr_get - the first value of an attribute, or NULL */
const char *
qfile_attr_get(const struct qfile_msg *m, const char *name)
{
	size_t	 i;

	for (i = 0; i < m->nattr; i++)
		if (strcmp(m->attr[i].name, name) == 0)
			return m->attr[i].value;
	return NULL;
}

/*
 * qfile_body_each - the P records' header lines first (read by
 * qfile_read), then the B records, one pread per chunk.  0 when all went
 * through cb; -1 otherwise: errno from the read, EBADMSG when the records
 * do not match what qfile_read saw, or as cb left it when it stopped.
 */
int
qfile_body_each(int fd, const struct qfile_msg *m,
    int (*cb)(void *, const void *, size_t), void *arg)
{
	unsigned char hdr[QFILE_HDR], *buf;
	uint64_t total = 0;
	uint32_t len;
	off_t	 off = m->body_off;
	ssize_t	 r;
	int	 ret = QFILE_CORRUPT, saved;

	if (m->prepend_len > 0 && cb(arg, m->prepend, m->prepend_len) == -1)
		return -1;
	buf = xmalloc(QFILE_CHUNK);
	for (;;) {
		if ((r = qfile_pread_full(fd, hdr, sizeof(hdr), off)) == -1) {
			ret = QFILE_EIO;
			break;
		}
		if (r != QFILE_HDR)
			break;
		len = (uint32_t)util_get_be(hdr + 1, 4);
		if ((hdr[0] == 'E' && len != 0) || (hdr[0] != 'E' &&
		    hdr[0] != 'B' && hdr[0] != 'P') || len > QFILE_CHUNK)
			break;
		if (hdr[0] == 'E') {
			ret = total == m->body_size ? 0 : QFILE_CORRUPT;
			break;
		}
		off += QFILE_HDR;
		if (hdr[0] == 'P') {	/* already given to cb */
			off += len;
			continue;
		}
		if ((r = qfile_pread_full(fd, buf, len, off)) == -1) {
			ret = QFILE_EIO;
			break;
		}
		if ((size_t)r != len)
			break;
		total += len;
		if (total > m->body_size)
			break;
		if (cb(arg, buf, len) == -1) {
			ret = -1;
			break;
		}
		off += len;
	}
	saved = ret == QFILE_CORRUPT ? EBADMSG : errno;
	free(buf);
	errno = saved;
	return ret == 0 ? 0 : -1;
}

/* ---- appenders (qmgr) ------------------------------------------------ */

/* qfile_append - one write of a whole record, undone if short; fdatasync */
static int
qfile_append(int fd, const unsigned char *rec, size_t len)
{
	struct stat st;
	ssize_t	 r;
	int	 saved;

	if (fstat(fd, &st) == -1)
		return -1;
	do {
		r = write(fd, rec, len);
	} while (r == -1 && errno == EINTR);
	if (r != (ssize_t)len) {
		saved = r == -1 ? errno : ENOSPC;
		if (r > 0)
			(void)ftruncate(fd, st.st_size);
		errno = saved;
		return -1;
	}
	return fdatasync(fd);
}

/*
 * qfile_append_result - a D or H record: u32 idx, the n bytes of fixed
 * fields, u16 text length and the text (cut at QFILE_TEXT_MAX)
 */
static int
qfile_append_result(int fd, int type, uint32_t idx,
    const unsigned char *fixed, size_t n, const char *text)
{
	unsigned char rec[QFILE_HDR + QFILE_H_MAX], *p = rec + QFILE_HDR;
	size_t	 tlen, off = 4 + n;

	if (idx >= QFILE_MAX_RCPT) {
		errno = EINVAL;
		return -1;
	}
	tlen = text == NULL ? 0 : strnlen(text, QFILE_TEXT_MAX);
	util_put_be(p, idx, 4);
	memcpy(p + 4, fixed, n);
	p[off] = (unsigned char)(tlen >> 8);
	p[off + 1] = (unsigned char)tlen;
	if (tlen > 0)
		memcpy(p + off + 2, text, tlen);
	rec[0] = (unsigned char)type;
	util_put_be(rec + 1, (uint32_t)(off + 2 + tlen), 4);
	return qfile_append(fd, rec, QFILE_HDR + off + 2 + tlen);
}

/* qfile_append_done - D record: a recipient's final status */
int
qfile_append_done(int fd, uint32_t idx, int status, const char *text)
{
	unsigned char st = (unsigned char)status;

	if (status < QFILE_ST_DELIVERED || status > QFILE_ST_BOUNCE_SENT) {
		errno = EINVAL;
		return -1;
	}
	return qfile_append_result(fd, 'D', idx, &st, 1, text);
}

/* qfile_append_history - H record: a recipient's temporary failure */
int
qfile_append_history(int fd, uint32_t idx, int64_t when, const char *text)
{
	unsigned char t[8];

	util_put_be(t, (uint64_t)when, 8);
	return qfile_append_result(fd, 'H', idx, t, sizeof(t), text);
}

/* qfile_append_warned - W record: the delay notice was queued */
int
qfile_append_warned(int fd, int64_t when)
{
	unsigned char rec[QFILE_HDR + 8];

	rec[0] = 'W';
	util_put_be(rec + 1, 8, 4);
	util_put_be(rec + QFILE_HDR, (uint64_t)when, 8);
	return qfile_append(fd, rec, sizeof(rec));
}

/* qfile_trail_text - a D/H text as a C string in out (QFILE_TEXT_MAX + 1) */
static int
qfile_trail_text(const unsigned char *p, size_t len, size_t off, char *out)
{
	char	*text;

	if (qfile_rd_text(p, len, off, &text) != NULL)
		return -1;
	util_strlcpy(out, text, QFILE_TEXT_MAX + 1);
	free(text);
	return 0;
}

/*
 * qfile_trail_each - the records after E in file order, for "mailctl
 * queue show": D (status, text), H (time, text) and X (an added
 * recipient: text is its address, status the parent index).  Reads with
 * pread up to m->valid_size.  Every record is checked again against the
 * decoder's table and length rules: the file belongs to mail_owner and
 * may have changed since qfile_read (the caller may be root).
 */
int
qfile_trail_each(int fd, const struct qfile_msg *m,
    void (*cb)(void *, int, uint32_t, int, int64_t, const char *), void *arg)
{
	unsigned char hdr[QFILE_HDR], *buf;
	char	 text[QFILE_TEXT_MAX + 1];
	const struct qfile_rec *rec;
	off_t	 off = m->end_off;
	uint32_t len;
	size_t	 alen;

	/* the largest record after E: H (D and X are smaller) */
	buf = xmalloc(QFILE_H_MAX);
	while (off + QFILE_HDR <= m->valid_size) {
		if (qfile_pread_full(fd, hdr, sizeof(hdr), off) != QFILE_HDR)
			break;
		len = (uint32_t)util_get_be(hdr + 1, 4);
		if ((rec = qfile_rec_find(hdr[0])) == NULL ||
		    rec->from != QFILE_M(QFILE_S_E) || len < rec->minlen ||
		    len > rec->maxlen || len > QFILE_H_MAX ||
		    off + QFILE_HDR + (off_t)len > m->valid_size ||
		    qfile_pread_full(fd, buf, len, off + QFILE_HDR) !=
		    (ssize_t)len)
			break;
		off += QFILE_HDR + (off_t)len;
		if (hdr[0] == 'D') {
			if (qfile_trail_text(buf, len, 7, text) == -1)
				break;
			cb(arg, 'D', (uint32_t)util_get_be(buf, 4), buf[4], 0,
			    text);
		} else if (hdr[0] == 'H') {
			if (qfile_trail_text(buf, len, 14, text) == -1)
				break;
			cb(arg, 'H', (uint32_t)util_get_be(buf, 4), 0,
			    (int64_t)util_get_be(buf + 4, 8), text);
		} else if (hdr[0] == 'X') {
			alen = (size_t)buf[0] << 8 | buf[1];
			if (alen + 2 > len || alen > QFILE_TEXT_MAX ||
			    memchr(buf + 2, '\0', alen) != NULL)
				break;
			memcpy(text, buf + 2, alen);
			text[alen] = '\0';
			cb(arg, 'X', 0, (int)util_get_be(buf + len - 4, 4), 0,
			    text);
		}
	}
	free(buf);
	return off == m->valid_size ? 0 : -1;
}

/* qfile_append_rcpt - X record: a recipient added by alias expansion */
int
qfile_append_rcpt(int fd, const char *addr, const char *orcpt,
    unsigned notify, uint32_t parent)
{
	unsigned char rec[QFILE_HDR + QFILE_R_MAX + 4];
	int	 n;

	if (parent >= QFILE_MAX_RCPT) {
		errno = EINVAL;
		return -1;
	}
	if ((n = qfile_rcpt_encode(rec + QFILE_HDR, addr, orcpt, notify)) == -1)
		return -1;
	util_put_be(rec + QFILE_HDR + n, parent, 4);
	n += 4;
	rec[0] = 'X';
	util_put_be(rec + 1, (uint32_t)n, 4);
	return qfile_append(fd, rec, QFILE_HDR + (size_t)n);
}

/* qfile_repair_tail - cut a torn trailing record so appends stay readable */
int
qfile_repair_tail(int fd, const struct qfile_msg *m)
{
	if (m->end_off == 0 || m->valid_size < m->end_off) {
		errno = EINVAL;
		return -1;
	}
	if (m->valid_size >= m->file_size)
		return 0;
	if (ftruncate(fd, m->valid_size) == -1)
		return -1;
	return fdatasync(fd);
}
