/* output.c - text or JSON output of gba-client; keys as KCVs unless asked. */
#include <stdio.h>
#include <string.h>

#include <gba/kcv.h>
#include <gba/ubxml.h>
#include <gba/util.h>

#include "cmd.h"

void out_begin(struct cmd_out *w, const struct cmd_opts *o)
{
	w->json = o->json;
	w->fields = 0;
	if (w->json)
		fputs("{", stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void name(struct cmd_out *w, const char *n)
{
	if (w->json) {
		fputs(w->fields ? ", " : "", stdout);
		json_string(n);
		fputs(": ", stdout);
	} else {
		printf("%s: ", n);
	}
	w->fields++;
}

void out_str(struct cmd_out *w, const char *n, const char *value)
{
	name(w, n);
	if (w->json)
		json_string(value);
	else
		fputs(value, stdout);
	if (!w->json)
		putchar('\n');
}

void out_int(struct cmd_out *w, const char *n, long long value)
{
	name(w, n);
	printf("%lld%s", value, w->json ? "" : "\n");
}

void out_bool(struct cmd_out *w, const char *n, int value)
{
	name(w, n);
	printf("%s%s", value ? (w->json ? "true" : "yes") : (w->json ? "false" : "no"),
	       w->json ? "" : "\n");
}

void out_hex(struct cmd_out *w, const char *n, const uint8_t *data, size_t len)
{
	char hex[2 * 256 + 1];

	if (len > 256)
		len = 256;
	gba_hex_encode(hex, sizeof(hex), data, len);
	out_str(w, n, hex);
	gba_wipe(hex, sizeof(hex));
}

void out_key(struct cmd_out *w, const struct cmd_opts *o, const char *n, const uint8_t *key,
	     size_t len)
{
	char kcv[GBA_KCV_HEX_LEN + 1], kname[64];

	snprintf(kname, sizeof(kname), "%s_kcv", n);
	if (gba_kcv(kcv, key, len) == GBA_OK)
		out_str(w, kname, kcv);
	if (o->show_key)
		out_hex(w, n, key, len);
}

void out_time(struct cmd_out *w, const char *n, long long t)
{
	char s[GBA_XS_DATETIME_MAX];

	if (gba_xs_datetime_format(s, sizeof(s), (time_t)t))
		snprintf(s, sizeof(s), "%lld", t);
	out_str(w, n, s);
}

void out_error(struct cmd_out *w, int code, const char *kind, const char *message)
{
	if (!w->json) {
		out_str(w, "error", message);
		return;
	}
	name(w, "error");
	printf("{\"code\": %d, \"kind\": ", code);
	json_string(kind);
	fputs(", \"message\": ", stdout);
	json_string(message);
	putchar('}');
}

void out_apps(struct cmd_out *w, const struct gba_client_card_info *ci)
{
	char hex[2 * GBA_CLIENT_AID_MAX + 1];

	if (w->json) {
		name(w, "applications");
		putchar('[');
	}
	for (size_t i = 0; i < ci->n_apps; i++) {
		gba_hex_encode(hex, sizeof(hex), ci->apps[i].aid, ci->apps[i].aid_len);
		if (!w->json) {
			printf("application: %s%s%s\n", hex, ci->apps[i].label[0] ? " " : "",
			       ci->apps[i].label);
			continue;
		}
		fputs(i ? ", {\"aid\": " : "{\"aid\": ", stdout);
		json_string(hex);
		fputs(", \"label\": ", stdout);
		json_string(ci->apps[i].label);
		putchar('}');
	}
	if (w->json)
		putchar(']');
}

void out_end(struct cmd_out *w)
{
	if (w->json)
		fputs("}\n", stdout);
	fflush(stdout);
}

void out_context(struct cmd_out *w, const struct cmd_session *s)
{
	const struct gba_client_context *c = &s->ctx;

	out_str(w, "btid", c->btid);
	out_time(w, "lifetime", (long long)c->lifetime);
	out_str(w, "impi", c->impi);
	out_str(w, "gba_type", c->type == GBA_CLIENT_GBA_U ? "GBA_U" : "GBA_ME");
	out_str(w, "app", c->app == GBA_CLIENT_APP_ISIM ? "isim" : "usim");
	out_str(w, "bsf_url", c->bsf_url);
	if (c->type == GBA_CLIENT_GBA_ME)
		out_key(w, s->o, "ks", c->ks, sizeof(c->ks));
}
