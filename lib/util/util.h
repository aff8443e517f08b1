/*
 * util.h - small helpers every program uses: memory, safe I/O, strings,
 * descriptors, time, warning lists, failpoints.
 *
 * The x* allocators abort on out-of-memory (our own broken invariant: a
 * process that cannot allocate a few bytes cannot do its job safely).
 * I/O helpers retry on EINTR and return -1 with errno on failure.
 */
#ifndef YOUJU_UTIL_H
#define YOUJU_UTIL_H

#include <sys/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

ssize_t	 util_read_full(int, void *, size_t);
int	 util_write_full(int, const void *, size_t);
int	 util_fsync_dir(const char *);
int	 util_set_nonblock(int, int);
int	 util_set_cloexec(int, int);
int	 util_path_clean(const char *);
int	 util_mkdir_p(const char *, mode_t);
char	*util_read_regular(int, size_t, size_t *);	/* closes the fd */
char	*util_read_path(const char *, size_t, size_t *, int *);
const char *util_line(const char **, const char *, size_t *);

/* util_fmt - snprintf that fails (-1, ENAMETOOLONG) instead of truncating */
int	 util_fmt(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
size_t	 util_strlcpy(char *, const char *, size_t);
size_t	 util_strlcat(char *, const char *, size_t);
/* case rules of the ASCII letters only: no locale, bytes >= 0x80 as is */
int	 util_tolower_ascii(int);
int	 util_strcasecmp_ascii(const char *, const char *);
int	 util_strncasecmp_ascii(const char *, const char *, size_t);
void	 util_lowercase(char *);
int	 util_parse_ll(const char *, long long, long long, long long *);

/* util_put_be/util_get_be - n-byte big-endian integers (wire formats) */
void	 util_put_be(unsigned char *, uint64_t, int);
uint64_t util_get_be(const unsigned char *, int);

uint64_t util_mono_ms(void);
char	*util_trim(char *);

/* util_hash - FNV-1a of a string, for in-memory hash tables */
unsigned util_hash(const char *);

/* util_strv_free - free n strings and their array (NULL: nothing) */
void	 util_strv_free(char **, size_t);

/*
 * util_warn_add - append "path:line: message" to the list *warn of *nwarn
 * warnings, at most max of them and then one "path: too many warnings".
 */
void	 util_warn_add(char ***, size_t *, size_t, const char *, int,
	    const char *, va_list) __attribute__((format(printf, 6, 0)));

/*
 * Failpoints: in a build configured with --enable-failpoints, FAILPOINT("x")
 * returns nonzero when the environment variable YOUJU_FAILPOINT names "x"
 * with action "fail"; with action "crash" it kills the process with SIGKILL
 * on the spot.  YOUJU_FAILPOINT="name:action[:count]" (count: fire only on
 * the count-th hit).  In other builds it is the constant 0.
 */
#ifdef YOUJU_FAILPOINTS
int	 util_failpoint(const char *);
#define FAILPOINT(name)	util_failpoint(name)
#else
#define FAILPOINT(name)	0
#endif

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#endif
