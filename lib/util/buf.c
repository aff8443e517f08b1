/*
 * buf.c - growable byte buffer with a hard maximum.
 *
 * Errors: -1 with errno ENOSPC when the maximum would be exceeded, ENOMEM
 * when memory runs out.  A failed append leaves the buffer unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* buf_init - empty buffer that never holds more than max bytes */
void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* buf_free - release memory, leave an empty buffer with the same limit */
void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* buf_reset - forget the contents, keep the memory */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* buf_reserve - make room for extra more bytes (plus the NUL) */
int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, ncap;
	unsigned char *p;

	if (extra > b->max || b->len > b->max - extra) {
		errno = ENOSPC;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need) {
		if (ncap > ((size_t)-1) / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = realloc(b->data, ncap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (b->data == NULL)
		p[0] = '\0';
	b->data = p;
	b->cap = ncap;
	return 0;
}

/* buf_append - append len bytes */
int
buf_append(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

/* buf_putc - append one byte */
int
buf_putc(struct buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return buf_append(b, &ch, 1);
}

/* buf_puts - append a C string without its NUL */
int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* buf_vprintf - append formatted text */
int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	if (buf_reserve(b, (size_t)n) == -1)
		return -1;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

/* buf_printf - append formatted text */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* buf_cstr - the contents as a NUL-terminated string */
const char *
buf_cstr(struct buf *b)
{
	if (b->data == NULL)
		return "";
	return (const char *)b->data;
}

/* buf_consume - drop n bytes from the front */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* buf_detach - hand the NUL-terminated data to the caller, leave buf empty */
char *
buf_detach(struct buf *b)
{
	char	*p;

	if (b->data == NULL) {
		if (buf_reserve(b, 0) == -1)
			return NULL;
		b->data[0] = '\0';
	}
	p = (char *)b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
