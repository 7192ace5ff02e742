/*
 * csv_record.h - one RFC 4180 record at a time from a FILE (internal to
 * libgba-store): quoted fields with "" for a quote and commas or line ends
 * inside, CRLF or LF line ends; unquoted fields are trimmed of blanks.
 * Blank lines and lines whose first character is '#' are skipped.
 */
#ifndef GBA_STORE_CSV_RECORD_H
#define GBA_STORE_CSV_RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <gba/error.h>

struct csv_record {
	char *buf;            /* the fields' text, NUL-separated (caller's) */
	size_t size;
	char **field;         /* caller's array of max pointers */
	int max;
	int n;                /* fields in the record read */
	size_t line;          /* the line the record started on (1-based) */
	size_t next_line;     /* the reader's line count */
};

/*
 * Read the next record: GBA_OK with r->n fields, GBA_ERR_NOT_FOUND at the
 * end of the file, GBA_ERR_PARSE (a stray quote, text after a closing
 * quote, a quoted field not closed), GBA_ERR_TOO_LARGE (more than max
 * fields or size octets), GBA_ERR_BAD_ENCODING (a NUL byte).
 */
gba_err csv_record_read(FILE *f, struct csv_record *r);

#endif
