/*
 * fuzz.h - helpers shared by the libFuzzer targets in tests/fuzz.
 *
 * Interface: a struct fz is a cursor over the fuzzer's input; fz_u8 ..
 * fz_str take bytes from the front and return zeros / empty strings once
 * the input is used up (a target never needs to check lengths itself).
 * FZ_CHECK() is the property check: a broken property aborts with the
 * failed condition, so libFuzzer keeps the input as a crash.
 *
 * Errors: none; the allocators abort on out-of-memory.
 */
#ifndef YOUJU_FUZZ_H
#define YOUJU_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property broken: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * fz_trace - with FUZZ_TRACE set in the environment, say what a target did
 * with an input (to check that seed files reach the paths they are for):
 *	FUZZ_TRACE=1 .build/fuzz/fuzz_qfile tests/fuzz/corpus/qfile/ *
 */
static inline void __attribute__((format(printf, 1, 2)))
fz_trace(const char *fmt, ...)
{
	static int on = -1;
	va_list	 ap;

	if (on == -1)
		on = getenv("FUZZ_TRACE") != NULL;
	if (!on)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct fz {
	const uint8_t	*p;
	size_t		 n;
};

/* fz_init - cursor over data[0..size) */
static inline void
fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	f->p = data;
	f->n = size;
}

/* fz_u8 - next byte, 0 at the end */
static inline unsigned
fz_u8(struct fz *f)
{
	unsigned v;

	if (f->n == 0)
		return 0;
	v = f->p[0];
	f->p++;
	f->n--;
	return v;
}

/* fz_u16 - next two bytes, big endian */
static inline unsigned
fz_u16(struct fz *f)
{
	unsigned v = fz_u8(f) << 8;

	return v | fz_u8(f);
}

/* fz_u32 - next four bytes, big endian */
static inline uint32_t
fz_u32(struct fz *f)
{
	uint32_t v = (uint32_t)fz_u16(f) << 16;

	return v | fz_u16(f);
}

/* fz_u64 - next eight bytes, big endian */
static inline uint64_t
fz_u64(struct fz *f)
{
	uint64_t v = (uint64_t)fz_u32(f) << 32;

	return v | fz_u32(f);
}

/* fz_bytes - up to len next bytes (fewer at the end); *got says how many */
static inline const uint8_t *
fz_bytes(struct fz *f, size_t len, size_t *got)
{
	const uint8_t *p = f->p;

	if (len > f->n)
		len = f->n;
	f->p += len;
	f->n -= len;
	*got = len;
	return p;
}

/* fz_memdup - exact-size heap copy (ASan sees a read one byte past it) */
static inline void *
fz_memdup(const void *p, size_t len)
{
	void	*d = malloc(len == 0 ? 1 : len);

	if (d == NULL)
		abort();
	if (len > 0)
		memcpy(d, p, len);
	return d;
}

/* fz_cstr - NUL-terminated heap copy of len bytes (may hold NULs) */
static inline char *
fz_cstr(const void *p, size_t len)
{
	char	*s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/*
 * fz_str - a string of the next u8 (or u16 with wide) length bytes, cut
 * at the first NUL: what a C API can be given.  Free it.
 */
static inline char *
fz_str(struct fz *f, int wide)
{
	const uint8_t *p;
	size_t	 len, got;
	char	*s;

	len = wide ? fz_u16(f) : fz_u8(f);
	p = fz_bytes(f, len, &got);
	s = fz_cstr(p, got);
	return s;
}

#endif
