/*
 * gba/client.h - libgba-client: what a node embeds to bootstrap GBA keys
 * from its USIM (3GPP TS 33.220).
 *
 *   gba/client_error.h     - error codes
 *   gba/client_card.h      - card transports: PC/SC, AT+CSIM modem, soft, custom
 *   gba/client_usim.h      - identity (IMSI, IMPI, BSF) and AUTHENTICATE
 *   gba/client_bootstrap.h - Ub over HTTP, the context file, Ks_NAF
 *
 * Typical use:
 *   gba_client_card_open_pcsc(&card, NULL, msg, sizeof msg);
 *   gba_client_usim_identity(card, &id, msg, sizeof msg);
 *   gba_client_bootstrap(card, &id, &opt, &ctx, NULL, msg, sizeof msg);
 *   gba_client_naf_key(card, &ctx, "naf.example.org", GBA_UA_HTTP_DIGEST, ks_naf, ...);
 * Link with `pkg-config --libs libgba-client`.  Every buffer is the
 * caller's; lengths are explicit; keys are wiped by the library after use
 * and must be wiped by the caller (gba_wipe) after theirs.
 */
#ifndef GBA_CLIENT_H
#define GBA_CLIENT_H

#include <gba/client_error.h>
#include <gba/client_card.h>
#include <gba/client_usim.h>
#include <gba/client_bootstrap.h>

#endif /* GBA_CLIENT_H */
