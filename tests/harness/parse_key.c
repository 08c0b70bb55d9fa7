/*
 * The judge of the inspector's key tests: real mbedTLS loads private key files.
 *
 * stdin, one job per line:  ID <TAB> KEY_FILE <TAB> PASSWORD or -
 * stdout, one line per job: ID <TAB> mbedtls_pk_parse_keyfile() result
 */
#include "mbedtls/pk.h"
#include "mbedtls/version.h"
#include "jobs.h"

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
    char line[8192], *job[3];
    int got;
    jobs_init();
    while ((got = next_job(line, sizeof line, job, 3)) == 1) {
        char *id = job[0], *file = job[1], *password = job[2];
        mbedtls_pk_context pk;
        int ret;
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
    return got == 0 ? 0 : 2;
}
