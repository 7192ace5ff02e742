/*
 * ub_conns.h - which Ub connections are open, so that the listener, not
 * libmicrohttpd, enforces ub.max_connections and
 * ub.max_connections_per_ip.
 *
 * Why: libmicrohttpd 0.9.75 deadlocks a worker that reaches its own
 * connection limit with connections added by MHD_add_connection (issue
 * 15).  The listener therefore admits a connection only while fewer than
 * max_connections are open, and gba-bsf gives MHD a limit it never
 * reaches.
 *
 * At the limit, the connection whose last request began longest ago (or
 * that never sent one) is closed to make room (shutdown(): its worker
 * sees the end of the stream and closes it), so that idle or slowloris
 * sockets cannot lock legitimate clients out until connection_timeout.
 * A connection is refused only when nothing can be closed: the oldest is
 * still being handed to its worker, or too many closes are under way.
 * Over max_connections_per_ip, a new connection from that address is
 * refused (the address's own are not closed for it).
 *
 * Admission (ub.admission_limit): a connection is busy from each
 * request's start to its answer, and a new one from its accept until its
 * first answer, or for UB_CONNS_FRESH_NS if it sends nothing complete by
 * then (idle and slowloris sockets must not lock clients out: issue 15).  While admission_limit connections are busy, a new one is not
 * admitted (UB_ADMIT_SHED): the listener answers it 503 with Retry-After
 * at once and closes it, so that a storm of new clients gets a fast "come
 * back later" instead of a queue that grows without bound.  Requests on
 * connections already admitted (a UE's answer to its 401) are always
 * served: they finish work begun.
 *
 * Connections are known by their socket number: MHD tells when it starts
 * and when it closes one (before close(), so a number in the table is
 * always the socket it names).  Thread-safe, one lock, O(1) per call.
 */
#ifndef GBA_BSF_UB_CONNS_H
#define GBA_BSF_UB_CONNS_H

#include <sys/socket.h>

#include "metrics.h"

/* How long a new connection that has begun no request counts as busy. */
#define UB_CONNS_FRESH_NS 200000000ull

/* Closes started but not yet finished by the workers, at most. */
#define UB_CONNS_CLOSING_MAX 64u

struct ub_conns;

enum ub_admit {
	UB_ADMIT_OK,          /* counted: hand it to MHD */
	UB_ADMIT_FULL,        /* at max_connections and nothing to close: refuse */
	UB_ADMIT_PER_IP,      /* its address is at max_connections_per_ip: refuse */
	UB_ADMIT_SHED,        /* admission_limit connections are busy: 503 at once */
};

/* NULL when out of memory.  metrics: the connection counters (borrowed). */
struct ub_conns *ub_conns_create(unsigned max, unsigned max_per_ip,
				 struct bsf_metrics *metrics);

/* Busy connections at most before new ones are shed (0: no limit). */
void ub_conns_set_admission_limit(struct ub_conns *c, unsigned limit);
void ub_conns_destroy(struct ub_conns *c);

/* A new socket from the listener (may close the oldest idle one). */
enum ub_admit ub_conns_admit(struct ub_conns *c, int fd, const struct sockaddr *peer);

/* MHD has taken fd into a worker (NOTIFY_STARTED). */
void ub_conns_started(struct ub_conns *c, int fd);

/* How busy the workers are when a request begins (ub_conns_touch). */
enum ub_load {
	UB_LOAD_LOW,    /* under half of admission_limit busy */
	UB_LOAD_HIGH,   /* half of it or more (always, without a limit) */
	UB_LOAD_OVER,   /* more than admission_limit */
};

/*
 * A request began on fd: it is the most recently active now.  Returns how
 * busy the workers are with it: the caller sheds a new bootstrap (a first
 * request) when UB_LOAD_OVER, and, when UB_LOAD_HIGH, one that waited
 * unread too long (ub.max_queue_wait_ms).
 */
enum ub_load ub_conns_touch(struct ub_conns *c, int fd);

/* fd's request was answered: it is idle until its next request begins. */
void ub_conns_answered(struct ub_conns *c, int fd);

/* fd is closed or about to be (NOTIFY_CLOSED, or MHD refused it). */
void ub_conns_closed(struct ub_conns *c, int fd);

#endif /* GBA_BSF_UB_CONNS_H */
