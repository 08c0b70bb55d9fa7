/*
 * The device side of configgen's test client, for footprint measurement on Cortex-M4: the
 * same mbedTLS calls as configgen/data/client.c (setup, trust anchor and own certificate
 * parsing, handshake, one write and one read), with the board's network and clock left as
 * external functions. It is linked, never run.
 */
#include "mbedtls/ssl.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/pk.h"
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

#include <stddef.h>
#include <string.h>

extern int board_send(void *ctx, const unsigned char *buf, size_t len);
extern int board_recv(void *ctx, unsigned char *buf, size_t len);
extern const unsigned char trust_anchor[], own_cert[], own_key[];
extern const size_t trust_anchor_len, own_cert_len, own_key_len;

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
extern int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
#endif

int main(void)
{
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    unsigned char answer[64];
    int ret;
#if defined(MBEDTLS_PSA_CRYPTO_C)
    psa_crypto_init();
#endif
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&key);
    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0);
    mbedtls_x509_crt_parse(&ca, trust_anchor, trust_anchor_len);
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
#if defined(CONFIGGEN_CLIENT_AUTH)
    mbedtls_x509_crt_parse(&own, own_cert, own_cert_len);
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_pk_parse_key(&key, own_key, own_key_len, NULL, 0, mbedtls_ctr_drbg_random, &drbg);
#else
    mbedtls_pk_parse_key(&key, own_key, own_key_len, NULL, 0);
#endif
    mbedtls_ssl_conf_own_cert(&conf, &own, &key);
#endif
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    mbedtls_ssl_conf_max_frag_len(&conf, MBEDTLS_SSL_MAX_FRAG_LEN_512);
#endif
    mbedtls_ssl_setup(&ssl, &conf);
    mbedtls_ssl_set_hostname(&ssl, "localhost");
    mbedtls_ssl_set_bio(&ssl, NULL, board_send, board_recv, NULL);
    ret = mbedtls_ssl_handshake(&ssl);
    if (ret == 0) {
        mbedtls_ssl_write(&ssl, (const unsigned char *) "ping\n", 5);
        ret = mbedtls_ssl_read(&ssl, answer, sizeof(answer));
    }
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&own);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return ret;
}
