/*
 * csv_record.c - an RFC 4180 record reader (csv_record.h).  A small state
 * machine over getc: the import of 10,000 subscribers reads about a
 * megabyte, which this does in milliseconds.
 */
#include <string.h>

#include "csv_record.h"

enum state { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, AFTER_QUOTE };

struct cursor {
	struct csv_record *r;
	size_t len;           /* octets used in r->buf */
	size_t field_start;   /* where the current field began in r->buf */
	size_t trim_to;       /* unquoted: the end of its last non-blank */
};

static int put(struct cursor *c, char ch)
{
	if (c->len + 1 >= c->r->size)
		return -1;
	c->r->buf[c->len++] = ch;
	return 0;
}

/* Close the current field (trimming an unquoted one's trailing blanks). */
static int end_field(struct cursor *c, int unquoted)
{
	struct csv_record *r = c->r;

	if (unquoted)
		c->len = c->trim_to > c->field_start ? c->trim_to : c->field_start;
	if (r->n == r->max || put(c, '\0'))
		return -1;
	r->field[r->n++] = r->buf + c->field_start;
	c->field_start = c->trim_to = c->len;
	return 0;
}

/*
 * Skip blank and '#' lines (blanks may come before the '#'); the first
 * character of the record, or EOF.  Leading blanks of a record are never
 * data: FIELD_START skips them too.
 */
static int record_start(FILE *f, struct csv_record *r)
{
	int ch;

	for (;;) {
		ch = getc(f);
		if (ch == '\n') {
			r->next_line++;
		} else if (ch == '\r' || ch == ' ' || ch == '\t') {
			continue;
		} else if (ch == '#') {
			/* A comment is skipped, but a NUL in it is still refused. */
			while ((ch = getc(f)) != EOF && ch != '\n' && ch != '\0')
				;
			if (ch == EOF || ch == '\0')
				return ch;
			r->next_line++;
		} else {
			return ch;
		}
	}
}

static gba_err step(struct cursor *c, enum state *s, int ch)
{
	switch (*s) {
	case FIELD_START:
		if (ch == ' ' || ch == '\t')
			return GBA_OK;
		if (ch == '"') {
			*s = QUOTED;
			return GBA_OK;
		}
		*s = UNQUOTED;
		/* fall through */
	case UNQUOTED:
		if (ch == '"')
			return GBA_ERR_PARSE;
		if (ch == ',') {
			*s = FIELD_START;
			return end_field(c, 1) ? GBA_ERR_TOO_LARGE : GBA_OK;
		}
		if (put(c, (char)ch))
			return GBA_ERR_TOO_LARGE;
		if (ch != ' ' && ch != '\t')
			c->trim_to = c->len;
		return GBA_OK;
	case QUOTED:
		if (ch == '"')
			*s = QUOTE_IN_QUOTED;
		else if (put(c, (char)ch))
			return GBA_ERR_TOO_LARGE;
		return GBA_OK;
	case QUOTE_IN_QUOTED:
		if (ch == '"') {
			*s = QUOTED;
			return put(c, '"') ? GBA_ERR_TOO_LARGE : GBA_OK;
		}
		*s = AFTER_QUOTE;
		/* fall through */
	case AFTER_QUOTE:
		if (ch == ' ' || ch == '\t')
			return GBA_OK;
		if (ch != ',')
			return GBA_ERR_PARSE;
		*s = FIELD_START;
		return end_field(c, 0) ? GBA_ERR_TOO_LARGE : GBA_OK;
	}
	return GBA_ERR_PARSE;
}

gba_err csv_record_read(FILE *f, struct csv_record *r)
{
	struct cursor c = { r, 0, 0, 0 };
	enum state s = FIELD_START;
	gba_err err = GBA_OK;
	int ch = record_start(f, r);

	r->n = 0;
	r->line = r->next_line;
	if (ch == EOF)
		return GBA_ERR_NOT_FOUND;
	for (; ch != EOF; ch = getc(f)) {
		if (ch == '\0')
			return GBA_ERR_BAD_ENCODING;
		if (s != QUOTED && (ch == '\n' || ch == '\r')) {
			/* the record's end: LF, CRLF or a lone CR */
			if (ch == '\r') {
				int next = getc(f);

				if (next != '\n' && next != EOF)
					ungetc(next, f);
			}
			r->next_line++;
			break;
		}
		if (ch == '\n')
			r->next_line++;   /* inside a quoted field */
		err = step(&c, &s, ch);
		if (err)
			return err;
	}
	if (s == QUOTED)
		return GBA_ERR_PARSE;
	return end_field(&c, s == UNQUOTED || s == FIELD_START) ? GBA_ERR_TOO_LARGE : GBA_OK;
}
