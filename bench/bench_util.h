/*
 * bench_util.h - small helpers the benchmark programs share: a free port
 * on 127.0.0.1, the CPU time a process has used, a monotonic clock,
 * latency percentiles, and a closed loop of threads making round trips.
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

/*
 * One round trip of a closed-loop benchmark, made with the caller's arg and
 * this thread's scratch (zeroed, scratch_size octets, its own per thread):
 * 0, or a non-zero code that counts the call as failed.
 */
typedef int bench_call_fn(void *arg, void *scratch);

struct bench_loop_result {
	uint64_t done, failed;
	int last_err;           /* the code of the last failed call */
	double elapsed;         /* seconds the loop ran */
	double self_cpu;        /* CPU seconds of this process meanwhile */
	double peer_cpu;        /* of process peer, 0 without one */
	uint32_t p50_us, p99_us;   /* over the successful calls */
};

/*
 * threads threads, each calling fn back to back until seconds have passed
 * (one call in flight per thread).  -1 when memory runs out, else 0.
 */
int bench_closed_loop(bench_call_fn *fn, void *arg, size_t scratch_size, unsigned threads,
		      double seconds, pid_t peer, struct bench_loop_result *out);

#endif /* BENCH_UTIL_H */
