/*
 * util.c - memory, safe I/O, string, descriptor and time helpers, and the
 * bounded warning lists of the table files.
 */
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* util_oom - out of memory is fatal */
static void
util_oom(void)
{
	static const char msg[] = "youju: out of memory\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

/* xmalloc - malloc or abort */
void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		util_oom();
	return p;
}

/* xcalloc - calloc or abort */
void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		util_oom();
	return p;
}

/* xrealloc - realloc or abort */
void *
xrealloc(void *old, size_t n)
{
	void	*p;

	if ((p = realloc(old, n == 0 ? 1 : n)) == NULL)
		util_oom();
	return p;
}

/* xreallocarray - realloc of n elements of sz bytes, overflow-checked */
void *
xreallocarray(void *old, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		util_oom();
	return xrealloc(old, n * sz);
}

/* xstrdup - strdup or abort */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most n bytes into a new string */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* util_read_full - read exactly n bytes; returns bytes read (short at EOF) */
ssize_t
util_read_full(int fd, void *buf, size_t n)
{
	size_t	 got = 0;
	ssize_t	 r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* util_write_full - write all n bytes */
int
util_write_full(int fd, const void *buf, size_t n)
{
	size_t	 done = 0;
	ssize_t	 r;

	while (done < n) {
		r = write(fd, (const char *)buf + done, n - done);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* util_fsync_dir - fsync a directory so a rename in it is durable */
int
util_fsync_dir(const char *path)
{
	int	 fd, r, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* util_set_nonblock - switch O_NONBLOCK on or off */
int
util_set_nonblock(int fd, int on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/* util_set_cloexec - switch FD_CLOEXEC on or off */
int
util_set_cloexec(int fd, int on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl);
}

/* util_path_clean - 1: an absolute path with no "." or ".." component */
int
util_path_clean(const char *path)
{
	const char *p;
	size_t	 len;

	if (path == NULL || path[0] != '/')
		return 0;
	for (p = path; *p != '\0'; p += len) {
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
	}
	return 1;
}

/* util_mkdir_p - create a directory and its parents (existing ones are ok) */
int
util_mkdir_p(const char *path, mode_t mode)
{
	char	 tmp[PATH_MAX];
	char	*p;
	size_t	 len;

	len = util_strlcpy(tmp, path, sizeof(tmp));
	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * util_read_path - util_read_regular of the file path (opened read-only,
 * no controlling tty); *opened says whether open succeeded, so that the
 * caller can tell "cannot open" from "cannot read"
 */
char *
util_read_path(const char *path, size_t max, size_t *len, int *opened)
{
	int	 fd;

	*opened = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return NULL;
	*opened = 1;
	return util_read_regular(fd, max, len);
}

/*
 * util_line - the line at *p (before end) without its LF or CR LF: its
 * start, its length in *len, and *p past it; NULL at the end
 */
const char *
util_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		nl = end;
	*len = (size_t)(nl - s);
	if (*len > 0 && s[*len - 1] == '\r')
		(*len)--;
	*p = nl + (nl < end);
	return s;
}

/*
 * util_read_regular - the whole of the regular file open on fd, of at most
 * max bytes, and close fd: malloc'ed (with room for one more byte), its
 * length in *len.  NULL with errno EINVAL when it is not a regular file,
 * EFBIG when it is larger than max, else the errno of fstat or read.
 */
char *
util_read_regular(int fd, size_t max, size_t *len)
{
	struct stat st;
	char	*data = NULL;
	ssize_t	 got;
	int	 saved;

	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
		errno = EFBIG;
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	if ((got = util_read_full(fd, data, (size_t)st.st_size)) == -1) {
		free(data);
		data = NULL;
		goto out;
	}
	*len = (size_t)got;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return data;
}

/* util_fmt - formatted text that must fit: -1 with ENAMETOOLONG if not */
int
util_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* util_strlcpy - BSD strlcpy: copy with truncation, return strlen(src) */
size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	 len = strlen(src);

	if (size > 0) {
		size_t n = len >= size ? size - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* util_strlcat - BSD strlcat */
size_t
util_strlcat(char *dst, const char *src, size_t size)
{
	size_t	 dlen = strnlen(dst, size);

	if (dlen == size)
		return size + strlen(src);
	return dlen + util_strlcpy(dst + dlen, src, size - dlen);
}

/* util_tolower_ascii - ASCII lowercase of one character (no locale) */
int
util_tolower_ascii(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 'a' - 'A' : c;
}

/* util_strcasecmp_ascii - locale-independent case-insensitive compare */
int
util_strcasecmp_ascii(const char *a, const char *b)
{
	return util_strncasecmp_ascii(a, b, SIZE_MAX);
}

/*
 * util_strncasecmp_ascii - compare at most n bytes ignoring ASCII case (no
 * locale): 0 when equal, else the difference of the first folded bytes
 * that differ, as strncasecmp.
 */
int
util_strncasecmp_ascii(const char *a, const char *b, size_t n)
{
	size_t	 i;
	int	 ca, cb;

	for (i = 0; i < n; i++) {
		ca = util_tolower_ascii((unsigned char)a[i]);
		cb = util_tolower_ascii((unsigned char)b[i]);
		if (ca != cb || ca == '\0')
			return ca - cb;
	}
	return 0;
}

/* util_lowercase - ASCII lowercase in place */
void
util_lowercase(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/* util_hash - see util.h */
unsigned
util_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* util_strv_free - see util.h */
void
util_strv_free(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* util_warn_add - see util.h */
void
util_warn_add(char ***warn, size_t *nwarn, size_t max, const char *path,
    int line, const char *fmt, va_list ap)
{
	char	 msg[512], full[1024];

	if (*nwarn > max)
		return;
	if (*nwarn == max)
		snprintf(full, sizeof(full), "%s: too many warnings, "
		    "the rest are not shown", path);
	else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		snprintf(full, sizeof(full), "%s:%d: %s", path, line, msg);
	}
	*warn = xreallocarray(*warn, *nwarn + 1, sizeof(**warn));
	(*warn)[(*nwarn)++] = xstrdup(full);
}

/* util_parse_ll - strict decimal integer in [min, max]; 0 ok, -1 bad */
int
util_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char	*end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* util_put_be - store v as n big-endian bytes */
void
util_put_be(unsigned char *p, uint64_t v, int n)
{
	int	 i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* util_get_be - load n big-endian bytes */
uint64_t
util_get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* util_mono_ms - CLOCK_MONOTONIC in milliseconds */
uint64_t
util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* util_trim - strip leading and trailing white space in place */
char *
util_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

#ifdef YOUJU_FAILPOINTS
/* util_failpoint - see util.h */
int
util_failpoint(const char *name)
{
	static int hits;
	const char *env, *colon;
	char	 action[16];
	long long count = 0;
	size_t	 nlen;

	if ((env = getenv("YOUJU_FAILPOINT")) == NULL)
		return 0;
	nlen = strlen(name);
	if (strncmp(env, name, nlen) != 0 || env[nlen] != ':')
		return 0;
	env += nlen + 1;
	colon = strchr(env, ':');
	util_strlcpy(action, env, sizeof(action));
	if (colon != NULL) {
		if ((size_t)(colon - env) < sizeof(action))
			action[colon - env] = '\0';
		(void)util_parse_ll(colon + 1, 1, 1000000000, &count);
	}
	hits++;
	if (count != 0 && hits != count)
		return 0;
	if (strcmp(action, "crash") == 0)
		kill(getpid(), SIGKILL);
	return strcmp(action, "fail") == 0;
}
#endif
