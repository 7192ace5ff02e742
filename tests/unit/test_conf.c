/*
 * test_conf.c - the shared configuration reader (lib/conf) against its
 * committed expected output, tests/unit/test_conf.out: for each file and
 * each --set below, what the reader answers.  Every kind of value, every
 * line error, sections and a name -> value section, a file without
 * sections, a file with keys before its first section, required keys
 * and names in any case; and listen addresses (gba_conf_listen_addr), good
 * and bad.
 *
 *   test_conf EXPECTED          compare (exit 1 and the transcript on a difference)
 *   test_conf --write EXPECTED  regenerate it (then read the diff before committing)
 *
 * One property is checked besides the transcript: no message holds the
 * value of a secret key (every secret below contains "c0ffee").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba_conf.h>

#include "conf_demo.h"

#define SECRET_MARK "c0ffee"

#define K16 "00112233445566778899aabbc0ffee00"

/* Keys before the first [section] as well as in one (gba-hss-sim's -c file). */
static const struct gba_conf_key mixed_keys[] = {
	{ .section = "", .key = "name", .type = GBA_CONF_STR, .off = OFF(name), .size = SZ(name) },
	{ .section = "main", .key = "port", .type = GBA_CONF_UINT, .off = OFF(port), .min = 1,
	  .max = 65535 },
};

static const struct gba_conf_spec mixed = { .keys = mixed_keys, .n_keys = 2 };

/* Lengths from sizeof: some cases hold a NUL. */
#define F(sp, t) { sp, t, sizeof(t) - 1 }

static const struct {
	const struct gba_conf_spec *spec;
	const char *text;
	size_t len;
} files[] = {
	/* Accepted. */
	F(&spec, "# every kind\n\n[main]\nname = x y\ndigits=0042\nport = 8080\nbig = "
		 "281474976710655\nttl = 2h\non = Yes\nmode = slow\n[ keys ]\nkey = " K16 K16
		 "\r\nrand = 0A0b0C0d\npin = 1234\nextra = more\nextra = more\n[peers]\n"
		 "a b = c0ffee\n\t[main]\n"),
	/* Line errors. */
	F(&spec, "name = x\n"),
	F(&spec, "[main]\nname\n"),
	F(&spec, "[main]\n= x\n"),
	F(&spec, "[main\n"),
	F(&spec, "[Main]\n"),
	F(&spec, "[nope]\n"),
	F(&spec, "[main]\nname = a\0b\n"),
	F(&spec, "[main]\nname = a\x01z\n"),
	F(&spec, "[main]\nname = a\rb\n"),
	F(&spec, "[main]\nname = a\nname = b\n"),
	F(&spec, "[main]\nnope = 1\n"),
	/* Values. */
	F(&spec, "[main]\nname =\n"),
	F(&spec, "[main]\nname = elevenchars\n"),
	F(&spec, "[main]\ndigits = 12a\n"),
	F(&spec, "[main]\nport = 0\n"),
	F(&spec, "[main]\nport = -1\n"),
	F(&spec, "[main]\nport = 99999999999999999999999\n"),
	F(&spec, "[main]\nport = 1m\n"),
	F(&spec, "[main]\nbig = 281474976710656\n"),
	F(&spec, "[main]\nttl = 5w\n"),
	F(&spec, "[main]\nttl = 2d\n"),
	F(&spec, "[main]\non = maybe\n"),
	F(&spec, "[main]\nmode = FAST\n"),
	F(&spec, "[keys]\nkey = " K16 "00\n"),
	F(&spec, "[keys]\nkey = " K16 "zz\n"),
	F(&spec, "[keys]\nkey = " K16 "0\n"),
	F(&spec, "[keys]\nrand = c0ffee\n"),
	F(&spec, "[keys]\npin = c0ffee\n"),
	F(&spec, "[keys]\nextra = less\n"),
	F(&spec, "[peers]\na = c0ffee!\n"),
	/* Without sections. */
	F(&flat, "K = " K16 "\nNAME = n\n"),
	F(&flat, "name = n\n"),
	F(&flat, "[main]\n"),
	F(&flat, "k = " K16 "\nopc = 1\n"),
	/* Keys before the first header, then a section. */
	F(&mixed, "name = n\n[main]\nport = 8080\n"),
	F(&mixed, "nope = 1\n"),
	F(&mixed, "[main]\nname = n\n"),
	F(&mixed, "[keys]\n"),
};

static const struct {
	const struct gba_conf_spec *spec;
	const char *arg;
} sets[] = {
	{ &spec, "main.port=8443" },
	{ &spec, "main.port=99999" },
	{ &spec, "main.nope=1" },
	{ &spec, "nope.key=1" },
	{ &spec, "port=1" },
	{ &spec, "main.port" },
	{ &spec, "keys.pin=c0ffee" },
	{ &spec, "main.name=a=b" },
	{ &flat, "k=" K16 },
	{ &flat, "main.k=1" },
};

/* Listen addresses (gba_conf_listen_addr): what gba-bsf and gba-naf take. */
#define LONG_HOST "1111111111222222222233333333334444444444555555555566666666667777777777" \
	"1111111111222222222233333333334444444444555555555566666666667777777777" \
	"1111111111222222222233333333334444444444555555555566666666667777777777" \
	"1111111111222222222233333333334444444444555555555566666666667777777777"
static const char *const listens[] = {
	"127.0.0.1:8080", "*:80", "0.0.0.0:65535", "[::1]:443", "[::]:1", "[::ffff:10.0.0.1]:80",
	"127.0.0.1", "127.0.0.1:", "", ":80", "127.0.0.1:0", "127.0.0.1:65536",
	"127.0.0.1:99999999999999999999999", "127.0.0.1:+80", "127.0.0.1: 80", "127.0.0.1:80 ",
	"127.0.0.1:-1", "127.0.0.1:0x50", "127.0.0.1:http", "localhost:80", "1.2.3:80",
	"[zz]:80", "[::1:80", "[::1]80", "[::1]:", "[::1]:0", "::1:80", "[]:80", "[*]:80",
	"[127.0.0.1]:80", "[fe80::1%eth0]:80", LONG_HOST ":80", "[" LONG_HOST "]:80",
};

/* The input as one line: control characters and NUL as \xNN. */
static void show(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static int no_secret(const char *err)
{
	if (strstr(err, SECRET_MARK)) {
		fprintf(stderr, "a secret in a message: %s\n", err);
		return 0;
	}
	return 1;
}

/* One listen address: the family, address and port it gives, or the message. */
static void show_listen(FILE *out, const char *text)
{
	char err[GBA_CONF_ERR_MAX], host[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t len = 0;

	fprintf(out, "listen '%s'\n", text);
	if (gba_conf_listen_addr(text, &ss, &len, err, sizeof(err))) {
		fprintf(out, "  error: %s\n", err);
		return;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		fprintf(out, "  ok: IPv6 %s port %u, len %s\n", host, ntohs(a->sin6_port),
			len == sizeof(*a) ? "right" : "WRONG");
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		fprintf(out, "  ok: %s %s port %u, len %s\n", ss.ss_family == AF_INET ? "IPv4" : "?",
			host, ntohs(a->sin_port), len == sizeof(*a) ? "right" : "WRONG");
	}
}

/* The transcript of every case; 0 when no message held a secret. */
static int transcript(FILE *out)
{
	char err[GBA_CONF_ERR_MAX], text[1024];
	struct demo d;
	int ok = 1;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len = files[i].len;

		memcpy(text, files[i].text, len + 1);
		memset(&d, 0, sizeof(d));
		gba_conf_defaults(files[i].spec, &d);
		fputs("file: ", out);
		show(out, text, len);
		if (gba_conf_parse(files[i].spec, &d, "t.conf", text, len, NULL, err,
				   sizeof(err))) {
			fprintf(out, "\n  error: %s\n", err);
			ok &= no_secret(err);
			continue;
		}
		fprintf(out, "\n  ok: key_len %zu, rand %02x%02x%02x%02x, pin %s, extra %u, "
			"peers %u\n", d.key_len, d.rand[0], d.rand[1], d.rand[2], d.rand[3],
			*d.pin ? "set" : "unset", d.n_extra, d.n_peers);
		if (files[i].spec != &flat)
			gba_conf_print(files[i].spec, &d, out);
	}
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		memset(&d, 0, sizeof(d));
		fprintf(out, "--set %s\n", sets[i].arg);
		if (gba_conf_set_arg(sets[i].spec, &d, "--set", sets[i].arg, err, sizeof(err))) {
			fprintf(out, "  error: %s\n", err);
			ok &= no_secret(err);
		} else {
			fprintf(out, "  ok: port %u, name %s, key_len %zu\n", d.port, d.name, d.key_len);
		}
	}
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++)
		show_listen(out, listens[i]);
	fputs("--help\n", out);
	gba_conf_print_keys(&spec, out);
	return ok;
}

int main(int argc, char **argv)
{
	const char *path = argc == 3 && !strcmp(argv[1], "--write") ? argv[2] : argv[1];
	char *got = NULL, *want = NULL;
	size_t got_len = 0, want_len = 0;
	FILE *f = open_memstream(&got, &got_len);
	int ok;

	if (argc < 2 || !f)
		return 2;
	ok = transcript(f);
	fclose(f);
	if (argc == 3) {
		f = fopen(path, "w");
		return !f || fwrite(got, 1, got_len, f) != got_len || fclose(f) || !ok;
	}
	f = fopen(path, "r");
	if (!f || getdelim(&want, &want_len, '\0', f) < 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		return 1;
	}
	fclose(f);
	if (strcmp(got, want)) {
		fprintf(stderr, "the reader's answers differ from %s; they are now:\n", path);
		fputs(got, stdout);
		ok = 0;
	}
	free(got);
	free(want);
	return ok ? 0 : 1;
}
