/*
 * vault.h: secrets at rest.  OAuth tokens live in the ledger's tokens
 * table sealed, never in clear: ChaCha20-Poly1305 (OpenSSL's libcrypto,
 * already loaded by libcurl) under a 256-bit key.
 *
 * The key: $SALESLINE_SECRET_KEY or the file named by
 * $SALESLINE_SECRET_KEY_FILE (64 hex digits are the key itself; any other
 * text is hashed with SHA-256 into one).  When neither is set, the key is
 * the file var/secret.key under $SALESLINE_HOME, created with 32 random
 * bytes and mode 0600 on first use: fine for one machine; several
 * machines sharing a PostgreSQL ledger must share the key.  A key file of
 * another size, or one that others may read, is refused (the message
 * names the file).
 *
 * Sealed text: "v1:" followed by base64url of nonce (12) | ciphertext |
 * tag (16).  A different key, or a value altered in the ledger, fails to
 * open: the caller says so and exits 78 (the key is configuration).
 */
#ifndef SL_VAULT_H
#define SL_VAULT_H

#include <stddef.h>
#include <stdint.h>

struct sl_db;

/*
 * plain sealed: a new string, or NULL with a reason in err (no key could
 * be had: the message names the variable).
 */
char *sl_vault_seal(const char *plain, char *err, size_t errlen);
/*
 * sealed opened: a new string (registered with sl_secret_add, so it never
 * reaches a message), or NULL with a reason in err ("wrong key or
 * altered value").
 */
char *sl_vault_open(const char *sealed, char *err, size_t errlen);
/* Forgets the loaded key (tests). */
void sl_vault_reset(void);

/*
 * Tokens in the ledger (the tokens table, one row per provider, account
 * and kind).  sl_vault_put seals plain and inserts or replaces the row;
 * rep_id 0 and expires_at 0 are stored as NULL, scope may be NULL.
 * sl_vault_get opens the row's value into *plain (a new string, NULL when
 * there is no row) and its expires_at into *expires_at (0 when NULL; may
 * be NULL).  Both return 0, or the exit status the failure calls for with
 * a reason in err: 78 the key (no key, wrong key, altered value), 75 a
 * ledger failure worth retrying, 74 another ledger failure.  Neither
 * starts a transaction.
 */
int sl_vault_put(struct sl_db *db, const char *provider, const char *account,
    int64_t rep_id, const char *kind, const char *plain, const char *scope,
    int64_t expires_at, char *err, size_t errlen);
int sl_vault_get(struct sl_db *db, const char *provider, const char *account,
    const char *kind, char **plain, int64_t *expires_at, char *err,
    size_t errlen);

/*
 * For the OAuth clients (random bytes are sl_random, in sl.h):
 * sl_base64 encodes n bytes as a new string: base64url without padding
 * (RFC 4648 section 5) when url is 1, the standard alphabet with padding
 * (HTTP Basic) when 0.
 */
char *sl_base64(const void *data, size_t n, int url);

#endif
