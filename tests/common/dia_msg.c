/* dia_msg.c - see dia_msg.h. */
#define _GNU_SOURCE /* freeDiameter's headers use pthread_rwlock_t */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dia_msg.h"

struct msg *dia_test_wire(struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct msg *r = NULL;

	assert_int_equal(fd_msg_bufferize(m, &buf, &len), 0);
	fd_msg_free(m);
	assert_int_equal(fd_msg_parse_buffer(&buf, len, &r), 0);
	assert_int_equal(fd_msg_parse_dict(r, fd_g_config->cnf_dict, NULL), 0);
	return r;
}

const char *dia_test_rules_error(struct msg *m)
{
	static char name[64];
	struct fd_pei pei;

	memset(&pei, 0, sizeof(pei));
	if (!fd_msg_parse_rules(m, fd_g_config->cnf_dict, &pei))
		return NULL;
	snprintf(name, sizeof(name), "%s", pei.pei_errcode ? pei.pei_errcode : "?");
	if (pei.pei_avp_free)
		fd_msg_free(pei.pei_avp);   /* the blank AVP made for Failed-AVP */
	return name;
}

uint32_t dia_test_result(struct msg *ans)
{
	struct gba_dia_result r;

	dia_result_read(ans, &r);
	return gba_dia_result_value(&r);
}
