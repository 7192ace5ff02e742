/* cmd_bootstrap.c - `gba-client bootstrap`: a fresh bootstrap, always. */
#include <stdio.h>

#include <gba/util.h>

#include "cmd.h"

int cmd_bootstrap(const struct cmd_opts *o)
{
	struct cmd_session s;
	struct cmd_out w;
	uint8_t key[32];
	gba_client_err err;
	int rc = EXIT_OK_;

	cmd_session_init(&s, o);
	err = cmd_get_context(&s, 1);
	/* With --naf, the NAF key too: the check value both ends can compare. */
	if (!err && o->naf_fqdn)
		err = cmd_naf_key(&s, o->naf_fqdn, o->ua_id, key);
	if (err) {
		rc = cmd_fail(o, err, s.msg);
	} else {
		out_begin(&w, o);
		out_str(&w, "card", gba_client_card_backend(s.card));
		out_context(&w, &s);
		if (s.stats.rspauth_body)
			out_str(&w, "rspauth_body", s.stats.rspauth_body);
		out_int(&w, "http_requests", s.stats.http_requests);
		out_int(&w, "resyncs", s.stats.resyncs);
		out_int(&w, "apdus", (long long)s.stats.apdus);
		if (s.stats.gbabp_needed)
			out_str(&w, "gba_u_fallback", "EF_GBABP too small");
		if (o->naf_fqdn) {
			out_str(&w, "naf", o->naf_fqdn);
			out_hex(&w, "ua_id", o->ua_id, 5);
			out_key(&w, o, s.ctx.type == GBA_CLIENT_GBA_U ? "ks_ext_naf" : "ks_naf",
				key, sizeof(key));
		}
		out_end(&w);
	}
	gba_wipe(key, sizeof(key));
	cmd_session_close(&s);
	return rc;
}
