/*
 * cmd_status.c - `gba-client status`: the stored context, whether it is
 * still valid.  Touches neither card nor network.  Exit 6 when there is no
 * valid context.
 */
#include <stdio.h>
#include <time.h>

#include "cmd.h"

int cmd_status(const struct cmd_opts *o)
{
	struct cmd_session s;
	struct cmd_out w;
	gba_client_err err;
	int expired, rc;

	cmd_session_init(&s, o);
	err = gba_client_context_load(o->context, &s.ctx, s.msg, sizeof(s.msg));
	if (err) {
		if (err == GBA_CLIENT_ERR_NOT_FOUND && o->json) {
			/* One object: the status (not valid) with the error in it. */
			fprintf(stderr, "gba-client: %s\n", s.msg);
			out_begin(&w, o);
			out_str(&w, "context", o->context);
			out_bool(&w, "valid", 0);
			out_error(&w, EXIT_NO_CONTEXT, gba_client_err_name(err), s.msg);
			out_end(&w);
			cmd_session_close(&s);
			return EXIT_NO_CONTEXT;
		}
		rc = cmd_fail(o, err, s.msg);
		cmd_session_close(&s);
		return rc;
	}
	s.have_ctx = 1;
	expired = gba_client_context_expired(&s.ctx, time(NULL), 0);
	out_begin(&w, o);
	out_str(&w, "context", o->context);
	out_bool(&w, "valid", !expired);
	out_context(&w, &s);
	out_int(&w, "seconds_left", expired ? 0 : (long long)(s.ctx.lifetime - time(NULL)));
	out_end(&w);
	cmd_session_close(&s);
	return expired ? EXIT_NO_CONTEXT : EXIT_OK_;
}
