/*
 * fuzz_qfile.c - libFuzzer target for lib/mail/qfile: the strict queue file
 * decoder, the appenders after a torn tail, and the writer round trip.
 *
 * Input: byte 0 selects the mode (its low two bits).
 *
 *  0: reader.  The rest is a queue file, put in a memfd and given to
 *	qfile_read().  When it is QFILE_OK: the envelope is checked against
 *	the limits of qfile.h, qfile_body_each() must stream exactly
 *	body_size bytes, and on a copy opened O_APPEND (as qmgr does)
 *	qfile_repair_tail() must leave a file that reads back the same with
 *	no torn tail, to which a D and an X record can be appended and read
 *	back (qfile.h: "call qfile_repair_tail() so the new record does not
 *	land behind the torn one").  qfile_trail_each() must walk the
 *	records after E to valid_size, each text within QFILE_TEXT_MAX.
 *
 *  4: a file that changes after it was read (byte 0 & 7 == 4).  Bytes 1-2
 *	are an offset k; the rest up to k is read as a queue file, and when
 *	it reads, everything after its E record is replaced by the bytes
 *	after k and qfile_trail_each() walks them as if qfile_read had seen
 *	them (the file is mail_owner's, and mailctl reads it as root): no
 *	overrun, texts within QFILE_TEXT_MAX, whatever the records say.
 *
 *  2: reader of a big file.  Bytes 1-2 are an offset, byte 3 a count n
 *	(0-5): n whole B records of QFILE_CHUNK bytes are put into the rest
 *	at that offset, so records after the body lie beyond the reader's
 *	64 KiB window and the body spans several chunks.
 *
 *  1, 3: writer round trip.  The rest chooses the arrival time, sender,
 *	attributes, recipients, body and up to two P records (fuzz.h
 *	cursor), which go through
 *	qfile_create .. qfile_commit in a scratch queue_directory (under
 *	/dev/shm, or FUZZ_TMPDIR).  When every part is within the limits of
 *	qfile.h, each call must succeed and the committed file must read
 *	back with the same sender, attributes, recipients and body bytes
 *	(DESIGN rule 3: attacker bytes round-trip unchanged); otherwise the
 *	writer must fail, stay failed, and leave no file behind.
 *
 * Notes: the writer's paths are relative to the working directory (smtpd
 * runs chrooted in queue_directory), so the writer mode fchdir()s into the
 * scratch directory and back; run.sh gives libFuzzer an absolute
 * -artifact_prefix for that reason.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "qfile.h"
#include "qid.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_Q_MAXATTR	8
#define FUZZ_Q_MAXRCPT	8
#define FUZZ_Q_BODYMAX	(4 * QFILE_CHUNK + 1000)
#define FUZZ_Q_BIGMAX	5	/* synthetic whole B records (reader) */
#define FUZZ_Q_NOTIFY	(QFILE_NOTIFY_NEVER | QFILE_NOTIFY_SUCCESS | \
			    QFILE_NOTIFY_FAILURE | QFILE_NOTIFY_DELAY)

static char	 fuzz_q_dir[PATH_MAX];
static int	 fuzz_q_dirfd = -1;
static int	 fuzz_q_cwdfd = -1;
static uint64_t	 fuzz_q_seq;

/* ---- helpers --------------------------------------------------------- */

/* fuzz_q_memfd - a memfd holding data */
static int
fuzz_q_memfd(const void *data, size_t len)
{
	const char *p = data;
	ssize_t	 r;
	int	 fd;

	fd = memfd_create("qfile", MFD_CLOEXEC);
	FZ_CHECK(fd != -1);
	while (len > 0) {
		r = write(fd, p, len);
		FZ_CHECK(r > 0);
		p += r;
		len -= (size_t)r;
	}
	return fd;
}

/* fuzz_q_reopen - the same open file description again, O_RDWR|O_APPEND */
static int
fuzz_q_reopen(int fd)
{
	char	 path[64];
	int	 fd2;

	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	FZ_CHECK(fd2 != -1);
	return fd2;
}

struct fuzz_q_body {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	size_t		 calls;
	int		 stop;		/* return -1 from this call on */
};

/* fuzz_q_body_cb - collect the body; check each chunk's bounds */
static int
fuzz_q_body_cb(void *arg, const void *p, size_t len)
{
	struct fuzz_q_body *b = arg;

	FZ_CHECK(len > 0 && len <= QFILE_CHUNK);
	b->calls++;
	if (b->stop > 0 && b->calls >= (size_t)b->stop) {
		errno = ECANCELED;
		return -1;
	}
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		FZ_CHECK(b->p != NULL);
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

/* fuzz_q_name_ok - [a-z0-9_]{1,64} */
static int
fuzz_q_name_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > QFILE_ATTR_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* fuzz_q_msg_sane - what any successfully read message must satisfy */
static void
fuzz_q_msg_sane(const struct qfile_msg *m, size_t size)
{
	size_t	 i;

	FZ_CHECK(qid_valid(m->qid));
	FZ_CHECK(m->arrival_sec >= 0);
	FZ_CHECK(m->arrival_usec >= 0 && m->arrival_usec <= 999999);
	FZ_CHECK(m->sender != NULL && strlen(m->sender) <= QFILE_ADDR_MAX);
	FZ_CHECK(m->nattr <= QFILE_MAX_ATTR);
	for (i = 0; i < m->nattr; i++) {
		FZ_CHECK(fuzz_q_name_ok(m->attr[i].name));
		FZ_CHECK(m->attr[i].value[m->attr[i].vlen] == '\0');
		FZ_CHECK(strlen(m->attr[i].name) + 1 + m->attr[i].vlen <=
		    QFILE_ATTR_MAX);
		FZ_CHECK(qfile_attr_get(m, m->attr[i].name) != NULL);
	}
	FZ_CHECK(m->nrcpt >= 1 && m->nrcpt <= QFILE_MAX_RCPT);
	for (i = 0; i < m->nrcpt; i++) {
		FZ_CHECK(m->rcpt[i].addr != NULL && m->rcpt[i].orcpt != NULL);
		FZ_CHECK(m->rcpt[i].addr[0] != '\0');
		FZ_CHECK(strlen(m->rcpt[i].addr) <= QFILE_ADDR_MAX);
		FZ_CHECK(strlen(m->rcpt[i].orcpt) <= QFILE_ORCPT_MAX);
		FZ_CHECK((m->rcpt[i].notify & ~(unsigned)FUZZ_Q_NOTIFY) == 0);
		FZ_CHECK(m->rcpt[i].parent == UINT32_MAX ||
		    m->rcpt[i].parent < i);
		FZ_CHECK(m->rcpt[i].status >= QFILE_ST_PENDING &&
		    m->rcpt[i].status <= QFILE_ST_BOUNCE_SENT);
		/* a final recipient has its D text; a pending one may have
		 * the text of its last H record */
		FZ_CHECK(m->rcpt[i].status == QFILE_ST_PENDING ||
		    m->rcpt[i].text != NULL);
		FZ_CHECK(m->rcpt[i].text == NULL || m->nhist > 0 ||
		    m->rcpt[i].status != QFILE_ST_PENDING);
		if (m->rcpt[i].text != NULL)
			FZ_CHECK(strlen(m->rcpt[i].text) <= QFILE_TEXT_MAX);
	}
	FZ_CHECK(m->prepend_len <= QFILE_P_TOTAL);
	FZ_CHECK((m->prepend_len == 0) == (m->prepend == NULL));
	FZ_CHECK(m->body_off > 0 && m->body_off < m->end_off);
	FZ_CHECK((uint64_t)(m->end_off - m->body_off) >= m->body_size +
	    QFILE_HDR);
	FZ_CHECK(m->end_off <= m->valid_size);
	FZ_CHECK(m->valid_size <= m->file_size);
	FZ_CHECK(m->file_size == (off_t)size);
}

/* fuzz_q_msg_same - two reads of the same envelope */
static void
fuzz_q_msg_same(const struct qfile_msg *a, const struct qfile_msg *b)
{
	size_t	 i;

	FZ_CHECK(strcmp(a->qid, b->qid) == 0);
	FZ_CHECK(a->arrival_sec == b->arrival_sec);
	FZ_CHECK(a->arrival_usec == b->arrival_usec);
	FZ_CHECK(strcmp(a->sender, b->sender) == 0);
	FZ_CHECK(a->nattr == b->nattr && a->nrcpt == b->nrcpt);
	for (i = 0; i < a->nattr; i++) {
		FZ_CHECK(strcmp(a->attr[i].name, b->attr[i].name) == 0);
		FZ_CHECK(a->attr[i].vlen == b->attr[i].vlen);
		FZ_CHECK(memcmp(a->attr[i].value, b->attr[i].value,
		    a->attr[i].vlen) == 0);
	}
	for (i = 0; i < a->nrcpt; i++) {
		FZ_CHECK(strcmp(a->rcpt[i].addr, b->rcpt[i].addr) == 0);
		FZ_CHECK(strcmp(a->rcpt[i].orcpt, b->rcpt[i].orcpt) == 0);
		FZ_CHECK(a->rcpt[i].notify == b->rcpt[i].notify);
		FZ_CHECK(a->rcpt[i].parent == b->rcpt[i].parent);
		FZ_CHECK(a->rcpt[i].status == b->rcpt[i].status);
		FZ_CHECK((a->rcpt[i].text == NULL) == (b->rcpt[i].text == NULL));
		if (a->rcpt[i].text != NULL)
			FZ_CHECK(strcmp(a->rcpt[i].text, b->rcpt[i].text) == 0);
	}
	FZ_CHECK(a->body_off == b->body_off && a->end_off == b->end_off);
	FZ_CHECK(a->body_size == b->body_size);
}

/* ---- reader mode ----------------------------------------------------- */

/* fuzz_q_appends - repair a copy, append D and X, read it back */
static void
fuzz_q_appends(const uint8_t *data, size_t size, const struct qfile_msg *m)
{
	struct qfile_msg m2, m3;
	struct stat st;
	char	 err[256];
	int	 fd, fd2;

	fd = fuzz_q_memfd(data, size);
	fd2 = fuzz_q_reopen(fd);
	FZ_CHECK(qfile_repair_tail(fd2, m) == 0);
	FZ_CHECK(fstat(fd2, &st) == 0 && st.st_size == m->valid_size);
	FZ_CHECK(qfile_read(fd2, &m2, err, sizeof(err)) == QFILE_OK);
	fuzz_q_msg_same(m, &m2);
	FZ_CHECK(m2.valid_size == m->valid_size);
	FZ_CHECK(m2.file_size == m2.valid_size);
	FZ_CHECK(qfile_repair_tail(fd2, &m2) == 0);

	FZ_CHECK(qfile_append_done(fd2, 0, QFILE_ST_DELIVERED, "fuzz") == 0);
	FZ_CHECK(qfile_append_rcpt(fd2, "x@example.com", "rfc822;x@e",
	    QFILE_NOTIFY_FAILURE, 0) == 0);
	if (qfile_read(fd2, &m3, err, sizeof(err)) != QFILE_OK) {
		fprintf(stderr, "after repair and append: %s\n", err);
		abort();
	}
	FZ_CHECK(m3.nrcpt == m->nrcpt + 1);
	FZ_CHECK(m3.rcpt[0].status == QFILE_ST_DELIVERED);
	FZ_CHECK(strcmp(m3.rcpt[0].text, "fuzz") == 0);
	FZ_CHECK(strcmp(m3.rcpt[m->nrcpt].addr, "x@example.com") == 0);
	FZ_CHECK(m3.rcpt[m->nrcpt].parent == 0);
	FZ_CHECK(m3.file_size == m3.valid_size);
	qfile_msg_free(&m3);
	qfile_msg_free(&m2);
	close(fd2);
	close(fd);
}

/* fuzz_q_trail_cb - a record after E: the text fits its bound */
static void
fuzz_q_trail_cb(void *arg, int type, uint32_t idx, int st, int64_t when,
    const char *text)
{
	size_t	*n = arg;

	(void)idx;
	(void)st;
	(void)when;
	FZ_CHECK(type == 'D' || type == 'H' || type == 'X');
	FZ_CHECK(strlen(text) <= QFILE_TEXT_MAX);
	(*n)++;
}

/* fuzz_q_changed - see mode 4 above */
static void
fuzz_q_changed(const uint8_t *data, size_t size, size_t k)
{
	struct qfile_msg m, changed;
	char	 err[256];
	uint8_t	*file;
	size_t	 n = 0, len;
	int	 fd;

	if (k > size)
		k = size;
	fd = fuzz_q_memfd(data, k);
	if (qfile_read(fd, &m, err, sizeof(err)) != QFILE_OK) {
		close(fd);
		return;
	}
	close(fd);
	len = (size_t)m.end_off + (size - k);
	file = fz_memdup("", len);
	memcpy(file, data, (size_t)m.end_off);
	memcpy(file + m.end_off, data + k, size - k);
	fd = fuzz_q_memfd(file, len);
	changed = m;
	changed.valid_size = changed.file_size = (off_t)len;
	fz_trace("qfile changed tail: %zu bytes after E", size - k);
	(void)qfile_trail_each(fd, &changed, fuzz_q_trail_cb, &n);
	close(fd);
	free(file);
	qfile_msg_free(&m);
}

/* fuzz_q_reader - qfile_read() and friends on attacker bytes */
static void
fuzz_q_reader(const uint8_t *data, size_t size)
{
	struct qfile_msg m;
	struct fuzz_q_body b;
	char	 err[256];
	size_t	 n;
	int	 fd, r;

	fd = fuzz_q_memfd(data, size);
	memset(err, 'x', sizeof(err));
	r = qfile_read(fd, &m, err, sizeof(err));
	FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	fz_trace("qfile reader: %s", r == QFILE_OK ? "ok" : err);
	if (r != QFILE_OK) {
		FZ_CHECK(r == QFILE_CORRUPT);
		FZ_CHECK(err[0] != '\0');
		FZ_CHECK(m.nrcpt == 0 && m.rcpt == NULL && m.sender == NULL);
		close(fd);
		return;
	}
	fuzz_q_msg_sane(&m, size);

	memset(&b, 0, sizeof(b));
	FZ_CHECK(qfile_body_each(fd, &m, fuzz_q_body_cb, &b) == 0);
	FZ_CHECK(b.len == qfile_size(&m));
	FZ_CHECK(m.prepend_len == 0 || memcmp(b.p, m.prepend,
	    m.prepend_len) == 0);
	free(b.p);
	if (qfile_size(&m) > 0) {
		memset(&b, 0, sizeof(b));
		b.stop = 1;
		FZ_CHECK(qfile_body_each(fd, &m, fuzz_q_body_cb, &b) == -1);
		FZ_CHECK(errno == ECANCELED);
		free(b.p);
	}
	n = 0;
	FZ_CHECK(qfile_trail_each(fd, &m, fuzz_q_trail_cb, &n) == 0);
	fuzz_q_appends(data, size, &m);
	qfile_msg_free(&m);
	close(fd);
}

/* ---- writer mode ----------------------------------------------------- */

/* fuzz_q_rm - nftw callback: remove everything */
static int
fuzz_q_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	(void)remove(path);
	return 0;
}

/* fuzz_q_cleanup - remove the scratch queue_directory at exit */
static void
fuzz_q_cleanup(void)
{
	if (fuzz_q_dir[0] != '\0')
		(void)nftw(fuzz_q_dir, fuzz_q_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* fuzz_q_setup - the scratch queue_directory with incoming/ */
static void
fuzz_q_setup(void)
{
	const char *base;
	char	 sub[PATH_MAX];

	if (fuzz_q_dirfd != -1)
		return;
	if ((base = getenv("FUZZ_TMPDIR")) == NULL)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	(void)snprintf(fuzz_q_dir, sizeof(fuzz_q_dir),
	    "%s/youju-fuzz-qfile.XXXXXX", base);
	FZ_CHECK(mkdtemp(fuzz_q_dir) != NULL);
	atexit(fuzz_q_cleanup);
	(void)snprintf(sub, sizeof(sub), "%s/incoming", fuzz_q_dir);
	FZ_CHECK(mkdir(sub, 0700) == 0);
	fuzz_q_dirfd = open(fuzz_q_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fuzz_q_cwdfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FZ_CHECK(fuzz_q_dirfd != -1 && fuzz_q_cwdfd != -1);
}

struct fuzz_q_env {
	int		 depth;
	int		 abort_early;	/* qfile_abort instead of commit */
	int		 one_write;	/* the body in one qfile_write_body */
	int64_t		 sec;
	int32_t		 usec;
	char		*sender;
	char		*aname[FUZZ_Q_MAXATTR];
	char		*aval[FUZZ_Q_MAXATTR];
	size_t		 alen[FUZZ_Q_MAXATTR];
	size_t		 nattr;
	char		*raddr[FUZZ_Q_MAXRCPT];
	char		*rorcpt[FUZZ_Q_MAXRCPT];	/* may be NULL */
	unsigned	 rnotify[FUZZ_Q_MAXRCPT];
	size_t		 nrcpt;
	unsigned	 piece[4];	/* body write sizes, cycled */
	char		*prep[2];	/* P records, after the body */
	size_t		 nprep;
	unsigned char	*body;
	size_t		 bodylen;
	int		 valid;		/* within qfile.h's limits */
};

/* fuzz_q_env_parse - the envelope and body from the input */
static void
fuzz_q_env_parse(struct fz *f, struct fuzz_q_env *e)
{
	const uint8_t *p;
	size_t	 i, got, rep;
	unsigned flags;

	memset(e, 0, sizeof(*e));
	flags = fz_u8(f);
	e->depth = (int)(flags % (QID_MAX_DEPTH + 1));
	e->abort_early = (flags & 0x80) != 0;
	e->one_write = (flags & 0x40) != 0;
	e->sec = (int64_t)fz_u64(f);
	e->usec = (int32_t)fz_u32(f);
	if ((flags & 0x20) == 0) {	/* mostly plausible times */
		e->sec &= INT64_C(0x3ffffffff);
		e->usec = (int32_t)((uint32_t)e->usec % 1000000);
	}
	e->sender = fz_str(f, 1);
	e->valid = e->sec >= 0 && e->usec >= 0 && e->usec <= 999999 &&
	    strlen(e->sender) <= QFILE_ADDR_MAX;
	e->nattr = fz_u8(f) % (FUZZ_Q_MAXATTR + 1);
	for (i = 0; i < e->nattr; i++) {
		e->aname[i] = fz_str(f, 0);
		e->alen[i] = fz_u16(f) % (QFILE_ATTR_MAX + 64);
		p = fz_bytes(f, e->alen[i], &got);
		e->alen[i] = got;
		e->aval[i] = fz_memdup(p, got);
		if (!fuzz_q_name_ok(e->aname[i]) ||
		    got > QFILE_ATTR_MAX - strlen(e->aname[i]) - 1)
			e->valid = 0;
	}
	e->nrcpt = fz_u8(f) % (FUZZ_Q_MAXRCPT + 1);
	if (e->nrcpt == 0)
		e->valid = 0;
	for (i = 0; i < e->nrcpt; i++) {
		e->raddr[i] = fz_str(f, 1);
		e->rorcpt[i] = fz_str(f, 1);
		e->rnotify[i] = fz_u8(f);
		if ((e->rnotify[i] & 0x80) == 0)
			e->rnotify[i] &= FUZZ_Q_NOTIFY;
		if (e->rorcpt[i][0] == '\0' && (e->rnotify[i] & 0x40)) {
			free(e->rorcpt[i]);
			e->rorcpt[i] = NULL;
		}
		if (e->raddr[i][0] == '\0' ||
		    strlen(e->raddr[i]) > QFILE_ADDR_MAX ||
		    (e->rorcpt[i] != NULL &&
		    strlen(e->rorcpt[i]) > QFILE_ORCPT_MAX) ||
		    (e->rnotify[i] & ~(unsigned)FUZZ_Q_NOTIFY) != 0)
			e->valid = 0;
	}
	for (i = 0; i < 4; i++)
		e->piece[i] = fz_u16(f) + 1;
	e->nprep = fz_u8(f) % 3;
	for (i = 0; i < e->nprep; i++) {
		e->prep[i] = fz_str(f, 1);
		if (e->prep[i][0] == '\0' || strlen(e->prep[i]) > QFILE_P_MAX)
			e->valid = 0;
	}
	/* the rest repeated 1 to 2048 times, at most FUZZ_Q_BODYMAX bytes:
	   bodies of several QFILE_CHUNKs from small inputs */
	rep = (size_t)1 << (fz_u8(f) % 12);
	p = fz_bytes(f, f->n, &got);
	if (got > 0 && rep > FUZZ_Q_BODYMAX / got)
		rep = FUZZ_Q_BODYMAX / got;
	if (rep == 0)
		rep = 1;
	e->bodylen = got * rep;
	e->body = fz_memdup("", e->bodylen);
	for (i = 0; i < rep; i++)
		memcpy(e->body + i * got, p, got);
}

/* fuzz_q_env_free - release what fuzz_q_env_parse made */
static void
fuzz_q_env_free(struct fuzz_q_env *e)
{
	size_t	 i;

	free(e->sender);
	for (i = 0; i < e->nattr; i++) {
		free(e->aname[i]);
		free(e->aval[i]);
	}
	for (i = 0; i < e->nrcpt; i++) {
		free(e->raddr[i]);
		free(e->rorcpt[i]);
	}
	for (i = 0; i < e->nprep; i++)
		free(e->prep[i]);
	free(e->body);
}

/*
 * fuzz_q_write - run the writer; every call's result goes through ok():
 * on a valid envelope each call must succeed, and after the first failure
 * every call must fail (sticky).  Returns the commit result.
 */
static int
fuzz_q_write(struct fuzz_q_env *e, struct qfile_writer *w, const char *qid)
{
	size_t	 i, off, n;
	int	 failed = 0, r;

#define FUZZ_Q_CALL(call) do {						\
	r = (call);							\
	FZ_CHECK(r == 0 || r == -1);					\
	if (e->valid && r == -1) {					\
		fprintf(stderr, "%s: %s\n", #call, strerror(errno));	\
		abort();						\
	}								\
	FZ_CHECK(!(failed && r == 0));					\
	if (r == -1)							\
		failed = 1;						\
} while (0)

	FUZZ_Q_CALL(qfile_create(w, qid, e->depth));
	if (r == -1)
		return -1;
	FUZZ_Q_CALL(qfile_put_header(w, e->sec, e->usec, e->sender));
	for (i = 0; i < e->nattr; i++)
		FUZZ_Q_CALL(qfile_put_attr(w, e->aname[i], e->aval[i],
		    e->alen[i]));
	for (i = 0; i < e->nrcpt; i++)
		FUZZ_Q_CALL(qfile_put_rcpt(w, e->raddr[i], e->rorcpt[i],
		    e->rnotify[i]));
	if (e->one_write)
		FUZZ_Q_CALL(qfile_write_body(w, e->body, e->bodylen));
	else
		for (off = 0, i = 0; off < e->bodylen; off += n, i++) {
			n = e->piece[i % 4];
			if (n > e->bodylen - off)
				n = e->bodylen - off;
			FUZZ_Q_CALL(qfile_write_body(w, e->body + off, n));
		}
	for (i = 0; i < e->nprep; i++)
		FUZZ_Q_CALL(qfile_put_prepend(w, e->prep[i],
		    strlen(e->prep[i])));
	if (e->abort_early) {
		qfile_abort(w);
		return -1;
	}
	FUZZ_Q_CALL(qfile_commit(w));
#undef FUZZ_Q_CALL
	return r;
}

/* fuzz_q_compare - the committed file holds exactly what was written */
static void
fuzz_q_compare(const struct fuzz_q_env *e, const char *qid, const char *path)
{
	struct qfile_msg m;
	struct fuzz_q_body b;
	char	 err[256];
	size_t	 i, off;
	int	 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	FZ_CHECK(fd != -1);
	if (qfile_read(fd, &m, err, sizeof(err)) != QFILE_OK) {
		fprintf(stderr, "committed file does not read back: %s\n",
		    err);
		abort();
	}
	FZ_CHECK(strcmp(m.qid, qid) == 0);
	FZ_CHECK(m.arrival_sec == e->sec && m.arrival_usec == e->usec);
	FZ_CHECK(strcmp(m.sender, e->sender) == 0);
	FZ_CHECK(m.nattr == e->nattr);
	for (i = 0; i < e->nattr; i++) {
		FZ_CHECK(strcmp(m.attr[i].name, e->aname[i]) == 0);
		FZ_CHECK(m.attr[i].vlen == e->alen[i]);
		FZ_CHECK(memcmp(m.attr[i].value, e->aval[i], e->alen[i]) == 0);
	}
	FZ_CHECK(m.nrcpt == e->nrcpt);
	for (i = 0; i < e->nrcpt; i++) {
		FZ_CHECK(strcmp(m.rcpt[i].addr, e->raddr[i]) == 0);
		FZ_CHECK(strcmp(m.rcpt[i].orcpt, e->rorcpt[i] != NULL ?
		    e->rorcpt[i] : "") == 0);
		FZ_CHECK(m.rcpt[i].notify == e->rnotify[i]);
		FZ_CHECK(m.rcpt[i].parent == UINT32_MAX);
		FZ_CHECK(m.rcpt[i].status == QFILE_ST_PENDING);
	}
	FZ_CHECK(m.body_size == e->bodylen);
	FZ_CHECK(m.valid_size == m.file_size && m.end_off == m.file_size);
	memset(&b, 0, sizeof(b));
	FZ_CHECK(qfile_body_each(fd, &m, fuzz_q_body_cb, &b) == 0);
	FZ_CHECK(b.len == e->bodylen + m.prepend_len);
	for (i = 0, off = 0; i < e->nprep; i++) {
		FZ_CHECK(memcmp(b.p + off, e->prep[i], strlen(e->prep[i])) ==
		    0);
		off += strlen(e->prep[i]);
	}
	FZ_CHECK(off == m.prepend_len);
	FZ_CHECK(e->bodylen == 0 || memcmp(b.p + off, e->body, e->bodylen) ==
	    0);
	free(b.p);
	qfile_msg_free(&m);
	close(fd);
}

/* fuzz_q_writer - build a queue file from fuzz-chosen parts, read it back */
static void
fuzz_q_writer(const uint8_t *data, size_t size)
{
	struct fuzz_q_env e;
	struct qfile_writer w;
	struct fz f;
	char	 qid[QID_BUFSZ], path[64], tmp[64];
	int	 r;

	fuzz_q_setup();
	fz_init(&f, data, size);
	fuzz_q_env_parse(&f, &e);
	fuzz_q_seq++;
	qid_make(qid, fuzz_q_seq, (uint32_t)(fuzz_q_seq * 2654435761u));
	FZ_CHECK(qfile_path(qid, e.depth, path, sizeof(path)) == 0);
	(void)snprintf(tmp, sizeof(tmp), "incoming/%s", qid);

	FZ_CHECK(fchdir(fuzz_q_dirfd) == 0);
	r = fuzz_q_write(&e, &w, qid);
	fz_trace("qfile writer: %s envelope, %s, %zu body bytes",
	    e.valid ? "valid" : "invalid", r == 0 ? "committed" : "failed",
	    e.bodylen);
	if (r == 0) {
		FZ_CHECK(!e.abort_early);
		FZ_CHECK(access(tmp, F_OK) == -1 && errno == ENOENT);
		fuzz_q_compare(&e, qid, path);
		FZ_CHECK(unlink(path) == 0);
	} else {
		FZ_CHECK(!e.valid || e.abort_early);
		qfile_abort(&w);	/* harmless after commit/abort */
		/* a failed or abandoned commit leaves no file behind */
		FZ_CHECK(access(tmp, F_OK) == -1 && errno == ENOENT);
		FZ_CHECK(access(path, F_OK) == -1 && errno == ENOENT);
	}
	FZ_CHECK(fchdir(fuzz_q_cwdfd) == 0);
	fuzz_q_env_free(&e);
}

/*
 * fuzz_q_big - the reader's input with n whole B records of QFILE_CHUNK
 * bytes put in at offset at: a file larger than the reader's 64 KiB
 * window (records after the body are read through a new window) from an
 * input that libFuzzer can keep small.
 */
static void
fuzz_q_big(const uint8_t *data, size_t size, size_t at, size_t n)
{
	uint8_t	*file, *p;
	size_t	 i, len;

	if (at > size)
		at = size;
	len = size + n * (QFILE_HDR + QFILE_CHUNK);
	file = fz_memdup("", len);
	memcpy(file, data, at);
	p = file + at;
	for (i = 0; i < n; i++) {
		p[0] = 'B';
		p[1] = 0;
		p[2] = (uint8_t)(QFILE_CHUNK >> 16);
		p[3] = (uint8_t)(QFILE_CHUNK >> 8);
		p[4] = (uint8_t)QFILE_CHUNK;
		memset(p + QFILE_HDR, 'a' + (int)i, QFILE_CHUNK);
		p += QFILE_HDR + QFILE_CHUNK;
	}
	memcpy(p, data + at, size - at);
	fuzz_q_reader(file, len);
	free(file);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if ((data[0] & 7) == 4) {	/* u16 offset: see mode 4 */
			if (size >= 3)
				fuzz_q_changed(data + 3, size - 3,
				    (size_t)data[1] << 8 | data[2]);
			break;
		}
		fuzz_q_reader(data + 1, size - 1);
		break;
	case 2:		/* u16 offset, u8 count: see fuzz_q_big */
		if (size < 4)
			return 0;
		fuzz_q_big(data + 4, size - 4, (size_t)data[1] << 8 | data[2],
		    data[3] % (FUZZ_Q_BIGMAX + 1));
		break;
	default:
		fuzz_q_writer(data + 1, size - 1);
		break;
	}
	return 0;
}
