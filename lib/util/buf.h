/*
 * buf.h - growable byte buffer with a hard maximum.
 *
 * Interface: a struct buf is initialised with its limit; every append checks
 * for overflow of size_t and of the limit and fails with -1/ENOSPC instead of
 * growing past it (ENOMEM when malloc fails).  The data is always followed by
 * a NUL byte that is not counted in len, so buf_cstr() is cheap.
 */
#ifndef YOUJU_BUF_H
#define YOUJU_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
};

void	 buf_init(struct buf *, size_t);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
int	 buf_reserve(struct buf *, size_t);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_putc(struct buf *, int);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
const char *buf_cstr(struct buf *);
void	 buf_consume(struct buf *, size_t);
char	*buf_detach(struct buf *);

#endif
