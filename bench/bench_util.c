/* bench_util.c - see bench_util.h. */
#define _GNU_SOURCE
#include <netinet/in.h>
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
