/* internal.h - helpers shared inside libgba-client (not installed). */
#ifndef GBA_CLIENT_INTERNAL_H
#define GBA_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <gba/client.h>

/* Write a one-line message (when msg is not NULL) and return err. */
gba_client_err client_fail(char *msg, size_t msg_size, gba_client_err err,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Status word of an R-APDU of rlen >= 2 octets. */
static inline unsigned client_sw(const uint8_t *r, size_t rlen)
{
	return ((unsigned)r[rlen - 2] << 8) | r[rlen - 1];
}

/* A file holding a secret: regular, ours, mode 0600 or stricter
 * (secret_file.c); what names it in the message ("key", "PIN"). */
gba_client_err client_read_secret_file(const char *path, const char *what, char *buf,
				       size_t size, char *msg, size_t msg_size);

/* PIN1 of a card object (pin.c); kept in struct gba_client_card. */
struct client_pin {
	char value[9];          /* empty: the caller gave none */
	int allow_last_try;
	int checked;            /* verified, or not needed, in this card session */
	int refused;            /* the card refused this PIN: never send it again */
	int enabled;            /* as last seen: -1 unknown, 0 disabled, 1 enabled */
	int tries;              /* tries left as last seen, -1 unknown */
};
struct client_pin *client_card_pin(struct gba_client_card *card);
/* PIN1's "enabled" bit in a PIN status template C6 (value only); -1: not there. */
int client_fcp_pin1_enabled(const uint8_t *c6, size_t len);
/* After an application was selected: VERIFY PIN1 when enabled (-1: unknown)
 * and not yet verified in this card session. */
gba_client_err client_pin_check(struct gba_client_card *card, int enabled, char *msg,
				size_t msg_size);

/*
 * One card procedure (card.c): exclusive access on a shared reader (nested
 * calls count), reconnect after a reset by another program, and on such a
 * reader the application of the last client_select_aid selected again
 * (with its PIN1 check) when app is set.  Every begin has its end.
 */
gba_client_err client_proc_begin(struct gba_client_card *card, int app, char *msg,
				 size_t msg_size);
void client_proc_end(struct gba_client_card *card);
/* The application client_select_aid selected last (for client_proc_begin). */
void client_card_set_app(struct gba_client_card *card, const uint8_t *aid, size_t len);

/* The back end's describe op, or empty strings. */
void client_card_describe(const struct gba_client_card *card, char *where, size_t where_size,
			  char *protocol, size_t protocol_size);

/* One trace line (printf style) through the card's trace hook, if any. */
void client_trace(const struct gba_client_card *card, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The card's basic channel is shared with a modem's baseband: the client
 * never selects the MF there (identity finds the applications by partial
 * AID instead of EF_DIR). */
void client_card_set_basic_shared(struct gba_client_card *card);
int client_card_basic_shared(const struct gba_client_card *card);
/* 1 when the application selected last is the 3GPP ISIM. */
int client_card_app_is_isim(const struct gba_client_card *card);

/* Card-level helpers (usim_files.c). */
gba_client_err client_select_aid(struct gba_client_card *card, const uint8_t *aid,
				 size_t aid_len, char *msg, size_t msg_size);
/* SELECT by a (partial) AID; the full AID from the FCP's DF name (84) into
 * full (GBA_CLIENT_AID_MAX octets), *full_len 0 when the card gave none. */
gba_client_err client_select_aid_full(struct gba_client_card *card, const uint8_t *aid,
				      size_t aid_len, uint8_t *full, size_t *full_len,
				      char *msg, size_t msg_size);
/* SELECT a file by FID under the current DF; *size gets its size (0 if unknown),
 * *rec_len its record length for linear fixed files (0 otherwise). */
gba_client_err client_select_fid(struct gba_client_card *card, uint16_t fid, size_t *size,
				 size_t *rec_len, char *msg, size_t msg_size);
gba_client_err client_read_binary(struct gba_client_card *card, uint8_t *out, size_t len,
				  char *msg, size_t msg_size);
gba_client_err client_read_record(struct gba_client_card *card, unsigned rec, uint8_t *out,
				  size_t len, size_t *got, char *msg, size_t msg_size);
gba_client_err client_update_binary(struct gba_client_card *card, const uint8_t *data,
				    size_t len, char *msg, size_t msg_size);
/* EF_GBABP's size in the selected application (0: the FCP does not say). */
gba_client_err client_gbabp_size(struct gba_client_card *card, size_t *size, char *msg,
				 size_t msg_size);
/* A status word other than 9000 as an error with a readable name. */
gba_client_err client_sw_error(unsigned sw, const char *what, char *msg, size_t msg_size);

#endif /* GBA_CLIENT_INTERNAL_H */
