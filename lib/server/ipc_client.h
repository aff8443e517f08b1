/*
 * ipc_client.h - the client side of an event-driven process's connection
 * to an internal service (smtpd to qmgr, auth and anvil).
 *
 * One connection per service, made on first use (non-blocking connect and
 * HELLO; the peer's HELLO is checked when it comes) and made again after
 * it broke.  A request that wants an answer carries a u32 id in front of
 * its payload; the caller's struct ipc_pending (embedded in whatever
 * waits: a session) is on the connection's list until the answer with
 * that id and the expected type comes, its deadline passes, or the
 * connection breaks - then its done() runs exactly once: with the answer's
 * payload after the id (IPC_CLIENT_OK), or with NULL and the reason.  A
 * malformed answer (no id, another type than expected, or a payload its
 * done() refuses by returning -1) breaks the connection, and so every
 * request waiting on it fails (fail closed: the caller decides what a failure
 * means).  An answer whose request is gone (timed out, cancelled) is
 * dropped.  Each connection has its own timer, set for the nearest
 * deadline.  Nothing here blocks.
 */
#ifndef YOUJU_IPC_CLIENT_H
#define YOUJU_IPC_CLIENT_H

#include <stdint.h>

#include "ipc.h"

struct event_base;
struct ipc_client;

#define IPC_CLIENT_OK		0	/* the answer came */
#define IPC_CLIENT_TIMEOUT	1	/* no answer by the deadline */
#define IPC_CLIENT_GONE		2	/* the connection broke */

struct ipc_pending {
	uint32_t	 id;
	uint32_t	 reply;		/* the answer's IPC type */
	uint64_t	 deadline;	/* ms, monotonic */
	uint64_t	 wait_ms;	/* what the deadline was set from */
	/*
	 * in: the answer after its id (IPC_CLIENT_OK), else NULL; -1 when
	 * the answer is malformed (the connection is then closed)
	 */
	int		(*done)(struct ipc_pending *, int, struct ipc_in *);
	struct ipc_client *c;		/* NULL while not waiting */
	struct ipc_pending *next;
};

/* ipc_client_new - a client for the service at path (relative to cwd) */
struct ipc_client *ipc_client_new(struct event_base *, const char *,
	    unsigned, unsigned, const char *);
/*
 * ipc_client_send - send type with body's payload.  With p, the frame is
 * u32 id + payload and p waits (reply type, wait_ms, done); without, the
 * payload goes as it is and nothing waits.  0, or -1 with errno when the
 * service cannot be reached (p is then not waiting; the connection is
 * closed, failing everything else that waited on it).
 */
int	 ipc_client_send(struct ipc_client *, uint32_t, const struct ipc_out *,
	    struct ipc_pending *, uint32_t, uint64_t,
	    int (*)(struct ipc_pending *, int, struct ipc_in *));
/* ipc_client_cancel - p stops waiting (its done() will not run) */
void	 ipc_client_cancel(struct ipc_pending *);
/* ipc_client_waiting - is p waiting for an answer */
int	 ipc_client_waiting(const struct ipc_pending *);
/* ipc_client_connected - is the connection open now */
int	 ipc_client_connected(const struct ipc_client *);
/* ipc_client_free - close; everything waiting fails (IPC_CLIENT_GONE) */
void	 ipc_client_free(struct ipc_client *);

#endif
