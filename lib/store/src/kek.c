/*
 * kek.c - a key-encryption key in a PKCS#11 token through p11-kit; see
 * gba/kek.h.
 *
 * Token sessions are kept in a small pool: a PKCS#11 session runs one
 * operation at a time, so each wrap or unwrap borrows one.  The first
 * session is never closed: the login belongs to the application, and a
 * token logs it out when its last session closes.
 *
 * The wraps and unwraps use a session copy of the KEK made inside the
 * token (C_CopyObject with CKA_TOKEN false: still sensitive and never
 * extractable, and gone when the login session closes).  Software tokens
 * re-read a token object's file at every use (SoftHSM2: an open, a read
 * and fcntl locks per call, under its token lock); the session copy is
 * used from memory.  A token that refuses the copy is used as it is.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include <gba/kek.h>
#include <gba/util.h>

#define KEK_PIN_MAX 256
#define KEK_SESSIONS_MAX 32

/* What gba_kek_check_value() wraps: 16 octets (no NUL), fixed for all time. */
#define CHECK_PLAIN_LEN 16
static const uint8_t check_plain[CHECK_PLAIN_LEN + 1] = "GBA KEK check v1";

struct gba_kek {
	char uri[GBA_KEK_URI_MAX + 1];
	CK_FUNCTION_LIST **modules;   /* p11-kit's registered modules, or NULL */
	CK_FUNCTION_LIST *module;     /* the one holding the token */
	int own_module;               /* loaded by path: finalize it alone */
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE key;
	CK_SESSION_HANDLE login;      /* kept open for the life of the handle */
	pthread_mutex_t lock;
	CK_SESSION_HANDLE idle[KEK_SESSIONS_MAX];
	unsigned n_idle;
};

__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* ---- the PIN file ------------------------------------------------------- */

/* The PIN without its line end; the file must be ours and 0600. */
static gba_err read_pin(const char *path, char *pin, size_t size, char *why, size_t why_size)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		say(why, why_size, "PIN file %s: %s", path, strerror(errno));
		return errno == ENOENT ? GBA_ERR_NOT_FOUND : GBA_ERR_NOT_AUTHORIZED;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    st.st_uid != geteuid()) {
		close(fd);
		say(why, why_size, "PIN file %s refused: it must be ours and mode 0600", path);
		return GBA_ERR_NOT_AUTHORIZED;
	}
	n = read(fd, pin, size - 1);
	close(fd);
	if (n < 0 || (size_t)n >= size - 1) {
		say(why, why_size, "PIN file %s: unreadable or too large", path);
		return GBA_ERR_NOT_AUTHORIZED;
	}
	while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		n--;
	pin[n] = '\0';
	return GBA_OK;
}

/* ---- finding the token and the key -------------------------------------- */

static gba_err load_modules(struct gba_kek *kek, const char *module, char *why, size_t why_size)
{
	if (module) {
		kek->module = p11_kit_module_load(module, 0);
		if (!kek->module || p11_kit_module_initialize(kek->module) != CKR_OK) {
			if (kek->module)
				p11_kit_module_release(kek->module);
			kek->module = NULL;
			say(why, why_size, "PKCS#11 module %s does not load", module);
			return GBA_ERR_UNAVAILABLE;
		}
		kek->own_module = 1;
		return GBA_OK;
	}
	kek->modules = p11_kit_modules_load_and_initialize(0);
	if (!kek->modules || !kek->modules[0]) {
		say(why, why_size, "p11-kit has no PKCS#11 module for %s", kek->uri);
		return GBA_ERR_UNAVAILABLE;
	}
	return GBA_OK;
}

/* The first slot of m whose token matches the URI. */
static int find_slot(CK_FUNCTION_LIST *m, P11KitUri *uri, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_INFO info;

	if (m->C_GetInfo(&info) != CKR_OK || !p11_kit_uri_match_module_info(uri, &info))
		return 0;
	if (m->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return 0;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (m->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    p11_kit_uri_match_token_info(uri, &ti)) {
			*slot = slots[i];
			return 1;
		}
	}
	return 0;
}

static gba_err find_token(struct gba_kek *kek, P11KitUri *uri, char *why, size_t why_size)
{
	if (kek->own_module) {
		if (find_slot(kek->module, uri, &kek->slot))
			return GBA_OK;
	} else {
		for (size_t i = 0; kek->modules[i]; i++) {
			if (find_slot(kek->modules[i], uri, &kek->slot)) {
				kek->module = kek->modules[i];
				return GBA_OK;
			}
		}
	}
	say(why, why_size, "no token present matches %s", kek->uri);
	return GBA_ERR_UNAVAILABLE;
}

static gba_err login(struct gba_kek *kek, const char *pin_file, char *why, size_t why_size)
{
	char pin[KEK_PIN_MAX];
	CK_RV rv;
	gba_err err = read_pin(pin_file, pin, sizeof(pin), why, why_size);

	if (err)
		return err;
	rv = kek->module->C_OpenSession(kek->slot, CKF_SERIAL_SESSION, NULL, NULL, &kek->login);
	if (rv != CKR_OK) {
		gba_wipe(pin, sizeof(pin));
		say(why, why_size, "%s: no session: %s", kek->uri, p11_kit_strerror(rv));
		kek->login = CK_INVALID_HANDLE;
		return GBA_ERR_UNAVAILABLE;
	}
	rv = kek->module->C_Login(kek->login, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	gba_wipe(pin, sizeof(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return GBA_OK;
	say(why, why_size, "%s: login refused (%s)", kek->uri,
	    rv == CKR_PIN_INCORRECT ? "wrong PIN" : p11_kit_strerror(rv));
	return GBA_ERR_NOT_AUTHORIZED;
}

/* The one AES secret key the URI names (its class is implied). */
static gba_err find_key(struct gba_kek *kek, P11KitUri *uri, char *why, size_t why_size)
{
	CK_ULONG n_uri = 0, found = 0;
	CK_ATTRIBUTE *attrs = p11_kit_uri_get_attributes(uri, &n_uri);
	CK_ATTRIBUTE tmpl[8];
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_AES;
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;

	for (CK_ULONG i = 0; i < n_uri && n < 6; i++)
		if (attrs[i].type != CKA_CLASS)
			tmpl[n++] = attrs[i];
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &type, sizeof(type) };
	if (kek->module->C_FindObjectsInit(kek->login, tmpl, n) != CKR_OK) {
		say(why, why_size, "%s: the token refused the search", kek->uri);
		return GBA_ERR_UNAVAILABLE;
	}
	if (kek->module->C_FindObjects(kek->login, h, 2, &found) != CKR_OK)
		found = 0;
	kek->module->C_FindObjectsFinal(kek->login);
	if (found != 1) {
		say(why, why_size, "%s: %s AES key of that name", kek->uri, found ? "more than one" : "no");
		return GBA_ERR_NOT_FOUND;
	}
	kek->key = h[0];
	return GBA_OK;
}

/* Refuse a key that could leave the token, or cannot wrap and unwrap. */
static gba_err check_key(struct gba_kek *kek, char *why, size_t why_size)
{
	CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE, wrap = CK_FALSE, unwrap = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{ CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
		{ CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
		{ CKA_WRAP, &wrap, sizeof(wrap) },
		{ CKA_UNWRAP, &unwrap, sizeof(unwrap) },
	};

	if (kek->module->C_GetAttributeValue(kek->login, kek->key, a, 4) != CKR_OK) {
		say(why, why_size, "%s: the key's attributes are unreadable", kek->uri);
		return GBA_ERR_UNSUPPORTED;
	}
	if (extractable || !sensitive) {
		say(why, why_size, "%s refused: the key is %s (a KEK must never leave the token)",
		    kek->uri, extractable ? "extractable" : "not sensitive");
		return GBA_ERR_UNSUPPORTED;
	}
	if (!wrap || !unwrap) {
		say(why, why_size, "%s refused: the key may not wrap and unwrap", kek->uri);
		return GBA_ERR_UNSUPPORTED;
	}
	return GBA_OK;
}

/* Work with a session copy of the key when the token allows it. */
static void session_copy(struct gba_kek *kek)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE a = { CKA_TOKEN, &no, sizeof(no) };
	CK_OBJECT_HANDLE copy;

	if (kek->module->C_CopyObject(kek->login, kek->key, &a, 1, &copy) == CKR_OK)
		kek->key = copy;
}

static gba_err locate(struct gba_kek *kek, const char *pin_file, const char *module,
		      char *why, size_t why_size)
{
	P11KitUri *uri = p11_kit_uri_new();
	gba_err err = GBA_OK;

	if (!uri)
		return GBA_ERR_NO_MEMORY;
	if (p11_kit_uri_parse(kek->uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri) !=
	    P11_KIT_URI_OK) {
		say(why, why_size, "%s is not a pkcs11: URI", kek->uri);
		err = GBA_ERR_PARSE;
	}
	if (!err)
		err = load_modules(kek, module, why, why_size);
	if (!err)
		err = find_token(kek, uri, why, why_size);
	if (!err)
		err = login(kek, pin_file, why, why_size);
	if (!err)
		err = find_key(kek, uri, why, why_size);
	if (!err)
		err = check_key(kek, why, why_size);
	if (!err) {
		session_copy(kek);
		err = check_key(kek, why, why_size);   /* the copy, as strict */
	}
	p11_kit_uri_free(uri);
	return err;
}

gba_err gba_kek_open(struct gba_kek **out, const char *uri, const char *pin_file,
		     const char *module, char *why, size_t why_size)
{
	struct gba_kek *kek;
	uint8_t cv[GBA_KEK_CHECK_LEN];
	gba_err err;

	say(why, why_size, "%s", "");
	if (!out || !uri || !pin_file || strlen(uri) > GBA_KEK_URI_MAX)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	kek = calloc(1, sizeof(*kek));
	if (!kek)
		return GBA_ERR_NO_MEMORY;
	memcpy(kek->uri, uri, strlen(uri) + 1);
	kek->login = CK_INVALID_HANDLE;
	if (pthread_mutex_init(&kek->lock, NULL)) {
		free(kek);
		return GBA_ERR_NO_MEMORY;
	}
	err = locate(kek, pin_file, module, why, why_size);
	/* RFC 5649 must work here, not first at the first subscriber. */
	if (!err && gba_kek_check_value(kek, cv)) {
		say(why, why_size, "%s: the token cannot wrap with CKM_AES_KEY_WRAP_PAD", uri);
		err = GBA_ERR_UNSUPPORTED;
	}
	if (err) {
		gba_kek_close(kek);
		return err;
	}
	*out = kek;
	return GBA_OK;
}

void gba_kek_close(struct gba_kek *kek)
{
	if (!kek)
		return;
	for (unsigned i = 0; i < kek->n_idle; i++)
		kek->module->C_CloseSession(kek->idle[i]);
	if (kek->login != CK_INVALID_HANDLE)
		kek->module->C_CloseSession(kek->login);
	if (kek->own_module) {
		p11_kit_module_finalize(kek->module);
		p11_kit_module_release(kek->module);
	} else if (kek->modules) {
		p11_kit_modules_finalize_and_release(kek->modules);
	}
	pthread_mutex_destroy(&kek->lock);
	free(kek);
}

const char *gba_kek_uri(const struct gba_kek *kek)
{
	return kek ? kek->uri : "";
}

/* ---- sessions ----------------------------------------------------------- */

static gba_err session_get(struct gba_kek *kek, CK_SESSION_HANDLE *s)
{
	CK_RV rv;

	pthread_mutex_lock(&kek->lock);
	if (kek->n_idle) {
		*s = kek->idle[--kek->n_idle];
		pthread_mutex_unlock(&kek->lock);
		return GBA_OK;
	}
	pthread_mutex_unlock(&kek->lock);
	rv = kek->module->C_OpenSession(kek->slot, CKF_SERIAL_SESSION, NULL, NULL, s);
	return rv == CKR_OK ? GBA_OK : GBA_ERR_UNAVAILABLE;
}

static void session_put(struct gba_kek *kek, CK_SESSION_HANDLE s)
{
	pthread_mutex_lock(&kek->lock);
	if (kek->n_idle < KEK_SESSIONS_MAX) {
		kek->idle[kek->n_idle++] = s;
		s = CK_INVALID_HANDLE;
	}
	pthread_mutex_unlock(&kek->lock);
	if (s != CK_INVALID_HANDLE)
		kek->module->C_CloseSession(s);
}

static gba_err rv_err(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return GBA_OK;
	case CKR_WRAPPED_KEY_INVALID:
	case CKR_WRAPPED_KEY_LEN_RANGE:
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
		return GBA_ERR_AUTH_FAILED;
	case CKR_BUFFER_TOO_SMALL:
		return GBA_ERR_BUFFER_TOO_SMALL;
	case CKR_HOST_MEMORY:
	case CKR_DEVICE_MEMORY:
		return GBA_ERR_NO_MEMORY;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_USER_NOT_LOGGED_IN:
		return GBA_ERR_UNAVAILABLE;
	default:
		return GBA_ERR_STORE;
	}
}

/* ---- wrap and unwrap ---------------------------------------------------- */

/*
 * A generic secret as a session object that may be wrapped and read back:
 * the form the token's C_WrapKey and C_UnwrapKey work on.
 */
#define SECRET_TEMPLATE(cls, type, no, yes)                     \
	{ CKA_CLASS, &(cls), sizeof(cls) },                     \
	{ CKA_KEY_TYPE, &(type), sizeof(type) },                \
	{ CKA_TOKEN, &(no), sizeof(no) },                       \
	{ CKA_SENSITIVE, &(no), sizeof(no) },                   \
	{ CKA_EXTRACTABLE, &(yes), sizeof(yes) }

gba_err gba_kek_wrap(struct gba_kek *kek, uint8_t *out, size_t out_size, size_t *out_len,
		     const uint8_t *in, size_t in_len)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_GENERIC_SECRET;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = { SECRET_TEMPLATE(cls, type, no, yes),
				{ CKA_VALUE, (void *)in, in_len } };
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE s;
	CK_ULONG len = out_size;
	CK_RV rv;
	gba_err err;

	if (!kek || !out || !out_len || !in || !in_len || in_len > GBA_KEK_SECRET_MAX)
		return GBA_ERR_INVALID_ARG;
	err = session_get(kek, &s);
	if (err)
		return err;
	rv = kek->module->C_CreateObject(s, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &obj);
	if (rv == CKR_OK) {
		rv = kek->module->C_WrapKey(s, &mech, kek->key, obj, out, &len);
		kek->module->C_DestroyObject(s, obj);
	}
	session_put(kek, s);
	*out_len = rv == CKR_OK ? len : 0;
	return rv_err(rv);
}

gba_err gba_kek_unwrap(struct gba_kek *kek, uint8_t *out, size_t out_size, size_t *out_len,
		       const uint8_t *in, size_t in_len)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_GENERIC_SECRET;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = { SECRET_TEMPLATE(cls, type, no, yes) };
	CK_ATTRIBUTE value = { CKA_VALUE, out, out_size };
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	gba_err err;

	if (!kek || !out || !out_len || !in || in_len < 16 || in_len > GBA_KEK_WRAPPED_MAX)
		return GBA_ERR_INVALID_ARG;
	*out_len = 0;
	err = session_get(kek, &s);
	if (err)
		return err;
	rv = kek->module->C_UnwrapKey(s, &mech, kek->key, (CK_BYTE *)in, in_len, tmpl,
				      sizeof(tmpl) / sizeof(tmpl[0]), &obj);
	if (rv == CKR_OK) {
		rv = kek->module->C_GetAttributeValue(s, obj, &value, 1);
		kek->module->C_DestroyObject(s, obj);
	}
	session_put(kek, s);
	if (rv != CKR_OK) {
		gba_wipe(out, out_size);
		return rv_err(rv);
	}
	*out_len = value.ulValueLen;
	return GBA_OK;
}

gba_err gba_kek_check_value(struct gba_kek *kek, uint8_t out[GBA_KEK_CHECK_LEN])
{
	uint8_t w[CHECK_PLAIN_LEN + 8];
	size_t len = 0;
	gba_err err;

	if (!kek || !out)
		return GBA_ERR_INVALID_ARG;
	err = gba_kek_wrap(kek, w, sizeof(w), &len, check_plain, CHECK_PLAIN_LEN);
	if (!err && len != sizeof(w))
		err = GBA_ERR_STORE;
	if (!err)
		memcpy(out, w, GBA_KEK_CHECK_LEN);
	return err;
}
