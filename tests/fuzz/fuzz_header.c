/*
 * fuzz_header.c - libFuzzer target for lib/mail/header: the header block of a
 * message a local user submits (header_line, header_finish, header_rcpt,
 * header_value) and the RFC 5322 address-list parser (header_addr_list),
 * which pickup(8) runs on what any local user sends.
 *
 * Input: byte 0 chooses the flags (bit 0: HEADER_F_EXTRACT) and, with
 * byte 1, the block's limit (64 .. 16447 bytes); the rest is the message,
 * cut into lines at LF (a CR before it is kept: header_line must take
 * any bytes).  The same bytes are also given whole to header_addr_list
 * with a small address limit.
 *
 * Properties checked (abort when broken):
 *  - header_line answers MORE, END, BODY or -1 (with a reason); after END,
 *    BODY or -1 the block takes no more lines;
 *  - the fields kept are non-empty, start with a field name, hold no NUL
 *    and no Bcc or Resent-Bcc field, and their bytes with a CR LF each
 *    stay within the limit;
 *  - "have" says From / Date / Message-ID exactly when such a field was
 *    kept;
 *  - the -t recipients are only there with HEADER_F_EXTRACT, at most
 *    HEADER_RCPT_MAX, each non-empty, at most HEADER_ADDR_MAX bytes, with
 *    no white space or control byte outside quotes;
 *  - header_addr_list never appends more than its limit, also on -1, and
 *    gives a reason exactly when it fails.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "header.h"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * fuzz_hd_addr - an address as the parser leaves it: white space and
 * control bytes only inside a quoted string or a domain literal (whose
 * bytes lib/mail/addr judges later)
 */
static void
fuzz_hd_addr(const char *a)
{
	size_t	 i, n = strlen(a);
	char	 close = 0;

	FZ_CHECK(n > 0 && n <= HEADER_ADDR_MAX);
	for (i = 0; i < n; i++) {
		if (close != 0 && a[i] == '\\' && i + 1 < n) {
			i++;	/* a quoted pair (outside quotes, a stray
				   backslash is an atom's byte) */
			continue;
		}
		if (close != 0) {
			if (a[i] == close)
				close = 0;
			continue;
		}
		if (a[i] == '"' || a[i] == '[')
			close = a[i] == '"' ? '"' : ']';
		else
			FZ_CHECK((unsigned char)a[i] > ' ' && a[i] != 0x7f);
	}
}

/* fuzz_hd_is - does the kept field f have this name */
static int
fuzz_hd_is(const char *f, const char *name)
{
	size_t	 n = header_name_len(f, strlen(f));

	return n == strlen(name) && strncasecmp(f, name, n) == 0;
}

/* fuzz_hd_block - the block properties */
static void
fuzz_hd_block(const struct header_block *h, size_t max, int flags)
{
	char	**v;
	size_t	 i, n, bytes = 0;
	unsigned have = 0;

	for (i = 0; i < h->nf; i++) {
		FZ_CHECK(h->f[i][0] != '\0');
		FZ_CHECK(header_name_len(h->f[i], strlen(h->f[i])) > 0);
		FZ_CHECK(!fuzz_hd_is(h->f[i], "bcc") &&
		    !fuzz_hd_is(h->f[i], "resent-bcc"));
		bytes += strlen(h->f[i]) + 2;
		if (fuzz_hd_is(h->f[i], "from"))
			have |= HEADER_HAVE_FROM;
		if (fuzz_hd_is(h->f[i], "date"))
			have |= HEADER_HAVE_DATE;
		if (fuzz_hd_is(h->f[i], "message-id"))
			have |= HEADER_HAVE_MSGID;
		(void)header_value(h, "subject");
	}
	FZ_CHECK(bytes <= max);
	FZ_CHECK(h->have == have);
	v = header_rcpt(h, &n);
	FZ_CHECK(n <= HEADER_RCPT_MAX);
	FZ_CHECK((flags & HEADER_F_EXTRACT) || n == 0);
	for (i = 0; i < n; i++)
		fuzz_hd_addr(v[i]);
}

/* fuzz_hd_lines - the message through header_line */
static void
fuzz_hd_lines(const char *p, size_t len, int flags, size_t max)
{
	struct header_block h;
	const char *nl;
	size_t	 n;
	int	 r = HEADER_MORE;

	header_init(&h, flags, max);
	while (len > 0 && r == HEADER_MORE) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		r = header_line(&h, p, n);
		FZ_CHECK(r == HEADER_MORE || r == HEADER_END ||
		    r == HEADER_BODY || r == -1);
		FZ_CHECK(r != -1 || h.err != NULL);
		n += nl != NULL;
		p += n;
		len -= n;
	}
	if (r == HEADER_MORE)
		r = header_finish(&h);
	else if (r != -1)
		FZ_CHECK(header_finish(&h) == 0);
	FZ_CHECK(r != -1 || h.err != NULL);
	if (r != -1) {
		FZ_CHECK(header_line(&h, "X: y", 4) == -1);
		fuzz_hd_block(&h, max, flags);
	}
	header_free(&h);
}

/* fuzz_hd_list - the bytes as one address list */
static void
fuzz_hd_list(const char *p, size_t len)
{
	char	**v = NULL;
	const char *why = NULL;
	size_t	 n = 0, i;
	int	 r;

	r = header_addr_list(p, len, &v, &n, 8, &why);
	FZ_CHECK(n <= 8);
	FZ_CHECK((r == -1) == (why != NULL));
	for (i = 0; i < n; i++) {
		if (r == 0)
			fuzz_hd_addr(v[i]);
		free(v[i]);
	}
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 flags;
	size_t	 max;
	char	*copy;

	if (size < 2)
		return 0;
	flags = data[0] & 1;
	max = 64 + (((size_t)(data[0] >> 1) << 8 | data[1]) & 0x3fff);
	copy = malloc(size - 2 + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 2, size - 2);
	copy[size - 2] = '\0';
	fuzz_hd_lines(copy, size - 2, flags, max);
	fuzz_hd_list(copy, size - 2);
	free(copy);
	return 0;
}
