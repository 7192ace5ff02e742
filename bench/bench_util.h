/*
 * bench_util.h - small helpers the benchmark programs share: a free port
 * on 127.0.0.1, the CPU time a process has used, a monotonic clock and
 * latency percentiles.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A TCP port free on 127.0.0.1 right now, or 0. */
uint16_t bench_free_port(void);

/* CPU seconds (user + system) process pid has used, from /proc; 0 if unknown. */
double bench_proc_cpu(pid_t pid);

/* CPU seconds (user + system) this process has used. */
double bench_self_cpu(void);

/* CPU seconds, user and system apart. */
struct bench_cpu {
	double user, sys;
};

/* Of process pid, from /proc/PID/stat: 0, or -1 when unreadable. */
int bench_proc_cpu_times(pid_t pid, struct bench_cpu *out);

/* Of this process (getrusage). */
void bench_self_cpu_times(struct bench_cpu *out);

/* The name of process pid (/proc/PID/comm), or "pid N". */
void bench_proc_name(pid_t pid, char *out, size_t size);

/* CLOCK_MONOTONIC in nanoseconds. */
long long bench_now_ns(void);

/* Sort latencies in place, then read percentiles (q in 0..1) off them; 0 when n is 0. */
void bench_sort_u32(uint32_t *v, size_t n);
uint32_t bench_percentile(const uint32_t *sorted, size_t n, double q);

#endif /* BENCH_UTIL_H */
