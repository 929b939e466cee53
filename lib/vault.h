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
 * machines sharing a PostgreSQL ledger must share the key.
 *
 * Sealed text: "v1:" followed by base64url of nonce (12) | ciphertext |
 * tag (16).  A different key, or a value altered in the ledger, fails to
 * open: the caller says so and exits 78 (the key is configuration).
 */
#ifndef SL_VAULT_H
#define SL_VAULT_H

#include <stddef.h>

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

#endif
