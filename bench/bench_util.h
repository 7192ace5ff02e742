/*
 * bench_util.h - small helpers the benchmark programs share: a free port
 * on 127.0.0.1 and the CPU time a process has used.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <sys/types.h>

/* A TCP port free on 127.0.0.1 right now, or 0. */
uint16_t bench_free_port(void);

/* CPU seconds (user + system) process pid has used, from /proc; 0 if unknown. */
double bench_proc_cpu(pid_t pid);

/* CPU seconds (user + system) this process has used. */
double bench_self_cpu(void);

#endif /* BENCH_UTIL_H */
