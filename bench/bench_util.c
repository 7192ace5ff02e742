/* bench_util.c - see bench_util.h. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

uint16_t bench_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int bench_proc_cpu_times(pid_t pid, struct bench_cpu *out)
{
	char path[64], buf[1024], *p;
	unsigned long long utime = 0, stime = 0;
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	/* The name in parentheses may hold spaces: fields count from its ")".
	 * After ") " come state(3) ... utime(14), stime(15). */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &utime, &stime) != 2)
		return -1;
	out->user = (double)utime / hz;
	out->sys = (double)stime / hz;
	return 0;
}

double bench_proc_cpu(pid_t pid)
{
	struct bench_cpu c;

	return bench_proc_cpu_times(pid, &c) ? 0 : c.user + c.sys;
}

void bench_self_cpu_times(struct bench_cpu *out)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	out->user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	out->sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double bench_self_cpu(void)
{
	struct bench_cpu c;

	bench_self_cpu_times(&c);
	return c.user + c.sys;
}

void bench_proc_name(pid_t pid, char *out, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(out, (int)size, f))
		snprintf(out, size, "pid %d", (int)pid);
	else
		out[strcspn(out, "\n")] = '\0';
	if (f)
		fclose(f);
}

long long bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void bench_sort_u32(uint32_t *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
}

/* The nearest rank: q of the way from the first to the last. */
uint32_t bench_percentile(const uint32_t *sorted, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

/* ---- the closed loop ----------------------------------------------------- */

#define LOOP_SAMPLES 500000   /* latencies kept, shared among the threads */

struct loop_thread {
	pthread_t thread;
	bench_call_fn *fn;
	void *arg, *scratch;
	long long until_ns;
	uint64_t done, failed;
	int last_err;
	uint32_t *lat_us;       /* this thread's share of the samples */
	size_t n_lat, cap;
};

static void *loop_run(void *p)
{
	struct loop_thread *t = p;

	for (;;) {
		long long t0 = bench_now_ns(), t1;
		int rc;

		if (t0 >= t->until_ns)
			return NULL;
		rc = t->fn(t->arg, t->scratch);
		t1 = bench_now_ns();
		if (rc) {
			t->failed++;
			t->last_err = rc;
			continue;
		}
		t->done++;
		if (t->n_lat < t->cap)
			t->lat_us[t->n_lat++] = (uint32_t)((t1 - t0) / 1000);
	}
}

/* Gather the threads' counts and samples into out and lat (n samples). */
static size_t loop_gather(struct loop_thread *t, unsigned threads, uint32_t *lat,
			  struct bench_loop_result *out)
{
	size_t n = 0;

	for (unsigned i = 0; i < threads; i++) {
		out->done += t[i].done;
		out->failed += t[i].failed;
		if (t[i].failed)
			out->last_err = t[i].last_err;
		memmove(lat + n, t[i].lat_us, t[i].n_lat * sizeof(*lat));
		n += t[i].n_lat;
	}
	return n;
}

int bench_closed_loop(bench_call_fn *fn, void *arg, size_t scratch_size, unsigned threads,
		      double seconds, pid_t peer, struct bench_loop_result *out)
{
	/* Slots of whole cache lines: aligned for any struct, no false sharing. */
	size_t slot = (scratch_size + 63) & ~(size_t)63;
	struct loop_thread *t = calloc(threads ? threads : 1, sizeof(*t));
	uint32_t *lat = malloc(sizeof(*lat) * LOOP_SAMPLES);
	char *scratch = aligned_alloc(64, (threads ? threads : 1) * (slot ? slot : 64));
	size_t share = LOOP_SAMPLES / (threads ? threads : 1), n;
	double self0 = bench_self_cpu(), peer0 = peer ? bench_proc_cpu(peer) : 0;
	long long t0 = bench_now_ns();
	unsigned started = 0;

	memset(out, 0, sizeof(*out));
	if (!t || !lat || !scratch || !threads) {
		free(t);
		free(lat);
		free(scratch);
		return -1;
	}
	memset(scratch, 0, threads * slot);
	for (unsigned i = 0; i < threads; i++) {
		t[i] = (struct loop_thread){ .fn = fn, .arg = arg, .scratch = scratch + i * slot,
					     .until_ns = t0 + (long long)(seconds * 1e9),
					     .lat_us = lat + i * share, .cap = share };
		if (pthread_create(&t[i].thread, NULL, loop_run, &t[i]))
			break;
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i].thread, NULL);
	out->elapsed = (double)(bench_now_ns() - t0) / 1e9;
	out->self_cpu = bench_self_cpu() - self0;
	out->peer_cpu = peer ? bench_proc_cpu(peer) - peer0 : 0;
	n = loop_gather(t, started, lat, out);
	bench_sort_u32(lat, n);
	out->p50_us = bench_percentile(lat, n, 0.50);
	out->p99_us = bench_percentile(lat, n, 0.99);
	explicit_bzero(scratch, threads * slot);   /* the calls' keys, if any */
	free(t);
	free(lat);
	free(scratch);
	return started == threads ? 0 : -1;
}
