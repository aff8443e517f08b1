/*
 * log.h - one line per event, to syslog (facility mail), to stderr, and/or
 * to maillog_file, in Postfix's format:
 *
 *	Nov 27 23:40:01 host youju/smtpd[1234]: 4QZ...: from=<a@b>, size=10
 *
 * log_open() is called before chroot: it connects to syslog (LOG_NDELAY)
 * and opens maillog_file (O_APPEND), so logging keeps working in a jail.
 * Untrusted text must go through log_escape() before it is logged.
 */
#ifndef YOUJU_LOG_H
#define YOUJU_LOG_H

#include <stddef.h>

#define LOG_TO_SYSLOG	0x01
#define LOG_TO_STDERR	0x02

void	 log_open(const char *, int, const char *);
void	 log_set_name(const char *);
void	 log_close(void);
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_set_debug(int);
int	 log_maillog_fd(void);

/* log_escape - printable copy of untrusted bytes (\xNN for the rest) */
const char *log_escape(char *, size_t, const void *, size_t);
/* convenience: escape a C string into a static rotating buffer */
const char *log_str(const char *);

#endif
