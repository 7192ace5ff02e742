/*
 * test_ua_conn.c - gba-naf's Ua connection table (naf/daemon/ua_conn.c):
 * which connection the total and per-address limits evict, that a
 * connection serving a request is never evicted nor timed out, the
 * handshake, header and idle deadlines, and connections handed to the
 * HTTP server that it never started; and the [ua] keys that set them.
 * The sockets are socketpairs: a connection shut down by the table reads
 * end-of-stream at its peer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ua_conn.h"

#define MAX_SOCKS 32

struct sock {
	int fd, peer;
	struct ua_conn *c;
};

static struct sock socks[MAX_SOCKS];
static int nsocks;

/* A connection from ip at now, admitted and (unless pending) started. */
static struct sock *conn_from(struct ua_conns *t, const char *ip, int64_t now, int start)
{
	int sv[2];
	struct sockaddr_in a = { .sin_family = AF_INET };
	assert_true(nsocks < MAX_SOCKS);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	struct sock *s = &socks[nsocks++];
	s->fd = sv[0];
	s->peer = sv[1];
	s->c = ua_conns_admit(t, s->fd, (struct sockaddr *)&a, sizeof(a), now);
	if (s->c && start)
		assert_ptr_equal(ua_conns_started(t, s->fd), s->c);
	return s;
}

/* The table shut it down: its peer reads the end of the stream. */
static int was_shut(const struct sock *s)
{
	char b;
	return recv(s->peer, &b, 1, MSG_DONTWAIT) == 0;
}

static struct ua_conns *table(unsigned max, unsigned per_addr, int tls)
{
	struct ua_conns *t;
	struct ua_conn_limits lim = { .max_total = max, .max_per_addr = per_addr,
				      .handshake_ms = 1000, .header_ms = 2000, .tls = tls };
	assert_int_equal(ua_conns_new(&t, &lim), 0);
	nsocks = 0;
	return t;
}

/* As the HTTP server would: close what it started, then free the table. */
static void done(struct ua_conns *t)
{
	for (int i = 0; i < nsocks; i++) {
		if (socks[i].c)
			ua_conns_closed(socks[i].c);
		close(socks[i].fd);
		close(socks[i].peer);
	}
	ua_conns_free(t);
}

static void test_total_evicts_oldest_waiting(void **state)
{
	struct ua_conn_stats st;
	(void)state;
	struct ua_conns *t = table(3, 0, 0);
	struct sock *a = conn_from(t, "10.0.0.1", 0, 1);
	struct sock *b = conn_from(t, "10.0.0.2", 1, 1);
	struct sock *c = conn_from(t, "10.0.0.3", 2, 1);
	ua_conns_busy(a->c);
	ua_conns_idle(a->c, 3);      /* a finished a request */
	ua_conns_busy(b->c);         /* b is being served */
	/* Full: the oldest that never finished a request goes (c), not a or b. */
	struct sock *d = conn_from(t, "10.0.0.4", 4, 1);
	assert_non_null(d->c);
	assert_true(was_shut(c));
	assert_false(was_shut(a) || was_shut(b));
	struct sock *e = conn_from(t, "10.0.0.5", 5, 1);
	assert_true(was_shut(d));
	ua_conns_busy(e->c);
	/* Only a (idle between requests) is left to evict. */
	struct sock *f = conn_from(t, "10.0.0.6", 6, 1);
	assert_non_null(f->c);
	assert_true(was_shut(a));
	ua_conns_busy(f->c);
	/* All three serve requests: no room, the new one is refused. */
	assert_false(ua_conns_has_room(t));
	struct sock *g = conn_from(t, "10.0.0.7", 7, 1);
	assert_null(g->c);
	assert_false(was_shut(b) || was_shut(e) || was_shut(f));
	ua_conns_stats(t, &st);
	assert_int_equal(st.open, 3);
	assert_int_equal(st.accepted, 6);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(st.refused, 1);
	done(t);
}

static void test_per_address(void **state)
{
	struct ua_conn_stats st;
	(void)state;
	struct ua_conns *t = table(10, 2, 0);
	struct sock *x1 = conn_from(t, "192.0.2.1", 0, 1);
	struct sock *x2 = conn_from(t, "192.0.2.1", 1, 1);
	struct sock *y1 = conn_from(t, "192.0.2.2", 2, 1);
	/* Over its limit, an address loses its own oldest connection only. */
	struct sock *x3 = conn_from(t, "192.0.2.1", 3, 1);
	assert_non_null(x3->c);
	assert_true(was_shut(x1));
	assert_false(was_shut(x2) || was_shut(y1));
	ua_conns_busy(x2->c);
	ua_conns_busy(x3->c);
	/* Both of its connections busy: refused, though the total has room. */
	struct sock *x4 = conn_from(t, "192.0.2.1", 4, 1);
	assert_null(x4->c);
	struct sock *y2 = conn_from(t, "192.0.2.2", 5, 1);
	assert_non_null(y2->c);
	ua_conns_stats(t, &st);
	assert_int_equal(st.open, 4);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.refused, 1);
	done(t);
}

static void test_deadlines(void **state)
{
	struct ua_conn_stats st;
	(void)state;
	struct ua_conns *t = table(10, 0, 1);   /* TLS: handshake 1 s, header 2 s */
	struct sock *hs = conn_from(t, "10.0.0.1", 0, 1);
	struct sock *hdr = conn_from(t, "10.0.0.1", 0, 1);
	struct sock *busy = conn_from(t, "10.0.0.1", 0, 1);
	ua_conns_secured(hdr->c, 500);
	ua_conns_secured(busy->c, 100);
	ua_conns_busy(busy->c);
	assert_int_equal(ua_conns_sweep(t, 999), 0);
	assert_int_equal(ua_conns_sweep(t, 1000), 1);   /* no handshake in 1 s */
	assert_true(was_shut(hs));
	assert_int_equal(ua_conns_sweep(t, 2499), 0);
	assert_int_equal(ua_conns_sweep(t, 2500), 1);   /* no request 2 s after it */
	assert_true(was_shut(hdr));
	/* Served for as long as it takes; then idle, with the header deadline again. */
	assert_int_equal(ua_conns_sweep(t, 100000), 0);
	ua_conns_idle(busy->c, 100000);
	ua_conns_secured(busy->c, 100500);   /* no effect after the handshake */
	assert_int_equal(ua_conns_sweep(t, 101999), 0);
	assert_int_equal(ua_conns_sweep(t, 102000), 1);
	assert_true(was_shut(busy));
	ua_conns_stats(t, &st);
	assert_int_equal(st.timed_out, 3);
	assert_int_equal(st.open, 0);
	done(t);
}

static void test_not_started(void **state)
{
	struct ua_conn_stats st;
	(void)state;
	struct ua_conns *t = table(1, 0, 0);
	/* Handed to the HTTP server, not started yet: not evicted, not timed out. */
	struct sock *p = conn_from(t, "10.0.0.1", 0, 0);
	assert_false(ua_conns_has_room(t));
	assert_int_equal(ua_conns_sweep(t, 30000), 0);
	assert_false(was_shut(p));
	struct sock *q = conn_from(t, "10.0.0.2", 1, 0);
	assert_null(q->c);
	/* The HTTP server never started it (it dropped it): forgotten after a minute. */
	ua_conns_sweep(t, 60001);
	ua_conns_stats(t, &st);
	assert_int_equal(st.open, 0);
	assert_true(ua_conns_has_room(t));
	assert_null(ua_conns_started(t, p->fd));
	p->c = NULL;
	/* Refused by the HTTP server: forgotten at once. */
	struct sock *r = conn_from(t, "10.0.0.3", 60002, 0);
	assert_non_null(r->c);
	ua_conns_forget(t, r->c);
	r->c = NULL;
	ua_conns_stats(t, &st);
	assert_int_equal(st.open, 0);
	done(t);
}

/* A minimal valid configuration plus one --set; ncfg_finish's verdict. */
static int config_with(const char *set, struct naf_config *c)
{
	char err[256];
	const char *base[] = { "naf.fqdn=naf.example.org", "zn.identity=naf.example.org",
			       "zn.realm=example.org", "zn.bsf_identity=bsf.example.org",
			       "zn.bsf_address=127.0.0.1",
			       "zn.transport=tcp" /* no certificates needed for these checks */ };
	ncfg_defaults(c);
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		assert_int_equal(ncfg_set_arg(c, base[i], err, sizeof(err)), 0);
	if (set && ncfg_set_arg(c, set, err, sizeof(err)))
		return -1;
	return ncfg_finish(c, err, sizeof(err));
}

static void test_config_keys(void **state)
{
	struct naf_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_non_null(c);
	assert_int_equal(config_with(NULL, c), 0);
	assert_int_equal(c->threads, 4);
	assert_int_equal(c->max_connections, 4096);
	assert_int_equal(c->max_connections_per_ip, 256);
	assert_int_equal(c->handshake_timeout, 10);
	assert_int_equal(c->header_timeout, 10);
	assert_int_equal(config_with("ua.handshake_timeout=2s", c), 0);
	assert_int_equal(c->handshake_timeout, 2);
	assert_int_equal(config_with("ua.header_timeout=1m", c), 0);
	assert_int_equal(c->header_timeout, 60);
	assert_int_equal(config_with("ua.max_connections_per_ip=0", c), 0);
	assert_int_equal(config_with("ua.max_connections=600", c), 0);
	assert_int_equal(c->max_connections, 600);
	const char *bad[] = { "ua.threads=0", "ua.threads=65", "ua.max_connections=0",
			      "ua.handshake_timeout=0", "ua.header_timeout=2h",
			      "ua.header_timeout=soon", "ua.threads_max=256" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!config_with(bad[i], c))
			fail_msg("accepted %s", bad[i]);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_total_evicts_oldest_waiting),
		cmocka_unit_test(test_per_address),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_not_started),
		cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests_name("naf_ua_conn", tests, NULL, NULL);
}
