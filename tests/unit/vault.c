/*
 * Unit tests for lib/vault.c: sealing and opening, the three sources of
 * the key, the key file's rules, base64, and tokens in an SQLite ledger.
 *
 * Sealed values are also opened here with libcrypto directly, from the
 * documented format (v1: base64url of nonce | ciphertext | tag) and the
 * documented key (the hex digits, or SHA-256 of the text), so a vault
 * that only agreed with itself would fail.  SALESLINE_HOME is a temporary
 * directory, where the key file is made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "db.h"
#include "jsonl.h"
#include "sl.h"
#include "vault.h"
#include "tap.h"

#define HEXKEY "000102030405060708090a0b0c0d0e0f" \
	"101112131415161718191a1b1c1d1e1f"
#define RACERS 4

static char home[64];
static char keyfile[128];
static char sqldir[4096];

static void
use_key(const char *env, const char *file)
{
	if (env)
		setenv("SALESLINE_SECRET_KEY", env, 1);
	else
		unsetenv("SALESLINE_SECRET_KEY");
	if (file)
		setenv("SALESLINE_SECRET_KEY_FILE", file, 1);
	else
		unsetenv("SALESLINE_SECRET_KEY_FILE");
	sl_vault_reset();
}

static int
starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Opens sealed with libcrypto under key (32 bytes), independently of
 * vault.c.  Returns a new string or NULL.
 */
static char *
open_by_hand(const char *sealed, const unsigned char *key)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char raw[1024];
	char b64[1400], *out = NULL;
	size_t len, i;
	int n, got = 0, fin = 0;

	if (!starts(sealed, "v1:") || (len = strlen(sealed + 3)) > 1300)
		return NULL;
	for (i = 0; i < len; i++)
		b64[i] = sealed[3 + i] == '-' ? '+' : sealed[3 + i] == '_' ?
		    '/' : sealed[3 + i];
	while (len % 4)
		b64[len++] = '=';
	b64[len] = '\0';
	if ((n = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)len)) < 0)
		return NULL;
	n -= (int)(strlen(b64) - strlen(sealed + 3));	/* padding bytes */
	if (n < 28)
		return NULL;
	out = calloc(1, (size_t)n);
	ctx = EVP_CIPHER_CTX_new();
	if (EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key,
	    raw) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
	    raw + n - 16) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &got, raw + 12,
	    n - 28) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + got, &fin) != 1) {
		free(out);
		out = NULL;
	}
	EVP_CIPHER_CTX_free(ctx);
	return out;
}

static void
test_base64(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *url, *std;
	} v[] = {
		{ "", 0, "", "" },
		{ "f", 1, "Zg", "Zg==" },
		{ "fo", 2, "Zm8", "Zm8=" },
		{ "foo", 3, "Zm9v", "Zm9v" },
		{ "foob", 4, "Zm9vYg", "Zm9vYg==" },
		{ "\xfb\xff", 2, "-_8", "+/8=" },
		{ "zid:zsecret", 11, "emlkOnpzZWNyZXQ", "emlkOnpzZWNyZXQ=" },
	};
	size_t i;
	char *s, name[64];

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		s = sl_base64(v[i].in, v[i].n, 1);
		snprintf(name, sizeof name, "base64url of %zu bytes", v[i].n);
		is_str(s, v[i].url, name);
		free(s);
		s = sl_base64(v[i].in, v[i].n, 0);
		snprintf(name, sizeof name, "base64 of %zu bytes", v[i].n);
		is_str(s, v[i].std, name);
		free(s);
	}
}

static void
test_key_file(void)
{
	unsigned char k1[32], k2[32];
	char err[512] = "", *a, *b, *p, *m;
	struct stat st;
	FILE *f;
	size_t n;

	use_key(NULL, NULL);
	ok(access(keyfile, F_OK) != 0, "no key file yet");
	a = sl_vault_seal("ya29.first-token", err, sizeof err);
	ok(starts(a, "v1:"), "sealed with a new key file: '%.12s...'",
	    a ? a : "(null)");
	ok(a && !strstr(a, "ya29"), "the sealed text does not hold the value");
	ok(stat(keyfile, &st) == 0 && S_ISREG(st.st_mode),
	    "key file created under SALESLINE_HOME/var");
	is_int(st.st_mode & 07777, 0600, "key file mode 0600");
	is_int(st.st_size, 32, "key file holds 32 bytes");
	f = fopen(keyfile, "rb");
	n = f ? fread(k1, 1, sizeof k1, f) : 0;
	if (f)
		fclose(f);
	p = n == 32 ? open_by_hand(a, k1) : NULL;
	is_str(p, "ya29.first-token", "opened by hand with the file's bytes");
	free(p);

	b = sl_vault_seal("ya29.first-token", err, sizeof err);
	ok(a && b && strcmp(a, b) != 0, "two seals of one value differ "
	    "(random nonce)");
	p = sl_vault_open(b, err, sizeof err);
	is_str(p, "ya29.first-token", "round trip");
	m = sl_mask("token ya29.first-token here");
	ok(m && !strstr(m, "ya29.first"), "an opened value is a registered "
	    "secret: '%s'", m ? m : "");
	free(m);
	free(p);

	use_key(NULL, NULL);	/* a new process, as it were */
	p = sl_vault_open(a, err, sizeof err);
	is_str(p, "ya29.first-token", "the key file is reused after a reset");
	free(p);
	f = fopen(keyfile, "rb");
	n = f ? fread(k2, 1, sizeof k2, f) : 0;
	if (f)
		fclose(f);
	ok(n == 32 && memcmp(k1, k2, 32) == 0, "the key file is unchanged");

	chmod(keyfile, 0640);
	use_key(NULL, NULL);
	free(b);
	b = sl_vault_seal("x", err, sizeof err);
	ok(!b && strstr(err, keyfile) && strstr(err, "0640"),
	    "a key file open to others is refused, naming it: '%s'", err);
	chmod(keyfile, 0600);

	f = fopen(keyfile, "wb");
	if (f) {
		fwrite(k1, 1, 31, f);
		fclose(f);
	}
	use_key(NULL, NULL);
	p = sl_vault_open(a, err, sizeof err);
	ok(!p && strstr(err, keyfile) && strstr(err, "31 bytes"),
	    "a key file of 31 bytes is refused, naming it: '%s'", err);
	free(p);
	unlink(keyfile);
	free(a);
	free(b);
}

/* RACERS processes make the key file at once; all must agree. */
static void
test_key_race(void)
{
	char path[RACERS][160], err[512], *s, buf[512];
	pid_t pid[RACERS];
	int i, st, good = 0, fd;
	ssize_t n;

	unlink(keyfile);
	for (i = 0; i < RACERS; i++) {
		snprintf(path[i], sizeof path[i], "%s/racer%d", home, i);
		if ((pid[i] = fork()) == 0) {
			use_key(NULL, NULL);
			s = sl_vault_seal("racer-secret-value", err,
			    sizeof err);
			fd = open(path[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (!s || fd < 0 || write(fd, s, strlen(s)) < 0)
				_exit(1);
			close(fd);
			_exit(0);
		}
	}
	for (i = 0; i < RACERS; i++)
		if (pid[i] > 0 && waitpid(pid[i], &st, 0) == pid[i] &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0)
			good++;
	is_int(good, RACERS, "racing processes all sealed");
	use_key(NULL, NULL);
	good = 0;
	for (i = 0; i < RACERS; i++) {
		fd = open(path[i], O_RDONLY);
		n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		s = sl_vault_open(buf, err, sizeof err);
		good += s && strcmp(s, "racer-secret-value") == 0;
		free(s);
		unlink(path[i]);
	}
	is_int(good, RACERS, "every racer's value opens with the one key file");
	unlink(keyfile);
}

static void
test_env_keys(void)
{
	unsigned char raw[32], hashed[32];
	unsigned int dlen;
	char err[512] = "", *a, *b, *p, kf[160];
	size_t i;
	FILE *f;

	for (i = 0; i < 32; i++)
		raw[i] = (unsigned char)i;
	use_key(HEXKEY, NULL);
	a = sl_vault_seal("hex-keyed value", err, sizeof err);
	p = open_by_hand(a, raw);
	is_str(p, "hex-keyed value", "64 hex digits are the key itself");
	free(p);
	ok(access(keyfile, F_OK) != 0, "no key file made when the key is set");

	use_key("000102030405060708090A0B0C0D0E0F"
	    "101112131415161718191A1B1C1D1E1F", NULL);
	p = sl_vault_open(a, err, sizeof err);
	is_str(p, "hex-keyed value", "upper-case hex digits: the same key");
	free(p);
	free(a);

	use_key("correct horse battery staple", NULL);
	a = sl_vault_seal("passphrase value", err, sizeof err);
	EVP_Digest("correct horse battery staple", 28, hashed, &dlen,
	    EVP_sha256(), NULL);
	p = open_by_hand(a, hashed);
	is_str(p, "passphrase value", "other text: SHA-256 of it is the key");
	free(p);

	snprintf(kf, sizeof kf, "%s/key.txt", home);
	f = fopen(kf, "w");
	if (f) {
		fputs("correct horse battery staple\n", f);
		fclose(f);
	}
	use_key(NULL, kf);
	p = sl_vault_open(a, err, sizeof err);
	is_str(p, "passphrase value", "SALESLINE_SECRET_KEY_FILE: the same "
	    "key (trailing newline dropped)");
	free(p);

	use_key("another passphrase", NULL);
	p = sl_vault_open(a, err, sizeof err);
	ok(!p && strstr(err, "wrong key or altered value") &&
	    strstr(err, "SALESLINE_SECRET_KEY"),
	    "a different key does not open: '%s'", err);
	free(p);

	use_key("correct horse battery staple", NULL);
	b = sl_strdup(a);
	i = 3 + (strlen(b) - 3) / 2;
	b[i] = b[i] == 'A' ? 'B' : 'A';
	p = sl_vault_open(b, err, sizeof err);
	ok(!p && strstr(err, "wrong key or altered value"),
	    "an altered ciphertext does not open: '%s'", err);
	free(p);
	memcpy(b, a, strlen(a));
	b[strlen(b) - 1] = b[strlen(b) - 1] == 'A' ? 'B' : 'A';
	p = sl_vault_open(b, err, sizeof err);
	ok(!p, "an altered tag does not open: '%s'", err);
	free(p);
	p = sl_vault_open("v1:", err, sizeof err);
	ok(!p && strstr(err, "not a sealed value"), "a short value: '%s'",
	    err);
	free(p);
	p = sl_vault_open("plain-token", err, sizeof err);
	ok(!p, "a value without v1: does not open");
	free(p);
	p = sl_vault_open(a, err, sizeof err);
	is_str(p, "passphrase value", "the untouched value still opens");
	free(p);
	free(a);
	a = sl_vault_seal("", err, sizeof err);
	p = a ? sl_vault_open(a, err, sizeof err) : NULL;
	is_str(p, "", "an empty value round-trips");
	free(p);
	free(a);
	free(b);
	unlink(kf);
}

static void
test_ledger(void)
{
	char url[128], err[512] = "", *e = NULL, *plain = NULL;
	const char *v = NULL;
	int64_t exp = -1;
	struct sl_db *db;
	jv row;
	int t = 0, rc;

	use_key("ledger test key", NULL);
	snprintf(url, sizeof url, "%s/ledger.db", home);
	db = sl_db_open(url, sqldir, &e, &t);
	if (!ok(db != NULL, "ledger opened")) {
		diag("%s", e ? e : "");
		free(e);
		return;
	}
	rc = sl_vault_put(db, "zoom", "", 0, "access", "eyJ.zoom-token-1",
	    "meeting:write", 1900000000, err, sizeof err);
	is_int(rc, 0, "sl_vault_put");
	rc = sl_vault_put(db, "zoom", "", 0, "access", "eyJ.zoom-token-2",
	    NULL, 1900000100, err, sizeof err);
	is_int(rc, 0, "sl_vault_put again replaces the row");
	row = sl_db_query1(db, "SELECT count(*) AS n, max(value) AS value "
	    "FROM tokens", jv_array());
	if (jv_get_kind(row) != JV_KIND_OBJECT ||
	    sl_get_str(row, "value", &v) != 1)
		v = NULL;
	ok(sl_get_int(row, "n", &exp) == 1 && exp == 1, "one row");
	ok(starts(v, "v1:") && !strstr(v, "zoom-token"),
	    "the ledger holds it sealed: '%.16s...'", v ? v : "");
	jv_free(row);
	rc = sl_vault_get(db, "zoom", "", "access", &plain, &exp, err,
	    sizeof err);
	ok(rc == 0 && plain && strcmp(plain, "eyJ.zoom-token-2") == 0 &&
	    exp == 1900000100, "sl_vault_get: the second value and expiry");
	free(plain);
	rc = sl_vault_get(db, "google", "anna", "refresh", &plain, &exp, err,
	    sizeof err);
	ok(rc == 0 && !plain && exp == 0, "sl_vault_get: no row, no value");
	use_key("not the ledger test key", NULL);
	rc = sl_vault_get(db, "zoom", "", "access", &plain, &exp, err,
	    sizeof err);
	ok(rc == 78 && !plain && strstr(err, "wrong key"),
	    "sl_vault_get under another key: 78, '%s'", err);
	sl_db_close(db);
}

int
main(void)
{
	const char *h = getenv("SALESLINE_HOME");
	char *cmd;

	sl_init("test-vault");
	snprintf(sqldir, sizeof sqldir, "%s/sql", h ? h : ".");
	if (access(sqldir, R_OK) != 0)
		snprintf(sqldir, sizeof sqldir, "sql");
	if (sqldir[0] != '/') {
		char cwd[2048];

		if (getcwd(cwd, sizeof cwd))
			snprintf(sqldir, sizeof sqldir, "%s/sql", cwd);
	}
	snprintf(home, sizeof home, "/tmp/sl-vault-test.XXXXXX");
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("SALESLINE_HOME", home, 1);
	snprintf(keyfile, sizeof keyfile, "%s/var/secret.key", home);
	test_base64();
	test_key_file();
	test_key_race();
	test_env_keys();
	test_ledger();
	sl_vault_reset();
	cmd = sl_asprintf("rm -rf '%s'", home);
	if (system(cmd) != 0)
		diag("could not remove %s", home);
	free(cmd);
	return done_testing();
}
