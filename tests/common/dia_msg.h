/*
 * dia_msg.h - what the Zh and Zn message tests (tests/zh/test_zh_msg.c,
 * tests/zn/test_zn_msg.c) both do to a freeDiameter message: send it
 * through the wire format, run freeDiameter's rule check on it, read its
 * result code.  Failures are cmocka assertions.
 */
#ifndef GBA_TESTS_DIA_MSG_H
#define GBA_TESTS_DIA_MSG_H

#include <stdint.h>

#include "../../lib/diameter/src/internal.h"

/* Encode, free, decode and dictionary-parse: what a peer receives. */
struct msg *dia_test_wire(struct msg *m);

/* The rule check freeDiameter runs on a received message: NULL when it
 * passes, else the name of the error it answers with (a static buffer). */
const char *dia_test_rules_error(struct msg *m);

/* Result-Code, or Experimental-Result-Code, of an answer. */
uint32_t dia_test_result(struct msg *ans);

#endif
