/*
 * metrics.h - the counters and gauges behind metrics_listen.
 *
 * metrics_defs[] is the one table of what youju measures: for each metric
 * its Prometheus name (youju_ prefix, counters without the _total that
 * the exposition adds), its type, its label names (at most
 * METRICS_NLABEL), which processes may report it (IPC_R_* roles) and
 * how: a DELTA metric is reported as the increase since the last report,
 * and anvil adds it up (it survives the reporting process, not anvil); a
 * LEVEL metric is reported as its current value, and anvil keeps the last
 * value per reporting connection (a gauge, or a counter master keeps for
 * its whole life), dropped when that connection closes.
 *
 * A struct metrics is a bounded set of series (metric id + label values
 * + value).  Producers fill one with metrics_count/metrics_gauge and send
 * the series changed since the last report as one IPC_METRICS frame
 * (metrics_encode, metrics_sent); anvil decodes frames (metrics_decode:
 * the whole frame is checked before anything is taken) and renders the
 * Prometheus text or OpenMetrics exposition (metrics_render).
 *
 *	IPC_METRICS	u32 n (at most METRICS_PRODUCER_MAX) |
 *			n x (u32 metric id | str label 1 | str label 2 |
 *			u64 value)
 *
 * A label the metric does not have is empty; a label it has is 1 to
 * METRICS_LABEL_MAX bytes of [A-Za-z0-9._:/@+[]-], so nothing in an
 * exposition needs escaping.
 *
 * Errors: -1 with errno (EPROTO for a malformed frame, ENOSPC for a full
 * set, EINVAL for a bad label or metric); nothing here exits.
 */
#ifndef YOUJU_METRICS_H
#define YOUJU_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct ipc_in;
struct ipc_out;

#define METRICS_NLABEL		2
#define METRICS_LABEL_MAX	64
#define METRICS_PRODUCER_MAX	256	/* series of one process: one frame */
#define METRICS_TOTAL_MAX	4096	/* series anvil adds up */
#define METRICS_HOST_MAX	64	/* metrics_listen's address */

#define METRICS_COUNTER		0
#define METRICS_GAUGE		1

#define METRICS_DELTA		0
#define METRICS_LEVEL		1

enum metrics_id {
	METRIC_QUEUE_MESSAGES = 0,	/* qmgr: gauge {state} */
	METRIC_QUEUE_OLDEST,		/* qmgr: gauge, seconds */
	METRIC_RECEIVED,		/* smtpd: counter {service} */
	METRIC_DELIVERY,		/* qmgr: counter {transport, status} */
	METRIC_REPLIES,			/* smtpd: counter {class, reason} */
	METRIC_SESSIONS,		/* smtpd: counter {service, tls} */
	METRIC_SESSIONS_OPEN,		/* smtpd: gauge {service} */
	METRIC_RESTARTS,		/* master: counter {service, type} */
	METRIC_MAX
};

struct metrics_def {
	const char	*name;
	int		 type;		/* METRICS_COUNTER / _GAUGE */
	int		 report;	/* METRICS_DELTA / _LEVEL */
	unsigned	 senders;	/* IPC_R_* */
	const char	*label[METRICS_NLABEL];	/* NULL: no such label */
	const char	*help;
};

extern const struct metrics_def metrics_defs[METRIC_MAX];

struct metrics_series {
	uint32_t	 id;
	char		 label[METRICS_NLABEL][METRICS_LABEL_MAX + 1];
	uint64_t	 v;
	int		 dirty;		/* changed since the last report */
};

struct metrics {
	struct metrics_series *s;
	size_t		 n, cap, max;
};

void	 metrics_init(struct metrics *, size_t);
void	 metrics_free(struct metrics *);
/* metrics_add - the series' value += delta (saturating); made when new */
int	 metrics_add(struct metrics *, uint32_t, const char *, const char *,
	    uint64_t);
/* metrics_set - the series' value = v; made when new */
int	 metrics_set(struct metrics *, uint32_t, const char *, const char *,
	    uint64_t);

/* producer: the changed series into o (their count), then after the send */
size_t	 metrics_encode(const struct metrics *, struct ipc_out *);
/* metrics_sent - the frame went: DELTA series start again from 0 */
void	 metrics_sent(struct metrics *);
/* metrics_resend - a new connection: every LEVEL series goes again */
void	 metrics_resend(struct metrics *);

/*
 * metrics_decode - an IPC_METRICS frame from a process of role: DELTA
 * series are added to total, LEVEL series set in level.  -1 (EPROTO) and
 * nothing taken when any part is malformed or not the sender's to report.
 */
int	 metrics_decode(struct ipc_in *, unsigned, struct metrics *,
	    struct metrics *);
/*
 * metrics_render - the exposition of the sum of n sets: Prometheus text
 * format 0.0.4, or OpenMetrics 1.0 (ending in "# EOF") when openmetrics
 */
int	 metrics_render(struct buf *, const struct metrics *const *, size_t,
	    int);
/* metrics_content_type - the Content-Type of that exposition */
const char *metrics_content_type(int);
/* metrics_wants_openmetrics - does an Accept header ask for OpenMetrics */
int	 metrics_wants_openmetrics(const char *);

/*
 * metrics_smtp_reason - why smtpd gave a reply line: "none" for 2xx and
 * 3xx, else "relay_denied", "rbl", "auth_failed", "rate_limit", ... (the
 * table in metrics.c, matched on Postfix's reply texts)
 */
const char *metrics_smtp_reason(const char *);

/*
 * metrics_listen_parse - "127.0.0.1:9154", "[::1]:9154" or
 * "localhost:9154": the numeric host and the port.  Loopback only: -1
 * with the reason in err for another address or a malformed value.
 */
int	 metrics_listen_parse(const char *, char *, size_t, int *, char *,
	    size_t);

#endif
