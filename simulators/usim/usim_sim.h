/*
 * usim_sim.h - an in-process USIM/ISIM card (ETSI TS 102 221, 3GPP TS
 * 31.102 and TS 31.103) with GBA_U (TS 33.220 5.2.1, TS 31.102 7.1.2.4).
 *
 * The card is described by a profile file (identities, K/OPc, protocol; see
 * docs/usim-simulator.md) and keeps what changes - the SQN array of TS
 * 33.102 Annex C, the GBA_U key Ks with its RAND, the Ks_int_NAF records
 * and every EF the ME updated - in a state file, saved atomically (0600)
 * after every command that changed it, so a crash loses nothing.
 *
 * One C-APDU in, one R-APDU (data || SW1 SW2) out.  In T=0 mode the card
 * behaves like a real T=0 card: a command that carries data and produces
 * data answers 61xx and the data is fetched with GET RESPONSE; a wrong Le
 * answers 6Cxx.  Only short APDUs on the basic logical channel.
 *
 * Secrets (K, OPc, CK, IK, Ks, Ks_int_NAF) never leave the card except
 * where the spec returns them (CK/IK in the 3G context, Ks_ext_NAF), are
 * never logged, and are wiped on close.
 *
 * Not thread-safe: one struct usim_sim per thread.
 */
#ifndef USIM_SIM_H
#define USIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct usim_sim;

/* Longest R-APDU the card produces: 256 data octets + SW1 SW2. */
#define USIM_SIM_RAPDU_MAX 258
/* Longest ATR it produces. */
#define USIM_SIM_ATR_MAX 33

/*
 * Open a card.  profile_path: the profile file (read only).  state_path:
 * where the card's changing state lives; created (0600) when missing.
 * GBA_ERR_PARSE for a bad profile or state file (the message on stderr
 * names the line, never a value), GBA_ERR_STORE for I/O errors.
 */
gba_err usim_sim_open(const char *profile_path, const char *state_path,
		      struct usim_sim **out);

/* Save the state, wipe the keys, free.  NULL is allowed. */
void usim_sim_close(struct usim_sim *sim);

/*
 * Write the card's ATR into atr (atr_size >= USIM_SIM_ATR_MAX is always
 * enough); returns its length, 0 when atr_size is too small.  A T=0 card
 * offers T=0 only; a T=1 card offers T=1 only.
 */
size_t usim_sim_atr(const struct usim_sim *sim, uint8_t *atr, size_t atr_size);

/* Cold reset: MF selected, no application, PIN not verified, no pending
 * GET RESPONSE data. */
void usim_sim_reset(struct usim_sim *sim);

/*
 * Process one C-APDU.  rapdu receives the response data and SW1 SW2
 * (rapdu_size >= USIM_SIM_RAPDU_MAX is always enough); *rapdu_len its
 * length.  A malformed APDU is not an error: the card answers a status
 * word (6700, 6D00, 6E00, 6A86, ...).  GBA_ERR_INVALID_ARG for NULL
 * pointers, GBA_ERR_BUFFER_TOO_SMALL when rapdu_size is too small,
 * GBA_ERR_STORE when the state could not be saved (the answer is still
 * given).  With USIM_FAULT_MUTE the card gives GBA_OK and *rapdu_len 0.
 */
gba_err usim_sim_apdu(struct usim_sim *sim, const uint8_t *capdu, size_t capdu_len,
		      uint8_t *rapdu, size_t rapdu_size, size_t *rapdu_len);

/* 1 for a T=1 card, 0 for a T=0 card. */
int usim_sim_is_t1(const struct usim_sim *sim);

/* ---- Fault injection (tests of the ME side) ----------------------------- */

enum usim_sim_fault {
	USIM_FAULT_NONE = 0,
	USIM_FAULT_GARBAGE,       /* AUTHENTICATE answers random octets, 9000 */
	USIM_FAULT_TRUNCATED,     /* AUTHENTICATE answers a TLV cut short, 9000 */
	USIM_FAULT_SW_6F00,       /* every command answers 6F00 (technical problem) */
	USIM_FAULT_MUTE,          /* every command gets no answer at all */
};

/* Set the fault for the commands that follow; USIM_FAULT_NONE clears it. */
void usim_sim_set_fault(struct usim_sim *sim, enum usim_sim_fault fault);

/* The fault named "garbage", "truncated", "sw6f00", "mute" or "none";
 * GBA_ERR_INVALID_ARG for another name. */
gba_err usim_sim_fault_parse(const char *name, enum usim_sim_fault *fault);

/* ---- Inspection (what a tester may look at; a real card hides it) ------- */

/*
 * The IMSI as digits (NUL-terminated), as a modem's AT+CIMI gives it.
 * Returns GBA_ERR_BUFFER_TOO_SMALL when it does not fit.
 */
gba_err usim_sim_imsi(const struct usim_sim *sim, char *out, size_t out_size);

/*
 * The Ks_int_NAF the card keeps for naf_id (TS 33.220 5.3.2), for tests
 * that check it equals the BSF's; GBA_ERR_NOT_FOUND when the card has
 * none.  Wipe out after use.
 */
gba_err usim_sim_ks_int_naf(const struct usim_sim *sim, const uint8_t *naf_id,
			    size_t naf_id_len, uint8_t out[32]);

/* Move every SQN slot n SEQ steps ahead of the highest, so the network's
 * next vector is stale and the card answers AUTS (resync tests). */
gba_err usim_sim_advance_sqn(struct usim_sim *sim, uint64_t n);

/* Save the state now (also done after every change).  GBA_ERR_STORE on
 * I/O errors. */
gba_err usim_sim_save(struct usim_sim *sim);

/* Log hook: when set, the card reports each command as one line such as
 * "AUTHENTICATE P2=84 -> 9000" (never data).  NULL turns it off. */
typedef void (*usim_sim_log_fn)(void *ctx, const char *line);
void usim_sim_set_log(struct usim_sim *sim, usim_sim_log_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* USIM_SIM_H */
