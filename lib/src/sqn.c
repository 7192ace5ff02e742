/*
 * sqn.c - sequence number handling, 3GPP TS 33.102 Annex C.
 *
 * SQN (48 bits) = SEQ || IND.  The network keeps the last SQN it used for a
 * subscriber and gives each vector consumer (here: each BSF) its own IND
 * slot; the USIM keeps the highest SEQ accepted in each slot, so vectors
 * from different slots can be used out of order.
 */
#include <string.h>

#include <gba/aka.h>

#define IND_BITS_MAX 10

gba_err gba_sqn_next(uint64_t last_sqn, unsigned ind_bits, unsigned ind,
		     uint64_t *next_sqn)
{
	if (!next_sqn || ind_bits > IND_BITS_MAX || ind >= (1u << ind_bits) ||
	    last_sqn > GBA_SQN_MAX)
		return GBA_ERR_INVALID_ARG;
	/*
	 * C.3.2: SEQ of the last SQN plus one, in our IND slot.  Increment on
	 * the whole SQN so that the result matches what other AuCs (e.g.
	 * Osmocom's) compute: ((SQN + 2^ind_bits) with IND cleared) | ind.
	 */
	uint64_t step = UINT64_C(1) << ind_bits;
	uint64_t next = ((last_sqn + step) & ~(step - 1)) | ind;
	if (next > GBA_SQN_MAX)
		return GBA_ERR_SQN_RANGE;
	*next_sqn = next;
	return GBA_OK;
}

gba_err gba_sqn_after_resync(uint64_t sqn_he, uint64_t sqn_ms, unsigned ind_bits,
			     uint64_t *last_sqn)
{
	if (!last_sqn || ind_bits > IND_BITS_MAX || sqn_he > GBA_SQN_MAX || sqn_ms > GBA_SQN_MAX)
		return GBA_ERR_INVALID_ARG;
	/*
	 * 6.3.5 resets SQN_HE to SQN_MS because SQN_HE could not be accepted:
	 * the card is ahead.  When the card is behind (an old or replayed
	 * challenge, or a card restored from a backup), moving SQN_HE back
	 * would hand out SEQ values already issued, i.e. vectors an attacker
	 * may hold.  So SEQs are compared (IND is a slot, not an order, C.1.1)
	 * and the HE only ever moves forward: SEQ_HE = max(SEQ_HE, SEQ_MS).
	 */
	*last_sqn = (sqn_ms >> ind_bits) > (sqn_he >> ind_bits) ? sqn_ms : sqn_he;
	return GBA_OK;
}

void gba_usim_sqn_init(struct gba_usim_sqn *st, unsigned ind_bits, uint64_t delta)
{
	memset(st, 0, sizeof(*st));
	if (ind_bits > 5)  /* the array has 32 slots */
		ind_bits = 5;
	st->ind_bits = ind_bits;
	st->delta = delta;
}

static unsigned slots(const struct gba_usim_sqn *st)
{
	return 1u << st->ind_bits;
}

/* The slot holding the highest SEQ (the first one on ties). */
static unsigned max_slot(const struct gba_usim_sqn *st)
{
	unsigned best = 0;
	for (unsigned i = 1; i < slots(st); i++)
		if (st->seq_ms[i] > st->seq_ms[best])
			best = i;
	return best;
}

uint64_t gba_usim_sqn_ms(const struct gba_usim_sqn *st)
{
	unsigned i = max_slot(st);
	return (st->seq_ms[i] << st->ind_bits) | i;
}

gba_err gba_usim_sqn_check(const struct gba_usim_sqn *st, uint64_t sqn)
{
	if (sqn > GBA_SQN_MAX)
		return GBA_ERR_SYNC_FAILURE;
	uint64_t seq = sqn >> st->ind_bits;
	unsigned ind = (unsigned)(sqn & (slots(st) - 1));
	uint64_t seq_max = st->seq_ms[max_slot(st)];

	/* C.2.2: fresh in its slot, and not too far ahead of the highest. */
	if (seq <= st->seq_ms[ind])
		return GBA_ERR_SYNC_FAILURE;
	if (seq > seq_max && seq - seq_max > st->delta)
		return GBA_ERR_SYNC_FAILURE;
	return GBA_OK;
}

void gba_usim_sqn_accept(struct gba_usim_sqn *st, uint64_t sqn)
{
	unsigned ind = (unsigned)(sqn & (slots(st) - 1));
	st->seq_ms[ind] = sqn >> st->ind_bits;
}
