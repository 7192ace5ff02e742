/*
 * gba-subscriber - manage the embedded subscriber database of the BSF and
 * the HSS simulator (SQLite, gba/subscriber_db.h).  See --help and
 * docs/subscribers.md.
 *
 * Nothing it prints carries K, OP or OPc: the database hands out no key,
 * and keys read from the command line or a key file are wiped once used.
 */
#define _GNU_SOURCE /* getopt_long */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gba/kek.h>
#include <gba/subscriber_db.h>
#include <gba/tuak.h>
#include <gba/util.h>

#include "cli.h"
#include "gba_cli.h"
#include "keys.h"

/* Exit codes (documented in --help and docs/subscribers.md). */

static const char usage_text[] =
	"Usage: gba-subscriber --db PATH COMMAND [OPTIONS]\n"
	"\n"
	"Manage the subscriber database (SQLite) of gba-bsf's embedded mode and of\n"
	"the HSS simulator.  The file is created (mode 0600) by add and import.\n"
	"\n"
	"Commands:\n"
	"  add --impi IMPI [options]   add one subscriber (options below)\n"
	"  list [--json]               one line (or object) per subscriber, IMPI order\n"
	"  show IMPI|IMSI [--json]     one subscriber's public data (by IMSI: each)\n"
	"  export [--format csv|json] [--out FILE] [--with-keys]\n"
	"                              every subscriber's public data; K and OPc\n"
	"                              only with --with-keys, to a new 0600 --out FILE\n"
	"  update IMPI [--k-file FILE [--algo A] [--tuak-iterations N] [--res-len N]]\n"
	"         [--amf HEX] [--guss-file FILE | --no-guss]\n"
	"                              change keys (from a file only), AMF, GUSS\n"
	"  set-sqn IMPI N, reset-sqn IMPI\n"
	"                              set the last SQN issued (reset: 0)\n"
	"  remove IMPI                 delete a subscriber\n"
	"  leases                      the BSFs' IND slot leases: slot, holder, expiry\n"
	"  map IMPI IMSI               the IMSI an HLR (av.source = gsup) knows IMPI by\n"
	"  map IMPI sip:URI|tel:URI    the Public-Identity a Cx HSS (av.source = cx)\n"
	"                              knows IMPI by (default: sip:IMPI)\n"
	"  unmap IMPI                  forget IMPI's mappings\n"
	"  maps                        one line per mapping, IMPI order\n"
	"  import [--upsert|--skip-existing] [--mnc-len 2|3] FILE.csv\n"
	"                              many subscribers, all or none ('-': stdin);\n"
	"                              RFC 4180, a header row names the columns\n"
	"  rewrap --new-kek URI --new-pin-file FILE | --to-plain\n"
	"                              move every K and OPc to another KEK (from\n"
	"                              --kek, or from plain keys), or out of the token\n"
	"\n"
	"Global options:\n"
	"  --db PATH                   the database file (or GBA_SUBSCRIBER_DB)\n"
	"  --kek URI                   K and OPc are wrapped (RFC 5649) under this\n"
	"                              key in a PKCS#11 token: pkcs11:token=..;object=..\n"
	"                              (a file wrapped under a KEK opens only with it)\n"
	"  --pin-file FILE             the token's user PIN (file ours, mode 0600)\n"
	"  --kek-module PATH           the PKCS#11 module [every module p11-kit knows]\n"
	"  -h, --help                  this text\n"
	"  -V, --version               the version\n"
	"\n"
	"add options:\n"
	"  --impi IMPI                 private identity (required)\n"
	"  --imsi DIGITS               IMSI, 6 to 15 digits\n"
	"  --impu URI                  a public identity; repeat for more\n"
	"  --algo milenage|tuak        algorithm [milenage]\n"
	"  --k-file FILE               K and OP or OPc (required): k=HEX and op=HEX\n"
	"                              or opc=HEX lines from FILE ('-': stdin); K 16\n"
	"                              octets (TUAK: 16 or 32), TUAK's TOP/TOPc 32;\n"
	"                              OP is turned into OPc and never stored\n"
	"  --amf HEX                   AMF, 2 octets [0000]\n"
	"  --tuak-iterations N         TUAK Keccak iterations, 1..255 [1]\n"
	"  --res-len N                 TUAK RES length: 4, 8 or 16 [8]\n"
	"  --sqn N                     last SQN issued [0]\n"
	"  --ind-bits N                IND length of the SQN, 0..10 [5]\n"
	"  --guss-file FILE            the user's GUSS (XML), at most 16384 octets\n"
	"\n"
	"Exit codes: 0 done, 1 database failure, 2 bad usage or input,\n"
	"            3 no such subscriber, 4 subscriber exists already.\n"
	"\n"
	"show and list never print K, OP or OPc: the database gives none out.\n"
	"Keys are never taken on the command line (ps and shell history show it):\n"
	"only from --k-file or standard input.\n";

__attribute__((format(printf, 2, 3)))
int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("gba-subscriber: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gba-subscriber: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'gba-subscriber --help'.\n", stderr);
	return EXIT_USAGE;
}

/*
 * getopt's '?' or ':' as a message of ours.  Only the option's name is
 * shown, never what follows a '=' (it could be a key).
 */
int bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return usage_error("option '%.40s' needs a value", arg);
	return usage_error("unknown option '%.*s'", (int)strcspn(arg, "="), arg);
}

/* The exit code for a library error. */
int exit_code(gba_err err)
{
	switch (err) {
	case GBA_OK:
		return EXIT_DONE;
	case GBA_ERR_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case GBA_ERR_EXISTS:
		return EXIT_EXISTS;
	case GBA_ERR_STORE:
	case GBA_ERR_STORE_UNWRITABLE:
	case GBA_ERR_NO_MEMORY:
	case GBA_ERR_TIMEOUT:
	case GBA_ERR_UNAVAILABLE:
		return EXIT_FAILED;
	default:
		return EXIT_USAGE;
	}
}

/* Where the keys are: the global --kek options, and the KEK once open. */
static struct {
	const char *uri, *pin_file, *module;
	struct gba_kek *kek;
} kek_opt;

/* Open a KEK; the message names the URI and what went wrong. */
static int open_kek(const char *uri, const char *pin_file, struct gba_kek **kek)
{
	char why[GBA_KEK_URI_MAX + 128];
	gba_err err;

	if (!pin_file)
		return usage_error("--kek %s needs its --pin-file", uri);
	err = gba_kek_open(kek, uri, pin_file, kek_opt.module, why, sizeof(why));
	if (err)
		return fail(EXIT_FAILED, "KEK: %s", *why ? why : gba_strerror(err));
	return EXIT_DONE;
}

/* The reason a file refused our KEK (or its absence), naming the one it needs. */
static int kek_refused(const char *path, gba_err err)
{
	char why[2 * GBA_KEK_URI_MAX + 256];

	gba_subdb_kek_explain(path, kek_opt.kek, err, why, sizeof(why));
	return fail(EXIT_FAILED, "%s", why);
}

/* Open the database; must_exist for the commands that only read or delete. */
int open_db(const char *path, int must_exist, struct gba_subdb **db)
{
	gba_err err;
	int rc;

	if (must_exist && access(path, F_OK))
		return fail(EXIT_FAILED, "%s: %s", path, strerror(errno));
	if (kek_opt.uri && !kek_opt.kek) {
		rc = open_kek(kek_opt.uri, kek_opt.pin_file, &kek_opt.kek);
		if (rc)
			return rc;
	}
	err = gba_subdb_open_kek(db, path, kek_opt.kek);
	if (err == GBA_ERR_NOT_AUTHORIZED || err == GBA_ERR_UNSUPPORTED)
		return kek_refused(path, err);
	if (err)
		return fail(EXIT_FAILED, "%s: cannot open the database: %s", path,
			    gba_strerror(err));
	return EXIT_DONE;
}

int parse_number(const char *opt, const char *s, unsigned long long max,
			unsigned long long *out)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return usage_error("%s: not a number", opt);
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return usage_error("%s: a number from 0 to %llu", opt, max);
	return EXIT_DONE;
}

/* ---- add --------------------------------------------------------------- */


/* Append one --impu to the comma-separated list. */
static int add_impu(struct add_args *a, const char *impu)
{
	size_t have = strlen(a->impus), n = strlen(impu);

	if (!n || strchr(impu, ','))
		return usage_error("--impu: one non-empty URI without ',' per option");
	if (have + !!have + n > GBA_IMPU_LIST_MAX)
		return usage_error("--impu: the IMPUs take more than %d characters",
				   GBA_IMPU_LIST_MAX);
	if (have)
		a->impus[have++] = ',';
	memcpy(a->impus + have, impu, n + 1);
	return EXIT_DONE;
}

int read_guss(const char *path, char *buf, size_t size, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return usage_error("--guss-file %s: %s", path, strerror(errno));
	n = fread(buf, 1, size, f);
	if (ferror(f) || (n == size && fgetc(f) != EOF)) {
		fclose(f);
		return usage_error("--guss-file %s: unreadable or larger than %d octets", path,
				   GBA_GUSS_MAX);
	}
	fclose(f);
	*len = n;
	return EXIT_DONE;
}

enum add_opt {
	O_DB = 256, O_IMPI, O_IMSI, O_IMPU, O_ALGO, O_K_FILE, O_AMF,
	O_ITERATIONS, O_RES_LEN, O_SQN, O_IND_BITS, O_GUSS_FILE, O_HELP, O_VERSION,
	O_KEK, O_PIN_FILE, O_KEK_MODULE, O_NEW_KEK, O_NEW_PIN_FILE, O_TO_PLAIN,
};

static const struct option add_options[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "impi", required_argument, NULL, O_IMPI },
	{ "imsi", required_argument, NULL, O_IMSI },
	{ "impu", required_argument, NULL, O_IMPU },
	{ "algo", required_argument, NULL, O_ALGO },
	{ "k-file", required_argument, NULL, O_K_FILE },
	{ "amf", required_argument, NULL, O_AMF },
	{ "tuak-iterations", required_argument, NULL, O_ITERATIONS },
	{ "res-len", required_argument, NULL, O_RES_LEN },
	{ "sqn", required_argument, NULL, O_SQN },
	{ "ind-bits", required_argument, NULL, O_IND_BITS },
	{ "guss-file", required_argument, NULL, O_GUSS_FILE },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static int add_option(struct add_args *a, int opt, char *arg, const char **db)
{
	switch (opt) {
	case O_DB: *db = arg; return EXIT_DONE;
	case O_IMPI: a->impi = arg; return EXIT_DONE;
	case O_IMSI: a->imsi = arg; return EXIT_DONE;
	case O_IMPU: return add_impu(a, arg);
	case O_ALGO: a->algo = arg; return EXIT_DONE;
	case O_K_FILE: a->k_file = arg; return EXIT_DONE;
	case O_AMF: a->amf = arg; return EXIT_DONE;
	case O_ITERATIONS:
		a->have_iterations = 1;
		return parse_number("--tuak-iterations", arg, GBA_TUAK_ITERATIONS_MAX,
				    &a->iterations);
	case O_RES_LEN:
		a->have_res_len = 1;
		return parse_number("--res-len", arg, 16, &a->res_len);
	case O_SQN: return parse_number("--sqn", arg, GBA_SQN_MAX, &a->sqn);
	case O_IND_BITS: return parse_number("--ind-bits", arg, 10, &a->ind_bits);
	case O_GUSS_FILE: a->guss_file = arg; return EXIT_DONE;
	case O_HELP: fputs(usage_text, stdout); exit(EXIT_DONE);
	default: return usage_error("add: unknown option");
	}
}

/* K and OP/OPc into the subscriber's key, for the chosen algorithm. */
int build_key(const struct add_args *a, struct gba_aka_key *key)
{
	const struct key_input *in = &a->keys;

	if (!in->k_len || !in->op_len)
		return usage_error("add: K and OP or OPc are required (--k-file FILE, or - for "
				   "standard input)");
	if (!strcmp(a->algo, "milenage")) {
		if (a->have_iterations || a->have_res_len)
			return usage_error("--tuak-iterations and --res-len are for TUAK only");
		if (in->k_len != 16 || in->op_len != 16)
			return usage_error("Milenage takes a 16-octet K and a 16-octet OP/OPc");
		gba_aka_key_milenage(key, in->k, in->op, in->op_is_op);
		return EXIT_DONE;
	}
	if (strcmp(a->algo, "tuak"))
		return usage_error("--algo: milenage or tuak");
	if (in->op_len != 32)
		return usage_error("TUAK takes a 32-octet TOP/TOPc");
	if (gba_aka_key_tuak(key, in->k, in->k_len, in->op, in->op_is_op,
			     a->have_iterations ? (unsigned)a->iterations : 1,
			     a->have_res_len ? (size_t)a->res_len : 8))
		return usage_error("TUAK: iterations 1..255, RES length 4, 8 or 16");
	return EXIT_DONE;
}

static int copy_id(char *dst, size_t size, const char *src, const char *opt)
{
	if (strlen(src) >= size)
		return usage_error("%s: longer than %zu characters", opt, size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return EXIT_DONE;
}

const char *field_help(const char *field)
{
	if (!field)
		return "invalid subscriber";
	if (!strcmp(field, "impi"))
		return "--impi: 1 to 255 printable ASCII characters, no space or ','";
	if (!strcmp(field, "imsi"))
		return "--imsi: 6 to 15 digits";
	if (!strcmp(field, "impus"))
		return "--impu: printable ASCII, no space";
	if (!strcmp(field, "guss"))
		return "--guss-file: no NUL bytes, at most 16384 octets";
	return field;
}

static int build_subscriber(struct add_args *a, struct gba_subscriber *sub, char *guss)
{
	const char *field;
	size_t amf_len = 0;
	int rc;

	if (!a->impi)
		return usage_error("add: --impi is required");
	rc = copy_id(sub->impi, sizeof(sub->impi), a->impi, "--impi");
	if (!rc && a->imsi)
		rc = copy_id(sub->imsi, sizeof(sub->imsi), a->imsi, "--imsi");
	if (rc)
		return rc;
	memcpy(sub->impus, a->impus, sizeof(sub->impus));
	if (a->amf && (strlen(a->amf) != 4 ||
		       gba_hex_decode(sub->amf, 2, &amf_len, a->amf, 4) || amf_len != 2))
		return usage_error("--amf: 4 hex digits");
	rc = build_key(a, &sub->key);
	if (rc)
		return rc;
	sub->sqn = a->sqn;
	sub->ind_bits = (unsigned)a->ind_bits;
	if (a->guss_file) {
		rc = read_guss(a->guss_file, guss, GBA_GUSS_MAX, &sub->guss_len);
		if (rc)
			return rc;
		sub->guss = guss;
	}
	if (gba_subdb_check(sub, &field))
		return usage_error("%s", field_help(field));
	return EXIT_DONE;
}

static int cmd_add(int argc, char **argv, const char **db_path)
{
	static char guss[GBA_GUSS_MAX];
	struct add_args a = { .algo = "milenage", .ind_bits = 5 };
	struct gba_subscriber sub;
	struct gba_subdb *db = NULL;
	char err_text[256];
	gba_err err;
	int opt, rc = EXIT_DONE;

	memset(&sub, 0, sizeof(sub));
	rc = exact_options(argc, argv, add_options);
	optind = 0;
	opterr = 0;
	while (!rc && (opt = getopt_long(argc, argv, ":", add_options, NULL)) != -1)
		rc = opt == '?' || opt == ':' ? bad_option(opt, argv)
					      : add_option(&a, opt, optarg, db_path);
	if (!rc && optind < argc)
		rc = usage_error("add: unexpected argument '%s'", argv[optind]);
	if (!rc && a.k_file && key_file_read(a.k_file, &a.keys, err_text, sizeof(err_text)))
		rc = usage_error("%s", err_text);
	if (!rc && !*db_path)
		rc = usage_error("--db is required");
	if (!rc)
		rc = build_subscriber(&a, &sub, guss);
	gba_wipe(&a.keys, sizeof(a.keys));
	if (!rc)
		rc = open_db(*db_path, 0, &db);
	if (!rc) {
		err = gba_subdb_add(db, &sub);
		if (err == GBA_ERR_EXISTS)
			rc = fail(EXIT_EXISTS, "%s: a subscriber with this IMPI exists already",
				  sub.impi);
		else if (err)
			rc = fail(exit_code(err), "add %s: %s", sub.impi, gba_strerror(err));
		else
			printf("added %s\n", sub.impi);
	}
	gba_wipe(&sub, sizeof(sub));
	gba_subdb_close(db);
	return rc;
}

/* ---- list, show, remove, import ---------------------------------------- */

/* The one IMPI argument of show and remove. */
int one_impi(int argc, char **argv, const char *cmd, const char **impi)
{
	if (argc != 2)
		return usage_error("%s takes one IMPI", cmd);
	if (strlen(argv[1]) > GBA_IMPI_MAX)
		return usage_error("%s: an IMPI has at most %d characters", cmd, GBA_IMPI_MAX);
	*impi = argv[1];
	return EXIT_DONE;
}

/* One lease: "IND HOLDER EXPIRES-UNIX live|expired". */
static int lease_one(const struct gba_subdb_lease *l, void *arg)
{
	int64_t now = *(const int64_t *)arg;

	printf("%u %s %lld %s\n", l->ind, l->holder, (long long)l->expires,
	       l->expires > now ? "live" : "expired");
	return 0;
}

static int cmd_leases(int argc, char **argv, const char *db_path)
{
	struct gba_subdb *db = NULL;
	int64_t now = (int64_t)time(NULL);
	gba_err err;
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_error("leases takes no argument");
	rc = open_db(db_path, 1, &db);
	if (rc)
		return rc;
	printf("# ind\tholder\texpires (Unix s)\tstate\n");
	err = gba_subdb_leases(db, lease_one, &now);
	gba_subdb_close(db);
	if (err)
		return fail(exit_code(err), "leases: %s", gba_strerror(err));
	return fflush(stdout) ? fail(EXIT_FAILED, "leases: %s", strerror(errno)) : EXIT_DONE;
}

static int cmd_map(int argc, char **argv, const char *db_path)
{
	struct gba_subdb *db = NULL;
	gba_err err;
	int rc, pubid;

	if (argc != 3)
		return usage_error("map takes an IMPI and an IMSI or a Public-Identity");
	rc = open_db(db_path, 0, &db);   /* a GSUP or Cx BSF's database may hold only maps */
	if (rc)
		return rc;
	/* An IMSI is digits; a Public-Identity a URI (its scheme says which). */
	pubid = strchr(argv[2], ':') != NULL;
	err = pubid ? gba_subdb_map_public_identity(db, argv[1], argv[2])
		    : gba_subdb_map(db, argv[1], argv[2]);
	gba_subdb_close(db);
	if (err == GBA_ERR_INVALID_ARG && pubid)
		return usage_error("map: '%s' is no IMPI or '%s' no Public-Identity (a sip:, "
				   "sips: or tel: URI, no spaces)", argv[1], argv[2]);
	if (err == GBA_ERR_INVALID_ARG)
		return usage_error("map: '%s' is no IMPI or '%s' no IMSI (6 to 15 digits)",
				   argv[1], argv[2]);
	if (err)
		return fail(exit_code(err), "map: %s", gba_strerror(err));
	printf("mapped %s to %s\n", argv[1], argv[2]);
	return EXIT_DONE;
}

static int cmd_unmap(int argc, char **argv, const char *db_path)
{
	struct gba_subdb *db = NULL;
	const char *impi = NULL;
	gba_err err;
	int rc = one_impi(argc, argv, "unmap", &impi);

	if (!rc)
		rc = open_db(db_path, 1, &db);
	if (rc)
		return rc;
	err = gba_subdb_unmap(db, impi);
	gba_subdb_close(db);
	if (err == GBA_ERR_NOT_FOUND)
		return fail(EXIT_NOT_FOUND, "%s: no mapping", impi);
	if (err)
		return fail(exit_code(err), "unmap: %s", gba_strerror(err));
	printf("unmapped %s\n", impi);
	return EXIT_DONE;
}

static int maps_one(const char *impi, const char *imsi, void *arg)
{
	(void)arg;
	printf("%s\t%s\n", impi, imsi);
	return 0;
}

/* Public-Identities after the IMSIs, under a header of their own. */
static int pubids_one(const char *impi, const char *uri, void *arg)
{
	int *header = arg;

	if (!*header) {
		printf("# impi\tpublic identity (Cx)\n");
		*header = 1;
	}
	printf("%s\t%s\n", impi, uri);
	return 0;
}

static int cmd_maps(int argc, char **argv, const char *db_path)
{
	struct gba_subdb *db = NULL;
	gba_err err;
	int rc, header = 0;

	(void)argv;
	if (argc != 1)
		return usage_error("maps takes no argument");
	rc = open_db(db_path, 1, &db);
	if (rc)
		return rc;
	printf("# impi\timsi\n");
	err = gba_subdb_map_list(db, maps_one, NULL);
	if (!err)
		err = gba_subdb_public_identity_list(db, pubids_one, &header);
	gba_subdb_close(db);
	if (err)
		return fail(exit_code(err), "maps: %s", gba_strerror(err));
	return fflush(stdout) ? fail(EXIT_FAILED, "maps: %s", strerror(errno)) : EXIT_DONE;
}

static int cmd_remove(int argc, char **argv, const char *db_path)
{
	struct gba_subdb *db = NULL;
	const char *impi = NULL;
	gba_err err;
	int rc = one_impi(argc, argv, "remove", &impi);

	if (!rc)
		rc = open_db(db_path, 1, &db);
	if (rc)
		return rc;
	err = gba_subdb_remove(db, impi);
	gba_subdb_close(db);
	if (err == GBA_ERR_NOT_FOUND)
		return fail(EXIT_NOT_FOUND, "%s: no such subscriber", impi);
	if (err)
		return fail(exit_code(err), "remove: %s", gba_strerror(err));
	printf("removed %s\n", impi);
	return EXIT_DONE;
}

/* ---- rewrap ------------------------------------------------------------- */

static const struct option rewrap_options[] = {
	{ "new-kek", required_argument, NULL, O_NEW_KEK },
	{ "new-pin-file", required_argument, NULL, O_NEW_PIN_FILE },
	{ "to-plain", no_argument, NULL, O_TO_PLAIN },
	{ NULL, 0, NULL, 0 },
};

static int rewrap_args(int argc, char **argv, const char **uri, const char **pin, int *plain)
{
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", rewrap_options, NULL)) != -1) {
		if (opt == O_NEW_KEK)
			*uri = optarg;
		else if (opt == O_NEW_PIN_FILE)
			*pin = optarg;
		else if (opt == O_TO_PLAIN)
			*plain = 1;
		else
			return bad_option(opt, argv);
	}
	if (optind < argc)
		return usage_error("rewrap: unexpected argument '%s'", argv[optind]);
	if (!*uri == !*plain)
		return usage_error("rewrap: --new-kek URI --new-pin-file FILE, or --to-plain");
	return EXIT_DONE;
}

static int cmd_rewrap(int argc, char **argv, const char *db_path)
{
	const char *uri = NULL, *pin = NULL;
	struct gba_kek *new_kek = NULL;
	struct gba_subdb *db = NULL;
	size_t count = 0;
	int plain = 0, rc = rewrap_args(argc, argv, &uri, &pin, &plain);
	gba_err err;

	if (!rc)
		rc = open_db(db_path, 1, &db);
	if (!rc && uri)
		rc = open_kek(uri, pin, &new_kek);
	if (!rc) {
		err = gba_subdb_rewrap(db, new_kek, &count);
		if (err)
			rc = fail(exit_code(err), "rewrap: %s; nothing changed", gba_strerror(err));
		else
			printf("rewrapped %zu subscribers %s %s\n", count, uri ? "under" : "to",
			       uri ? uri : "plain keys");
	}
	gba_subdb_close(db);
	gba_kek_close(new_kek);
	return rc;
}

/* ---- main -------------------------------------------------------------- */

static const struct option global_options[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "kek", required_argument, NULL, O_KEK },
	{ "pin-file", required_argument, NULL, O_PIN_FILE },
	{ "kek-module", required_argument, NULL, O_KEK_MODULE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int run(const char *cmd, int argc, char **argv, const char **db_path)
{
	if (!strcmp(cmd, "add"))
		return cmd_add(argc, argv, db_path);
	if (!**db_path)
		return usage_error("--db is required");
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv, *db_path);
	if (!strcmp(cmd, "show"))
		return cmd_show(argc, argv, *db_path);
	if (!strcmp(cmd, "leases"))
		return cmd_leases(argc, argv, *db_path);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc, argv, *db_path);
	if (!strcmp(cmd, "update"))
		return cmd_update(argc, argv, *db_path);
	if (!strcmp(cmd, "set-sqn") || !strcmp(cmd, "reset-sqn"))
		return cmd_set_sqn(argc, argv, *db_path);
	if (!strcmp(cmd, "remove"))
		return cmd_remove(argc, argv, *db_path);
	if (!strcmp(cmd, "import"))
		return cmd_import(argc, argv, *db_path);
	if (!strcmp(cmd, "map"))
		return cmd_map(argc, argv, *db_path);
	if (!strcmp(cmd, "unmap"))
		return cmd_unmap(argc, argv, *db_path);
	if (!strcmp(cmd, "maps"))
		return cmd_maps(argc, argv, *db_path);
	if (!strcmp(cmd, "rewrap"))
		return cmd_rewrap(argc, argv, *db_path);
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	const char *db_path = getenv("GBA_SUBSCRIBER_DB"), *cmd;
	int opt, rc;

	if (!db_path)
		db_path = "";
	/* '+': stop at the command; its options are its own. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:hV", global_options, NULL)) != -1) {
		switch (opt) {
		case O_DB: db_path = optarg; break;
		case O_KEK: kek_opt.uri = optarg; break;
		case O_PIN_FILE: kek_opt.pin_file = optarg; break;
		case O_KEK_MODULE: kek_opt.module = optarg; break;
		case 'h': fputs(usage_text, stdout); return EXIT_DONE;
		case 'V':
		case O_VERSION: gba_cli_version("gba-subscriber"); return EXIT_DONE;
		default:
			rc = bad_option(opt, argv);
			if (opt == '?')
				gba_cli_unknown("gba-subscriber", global_options, "hV");
			return rc;
		}
	}
	if (optind >= argc)
		return usage_error("no command (add, list, show, leases, remove, import, rewrap)");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return EXIT_DONE;
	}
	rc = run(cmd, argc, argv, &db_path);
	gba_kek_close(kek_opt.kek);
	return rc;
}
