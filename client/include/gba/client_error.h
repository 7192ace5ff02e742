/*
 * gba/client_error.h - error codes of libgba-client.
 *
 * Every function returns GBA_CLIENT_OK (0) or one of these.  Functions that
 * talk to a card or a BSF also fill a caller's message buffer with one line
 * saying what happened; no message ever carries key material.
 */
#ifndef GBA_CLIENT_ERROR_H
#define GBA_CLIENT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gba_client_err {
	GBA_CLIENT_OK = 0,
	GBA_CLIENT_ERR_INVALID_ARG,   /* NULL pointer, bad option or value */
	GBA_CLIENT_ERR_NO_MEMORY,
	GBA_CLIENT_ERR_TRANSPORT,     /* reader, modem or transport failed */
	GBA_CLIENT_ERR_NO_CARD,       /* no card, or the card was removed */
	GBA_CLIENT_ERR_TIMEOUT,       /* card, modem or BSF did not answer in time */
	GBA_CLIENT_ERR_CARD,          /* the card answered an error status word */
	GBA_CLIENT_ERR_CARD_DATA,     /* the card answered garbage or a truncated TLV */
	GBA_CLIENT_ERR_MAC_FAILURE,   /* AUTN did not verify (SW 9862): network not authentic */
	GBA_CLIENT_ERR_SYNC_FAILURE,  /* the card's SQN is ahead (after the one resync) */
	GBA_CLIENT_ERR_NETWORK,       /* BSF unreachable, HTTP or TLS failure */
	GBA_CLIENT_ERR_PROTOCOL,      /* the BSF broke the Ub protocol (no challenge, bad XML) */
	GBA_CLIENT_ERR_REJECTED,      /* the BSF refused the authentication (403, ...) */
	GBA_CLIENT_ERR_RSPAUTH,       /* rspauth did not verify: the BSF is not authentic */
	GBA_CLIENT_ERR_FILE,          /* a file cannot be read/written, or has loose permissions */
	GBA_CLIENT_ERR_NOT_FOUND,     /* no bootstrapping context, or it has expired */
	GBA_CLIENT_ERR_UNSUPPORTED,   /* the card or back end cannot do this */
	GBA_CLIENT_ERR_PIN,           /* PIN1 needed, wrong, blocked, or its last try refused */
	GBA_CLIENT_ERR__COUNT
} gba_client_err;

/* A short English description, never NULL; static storage. */
const char *gba_client_strerror(gba_client_err err);

/* A stable lowercase name for programs ("pin", "card", "network", ...). */
const char *gba_client_err_name(gba_client_err err);

#ifdef __cplusplus
}
#endif
#endif /* GBA_CLIENT_ERROR_H */
