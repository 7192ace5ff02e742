/* bench_dia.c - see bench_dia.h. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_dia.h"
#include "bench_util.h"

/* The child: serve until SIGTERM; report on ready_fd whether it started. */
static int serve(struct gba_dia_config cfg, bench_dia_register_fn *reg, int ready_fd)
{
	struct gba_dia *dia = NULL;
	sigset_t stop;
	int sig;
	char ok = 1;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (gba_dia_open(&dia, &cfg) || reg(dia) || gba_dia_start(dia))
		ok = 0;
	(void)!write(ready_fd, &ok, 1);
	close(ready_fd);
	if (ok)
		sigwait(&stop, &sig);
	gba_dia_close(dia);
	return ok ? 0 : 1;
}

pid_t bench_dia_server_start(const struct gba_dia_config *cfg, bench_dia_register_fn *reg,
			     const char *what, uint16_t *port)
{
	struct gba_dia_config c = *cfg;
	int pipefd[2], status;
	char ok = 0;
	pid_t pid;

	c.port = bench_free_port();
	if (!c.port || pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(pipefd[0]);
		_exit(serve(c, reg, pipefd[1]));
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1 || !ok) {
		fprintf(stderr, "the %s child did not start\n", what);
		close(pipefd[0]);
		waitpid(pid, &status, 0);
		return -1;
	}
	close(pipefd[0]);
	*port = c.port;
	return pid;
}

void bench_dia_server_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

const char *bench_dia_transport(const char *identity, struct bench_tls_files *files,
				enum gba_dia_transport *transport, const char **cert,
				const char **key, const char **ca)
{
	const char *dir = getenv("BENCH_TLS_DIR");

	if (!dir || !*dir) {
		*transport = GBA_DIA_TCP;
		return "plain TCP";
	}
	snprintf(files->cert, sizeof(files->cert), "%s/%s.pem", dir, identity);
	snprintf(files->key, sizeof(files->key), "%s/%s.key", dir, identity);
	snprintf(files->ca, sizeof(files->ca), "%s/ca.pem", dir);
	*transport = GBA_DIA_TLS;
	*cert = files->cert;
	*key = files->key;
	*ca = files->ca;
	return "TLS";
}
