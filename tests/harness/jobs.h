/*
 * What the judges of the inspector's tests share: one job per stdin line, tab-separated
 * fields, PSA started once (3.x needs it before any parse).
 */
#ifndef CONFIGGEN_HARNESS_JOBS_H
#define CONFIGGEN_HARNESS_JOBS_H

#include <stdio.h>
#include <string.h>
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

static void jobs_init(void)
{
#if defined(MBEDTLS_PSA_CRYPTO_C)
    psa_crypto_init();
#endif
}

/* Reads the next job into `fields`: 1 when all `count` fields are there, 0 at the end of
 * input, -1 for a short line. */
static int next_job(char *line, int size, char **fields, int count)
{
    if (fgets(line, size, stdin) == NULL) {
        return 0;
    }
    for (int i = 0; i < count; i++) {
        fields[i] = strtok(i == 0 ? line : NULL, "\t\n");
        if (fields[i] == NULL) {
            return -1;
        }
    }
    return 1;
}

#endif
