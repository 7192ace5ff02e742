/*
 * keys.h - the key material gba-subscriber takes: K and OP or OPc, from
 * the command line or from a key file (or standard input), so that keys
 * need not sit in shell history or in the process list.
 */
#ifndef GBA_SUBSCRIBER_KEYS_H
#define GBA_SUBSCRIBER_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* K and OP/OPc as given.  Secret: wipe with gba_wipe() after use. */
struct key_input {
	uint8_t k[32];
	size_t k_len;           /* 0: not given */
	uint8_t op[32];         /* OP or OPc (TOP or TOPc for TUAK) */
	size_t op_len;          /* 0: not given */
	int op_is_op;           /* 1: op holds OP/TOP, 0: OPc/TOPc */
};

/*
 * Decode one hex value of 16 or 32 octets into out.  On error returns -1
 * and sets *why to a message that does not repeat the value.
 */
int key_hex(const char *hex, uint8_t out[32], size_t *len, const char **why);

/*
 * Read "name=HEX" lines (names k, op, opc; '#' comments and blank lines
 * allowed) from path, or from standard input for "-", into in.  A name
 * given twice, or already set in in, is an error.  On error returns -1 and
 * writes a message (without key material) to err.
 */
int key_file_read(const char *path, struct key_input *in, char *err, size_t err_size);

/*
 * A Milenage card's K and OPc (16 octets each, "k" and "opc" lines) from
 * the key file at path ('-': stdin): what the test and bench UEs take
 * instead of keys on their command line.  -1 with a message in err.
 */
int key_file_milenage(const char *path, uint8_t k[16], uint8_t opc[16], char *err,
		      size_t err_size);

#endif
