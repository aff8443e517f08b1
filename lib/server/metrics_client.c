/*
 * metrics_client.c - a process's reports to anvil (see metrics_client.h).
 *
 * One set and one connection per process: the reports are the process's,
 * whichever part of it counts.  Errors are logged once per outage (anvil
 * away); a series that does not fit the set is dropped with one warning.
 */
#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "cfg.h"
#include "ipc.h"
#include "ipc_client.h"
#include "log.h"
#include "metrics_client.h"

#define METRICS_CLIENT_TICK_MS	1000

static struct {
	int		 on;
	struct ipc_client *c;
	struct event	*ev;
	struct metrics	 set;
	void		(*tick)(void);
	int		 away;		/* the last report failed (logged) */
	int		 full;		/* the set was full (logged) */
} mc;

/* metrics_client_full - a series did not fit: say so once */
static void
metrics_client_full(int r, uint32_t id)
{
	if (r == 0 || mc.full)
		return;
	mc.full = 1;
	log_warn("metrics: %s: %s; further series are not reported",
	    metrics_defs[id < METRIC_MAX ? id : 0].name, errno == ENOSPC ?
	    "too many series" : "invalid label");
}

/* metrics_client_count - see metrics_client.h */
void
metrics_client_count(uint32_t id, const char *l0, const char *l1, uint64_t n)
{
	if (mc.on)
		metrics_client_full(metrics_add(&mc.set, id, l0, l1, n), id);
}

/* metrics_client_gauge - see metrics_client.h */
void
metrics_client_gauge(uint32_t id, const char *l0, const char *l1, uint64_t v)
{
	if (mc.on)
		metrics_client_full(metrics_set(&mc.set, id, l0, l1, v), id);
}

/* metrics_client_active - see metrics_client.h */
int
metrics_client_active(void)
{
	return mc.on;
}

/* metrics_client_flush - see metrics_client.h */
void
metrics_client_flush(void)
{
	struct ipc_out o;
	int	 r;

	if (!mc.on)
		return;
	if (!ipc_client_connected(mc.c))
		metrics_resend(&mc.set);
	ipc_out_init(&o);
	if (metrics_encode(&mc.set, &o) == 0) {
		ipc_out_free(&o);
		return;
	}
	r = ipc_client_send(mc.c, IPC_METRICS, &o, NULL, 0, 0, NULL);
	ipc_out_free(&o);
	if (r == 0) {
		metrics_sent(&mc.set);
		mc.away = 0;
	} else if (!mc.away) {
		mc.away = 1;
		log_warn("metrics: cannot report to anvil: %s; trying again",
		    strerror(errno));
	}
}

/* metrics_client_tick - once a second: the process's gauges, a report */
static void
metrics_client_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (mc.tick != NULL)
		mc.tick();
	metrics_client_flush();
}

/* metrics_client_start - see metrics_client.h */
void
metrics_client_start(struct event_base *base, const struct cfg *cfg,
    const char *path, unsigned role, void (*tick)(void))
{
	struct timeval tv = { METRICS_CLIENT_TICK_MS / 1000,
	    (METRICS_CLIENT_TICK_MS % 1000) * 1000 };

	if (mc.on || *cfg_str(cfg, "metrics_listen") == '\0')
		return;
	metrics_init(&mc.set, METRICS_PRODUCER_MAX);
	mc.c = ipc_client_new(base, path, role, IPC_R_ANVIL, "anvil");
	mc.tick = tick;
	mc.ev = event_new(base, -1, EV_PERSIST, metrics_client_tick, NULL);
	if (mc.ev == NULL || event_add(mc.ev, &tv) == -1)
		log_fatal("metrics: cannot make a timer");
	mc.on = 1;
}
