/*
 * bench_dia.h - the Diameter server child the Zh and Zn benchmarks measure
 * against: a process of its own (freeDiameter keeps one core per process).
 */
#ifndef BENCH_DIA_H
#define BENCH_DIA_H

#include <stdint.h>
#include <sys/types.h>

#include <gba/diameter.h>

/* Registers the child's request handler on its node (before the start). */
typedef gba_err bench_dia_register_fn(struct gba_dia *dia);

/*
 * Fork a child that opens a node with cfg on a free 127.0.0.1 port (put in
 * *port), registers its handler with reg, starts, and serves until
 * SIGTERM.  Returns the child's pid once it is serving, or -1 (a message
 * on stderr names what).
 */
pid_t bench_dia_server_start(const struct gba_dia_config *cfg, bench_dia_register_fn *reg,
			     const char *what, uint16_t *port);

/*
 * The transport of a benchmark's nodes: with BENCH_TLS_DIR set (a folder
 * from bench/make-dia-certs.sh: ca.pem, IDENTITY.pem, IDENTITY.key), TLS
 * with the certificate of identity (paths into the static buffers *files,
 * kept for the process's life); otherwise plain TCP.  Returns the
 * transport's name for the figures' heading.
 */
struct bench_tls_files {
	char cert[512], key[512], ca[512];
};
const char *bench_dia_transport(const char *identity, struct bench_tls_files *files,
				enum gba_dia_transport *transport, const char **cert,
				const char **key, const char **ca);

/* SIGTERM the child and reap it. */
void bench_dia_server_stop(pid_t pid);

#endif /* BENCH_DIA_H */
