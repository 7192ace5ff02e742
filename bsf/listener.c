/* listener.c - see listener.h. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"

#define BACKLOG 1024
#define BUSY_PAUSE_NS 10000000L   /* out of descriptors: wait 10 ms, then try again */

struct listener {
	int fd;
	unsigned port;
	atomic_int stopping;
	pthread_t thread;
	listener_accept_fn *fn;
	void *arg;
	const struct gba_log *log;
};

/*
 * accept() failed.  0: try again (after a pause when the process is out
 * of descriptors or memory, so as not to spin); -1: the socket was shut
 * down, or something is badly wrong: stop.
 */
static int accept_failed(struct listener *l, int err)
{
	static const struct timespec pause = { 0, BUSY_PAUSE_NS };

	if (atomic_load(&l->stopping))
		return -1;
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EAGAIN:
	case EPROTO:
		return 0;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		gba_log_msg(l->log, GBA_LOG_WARN, "ub: cannot accept a connection: %s",
			    strerror(err));
		nanosleep(&pause, NULL);
		return 0;
	default:
		gba_log_msg(l->log, GBA_LOG_ERROR, "ub: accept: %s; no new connections",
			    strerror(err));
		return -1;
	}
}

static void *accept_loop(void *arg)
{
	struct listener *l = arg;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &len,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0)
			l->fn(l->arg, fd, (struct sockaddr *)&peer, len);
		else if (accept_failed(l, errno))
			return NULL;
	}
}

/* socket, SO_REUSEADDR (a restart need not wait for TIME_WAIT), bind, listen. */
static int open_socket(struct listener *l, const struct sockaddr *addr, socklen_t addr_len,
		       char *err, size_t err_size)
{
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	const int on = 1;

	l->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    (addr->sa_family == AF_INET6 &&
	     setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on))) ||
	    bind(l->fd, addr, addr_len) || listen(l->fd, BACKLOG) ||
	    getsockname(l->fd, (struct sockaddr *)&bound, &len)) {
		snprintf(err, err_size, "%s", strerror(errno));
		return -1;
	}
	l->port = ntohs(bound.ss_family == AF_INET6 ?
				((struct sockaddr_in6 *)&bound)->sin6_port :
				((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

int listener_start(struct listener **out, const struct sockaddr *addr, socklen_t addr_len,
		   listener_accept_fn *fn, void *arg, const struct gba_log *log, char *err,
		   size_t err_size)
{
	struct listener *l = calloc(1, sizeof(*l));
	int rc;

	if (!l) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	l->fn = fn;
	l->arg = arg;
	l->log = log;
	atomic_init(&l->stopping, 0);
	if (open_socket(l, addr, addr_len, err, err_size)) {
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return -1;
	}
	rc = pthread_create(&l->thread, NULL, accept_loop, l);
	if (rc) {
		snprintf(err, err_size, "cannot start the accepting thread: %s", strerror(rc));
		close(l->fd);
		free(l);
		return -1;
	}
	*out = l;
	return 0;
}

unsigned listener_port(const struct listener *l)
{
	return l->port;
}

void listener_stop(struct listener *l)
{
	if (!l)
		return;
	atomic_store(&l->stopping, 1);
	/* Wakes the thread's accept() (EINVAL), which then sees stopping. */
	shutdown(l->fd, SHUT_RDWR);
	pthread_join(l->thread, NULL);
	close(l->fd);
	free(l);
}
