/*
 * log.c - Postfix-style logging to syslog, stderr and maillog_file.
 *
 * Each line is formatted once and written with one write(2) per sink, so
 * lines from many processes appending to one maillog_file never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX	2048

static char	 log_name[64] = "youju";
static char	 log_host[128];
static int	 log_flags = LOG_TO_STDERR;
static int	 log_fd = -1;
static int	 log_debug_on;

/* log_open - choose sinks; call before chroot */
void
log_open(const char *name, int flags, const char *maillog_file)
{
	log_set_name(name);
	log_flags = flags;
	if (gethostname(log_host, sizeof(log_host)) == -1)
		util_strlcpy(log_host, "localhost", sizeof(log_host));
	log_host[sizeof(log_host) - 1] = '\0';
	if (flags & LOG_TO_SYSLOG)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
	if (log_fd != -1) {
		close(log_fd);
		log_fd = -1;
	}
	if (maillog_file != NULL && *maillog_file != '\0') {
		log_fd = open(maillog_file,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (log_fd == -1)
			fprintf(stderr, "%s: cannot open maillog_file %s: %s\n",
			    log_name, maillog_file, strerror(errno));
	}
}

/* log_set_name - the syslog_name shown in each line */
void
log_set_name(const char *name)
{
	util_strlcpy(log_name, name, sizeof(log_name));
}

/* log_close - close the sinks */
void
log_close(void)
{
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	if (log_flags & LOG_TO_SYSLOG)
		closelog();
}

/* log_maillog_fd - the maillog_file descriptor, or -1 */
int
log_maillog_fd(void)
{
	return log_fd;
}

/* log_set_debug - turn debug lines on or off */
void
log_set_debug(int on)
{
	log_debug_on = on;
}

/* log_emit - format one line and send it to every sink */
static void
log_emit(int prio, const char *level, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 256];
	char	 stamp[32];
	struct tm tm;
	time_t	 now;
	int	 n;
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_flags & LOG_TO_SYSLOG) {
		if (level[0] != '\0')
			syslog(prio, "%s: %s", level, msg);
		else
			syslog(prio, "%s", msg);
	}
	if ((log_flags & LOG_TO_STDERR) || log_fd != -1) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s%s\n",
		    stamp, log_host, log_name, (long)getpid(), level,
		    level[0] != '\0' ? ": " : "", msg);
		if (n < 0)
			n = 0;
		if ((size_t)n >= sizeof(line)) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (log_flags & LOG_TO_STDERR)
			(void)!write(2, line, (size_t)n);
		if (log_fd != -1)
			(void)!write(log_fd, line, (size_t)n);
	}
	errno = saved;
}

/* log_info - an ordinary event */
void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

/* log_warn - something is wrong but the process goes on */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

/* log_err - an operation failed */
void
log_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "error", fmt, ap);
	va_end(ap);
}

/* log_fatal - our own invariant is broken: log and exit */
void
log_fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

/* log_debug - verbose detail, only when enabled */
void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "debug", fmt, ap);
	va_end(ap);
}

/* log_escape - printable, bounded copy of untrusted bytes */
const char *
log_escape(char *dst, size_t dstlen, const void *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t	 i, o = 0;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			if (c == '\\') {
				dst[o++] = '\\';
				continue;
			}
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

/* log_str - escape a C string into one of 4 rotating static buffers */
const char *
log_str(const char *s)
{
	static char bufs[4][512];
	static int next;
	char	*b;

	if (s == NULL)
		return "";
	b = bufs[next];
	next = (next + 1) % 4;
	return log_escape(b, sizeof(bufs[0]), s, strlen(s));
}
