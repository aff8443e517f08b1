/*
 * anvil.h - anvil's parts: the client counters (anvil.c) and the metrics
 * aggregator with its HTTP exposition (anvil_metrics.c).
 */
#ifndef YOUJU_ANVIL_H
#define YOUJU_ANVIL_H

struct event_base;
struct ipc_msg;
struct metrics;

/* anvil_metrics_serve - answer HTTP GET /metrics on the listening fd */
void	 anvil_metrics_serve(struct event_base *, int);
/*
 * anvil_metrics_report - an IPC_METRICS frame from a connection of role;
 * level is that connection's set (set up on first use).  -1: malformed,
 * drop the connection.
 */
int	 anvil_metrics_report(struct metrics *, unsigned,
	    const struct ipc_msg *);
/* anvil_metrics_forget - a connection closed: its LEVEL series go */
void	 anvil_metrics_forget(struct metrics *);

#endif
