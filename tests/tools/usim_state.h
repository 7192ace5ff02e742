/*
 * usim_state.h - a soft USIM's SQN memory (the 32 SEQ_MS slots of
 * TS 33.102 Annex C) kept in a small text file between runs:
 *
 *   gba-usim-sqn 1
 *   ind_bits 5
 *   delta 268435456
 *   seq 0 <SEQ_MS[0]>
 *   ...
 *   seq 31 <SEQ_MS[31]>
 *
 * Saved atomically (a 0600 temporary file, fsync, rename), so a crash
 * leaves the old state or the new one, never half of each.
 */
#ifndef USIM_STATE_H
#define USIM_STATE_H

#include <gba/aka.h>
#include <gba/error.h>

/*
 * Load the state at path.  A missing file gives a fresh card (every
 * SEQ_MS 0, 5 IND bits, delta 2^28) and *created = 1.  GBA_ERR_PARSE for a
 * file that is not one of ours, GBA_ERR_STORE when it cannot be read.
 */
gba_err usim_state_load(const char *path, struct gba_usim_sqn *st, int *created);

/* Save the state to path atomically.  GBA_ERR_STORE on any I/O error. */
gba_err usim_state_save(const char *path, const struct gba_usim_sqn *st);

/*
 * Move the card n steps ahead: every slot's SEQ_MS becomes the highest
 * SEQ_MS plus n, so the network's next vector is no longer fresh and the
 * card answers AUTS (a resync test).
 */
gba_err usim_state_advance(struct gba_usim_sqn *st, uint64_t n);

#endif /* USIM_STATE_H */
