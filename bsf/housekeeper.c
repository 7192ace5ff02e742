/*
 * housekeeper.c - the timer thread, see housekeeper.h.
 *
 * The wait is on a monotonic clock, so a change of the wall clock neither
 * stalls nor races the sweeps; expiry itself is judged in wall-clock time,
 * as the nonces and sessions carry it.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "housekeeper.h"

#define SWEEP_PERIOD_S 1

struct housekeeper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	struct challenge_table *pending;
	struct gba_session_store *store;
	unsigned purge_interval;
	const struct gba_log *log;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void purge_sessions(struct housekeeper *hk)
{
	uint64_t purged = 0;
	gba_err err = gba_session_store_purge(hk->store, wall_ms() / 1000, &purged);

	if (err)
		gba_log_msg(hk->log, GBA_LOG_WARN, "session purge failed: %s", gba_strerror(err));
	else if (purged)
		gba_log_msg(hk->log, GBA_LOG_DEBUG, "purged %llu expired sessions",
			(unsigned long long)purged);
}

static void *run(void *arg)
{
	struct housekeeper *hk = arg;
	struct timespec next;
	unsigned since_purge = 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&hk->lock);
	while (!hk->stop) {
		next.tv_sec += SWEEP_PERIOD_S;
		while (!hk->stop && pthread_cond_timedwait(&hk->wake, &hk->lock, &next) == 0)
			; /* woken early but not stopping: keep to the schedule */
		if (hk->stop)
			break;
		pthread_mutex_unlock(&hk->lock);
		challenge_sweep(hk->pending, wall_ms());
		since_purge += SWEEP_PERIOD_S;
		if (since_purge >= hk->purge_interval) {
			since_purge = 0;
			purge_sessions(hk);
		}
		pthread_mutex_lock(&hk->lock);
	}
	pthread_mutex_unlock(&hk->lock);
	return NULL;
}

int housekeeper_start(struct housekeeper **out, struct challenge_table *pending,
		      struct gba_session_store *store, unsigned purge_interval,
		      const struct gba_log *log)
{
	struct housekeeper *hk = calloc(1, sizeof(*hk));
	pthread_condattr_t attr;

	if (!hk)
		return -1;
	hk->pending = pending;
	hk->store = store;
	hk->purge_interval = purge_interval ? purge_interval : 1;
	hk->log = log;
	pthread_mutex_init(&hk->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&hk->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&hk->thread, NULL, run, hk)) {
		pthread_cond_destroy(&hk->wake);
		pthread_mutex_destroy(&hk->lock);
		free(hk);
		return -1;
	}
	*out = hk;
	return 0;
}

void housekeeper_stop(struct housekeeper *hk)
{
	if (!hk)
		return;
	pthread_mutex_lock(&hk->lock);
	hk->stop = 1;
	pthread_cond_signal(&hk->wake);
	pthread_mutex_unlock(&hk->lock);
	pthread_join(hk->thread, NULL);
	pthread_cond_destroy(&hk->wake);
	pthread_mutex_destroy(&hk->lock);
	free(hk);
}
