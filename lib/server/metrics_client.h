/*
 * metrics_client.h - a process's reports to anvil for metrics_listen.
 *
 * With metrics_listen empty (the default) nothing here does anything:
 * every call returns at once.  Otherwise the process keeps its series in
 * one bounded set (METRICS_PRODUCER_MAX), and once a second runs its tick
 * (to set gauges it computes, such as qmgr's queue sizes) and sends what
 * changed to anvil as one IPC_METRICS frame over its own connection
 * (lib/server/ipc_client; not the one smtpd's client limits use, so a report
 * never disturbs a count).  A report that cannot go now stays and goes
 * with the next; after a new connection every LEVEL series goes again, so
 * a restarted anvil learns the gauges and master's counters at once.
 */
#ifndef YOUJU_METRICS_CLIENT_H
#define YOUJU_METRICS_CLIENT_H

#include <stdint.h>

#include "metrics.h"

struct event_base;
struct cfg;

/*
 * metrics_client_start - report to the anvil socket at path (relative to
 * the working directory) as role; tick (or NULL) runs before each report
 */
void	 metrics_client_start(struct event_base *, const struct cfg *,
	    const char *, unsigned, void (*)(void));
/* metrics_client_count - a DELTA metric grows by n */
void	 metrics_client_count(uint32_t, const char *, const char *, uint64_t);
/* metrics_client_gauge - a LEVEL metric is now v */
void	 metrics_client_gauge(uint32_t, const char *, const char *, uint64_t);
/* metrics_client_active - is metrics_listen set (worth counting) */
int	 metrics_client_active(void);
/* metrics_client_flush - report now what changed (before an exit) */
void	 metrics_client_flush(void);

#endif
