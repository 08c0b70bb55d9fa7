/*
 * The judge of the inspector's tests: real mbedTLS parses and verifies certificate files.
 *
 * stdin, one job per line:  ID <TAB> CHAIN_FILE <TAB> CA_FILE or - <TAB> HOST or -
 * stdout, one line per job: ID <TAB> chain_ret <TAB> ca_ret <TAB> verify_ret <TAB> flags(hex)
 *
 * chain_ret / ca_ret are mbedtls_x509_crt_parse_file() results (negative: error; positive:
 * that many certificates of the file failed). Verification runs when at least one chain
 * certificate parsed, with the default profile, as a TLS client does.
 */
#include "mbedtls/x509_crt.h"
#include "jobs.h"

int main(void)
{
    char line[8192], *job[4];
    int got;
    jobs_init();
    while ((got = next_job(line, sizeof line, job, 4)) == 1) {
        char *id = job[0], *chain_file = job[1], *ca_file = job[2], *host = job[3];
        mbedtls_x509_crt chain, ca;
        int chain_ret, ca_ret = 0;
        mbedtls_x509_crt_init(&chain);
        mbedtls_x509_crt_init(&ca);
        chain_ret = mbedtls_x509_crt_parse_file(&chain, chain_file);
        if (strcmp(ca_file, "-") != 0) {
            ca_ret = mbedtls_x509_crt_parse_file(&ca, ca_file);
        }
        if (strcmp(ca_file, "-") != 0 && chain.raw.p != NULL) {
            uint32_t flags = 0;
            int ret = mbedtls_x509_crt_verify(&chain, &ca, NULL,
                                              strcmp(host, "-") == 0 ? NULL : host,
                                              &flags, NULL, NULL);
            printf("%s\t%d\t%d\t%d\t%x\n", id, chain_ret, ca_ret, ret, (unsigned) flags);
        } else {
            printf("%s\t%d\t%d\t-\t-\n", id, chain_ret, ca_ret);
        }
        mbedtls_x509_crt_free(&chain);
        mbedtls_x509_crt_free(&ca);
    }
    return got == 0 ? 0 : 2;
}
