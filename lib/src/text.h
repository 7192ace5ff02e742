/*
 * text.h - character-level checks shared by libgba's parsers and builders
 * (Digest headers, the Ub XML).  Internal: not installed.
 */
#ifndef GBA_SRC_TEXT_H
#define GBA_SRC_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the UTF-8 sequence at s (at most n bytes, n >= 1) and the code
 * point it encodes, or 0 when it is not well-formed UTF-8: overlong forms,
 * surrogates and values above U+10FFFF are refused, so one text has one
 * spelling.
 */
size_t text_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* tchar of RFC 9110 5.6.2: the characters an HTTP token may hold. */
int text_is_tchar(char c);

/* A Digest nonce-count: exactly 8 hex digits. */
int text_is_nc(const char *s, size_t n);

#endif
