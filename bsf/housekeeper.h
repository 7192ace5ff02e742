/*
 * housekeeper.h - the BSF's timer thread: sweeps expired challenges out
 * of the pending table every second (their secrets go with them) and
 * purges expired sessions from the store every purge_interval.
 */
#ifndef GBA_BSF_HOUSEKEEPER_H
#define GBA_BSF_HOUSEKEEPER_H

#include <gba/session_store.h>

#include "challenge.h"
#include "gba_log.h"

struct housekeeper;

/* 0, or -1 when the thread cannot be started. */
int housekeeper_start(struct housekeeper **out, struct challenge_table *pending,
		      struct gba_session_store *store, unsigned purge_interval,
		      const struct gba_log *log);

/* Wake the thread, wait for it to finish its round, free. */
void housekeeper_stop(struct housekeeper *hk);

#endif /* GBA_BSF_HOUSEKEEPER_H */
