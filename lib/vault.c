/*
 * vault.c: sealed secrets (vault.h).
 *
 * The key is loaded once per process.  A key file is created without a
 * window in which another process could read it half written: 32 random
 * bytes go to a temporary file made with O_EXCL and mode 0600 (mkstemp),
 * which is then hard-linked to var/secret.key.  link(2) fails with EEXIST
 * when another process got there first; this one then drops its own and
 * reads the winner's, so all processes agree on one key.
 *
 * Plain text and key bytes are wiped (OPENSSL_cleanse) before the memory
 * holding them is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "db.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"
#include "vault.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define PLAIN_MAX (1024 * 1024)
#define PREFIX "v1:"
#define PREFIX_LEN 3

static unsigned char key[KEY_LEN];
static int have_key;
static char key_src[256];	/* where the key came from, for messages */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
sl_base64(const void *data, size_t n, int url)
{
	const unsigned char *p = data;
	const char *abc = url ? b64_url : b64_std;
	char *out, *o;
	size_t i;
	unsigned v;

	out = o = sl_malloc((n + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
		*o++ = abc[v & 63];
	}
	if (i < n) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		if (i + 1 < n)
			*o++ = abc[v >> 6 & 63];
		else if (!url)
			*o++ = '=';
		if (!url)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decodes base64url without padding into a new buffer of *n bytes; NULL
 * when s is not base64url (a stray character, a length no encoder makes,
 * or bits left over in the last character).
 */
static unsigned char *
b64url_decode(const char *s, size_t *n)
{
	size_t len = strlen(s), i, o = 0;
	unsigned char *out;
	unsigned v = 0;
	int bits = 0, d;

	if (len % 4 == 1)
		return NULL;
	out = sl_malloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		if ((d = b64url_value(s[i])) < 0)
			goto bad;
		v = (v << 6 | (unsigned)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	if (v & ((1u << bits) - 1))
		goto bad;
	*n = o;
	return out;
bad:
	free(out);
	return NULL;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 64 hex digits are the key; any other text is hashed into one. */
static int
key_from_text(const char *s)
{
	size_t i, len = strlen(s);
	unsigned int dlen = 0;

	if (len == 2 * KEY_LEN) {
		for (i = 0; i < len && hex_value(s[i]) >= 0; i++)
			;
		if (i == len) {
			for (i = 0; i < KEY_LEN; i++)
				key[i] = (unsigned char)(hex_value(s[2 * i]) <<
				    4 | hex_value(s[2 * i + 1]));
			return 0;
		}
	}
	if (EVP_Digest(s, len, key, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen != KEY_LEN)
		return -1;
	return 0;
}

/* Reads the key from an open key file, refusing one others may read. */
static int
read_key_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot read key file '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file '%s' is not a regular file",
		    path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "key file '%s' is open to others (mode "
		    "%04o): chmod 600 it", path, (unsigned)st.st_mode & 07777);
		return -1;
	}
	if (st.st_size != KEY_LEN) {
		snprintf(err, errlen, "key file '%s' holds %lld bytes, not %d",
		    path, (long long)st.st_size, KEY_LEN);
		return -1;
	}
	while (got < KEY_LEN) {
		r = read(fd, key + got, KEY_LEN - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "cannot read key file '%s': %s",
			    path, r < 0 ? strerror(errno) : "short file");
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/*
 * Makes the key file.  Returns 0 with the key loaded, 1 when another
 * process created it first (read that one), -1 with err.
 */
static int
create_key_file(const char *path, char *err, size_t errlen)
{
	unsigned char buf[KEY_LEN];
	char *dir, *tmp, *slash;
	size_t put = 0;
	ssize_t w;
	int fd, rc = -1;

	dir = sl_strdup(path);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create key file '%s': %s", path,
		    strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	tmp = sl_asprintf("%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "cannot create key file '%s': %s", path,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	if (sl_random(buf, sizeof buf) < 0) {
		snprintf(err, errlen, "cannot create key file '%s': no random "
		    "bytes", path);
		goto out;
	}
	while (put < sizeof buf) {
		w = write(fd, buf + put, sizeof buf - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write key file '%s': %s",
			    path, w < 0 ? strerror(errno) : "short write");
			goto out;
		}
		put += (size_t)w;
	}
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write key file '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (link(tmp, path) == 0) {
		memcpy(key, buf, sizeof key);
		rc = 0;
	} else if (errno == EEXIST) {
		rc = 1;
	} else {
		snprintf(err, errlen, "cannot create key file '%s': %s", path,
		    strerror(errno));
	}
out:
	OPENSSL_cleanse(buf, sizeof buf);
	close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

static int
key_from_file(char *err, size_t errlen)
{
	char *path = sl_asprintf("%s/var/secret.key", sl_home());
	int fd, rc = -1, tries;

	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			rc = read_key_fd(fd, path, err, errlen);
			close(fd);
			break;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "cannot open key file '%s': %s",
			    path, strerror(errno));
			break;
		}
		if ((rc = create_key_file(path, err, errlen)) <= 0)
			break;
		rc = -1;
		snprintf(err, errlen, "cannot read key file '%s'", path);
	}
	if (rc == 0)
		snprintf(key_src, sizeof key_src, "%s", path);
	free(path);
	return rc;
}

static int
load_key(char *err, size_t errlen)
{
	const char *name = "SALESLINE_SECRET_KEY";
	char *text;
	int rc;

	if (have_key)
		return 0;
	if (!(text = sl_secret(name))) {
		if (key_from_file(err, errlen) < 0)
			return -1;
		have_key = 1;
		return 0;
	}
	rc = key_from_text(text);
	snprintf(key_src, sizeof key_src, "%s%s", name,
	    sl_env(name, NULL) ? "" : "_FILE");
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (rc < 0) {
		snprintf(err, errlen, "cannot derive a key from %s", key_src);
		return -1;
	}
	have_key = 1;
	return 0;
}

void
sl_vault_reset(void)
{
	OPENSSL_cleanse(key, sizeof key);
	have_key = 0;
	key_src[0] = '\0';
}

char *
sl_vault_seal(const char *plain, char *err, size_t errlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t len = strlen(plain), total = NONCE_LEN + len + TAG_LEN;
	char *b64, *out = NULL;
	int n = 0, fin = 0;

	if (load_key(err, errlen) < 0)
		return NULL;
	if (len > PLAIN_MAX) {
		snprintf(err, errlen, "value too long to seal");
		return NULL;
	}
	buf = sl_malloc(total);
	if (sl_random(buf, NONCE_LEN) < 0 ||
	    !(ctx = EVP_CIPHER_CTX_new()) ||
	    EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key,
	    buf) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &n,
	    (const unsigned char *)plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
	    buf + NONCE_LEN + len) != 1) {
		snprintf(err, errlen, "cannot seal: libcrypto failed");
		goto out;
	}
	b64 = sl_base64(buf, total, 1);
	out = sl_asprintf(PREFIX "%s", b64);
	free(b64);
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(buf, total);
	free(buf);
	return out;
}

char *
sl_vault_open(const char *sealed, char *err, size_t errlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t n = 0, len;
	int got = 0, fin = 0;

	if (load_key(err, errlen) < 0)
		return NULL;
	if (strncmp(sealed, PREFIX, PREFIX_LEN) != 0 ||
	    !(raw = b64url_decode(sealed + PREFIX_LEN, &n)) ||
	    n < NONCE_LEN + TAG_LEN || n - NONCE_LEN - TAG_LEN > PLAIN_MAX) {
		snprintf(err, errlen, "not a sealed value");
		goto out;
	}
	len = n - NONCE_LEN - TAG_LEN;
	out = sl_malloc(len + 1);
	if (!(ctx = EVP_CIPHER_CTX_new()) ||
	    EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key,
	    raw) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
	    raw + NONCE_LEN + len) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &got,
	    raw + NONCE_LEN, (int)len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + got, &fin) != 1 ||
	    (size_t)got + (size_t)fin != len || memchr(out, '\0', len)) {
		snprintf(err, errlen, "wrong key or altered value (key from "
		    "%s)", key_src);
		OPENSSL_cleanse(out, len + 1);
		free(out);
		out = NULL;
		goto out;
	}
	out[len] = '\0';
	sl_secret_add(out);
out:
	EVP_CIPHER_CTX_free(ctx);
	if (raw)
		OPENSSL_cleanse(raw, n);
	free(raw);
	return out;
}

static int
ledger_failure(struct sl_db *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sl_db_error(db));
	return sl_db_temporary(db) ? SL_EX_TEMPFAIL : SL_EX_IOERR;
}

int
sl_vault_put(struct sl_db *db, const char *provider, const char *account,
    int64_t rep_id, const char *kind, const char *plain, const char *scope,
    int64_t expires_at, char *err, size_t errlen)
{
	char why[256], *sealed;
	long n;

	if (!(sealed = sl_vault_seal(plain, why, sizeof why))) {
		snprintf(err, errlen, "cannot seal the %s %s token: %s",
		    provider, kind, why);
		return SL_EX_CONFIG;
	}
	n = sl_db_exec(db, "INSERT INTO tokens (provider, account, rep_id, "
	    "kind, value, scope, expires_at, created_at, updated_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
	    "ON CONFLICT (provider, account, kind) DO UPDATE SET "
	    "rep_id = excluded.rep_id, value = excluded.value, "
	    "scope = excluded.scope, expires_at = excluded.expires_at, "
	    "updated_at = excluded.updated_at",
	    JV_ARRAY(jv_string(provider), jv_string(account),
	    rep_id ? jv_number((double)rep_id) : jv_null(), jv_string(kind),
	    jv_string(sealed), scope ? jv_string(scope) : jv_null(),
	    expires_at ? jv_number((double)expires_at) : jv_null(),
	    jv_number((double)sl_now())));
	free(sealed);
	if (n < 0) {
		snprintf(why, sizeof why, "cannot store the %s %s token",
		    provider, kind);
		return ledger_failure(db, why, err, errlen);
	}
	return 0;
}

int
sl_vault_get(struct sl_db *db, const char *provider, const char *account,
    const char *kind, char **plain, int64_t *expires_at, char *err,
    size_t errlen)
{
	const char *sealed = NULL;
	char why[256];
	int64_t exp = 0;
	jv row;
	int rc = 0;

	*plain = NULL;
	if (expires_at)
		*expires_at = 0;
	row = sl_db_query1(db, "SELECT value, expires_at FROM tokens "
	    "WHERE provider = $1 AND account = $2 AND kind = $3",
	    JV_ARRAY(jv_string(provider), jv_string(account),
	    jv_string(kind)));
	if (!jv_is_valid(row)) {
		jv_free(row);
		snprintf(why, sizeof why, "cannot read the %s %s token",
		    provider, kind);
		return ledger_failure(db, why, err, errlen);
	}
	if (jv_get_kind(row) != JV_KIND_OBJECT)
		goto out;
	if (sl_get_str(row, "value", &sealed) != 1 ||
	    !(*plain = sl_vault_open(sealed, why, sizeof why))) {
		snprintf(err, errlen, "cannot open the stored %s %s token: %s",
		    provider, kind, sealed ? why : "no value");
		rc = SL_EX_CONFIG;
		goto out;
	}
	if (expires_at && sl_get_int(row, "expires_at", &exp) == 1)
		*expires_at = exp;
out:
	jv_free(row);
	return rc;
}
