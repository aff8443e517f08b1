/*
 * test_qfile.c - unit tests for lib/mail/qfile: the strict decoder on malformed
 * files first (table of crafted files, every truncated prefix), then the
 * writer (commit, sticky failure, misuse, limits), read-back of hostile
 * bytes, appends with a torn tail, and streaming a 5 MB body.
 * Runs in a mkdtemp directory standing in for queue_directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "qfile.h"
#include "qid.h"
#include "t.h"
#include "util.h"

#define TQ_QID		"0123456789ABCDEF"
#define TQ_QID2		"0123456789ABCDEG"
/* R payloads: u16 len, addr, u16 len, orcpt, u8 notify */
#define TQ_RA		"\x00\x03" "a@x" "\x00\x00" "\x00"
#define TQ_RA_LEN	8
#define TQ_RB		"\x00\x03" "b@x" "\x00\x00" "\x04"
/* D: u32 idx, u8 status, u16 len, text */
#define TQ_D0		"\x00\x00\x00\x00" "\x01" "\x00\x02" "ok"
#define TQ_D_LEN	9

struct tq_rec {
	int		 type;		/* -1 ends the list */
	const char	*p;
	int		 len;		/* -1: strlen(p) */
	long long	 hdrlen;	/* -1: the real length */
};

#define TQ_V		{ 'V', "1", -1, -1 }
#define TQ_Q		{ 'Q', TQ_QID, -1, -1 }
#define TQ_T		{ 'T', "1700000000.123456", -1, -1 }
#define TQ_S		{ 'S', "s@x", -1, -1 }
#define TQ_A		{ 'A', "client_address=192.0.2.1", -1, -1 }
#define TQ_R		{ 'R', TQ_RA, TQ_RA_LEN, -1 }
#define TQ_R2		{ 'R', TQ_RB, TQ_RA_LEN, -1 }
#define TQ_B		{ 'B', "hello\r\n", -1, -1 }
#define TQ_E		{ 'E', "", 0, -1 }
#define TQ_END		{ -1, NULL, 0, 0 }

struct tq_case {
	const char	*what;
	int		 want;		/* QFILE_OK or QFILE_CORRUPT */
	size_t		 cut;		/* bytes cut off the end */
	struct tq_rec	 r[14];
};

static const struct tq_case tq_cases[] = {
	/* malformed */
	{ "empty file", QFILE_CORRUPT, 0, { TQ_END } },
	{ "missing E", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_B, TQ_END } },
	{ "truncated E header", QFILE_CORRUPT, 2,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, TQ_END } },
	{ "bad version 2", QFILE_CORRUPT, 0,
	    { { 'V', "2", -1, -1 }, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, TQ_END } },
	{ "bad version 10", QFILE_CORRUPT, 0,
	    { { 'V', "10", -1, -1 }, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, TQ_END } },
	{ "Q before V", QFILE_CORRUPT, 0,
	    { TQ_Q, TQ_V, TQ_T, TQ_S, TQ_R, TQ_E, TQ_END } },
	{ "S before T", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_S, TQ_T, TQ_R, TQ_E, TQ_END } },
	{ "A after R", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_A, TQ_E, TQ_END } },
	{ "R after B", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_B, TQ_R2, TQ_E, TQ_END } },
	{ "B before any R", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_B, TQ_R, TQ_E, TQ_END } },
	{ "no recipients", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_E, TQ_END } },
	{ "two E", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, TQ_E, TQ_END } },
	{ "B after E", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, TQ_B, TQ_END } },
	{ "D before E", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, { 'D', TQ_D0, TQ_D_LEN, -1 },
	    TQ_E, TQ_END } },
	{ "unknown type Z", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'Z', "x", -1, -1 }, TQ_R, TQ_E,
	    TQ_END } },
	{ "unknown type 0 after E", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, { 0, "", 0, -1 },
	    TQ_END } },
	{ "lowercase type r", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'r', TQ_RA, TQ_RA_LEN, -1 }, TQ_E,
	    TQ_END } },
	{ "D index out of range", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'D', "\x00\x00\x00\x01" "\x01" "\x00\x00", 7, -1 }, TQ_END } },
	{ "D index 2^32-1", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'D', "\xff\xff\xff\xff" "\x01" "\x00\x00", 7, -1 }, TQ_END } },
	{ "D status pending", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'D', "\x00\x00\x00\x00" "\x00" "\x00\x00", 7, -1 }, TQ_END } },
	{ "D status 5", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'D', "\x00\x00\x00\x00" "\x05" "\x00\x00", 7, -1 }, TQ_END } },
	{ "D text length mismatch", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'D', "\x00\x00\x00\x00" "\x01" "\x00\x05" "ok", 9, -1 },
	    TQ_END } },
	{ "D text with NUL", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'D', "\x00\x00\x00\x00" "\x01" "\x00\x02" "o\0", 9, -1 },
	    TQ_END } },
	{ "X parent out of range", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E,
	    { 'X', TQ_RB "\x00\x00\x00\x01", TQ_RA_LEN + 4, -1 }, TQ_END } },
	{ "X before E", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R,
	    { 'X', TQ_RB "\x00\x00\x00\x00", TQ_RA_LEN + 4, -1 }, TQ_E,
	    TQ_END } },
	{ "R length field 2^32-1", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'R', TQ_RA, TQ_RA_LEN, 0xffffffffLL },
	    TQ_E, TQ_END } },
	{ "B length field over a chunk", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R,
	    { 'B', "x", 1, QFILE_CHUNK + 1 }, TQ_E, TQ_END } },
	{ "B length beyond the file", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, { 'B', "x", 1, 5000 }, TQ_END } },
	{ "empty B", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, { 'B', "", 0, -1 }, TQ_E,
	    TQ_END } },
	{ "E with payload", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, { 'E', "x", 1, -1 }, TQ_END } },
	{ "A over the maximum", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'A', "a=b", 3, QFILE_ATTR_MAX + 1 },
	    TQ_R, TQ_E, TQ_END } },
	{ "S over the maximum", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, { 'S', "s", 1, QFILE_ADDR_MAX + 1 }, TQ_R,
	    TQ_E, TQ_END } },
	{ "Q lowercase", QFILE_CORRUPT, 0,
	    { TQ_V, { 'Q', "0123456789abcdef", -1, -1 }, TQ_T, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "Q with I", QFILE_CORRUPT, 0,
	    { TQ_V, { 'Q', "0123456789ABCDEI", -1, -1 }, TQ_T, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "Q too short", QFILE_CORRUPT, 0,
	    { TQ_V, { 'Q', "0123456789ABCDE", -1, -1 }, TQ_T, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "Q with NUL", QFILE_CORRUPT, 0,
	    { TQ_V, { 'Q', "0123456789ABCDE\0", 16, -1 }, TQ_T, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "T without dot", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', "1700000000123456", -1, -1 }, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "T short usec", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', "1700000000.12345", -1, -1 }, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "T long usec", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', "1700000000.1234567", -1, -1 }, TQ_S, TQ_R,
	    TQ_E, TQ_END } },
	{ "T negative", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', "-1.000000", -1, -1 }, TQ_S, TQ_R, TQ_E,
	    TQ_END } },
	{ "T leading zero", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', "01.000000", -1, -1 }, TQ_S, TQ_R, TQ_E,
	    TQ_END } },
	{ "T overflow", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', "99999999999999999999.000000", -1, -1 },
	    TQ_S, TQ_R, TQ_E, TQ_END } },
	{ "T with space", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, { 'T', " 1.000000", -1, -1 }, TQ_S, TQ_R, TQ_E,
	    TQ_END } },
	{ "S with NUL", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, { 'S', "s\0x", 3, -1 }, TQ_R, TQ_E,
	    TQ_END } },
	{ "A without =", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'A', "client_address", -1, -1 }, TQ_R,
	    TQ_E, TQ_END } },
	{ "A uppercase name", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'A', "Client=x", -1, -1 }, TQ_R, TQ_E,
	    TQ_END } },
	{ "A empty name", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'A', "=x", -1, -1 }, TQ_R, TQ_E,
	    TQ_END } },
	{ "A name of 65", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'A', "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x", -1, -1 }, TQ_R, TQ_E,
	    TQ_END } },
	{ "R empty address", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'R', "\x00\x00" "\x00\x01" "x" "\x00",
	    6, -1 }, TQ_E, TQ_END } },
	{ "R address length past the record", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'R', "\x00\x09" "a@x" "\x00\x00" "\x00",
	    8, -1 }, TQ_E, TQ_END } },
	{ "R ORCPT length mismatch", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'R', "\x00\x03" "a@x" "\x00\x05" "\x00",
	    8, -1 }, TQ_E, TQ_END } },
	{ "R trailing byte", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'R', TQ_RA "z", 9, -1 }, TQ_E,
	    TQ_END } },
	{ "R NUL in address", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S,
	    { 'R', "\x00\x03" "a\0x" "\x00\x00" "\x00", 8, -1 }, TQ_E,
	    TQ_END } },
	{ "R bad NOTIFY bits", QFILE_CORRUPT, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, { 'R', "\x00\x03" "a@x" "\x00\x00" "\x10",
	    8, -1 }, TQ_E, TQ_END } },
	{ "E record torn (3 bytes cut)", QFILE_CORRUPT, 3,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_B, TQ_E, TQ_END } },
	/* well-formed edge cases */
	{ "minimal file", QFILE_OK, 0,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, TQ_END } },
	{ "null sender, empty attr value", QFILE_OK, 0,
	    { TQ_V, TQ_Q, { 'T', "0.000000", -1, -1 }, { 'S', "", 0, -1 },
	    { 'A', "envid=", -1, -1 }, TQ_R, TQ_E, TQ_END } },
	{ "torn D header after E", QFILE_OK, 3,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, { 'D', TQ_D0, TQ_D_LEN, -1 },
	    TQ_END } },
	{ "torn D payload after E", QFILE_OK, 2,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, { 'D', TQ_D0, TQ_D_LEN, -1 },
	    TQ_END } },
	{ "torn X after a D", QFILE_OK, 1,
	    { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_R, TQ_E, { 'D', TQ_D0, TQ_D_LEN, -1 },
	    { 'X', TQ_RB "\x00\x00\x00\x00", TQ_RA_LEN + 4, -1 }, TQ_END } },
};

/* tq_build - encode a record list (minus cut bytes) into b */
static void
tq_build(struct buf *b, const struct tq_rec *r, size_t cut)
{
	unsigned char tmp[QFILE_HDR + 8192];
	size_t	 len;
	int	 n;

	buf_reset(b);
	for (; r->type != -1; r++) {
		len = r->len == -1 ? strlen(r->p) : (size_t)r->len;
		n = qfile_encode_record(tmp, sizeof(tmp), r->type, r->p, len);
		if (n == -1)
			exit(2);
		if (r->hdrlen != -1) {
			tmp[1] = (unsigned char)(r->hdrlen >> 24);
			tmp[2] = (unsigned char)(r->hdrlen >> 16);
			tmp[3] = (unsigned char)(r->hdrlen >> 8);
			tmp[4] = (unsigned char)r->hdrlen;
		}
		buf_append(b, tmp, (size_t)n);
	}
	b->len = cut > b->len ? 0 : b->len - cut;
}

/* tq_write_file - a file with exactly these bytes; returns an fd on it */
static int
tq_write_file(const char *path, const void *p, size_t len)
{
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd == -1 || util_write_full(fd, p, len) == -1) {
		perror(path);
		exit(2);
	}
	return fd;
}

/* tq_count_dir - entries in a directory, recursively (files only) */
static int
tq_count_files(const char *path)
{
	DIR	*d;
	struct dirent *e;
	struct stat st;
	char	 sub[512];
	int	 n = 0;

	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			n += tq_count_files(sub);
		else
			n++;
	}
	closedir(d);
	return n;
}

/* tq_table - the crafted files */
static void
tq_table(void)
{
	const struct tq_case *c;
	struct qfile_msg m;
	struct buf b;
	char	 err[256];
	size_t	 i;
	int	 fd, r;

	buf_init(&b, 1 << 20);
	for (i = 0; i < NELEM(tq_cases); i++) {
		c = &tq_cases[i];
		tq_build(&b, c->r, c->cut);
		fd = tq_write_file("c/case", b.data, b.len);
		r = qfile_read(fd, &m, err, sizeof(err));
		T_EQ_INT(r, c->want, c->what);
		if (r == QFILE_CORRUPT)
			T_OK(err[0] != '\0' && m.rcpt == NULL &&
			    m.sender == NULL, "%s: reason \"%s\", msg empty",
			    c->what, err);
		if (r == QFILE_OK && c->cut > 0)
			T_OK(m.valid_size < m.file_size && m.nrcpt == 1,
			    "%s: torn tail ignored", c->what);
		qfile_msg_free(&m);
		close(fd);
	}
	buf_free(&b);
}

/* tq_prefixes - every prefix shorter than the end record is corrupt */
static void
tq_prefixes(void)
{
	static const struct tq_rec full[] = { TQ_V, TQ_Q, TQ_T, TQ_S, TQ_A,
	    TQ_R, TQ_R2, TQ_B, TQ_B, TQ_E, TQ_END };
	struct qfile_msg m;
	struct buf b;
	char	 err[256];
	size_t	 len, cut;
	int	 fd, bad = 0, r;

	buf_init(&b, 1 << 20);
	tq_build(&b, full, 0);
	len = b.len;
	for (cut = 1; cut <= len; cut++) {
		fd = tq_write_file("c/prefix", b.data, len - cut);
		r = qfile_read(fd, &m, err, sizeof(err));
		if (r != QFILE_CORRUPT) {
			bad++;
			printf("# prefix of %zu bytes: %d\n", len - cut, r);
		}
		qfile_msg_free(&m);
		close(fd);
	}
	T_EQ_INT(bad, 0, "every truncation before E (each record) is corrupt");
	fd = tq_write_file("c/prefix", b.data, len);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK,
	    "the whole file reads");
	T_EQ_INT(m.body_size, 14, "two body chunks");
	T_EQ_INT(m.end_off, (long long)len, "end offset");
	T_EQ_INT(m.valid_size, (long long)len, "valid size");
	qfile_msg_free(&m);
	close(fd);
	buf_free(&b);
}

/* tq_collect - body_each callback appending into a buf */
static int
tq_collect(void *arg, const void *p, size_t len)
{
	struct buf *b = arg;

	if (len == 0 || len > QFILE_CHUNK)
		return -1;
	return buf_append(b, p, len);
}

static const unsigned char tq_attr_bin[] = "\0\r\n\x01\xff=;\r\n.\r\n";
static const char tq_orcpt[] = "rfc822;\"a\r\nDATA\"+2B\x01\x7f\xfe<>%!@x";

/* tq_write_read - commit a hostile message, read it all back */
static void
tq_write_read(void)
{
	struct qfile_writer w;
	struct qfile_msg m;
	struct buf body, got;
	struct stat st;
	char	 path[64], err[256];
	size_t	 i, off, step;
	int	 fd;

	buf_init(&body, 1 << 20);
	for (i = 0; i < 3 * QFILE_CHUNK + 12345; i++)
		buf_putc(&body, (int)(i & 0xff) ^ (int)(i >> 8 & 0xff));
	T_EQ_INT(qfile_create(&w, TQ_QID, 2), 0, "create");
	T_OK(stat("incoming/" TQ_QID, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "incoming file mode 0600");
	T_EQ_INT(qfile_put_header(&w, 1700000000, 42, "sender@example.org"), 0,
	    "header");
	T_EQ_INT(qfile_put_attr(&w, "client_address", "192.0.2.1", 9), 0,
	    "attr");
	T_EQ_INT(qfile_put_attr(&w, "helo_name", tq_attr_bin,
	    sizeof(tq_attr_bin) - 1), 0, "binary attr");
	T_EQ_INT(qfile_put_attr(&w, "envid", "", 0), 0, "empty attr");
	T_EQ_INT(qfile_put_rcpt(&w, "a@example.org", NULL, 0), 0, "rcpt a");
	T_EQ_INT(qfile_put_rcpt(&w, "b@example.org", tq_orcpt,
	    QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE), 0, "rcpt b");
	/* odd pieces, then a whole chunk on a chunk boundary, then the rest */
	for (off = 0, step = 1; off < QFILE_CHUNK; off += step, step += 997) {
		if (step > QFILE_CHUNK - off)
			step = QFILE_CHUNK - off;
		qfile_write_body(&w, body.data + off, step);
	}
	T_EQ_INT(qfile_write_body(&w, body.data + off, QFILE_CHUNK), 0,
	    "a whole chunk at once");
	off += QFILE_CHUNK;
	T_EQ_INT(qfile_write_body(&w, body.data + off, body.len - off), 0,
	    "the rest");
	T_EQ_INT(qfile_write_body(&w, "", 0), 0, "empty write");
	T_EQ_INT(qfile_commit(&w), 0, "commit");
	qfile_abort(&w);	/* after a commit: must not remove anything */

	T_EQ_INT(qfile_path(TQ_QID, 2, path, sizeof(path)), 0, "path");
	T_EQ_STR(path, "queue/E/F/" TQ_QID, "path layout");
	T_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "committed file in place, 0600");
	T_OK(stat("queue/E/F", &st) == 0 && (st.st_mode & 0777) == 0700,
	    "hash directory created 0700");
	T_EQ_INT(tq_count_files("incoming"), 0, "incoming/ empty");

	fd = open(path, O_RDONLY);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read back");
	T_EQ_STR(m.qid, TQ_QID, "qid");
	T_EQ_INT(m.arrival_sec, 1700000000, "arrival sec");
	T_EQ_INT(m.arrival_usec, 42, "arrival usec");
	T_EQ_STR(m.sender, "sender@example.org", "sender");
	T_EQ_INT(m.nattr, 3, "attrs");
	T_EQ_STR(qfile_attr_get(&m, "client_address"), "192.0.2.1", "attr 1");
	T_OK(m.attr[1].vlen == sizeof(tq_attr_bin) - 1 &&
	    memcmp(m.attr[1].value, tq_attr_bin, m.attr[1].vlen) == 0 &&
	    m.attr[1].value[m.attr[1].vlen] == '\0', "binary attr intact");
	T_EQ_STR(qfile_attr_get(&m, "envid"), "", "empty attr");
	T_OK(qfile_attr_get(&m, "nope") == NULL, "missing attr");
	T_EQ_INT(m.nrcpt, 2, "recipients");
	T_EQ_STR(m.rcpt[0].addr, "a@example.org", "rcpt 0");
	T_EQ_STR(m.rcpt[0].orcpt, "", "rcpt 0 no orcpt");
	T_OK(m.rcpt[1].orcpt != NULL && strcmp(m.rcpt[1].orcpt, tq_orcpt) == 0,
	    "hostile ORCPT intact");
	T_EQ_INT(m.rcpt[1].notify, QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE,
	    "notify");
	T_OK(m.rcpt[0].parent == UINT32_MAX && m.rcpt[0].status ==
	    QFILE_ST_PENDING && m.rcpt[0].text == NULL, "rcpt defaults");
	T_EQ_INT(m.body_size, body.len, "body size");
	buf_init(&got, 1 << 20);
	T_EQ_INT(qfile_body_each(fd, &m, tq_collect, &got), 0, "body_each");
	T_OK(got.len == body.len && memcmp(got.data, body.data, got.len) == 0,
	    "body bytes identical (all 256 values, > 3 chunks)");
	buf_free(&got);
	qfile_msg_free(&m);
	close(fd);
	buf_free(&body);

	/* same qid again: EEXIST, and the other writer's file survives */
	T_EQ_INT(qfile_create(&w, TQ_QID2, 2), 0, "create second");
	{
		struct qfile_writer w2;

		T_OK(qfile_create(&w2, TQ_QID2, 2) == -1 && errno == EEXIST,
		    "duplicate create EEXIST");
		qfile_abort(&w2);
		T_OK(access("incoming/" TQ_QID2, F_OK) == 0,
		    "duplicate's abort left the first file");
	}
	qfile_abort(&w);
	T_OK(access("incoming/" TQ_QID2, F_OK) == -1, "abort removes");
	qfile_abort(&w);	/* twice is harmless */
}

/* tq_appends - D and X records, last D wins, torn tail and repair */
static void
tq_appends(void)
{
	struct qfile_msg m;
	char	 path[64], err[256], longtext[QFILE_TEXT_MAX + 100];
	struct stat st;
	int	 fd;

	qfile_path(TQ_QID, 2, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND);
	T_EQ_INT(qfile_append_done(fd, 0, QFILE_ST_BOUNCED, "450 later"), 0,
	    "append D 0");
	T_EQ_INT(qfile_append_done(fd, 0, QFILE_ST_DELIVERED, "250 ok"), 0,
	    "append D 0 again");
	T_EQ_INT(qfile_append_rcpt(fd, "c@example.org", "rfc822;c\x01", 0, 1),
	    0, "append X parent 1");
	T_EQ_INT(qfile_append_done(fd, 1, QFILE_ST_EXPANDED, NULL), 0,
	    "append D 1 expanded");
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	T_EQ_INT(qfile_append_done(fd, 2, QFILE_ST_BOUNCED, longtext), 0,
	    "append D with a text over the maximum (cut)");
	T_OK(qfile_append_done(fd, 0, QFILE_ST_PENDING, "x") == -1 &&
	    errno == EINVAL, "D with status pending refused");
	T_OK(qfile_append_rcpt(fd, "", NULL, 0, 0) == -1, "empty X refused");
	T_OK(qfile_append_rcpt(fd, "d@x", NULL, 0x40, 0) == -1,
	    "bad notify refused");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read");
	T_EQ_INT(m.nrcpt, 3, "X added a recipient");
	T_EQ_INT(m.rcpt[0].status, QFILE_ST_DELIVERED, "last D wins");
	T_EQ_STR(m.rcpt[0].text, "250 ok", "D text");
	T_EQ_INT(m.rcpt[1].status, QFILE_ST_EXPANDED, "expanded");
	T_EQ_STR(m.rcpt[1].text, "", "NULL text reads as empty");
	T_EQ_STR(m.rcpt[2].addr, "c@example.org", "X address");
	T_OK(strcmp(m.rcpt[2].orcpt, "rfc822;c\x01") == 0, "X orcpt");
	T_EQ_INT(m.rcpt[2].parent, 1, "X parent");
	T_EQ_INT(m.rcpt[2].status, QFILE_ST_BOUNCED, "D on an X recipient");
	T_EQ_INT(strlen(m.rcpt[2].text), QFILE_TEXT_MAX, "text cut");
	T_OK(m.valid_size == m.file_size, "no torn tail");
	qfile_msg_free(&m);

	/* a torn append: half a D record */
	T_EQ_INT(write(fd, "D\x00\x00\x00\x09\x00\x00", 7), 7, "torn write");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK,
	    "torn tail tolerated");
	T_OK(m.valid_size + 7 == m.file_size, "valid_size excludes the tail");
	T_EQ_INT(qfile_repair_tail(fd, &m), 0, "repair");
	T_OK(fstat(fd, &st) == 0 && st.st_size == m.valid_size, "cut back");
	qfile_msg_free(&m);
	T_EQ_INT(qfile_append_done(fd, 1, QFILE_ST_BOUNCE_SENT, "b"), 0,
	    "append after repair");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK,
	    "reads after repair");
	T_EQ_INT(m.rcpt[1].status, QFILE_ST_BOUNCE_SENT, "new D applied");
	T_EQ_INT(qfile_repair_tail(fd, &m), 0, "repair of a clean file: no-op");
	qfile_msg_free(&m);
	close(fd);
}

struct tq_trail {
	char	 seen[512];
};

/* tq_trail_cb - record each trailing record as "T idx status time text;" */
static void
tq_trail_cb(void *arg, int type, uint32_t idx, int st, int64_t when,
    const char *text)
{
	struct tq_trail *t = arg;
	size_t	 n = strlen(t->seen);

	snprintf(t->seen + n, sizeof(t->seen) - n, "%c %u %d %lld %.20s;",
	    type, idx, st, (long long)when, text);
}

/* tq_history - H records: last text while pending, bounds, the walker */
static void
tq_history(void)
{
	struct qfile_writer w;
	struct qfile_msg m;
	struct tq_trail tr;
	char	 path[64], err[256], big[QFILE_TEXT_MAX + 10];
	unsigned char rec[64];
	int	 fd, n;

	T_EQ_INT(qfile_create(&w, "0000000000000H01", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "s@example.org");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	qfile_put_rcpt(&w, "b@example.org", "", 0);
	qfile_write_body(&w, "x\r\n", 3);
	T_EQ_INT(qfile_commit(&w), 0, "commit");
	qfile_path("0000000000000H01", 2, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND);
	T_EQ_INT(qfile_append_history(fd, 0, 1700000100, "4.4.1 no answer"),
	    0, "append H 0");
	T_EQ_INT(qfile_append_history(fd, 0, 1700000200, "4.7.0 later"), 0,
	    "append H 0 again");
	T_EQ_INT(qfile_append_done(fd, 1, QFILE_ST_DELIVERED, "250 ok"), 0,
	    "D 1");
	T_EQ_INT(qfile_append_history(fd, 1, 1700000300, "4.0.0 late"), 0,
	    "H after a D");
	T_OK(qfile_append_history(fd, QFILE_MAX_RCPT, 1, "x") == -1 &&
	    errno == EINVAL, "H index out of range refused");
	T_EQ_INT(qfile_append_rcpt(fd, "c@example.org", "", 0, 0), 0, "X");
	T_EQ_INT(qfile_append_warned(fd, 1700000400), 0, "W");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read");
	T_EQ_INT(m.nhist, 3, "history counted");
	T_OK(m.warned == 1700000400, "W time read");
	T_EQ_STR(m.rcpt[0].text, "4.7.0 later", "last H text while pending");
	T_OK(m.rcpt[0].last_try == 1700000200, "last H time");
	T_EQ_INT(m.rcpt[0].status, QFILE_ST_PENDING, "H keeps pending");
	T_EQ_STR(m.rcpt[1].text, "250 ok", "a final text is not replaced");
	T_EQ_INT(m.rcpt[1].status, QFILE_ST_DELIVERED, "H keeps final");
	memset(&tr, 0, sizeof(tr));
	T_EQ_INT(qfile_trail_each(fd, &m, tq_trail_cb, &tr), 0, "walk");
	T_EQ_STR(tr.seen, "H 0 0 1700000100 4.4.1 no answer;"
	    "H 0 0 1700000200 4.7.0 later;D 1 1 0 250 ok;"
	    "H 1 0 1700000300 4.0.0 late;X 0 0 0 c@example.org;",
	    "walker sees every trailing record in order");
	qfile_msg_free(&m);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(qfile_append_history(fd, 1, 5, big), 0, "long H text cut");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read long");
	qfile_msg_free(&m);

	/* malformed H records: each makes the file corrupt */
	n = qfile_encode_record(rec, sizeof(rec), 'H',
	    "\0\0\0\x09\0\0\0\0\0\0\0\1\0\0", 14);
	T_EQ_INT(n, 19, "encode H for recipient 9");
	T_EQ_INT(write(fd, rec, (size_t)n), n, "write bad H");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "H naming a missing recipient is corrupt");
	T_OK(strstr(err, "does not exist") != NULL, "reason given");
	T_EQ_INT(ftruncate(fd, lseek(fd, 0, SEEK_END) - n), 0, "cut");
	n = qfile_encode_record(rec, sizeof(rec), 'H',
	    "\0\0\0\0\0\0\0\0\0\0\0\1\0\x09x", 15);
	T_EQ_INT(write(fd, rec, (size_t)n), n, "write H with a bad length");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "H text length mismatch is corrupt");
	T_EQ_INT(ftruncate(fd, lseek(fd, 0, SEEK_END) - n), 0, "cut");
	n = qfile_encode_record(rec, sizeof(rec), 'H',
	    "\0\0\0\0\0\0\0\0\0\0\0\1\0\1\0", 15);
	T_EQ_INT(write(fd, rec, (size_t)n), n, "write H with a NUL");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "NUL in H text is corrupt");
	T_EQ_INT(ftruncate(fd, lseek(fd, 0, SEEK_END) - n), 0, "cut");
	n = qfile_encode_record(rec, sizeof(rec), 'W', "\0\0\0\0\0\0\0", 7);
	T_EQ_INT(write(fd, rec, (size_t)n), n, "write short W");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "W of 7 bytes is corrupt");
	T_EQ_INT(ftruncate(fd, lseek(fd, 0, SEEK_END) - n), 0, "cut");
	n = qfile_encode_record(rec, sizeof(rec), 'H', "\0\0\0\0\0", 5);
	T_EQ_INT(write(fd, rec, (size_t)n), n, "write short H");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "short H is corrupt");
	close(fd);
	unlink(path);
}

/*
 * tq_trail_changed - the trail walker re-checks every length: a D record
 * of H's size (text 4103 bytes) written after qfile_read must not be
 * copied (the file is mail_owner's; the walker may run as root)
 */
static void
tq_trail_changed(void)
{
	struct qfile_writer w;
	struct qfile_msg m;
	struct tq_trail tr;
	char	 path[64], err[256];
	unsigned char *rec, *p;
	size_t	 len;
	int	 fd, n;

	T_EQ_INT(qfile_create(&w, "0000000000000H02", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "s@example.org");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	qfile_write_body(&w, "x\r\n", 3);
	T_EQ_INT(qfile_commit(&w), 0, "commit");
	qfile_path("0000000000000H02", 2, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND);
	T_EQ_INT(qfile_append_history(fd, 0, 1700000100, "4.4.1 a"), 0,
	    "H 0");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read");
	/* a D record as long as the largest H: 7 + 4103 bytes */
	len = 4 + 8 + 2 + QFILE_TEXT_MAX;
	rec = xcalloc(1, QFILE_HDR + len);
	p = rec + QFILE_HDR;
	p[4] = QFILE_ST_DELIVERED;
	p[5] = (unsigned char)((len - 7) >> 8);
	p[6] = (unsigned char)(len - 7);
	memset(p + 7, 'z', len - 7);
	n = qfile_encode_record(rec, QFILE_HDR + len, 'D', p, len);
	T_EQ_INT(n, (int)(QFILE_HDR + len), "encode the overlong D");
	/* replace the H in place: same offset, the size qfile_read saw */
	T_EQ_INT(ftruncate(fd, m.end_off), 0, "cut the H");
	T_EQ_INT(write(fd, rec, (size_t)n), n, "write the overlong D");
	m.valid_size = m.end_off + n;	/* as if read before the change */
	memset(&tr, 0, sizeof(tr));
	T_EQ_INT(qfile_trail_each(fd, &m, tq_trail_cb, &tr), -1,
	    "overlong D text refused by the walker");
	T_EQ_STR(tr.seen, "", "nothing reported");
	qfile_msg_free(&m);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "and the reader calls the file corrupt");
	free(rec);
	close(fd);
	unlink(path);
}

/* tq_collect_cb - gather the content into a buf */
static int
tq_collect_cb(void *arg, const void *p, size_t len)
{
	return buf_append(arg, p, len);
}

/*
 * tq_prepend - P records: written after the body, read in front of it;
 * nothing but E may follow; limits; a reader refuses them out of place
 */
static void
tq_prepend(void)
{
	struct qfile_writer w;
	struct qfile_msg m;
	struct buf c;
	char	 path[64], err[256], *big;
	unsigned char rec[64];
	int	 fd, n;

	T_EQ_INT(qfile_create(&w, "0000000000000P01", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "s@example.org");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	qfile_write_body(&w, "Subject: x\r\n\r\nbody\r\n", 20);
	T_EQ_INT(qfile_put_prepend(&w, "DKIM-Signature: a\r\n", 19), 0,
	    "first P");
	T_EQ_INT(qfile_put_prepend(&w, "DKIM-Signature: b\r\n", 19), 0,
	    "second P");
	T_OK(qfile_write_body(&w, "more", 4) == -1 && errno == EINVAL,
	    "no body after P");
	qfile_abort(&w);

	T_EQ_INT(qfile_create(&w, "0000000000000P02", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "s@example.org");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	qfile_write_body(&w, "Subject: x\r\n\r\nbody\r\n", 20);
	qfile_put_prepend(&w, "DKIM-Signature: a\r\n", 19);
	qfile_put_prepend(&w, "DKIM-Signature: b\r\n", 19);
	T_EQ_INT(qfile_commit(&w), 0, "commit with P records");
	qfile_path("0000000000000P02", 2, path, sizeof(path));
	fd = open(path, O_RDONLY);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "reads");
	T_EQ_INT(m.prepend_len, 38, "P bytes");
	T_EQ_INT(m.body_size, 20, "B bytes");
	T_EQ_INT(qfile_size(&m), 58, "content size");
	buf_init(&c, 1024);
	T_EQ_INT(qfile_body_each(fd, &m, tq_collect_cb, &c), 0, "streams");
	T_EQ_STR(buf_cstr(&c), "DKIM-Signature: a\r\nDKIM-Signature: b\r\n"
	    "Subject: x\r\n\r\nbody\r\n", "P lines first, then the body");
	buf_free(&c);
	qfile_msg_free(&m);
	close(fd);
	unlink(path);

	/* empty body: P straight after the recipients */
	T_EQ_INT(qfile_create(&w, "0000000000000P03", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	T_EQ_INT(qfile_put_prepend(&w, "X: y\r\n", 6), 0, "P, no body");
	T_EQ_INT(qfile_commit(&w), 0, "commit");
	qfile_path("0000000000000P03", 2, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "reads");
	buf_init(&c, 1024);
	T_EQ_INT(qfile_body_each(fd, &m, tq_collect_cb, &c), 0, "streams");
	T_EQ_STR(buf_cstr(&c), "X: y\r\n", "only the P line");
	buf_free(&c);
	qfile_msg_free(&m);
	/* a P after E is out of order: corrupt */
	n = qfile_encode_record(rec, sizeof(rec), 'P', "X: y\r\n", 6);
	T_EQ_INT(write(fd, rec, (size_t)n), n, "P after E");
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "P after E is corrupt");
	close(fd);
	unlink(path);

	/* limits: one record, all of them */
	big = xcalloc(1, QFILE_P_MAX + 2);
	memset(big, 'h', QFILE_P_MAX + 1);
	T_EQ_INT(qfile_create(&w, "0000000000000P04", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	T_OK(qfile_put_prepend(&w, big, QFILE_P_MAX + 1) == -1 &&
	    errno == EMSGSIZE, "P over QFILE_P_MAX refused");
	qfile_abort(&w);
	T_EQ_INT(qfile_create(&w, "0000000000000P05", 2), 0, "create");
	qfile_put_header(&w, 1700000000, 0, "");
	qfile_put_rcpt(&w, "a@example.org", "", 0);
	for (n = 0; n < QFILE_P_TOTAL / QFILE_P_MAX; n++)
		qfile_put_prepend(&w, big, QFILE_P_MAX);
	T_OK(qfile_put_prepend(&w, "X: y\r\n", 6) == -1 &&
	    errno == EMSGSIZE, "P over QFILE_P_TOTAL refused");
	qfile_abort(&w);
	T_EQ_INT(tq_count_files("incoming"), 0, "nothing left in incoming/");
	free(big);
}

/* tq_writer_fail - a write error is sticky and leaves no file behind */
static void
tq_writer_fail(void)
{
	struct qfile_writer w;
	unsigned char *big;
	int	 r;

	big = xcalloc(1, 3 * QFILE_CHUNK);
	T_EQ_INT(qfile_create(&w, "0123456789ABCDEH", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "");
	qfile_put_rcpt(&w, "a@x", NULL, 0);
	close(w.fd);		/* behind its back */
	r = qfile_write_body(&w, big, 3 * QFILE_CHUNK);
	T_OK(r == -1 && errno == EBADF, "body write fails with EBADF");
	T_OK(w.failed && w.err == EBADF, "failure recorded");
	errno = 0;
	T_OK(qfile_write_body(&w, "x", 1) == -1 && errno == EBADF,
	    "sticky: next write fails too");
	T_OK(qfile_put_rcpt(&w, "b@x", NULL, 0) == -1 && errno == EBADF,
	    "sticky: put_rcpt fails");
	w.fd = -1;		/* closed: never close a reused number */
	T_OK(qfile_commit(&w) == -1 && errno == EBADF, "commit fails, errno");
	T_EQ_INT(tq_count_files("incoming"), 0, "nothing left in incoming/");
	T_EQ_INT(tq_count_files("queue"), 0, "nothing in queue/");
	qfile_abort(&w);
	free(big);

	/* misuse is refused (sticky EINVAL) and the file removed */
	T_EQ_INT(qfile_create(&w, "0123456789ABCDEJ", 2), 0, "create");
	T_OK(qfile_put_rcpt(&w, "a@x", NULL, 0) == -1 && errno == EINVAL,
	    "rcpt before header");
	T_OK(qfile_commit(&w) == -1 && errno == EINVAL, "commit after misuse");
	T_EQ_INT(tq_count_files("incoming"), 0, "removed");

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEJ", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "");
	T_OK(qfile_commit(&w) == -1 && errno == EINVAL,
	    "commit without recipients");
	T_EQ_INT(tq_count_files("incoming"), 0, "removed");

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEJ", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "");
	qfile_put_rcpt(&w, "a@x", NULL, 0);
	T_OK(qfile_put_attr(&w, "x", "y", 1) == -1 && errno == EINVAL,
	    "attr after rcpt");
	qfile_abort(&w);

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEJ", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "");
	T_OK(qfile_put_attr(&w, "Bad", "y", 1) == -1 && errno == EINVAL,
	    "bad attr name");
	qfile_abort(&w);

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEJ", 2), 0, "create");
	T_OK(qfile_put_header(&w, 1, 1000000, "") == -1, "usec out of range");
	qfile_abort(&w);

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEJ", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "");
	{
		char	 big2[QFILE_ATTR_MAX];

		memset(big2, 'v', sizeof(big2));
		T_OK(qfile_put_attr(&w, "a", big2, QFILE_ATTR_MAX - 2) == 0,
		    "attr at the maximum");
		T_OK(qfile_put_attr(&w, "a", big2, QFILE_ATTR_MAX - 1) == -1,
		    "attr over the maximum");
	}
	qfile_abort(&w);
	T_EQ_INT(tq_count_files("incoming"), 0, "aborts removed everything");

	T_OK(qfile_create(&w, "0123456789abcdef", 2) == -1 && errno == EINVAL,
	    "invalid qid refused");
	qfile_abort(&w);
	T_OK(qfile_create(&w, TQ_QID, 5) == -1 && errno == EINVAL,
	    "depth 5 refused");
	qfile_abort(&w);
}

/* tq_paths - qfile_path */
static void
tq_paths(void)
{
	char	 p[64], small[10];

	T_EQ_INT(qfile_path(TQ_QID, 0, p, sizeof(p)), 0, "depth 0");
	T_EQ_STR(p, "queue/" TQ_QID, "depth 0 path");
	T_EQ_INT(qfile_path(TQ_QID, 1, p, sizeof(p)), 0, "depth 1");
	T_EQ_STR(p, "queue/F/" TQ_QID, "depth 1 path");
	T_EQ_INT(qfile_path(TQ_QID, 4, p, sizeof(p)), 0, "depth 4");
	T_EQ_STR(p, "queue/C/D/E/F/" TQ_QID, "depth 4 path");
	T_OK(qfile_path(TQ_QID, -1, p, sizeof(p)) == -1, "depth -1");
	T_OK(qfile_path("../etc/passwd", 2, p, sizeof(p)) == -1, "bad qid");
	T_OK(qfile_path(TQ_QID, 2, small, sizeof(small)) == -1 &&
	    errno == ENAMETOOLONG, "small buffer");
}

struct tq_stream {
	uint64_t	 off;
	size_t		 calls, maxchunk;
	int		 bad;
	size_t		 stop_after;
};

/* tq_stream_cb - check the 5 MB pattern as it streams by */
static int
tq_stream_cb(void *arg, const void *p, size_t len)
{
	struct tq_stream *s = arg;
	const unsigned char *c = p;
	size_t	 i;

	for (i = 0; i < len; i++, s->off++)
		if (c[i] != (unsigned char)(s->off * 31 + (s->off >> 13)))
			s->bad++;
	s->calls++;
	if (len > s->maxchunk)
		s->maxchunk = len;
	if (s->stop_after != 0 && s->calls == s->stop_after)
		return -1;
	return 0;
}

/* tq_stream - a 5 MB body, streamed in chunks */
static void
tq_stream(void)
{
	struct qfile_writer w;
	struct qfile_msg m;
	struct tq_stream s;
	unsigned char piece[10007];
	char	 path[64], err[256];
	uint64_t off = 0, total = 5 * 1024 * 1024 + 3;
	size_t	 i, n;
	int	 fd;

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEK", 2), 0, "create 5 MB");
	qfile_put_header(&w, 1, 0, "s@x");
	qfile_put_rcpt(&w, "a@x", NULL, 0);
	while (off < total) {
		n = total - off < sizeof(piece) ? (size_t)(total - off) :
		    sizeof(piece);
		for (i = 0; i < n; i++)
			piece[i] = (unsigned char)((off + i) * 31 +
			    ((off + i) >> 13));
		qfile_write_body(&w, piece, n);
		off += n;
	}
	T_EQ_INT(qfile_commit(&w), 0, "commit 5 MB");
	qfile_path("0123456789ABCDEK", 2, path, sizeof(path));
	fd = open(path, O_RDONLY);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read 5 MB");
	T_OK(m.body_size == total, "5 MB body size");
	memset(&s, 0, sizeof(s));
	T_EQ_INT(qfile_body_each(fd, &m, tq_stream_cb, &s), 0, "stream");
	T_OK(s.off == total && s.bad == 0, "every byte right");
	T_OK(s.maxchunk <= QFILE_CHUNK && s.calls >= total / QFILE_CHUNK,
	    "streamed in %zu chunks of at most %zu", s.calls, s.maxchunk);
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	T_EQ_INT(qfile_body_each(fd, &m, tq_stream_cb, &s), -1,
	    "callback stops the stream: -1");
	T_EQ_INT(s.calls, 3, "no call after the stop");
	/* the body changed under the reader: detected */
	m.body_size -= 1;
	memset(&s, 0, sizeof(s));
	T_OK(qfile_body_each(fd, &m, tq_stream_cb, &s) == -1 &&
	    errno == EBADMSG, "size mismatch is -1/EBADMSG");
	qfile_msg_free(&m);
	close(fd);
}

/* tq_limits - QFILE_MAX_RCPT in the writer and the reader */
static void
tq_limits(void)
{
	struct qfile_writer w;
	struct qfile_msg m;
	char	 path[64], err[256];
	uint32_t i;
	int	 fd, ok = 1;

	T_EQ_INT(qfile_create(&w, "0123456789ABCDEM", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "s@x");
	for (i = 0; i < QFILE_MAX_RCPT; i++)
		if (qfile_put_rcpt(&w, "r@example.org", NULL, 0) == -1)
			ok = 0;
	T_OK(ok, "QFILE_MAX_RCPT recipients accepted");
	T_OK(qfile_put_rcpt(&w, "r@x", NULL, 0) == -1 && errno == E2BIG,
	    "one more refused");
	qfile_abort(&w);

	/* a file at the limit, then an X pushing it over */
	T_EQ_INT(qfile_create(&w, "0123456789ABCDEM", 2), 0, "create");
	qfile_put_header(&w, 1, 0, "s@x");
	for (i = 0; i < QFILE_MAX_RCPT; i++)
		qfile_put_rcpt(&w, "r@example.org", NULL, 0);
	T_EQ_INT(qfile_commit(&w), 0, "commit at the limit");
	qfile_path("0123456789ABCDEM", 2, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_OK, "read");
	T_EQ_INT(m.nrcpt, QFILE_MAX_RCPT, "all recipients");
	qfile_msg_free(&m);
	qfile_append_rcpt(fd, "x@x", NULL, 0, 0);
	T_EQ_INT(qfile_read(fd, &m, err, sizeof(err)), QFILE_CORRUPT,
	    "over the limit");
	close(fd);
}

#ifdef YOUJU_FAILPOINTS
/* tq_failpoints - each commit failpoint fails the commit cleanly */
static void
tq_failpoints(void)
{
	static const char *points[] = { "qfile-before-fsync",
	    "qfile-before-rename", "qfile-after-rename" };
	struct qfile_writer w;
	char	 env[64], path[64];
	size_t	 i;

	for (i = 0; i < NELEM(points); i++) {
		snprintf(env, sizeof(env), "%s:fail", points[i]);
		setenv("YOUJU_FAILPOINT", env, 1);
		qfile_create(&w, "0123456789ABCDEN", 2);
		qfile_put_header(&w, 1, 0, "s@x");
		qfile_put_rcpt(&w, "a@x", NULL, 0);
		T_OK(qfile_commit(&w) == -1 && errno == EIO, "%s: EIO",
		    points[i]);
		qfile_path("0123456789ABCDEN", 2, path, sizeof(path));
		T_OK(access(path, F_OK) == -1 &&
		    access("incoming/0123456789ABCDEN", F_OK) == -1,
		    "%s: no file anywhere", points[i]);
		unsetenv("YOUJU_FAILPOINT");
	}
}
#endif

/* tq_rm - nftw callback removing the test tree */
static int
tq_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) == -1 ? -1 : 0;
}

int
main(void)
{
	char	 dir[] = "/tmp/test_qfile.XXXXXX";

	t_plan(324);
	if (mkdtemp(dir) == NULL || chdir(dir) == -1 ||
	    mkdir("incoming", 0700) == -1 || mkdir("c", 0700) == -1) {
		perror("setup");
		return 2;
	}
	tq_table();
	tq_prefixes();
	tq_paths();
	tq_writer_fail();
	tq_write_read();
	tq_appends();
	tq_history();
	tq_trail_changed();
	tq_prepend();
	tq_stream();
	tq_limits();
#ifdef YOUJU_FAILPOINTS
	tq_failpoints();
#endif
	if (getenv("TEST_KEEP") == NULL)
		(void)nftw(dir, tq_rm, 16, FTW_DEPTH | FTW_PHYS);
	return t_done();
}
