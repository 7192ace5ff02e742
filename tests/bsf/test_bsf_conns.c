/*
 * test_bsf_conns.c - the Ub connection limits: counts per address (IPv4,
 * IPv6 by /64, many addresses coming and going) and ub_conns on real
 * sockets: at the limit the connection idle longest is shut down, a
 * touched one is spared, per-address refusals, and a handed socket that
 * never started blocks eviction but not for ever.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr_count.h"
#include "metrics.h"
#include "ub_conns.h"

static struct sockaddr_in v4(uint32_t host_order)
{
	struct sockaddr_in a = { 0 };

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(host_order);
	return a;
}

static struct addr_key key4(uint32_t host_order)
{
	struct sockaddr_in a = v4(host_order);
	struct addr_key k;

	addr_key_of(&k, (struct sockaddr *)&a);
	return k;
}

static void test_addr_count_limit(void **state)
{
	struct addr_count *m = addr_count_create();
	struct addr_key a = key4(0x7f000001), b = key4(0x7f000002);

	(void)state;
	assert_non_null(m);
	assert_int_equal(addr_count_add(m, &a, 2), 0);
	assert_int_equal(addr_count_add(m, &a, 2), 0);
	assert_int_equal(addr_count_add(m, &a, 2), 1);    /* at the limit */
	assert_int_equal(addr_count_add(m, &b, 2), 0);    /* another address is not */
	assert_int_equal(addr_count_get(m, &a), 2);
	addr_count_remove(m, &a);
	assert_int_equal(addr_count_add(m, &a, 2), 0);
	addr_count_remove(m, &a);
	addr_count_remove(m, &a);
	addr_count_remove(m, &a);                         /* below zero: ignored */
	assert_int_equal(addr_count_get(m, &a), 0);
	assert_int_equal(addr_count_get(m, &b), 1);
	addr_count_destroy(m);
}

/* Two IPv6 addresses of one /64 are one client; another /64 is another. */
static void test_addr_count_v6(void **state)
{
	struct sockaddr_in6 x = { 0 }, y = { 0 }, z = { 0 };
	struct addr_key kx, ky, kz;
	struct addr_count *m = addr_count_create();

	(void)state;
	x.sin6_family = y.sin6_family = z.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2::1", &x.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &y.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:3::1", &z.sin6_addr);
	addr_key_of(&kx, (struct sockaddr *)&x);
	addr_key_of(&ky, (struct sockaddr *)&y);
	addr_key_of(&kz, (struct sockaddr *)&z);
	assert_int_equal(addr_count_add(m, &kx, 1), 0);
	assert_int_equal(addr_count_add(m, &ky, 1), 1);
	assert_int_equal(addr_count_add(m, &kz, 1), 0);
	addr_count_destroy(m);
}

/*
 * Many addresses added and removed in an interleaved order (the table
 * grows and deletes shift entries back): every count stays exact.
 */
static void test_addr_count_churn(void **state)
{
	enum { N = 5000 };
	struct addr_count *m = addr_count_create();
	static unsigned expect[N];

	(void)state;
	memset(expect, 0, sizeof(expect));
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < N; i++) {
			struct addr_key k = key4(0x0a000000u + i * 7919u);
			unsigned times = (i + round) % 3;

			for (unsigned t = 0; t < times; t++, expect[i]++)
				assert_int_equal(addr_count_add(m, &k, 0), 0);
		}
		for (unsigned i = round; i < N; i += 2) {
			struct addr_key k = key4(0x0a000000u + i * 7919u);

			if (expect[i]) {
				addr_count_remove(m, &k);
				expect[i]--;
			}
		}
		for (unsigned i = 0; i < N; i++) {
			struct addr_key k = key4(0x0a000000u + i * 7919u);

			assert_int_equal(addr_count_get(m, &k), expect[i]);
		}
	}
	addr_count_destroy(m);
}

/* ---- ub_conns on socket pairs ------------------------------------------------- */

struct pair {
	int ours, peer;           /* ours goes to ub_conns, the peer sees what we do */
};

static struct pair new_pair(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	return (struct pair){ sv[0], sv[1] };
}

/* 1 when the peer sees the end of the stream (ours was shut down). */
static int shut(const struct pair *p)
{
	char c;
	ssize_t n = recv(p->peer, &c, 1, MSG_DONTWAIT);

	return n == 0;
}

static void close_pair(struct pair *p)
{
	close(p->ours);
	close(p->peer);
}

static void admit_started(struct ub_conns *c, struct pair *p, uint32_t addr)
{
	struct sockaddr_in a = v4(addr);

	assert_int_equal(ub_conns_admit(c, p->ours, (struct sockaddr *)&a), UB_ADMIT_OK);
	ub_conns_started(c, p->ours);
}

static void test_conns_evict_oldest(void **state)
{
	struct bsf_metrics m;
	struct ub_conns *c;
	struct pair p[4];

	(void)state;
	metrics_init(&m);
	c = ub_conns_create(3, 0, &m);
	assert_non_null(c);
	for (int i = 0; i < 4; i++)
		p[i] = new_pair();
	for (int i = 0; i < 3; i++)
		admit_started(c, &p[i], 0x7f000001);
	ub_conns_touch(c, p[0].ours);          /* p[0] began a request: p[1] is oldest */
	admit_started(c, &p[3], 0x7f000001);   /* at the limit: room is made */
	assert_false(shut(&p[0]));
	assert_true(shut(&p[1]));
	assert_false(shut(&p[2]));
	assert_false(shut(&p[3]));
	assert_int_equal(atomic_load(&m.ub_connections_evicted), 1);
	assert_int_equal(atomic_load(&m.ub_connections_open), 4); /* p[1] is closing */
	ub_conns_closed(c, p[1].ours);         /* its worker closed it */
	assert_int_equal(atomic_load(&m.ub_connections_open), 3);
	for (int i = 0; i < 4; i++)
		ub_conns_closed(c, p[i].ours);
	assert_int_equal(atomic_load(&m.ub_connections_open), 0);
	for (int i = 0; i < 4; i++)
		close_pair(&p[i]);
	ub_conns_destroy(c);
}

/*
 * ub.admission_limit 2: new connections count until their first answer
 * (or for UB_CONNS_FRESH_NS), requests from their start to their answer;
 * at the limit a new one is shed, and a request that begins over it is
 * reported so (its worker sheds a first request).
 */
static void test_conns_admission(void **state)
{
	const struct timespec fresh = { 0, (long)UB_CONNS_FRESH_NS + 20000000L };
	struct sockaddr_in a = v4(0x7f000001);
	struct bsf_metrics m;
	struct ub_conns *c;
	struct pair p[4];

	(void)state;
	metrics_init(&m);
	c = ub_conns_create(100, 0, &m);
	assert_non_null(c);
	ub_conns_set_admission_limit(c, 2);
	for (int i = 0; i < 4; i++)
		p[i] = new_pair();
	admit_started(c, &p[0], 0x7f000001);
	admit_started(c, &p[1], 0x7f000001);
	assert_int_equal(ub_conns_admit(c, p[2].ours, (struct sockaddr *)&a), UB_ADMIT_SHED);
	assert_int_equal(atomic_load(&m.ub_shed), 1);
	assert_int_equal(ub_conns_touch(c, p[0].ours), UB_LOAD_HIGH); /* 2 busy: at, not over */
	ub_conns_answered(c, p[0].ours);
	admit_started(c, &p[2], 0x7f000001);                 /* p[0] answered: room */
	nanosleep(&fresh, NULL);                             /* p[1], p[2] age out */
	assert_int_equal(ub_conns_touch(c, p[0].ours), UB_LOAD_HIGH); /* 1 busy: half */
	assert_int_equal(ub_conns_touch(c, p[1].ours), UB_LOAD_HIGH); /* 2 */
	assert_int_equal(ub_conns_touch(c, p[2].ours), UB_LOAD_OVER); /* 3: over */
	ub_conns_closed(c, p[1].ours);                       /* closing ends its request */
	ub_conns_answered(c, p[0].ours);
	assert_int_equal(ub_conns_touch(c, p[0].ours), UB_LOAD_HIGH); /* p[2], p[0]: 2 */
	ub_conns_set_admission_limit(c, 6);
	assert_int_equal(ub_conns_touch(c, p[0].ours), UB_LOAD_LOW);  /* 2 of 6 */
	ub_conns_set_admission_limit(c, 0);
	assert_int_equal(ub_conns_touch(c, p[0].ours), UB_LOAD_HIGH); /* no limit */
	ub_conns_set_admission_limit(c, 2);
	assert_int_equal(ub_conns_admit(c, p[3].ours, (struct sockaddr *)&a), UB_ADMIT_SHED);
	ub_conns_answered(c, p[2].ours);
	admit_started(c, &p[3], 0x7f000001);                 /* one answered: room again */
	assert_int_equal(atomic_load(&m.ub_shed), 2);
	for (int i = 0; i < 4; i++) {
		ub_conns_closed(c, p[i].ours);
		close_pair(&p[i]);
	}
	ub_conns_destroy(c);
}

static void test_conns_per_ip(void **state)
{
	struct sockaddr_in a = v4(0x7f000002), b = v4(0x7f000003);
	struct bsf_metrics m;
	struct ub_conns *c;
	struct pair p[3];

	(void)state;
	metrics_init(&m);
	c = ub_conns_create(100, 2, &m);
	for (int i = 0; i < 3; i++)
		p[i] = new_pair();
	assert_int_equal(ub_conns_admit(c, p[0].ours, (struct sockaddr *)&a), UB_ADMIT_OK);
	assert_int_equal(ub_conns_admit(c, p[1].ours, (struct sockaddr *)&a), UB_ADMIT_OK);
	assert_int_equal(ub_conns_admit(c, p[2].ours, (struct sockaddr *)&a), UB_ADMIT_PER_IP);
	assert_int_equal(ub_conns_admit(c, p[2].ours, (struct sockaddr *)&b), UB_ADMIT_OK);
	assert_int_equal(atomic_load(&m.ub_connections_refused_per_ip), 1);
	ub_conns_closed(c, p[0].ours);
	ub_conns_closed(c, p[2].ours);
	assert_int_equal(ub_conns_admit(c, p[2].ours, (struct sockaddr *)&a), UB_ADMIT_OK);
	assert_false(shut(&p[0]) || shut(&p[1]) || shut(&p[2]));
	for (int i = 0; i < 3; i++)
		close_pair(&p[i]);
	ub_conns_destroy(c);
}

/*
 * The oldest was handed to MHD but not started: it cannot be shut down
 * under MHD, so the new one is refused (and nothing is shut down).
 */
static void test_conns_handed_not_evicted(void **state)
{
	struct sockaddr_in a = v4(0x7f000001);
	struct bsf_metrics m;
	struct ub_conns *c;
	struct pair p[2];

	(void)state;
	metrics_init(&m);
	c = ub_conns_create(1, 0, &m);
	p[0] = new_pair();
	p[1] = new_pair();
	assert_int_equal(ub_conns_admit(c, p[0].ours, (struct sockaddr *)&a), UB_ADMIT_OK);
	assert_int_equal(ub_conns_admit(c, p[1].ours, (struct sockaddr *)&a), UB_ADMIT_FULL);
	assert_false(shut(&p[0]));
	assert_int_equal(atomic_load(&m.ub_connections_refused_full), 1);
	/* The number comes back from accept: the old entry is forgotten. */
	assert_int_equal(ub_conns_admit(c, p[0].ours, (struct sockaddr *)&a), UB_ADMIT_OK);
	assert_int_equal(atomic_load(&m.ub_connections_open), 1);
	close_pair(&p[0]);
	close_pair(&p[1]);
	ub_conns_destroy(c);
}

/* Socket numbers above the initial array: it grows. */
static void test_conns_high_fd(void **state)
{
	struct sockaddr_in a = v4(0x7f000001);
	struct bsf_metrics m;
	struct ub_conns *c;
	struct pair p = new_pair();
	int high = dup2(p.ours, 3000);

	(void)state;
	if (high < 0)
		skip();
	metrics_init(&m);
	c = ub_conns_create(10, 0, &m);
	assert_int_equal(ub_conns_admit(c, high, (struct sockaddr *)&a), UB_ADMIT_OK);
	ub_conns_started(c, high);
	ub_conns_touch(c, high);
	ub_conns_closed(c, high);
	assert_int_equal(atomic_load(&m.ub_connections_open), 0);
	close(high);
	close_pair(&p);
	ub_conns_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_count_limit),
		cmocka_unit_test(test_addr_count_v6),
		cmocka_unit_test(test_addr_count_churn),
		cmocka_unit_test(test_conns_evict_oldest),
		cmocka_unit_test(test_conns_per_ip),
		cmocka_unit_test(test_conns_admission),
		cmocka_unit_test(test_conns_handed_not_evicted),
		cmocka_unit_test(test_conns_high_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
