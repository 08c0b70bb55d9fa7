/*
 * The judge of the inspector's key tests: real mbedTLS loads private key files.
 *
 * stdin, one job per line:  ID <TAB> KEY_FILE <TAB> PASSWORD or -
 * stdout, one line per job: ID <TAB> mbedtls_pk_parse_keyfile() result
 */
#include <stdio.h>
#include <string.h>
#include "mbedtls/pk.h"
#include "mbedtls/version.h"
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

#if MBEDTLS_VERSION_MAJOR >= 3
/* Parsing only: RSA blinding in the key check needs some bytes, not secret ones. */
static int counter_rng(void *ctx, unsigned char *out, size_t len)
{
    unsigned char *next = ctx;
    while (len-- > 0) {
        *out++ = (*next)++;
    }
    return 0;
}
#endif

int main(void)
{
    char line[8192];
#if defined(MBEDTLS_PSA_CRYPTO_C)
    psa_crypto_init();
#endif
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *id = strtok(line, "\t\n");
        char *file = strtok(NULL, "\t\n");
        char *password = strtok(NULL, "\t\n");
        mbedtls_pk_context pk;
        int ret;
        if (id == NULL || file == NULL || password == NULL) {
            return 2;
        }
        if (strcmp(password, "-") == 0) {
            password = NULL;
        }
        mbedtls_pk_init(&pk);
#if MBEDTLS_VERSION_MAJOR >= 3
        {
            unsigned char state = 0;
            ret = mbedtls_pk_parse_keyfile(&pk, file, password, counter_rng, &state);
        }
#else
        ret = mbedtls_pk_parse_keyfile(&pk, file, password);
#endif
        printf("%s\t%d\n", id, ret);
        mbedtls_pk_free(&pk);
    }
    return 0;
}
