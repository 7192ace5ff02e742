/*
 * cmd_naf_key.c - `gba-client naf-key --naf FQDN [--ua-id ID]`: Ks_NAF
 * (GBA_ME) or Ks_ext_NAF (GBA_U) for a NAF, bootstrapping first when the
 * context is missing or expired.
 */
#include <stdio.h>

#include <gba/util.h>

#include "cmd.h"

int cmd_naf_key_main(const struct cmd_opts *o)
{
	struct cmd_session s;
	struct cmd_out w;
	uint8_t key[32];
	gba_client_err err;
	int rc = EXIT_OK_;
	const char *fqdn = o->naf_fqdn ? o->naf_fqdn : (o->argc > 0 ? o->argv[0] : NULL);

	if (!fqdn) {
		fprintf(stderr, "gba-client: naf-key needs --naf FQDN\n");
		return EXIT_USAGE;
	}
	cmd_session_init(&s, o);
	err = cmd_get_context(&s, o->force);
	if (!err)
		err = cmd_naf_key(&s, fqdn, o->ua_id, key);
	if (err) {
		rc = cmd_fail(o, err, s.msg);
	} else {
		out_begin(&w, o);
		out_str(&w, "naf", fqdn);
		out_hex(&w, "ua_id", o->ua_id, 5);
		out_bool(&w, "bootstrapped", s.bootstrapped);
		out_context(&w, &s);
		out_key(&w, o, s.ctx.type == GBA_CLIENT_GBA_U ? "ks_ext_naf" : "ks_naf", key,
			sizeof(key));
		out_end(&w);
	}
	gba_wipe(key, sizeof(key));
	cmd_session_close(&s);
	return rc;
}
