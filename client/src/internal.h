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

/* Card-level helpers (usim_files.c). */
gba_client_err client_select_aid(struct gba_client_card *card, const uint8_t *aid,
				 size_t aid_len, char *msg, size_t msg_size);
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
/* A status word other than 9000 as an error with a readable name. */
gba_client_err client_sw_error(unsigned sw, const char *what, char *msg, size_t msg_size);

#endif /* GBA_CLIENT_INTERNAL_H */
