/*
 * mailctl.h - shared between mailctl's command files.
 */
#ifndef YOUJU_MAILCTL_H
#define YOUJU_MAILCTL_H

#include <stdio.h>

#include "buf.h"

struct cfg;

/*
 * mailctl_request - one control request to master on its socket (path):
 * master's status (0 ok) with its text appended to out, or -1 when master
 * is not running or the exchange failed.
 */
int	 mailctl_request(const char *, const char *, struct buf *);
/*
 * mailctl_call - a request with arguments to the daemon (IPC_R_* peer) on
 * a control socket; the answer may come in several frames (status
 * IPC_CTL_MORE until the last), written to stream as it comes or, when
 * stream is NULL, appended to out.  The final status, or -1 when the
 * daemon is not there or the exchange failed.
 */
int	 mailctl_call(const char *, unsigned, int, char **, FILE *,
	    struct buf *);
/*
 * mailctl_talk - the same on a connection that said HELLO (closed after);
 * warnings (IPC_CTL_WARN) go to stderr as they come
 */
int	 mailctl_talk(int, unsigned, int, char **, FILE *, struct buf *);
/* mailctl_errlines - text to stderr, each line as "mailctl: LINE" */
void	 mailctl_errlines(const void *, size_t);

/*
 * mailctl_reload_after - after a change to files the daemons read at start:
 * reload a running mail system ("youju: reloaded"), or say what happens
 * when it starts (stopped: "youju: the mail system is not running;
 * STOPPED").  1 when the reload failed ("mailctl: CHANGED but the reload
 * failed"), else 0.
 */
int	 mailctl_reload_after(const char *, const char *, const char *);

/*
 * mailctl_file_replace - new content for a file (mailctl_user.c): a tmp
 * file with the owner and mode of the old one (st; NULL: none), fsync,
 * rename, fsync of the directory; 0, or -1 (said on stderr)
 */
struct stat;
int	 mailctl_file_replace(const char *, const struct buf *,
	    const struct stat *);

/* mailctl_config_main - "mailctl config ..." (mailctl_config.c) */
int	 mailctl_config_main(const struct cfg *, int, char **);

/* mailctl_queue_main - "mailctl queue ..." (mailctl_queue.c) */
int	 mailctl_queue_main(const struct cfg *, const char *, int, char **);

/*
 * mailctl_queue_ask - one request to qmgr: on its control socket while
 * the mail system runs, else to a one-shot "qmgr -x"; the answer to
 * stream, or (NULL) into out.  The request's status, or -1 (said on
 * stderr: not root, qmgr not answering).
 */
int	 mailctl_queue_ask(const struct cfg *, const char *, int, char **,
	    FILE *, struct buf *);

/* mailctl_explain_main - "mailctl explain QUEUE_ID" (mailctl_explain.c) */
int	 mailctl_explain_main(const struct cfg *, const char *, int, char **);

/* mailctl_doctor_main - "mailctl doctor" (mailctl_doctor.c) */
struct cfcheck;
int	 mailctl_doctor_main(const struct cfg *, const char *,
	    const struct cfcheck *, int, char **);
/* mailctl_json_str - a JSON string of s on stdout (mailctl_dns.c) */
void	 mailctl_json_str(const char *);

/* mailctl_user_main - "mailctl user ..." (mailctl_user.c) */
int	 mailctl_user_main(const struct cfg *, const char *, int, char **);

/* mailctl_dkim_main - "mailctl dkim ..." (mailctl_dkim.c) */
int	 mailctl_dkim_main(const struct cfg *, const char *, int, char **);

/* mailctl_dns_main - "mailctl dns ..." (mailctl_dns.c) */
int	 mailctl_dns_main(const struct cfg *, const char *, int, char **);

/* mailctl_map_main - "mailctl map ..." (mailctl_map.c) */
int	 mailctl_map_main(const struct cfg *, int, char **);

#endif
