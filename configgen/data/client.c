/*
 * configgen's test client: one TLS handshake and one application-data round trip with
 * whatever configuration header it is compiled against (-DMBEDTLS_CONFIG_FILE=...).
 *
 *   client HOST PORT CA_FILE [--name NAME] [--cert FILE --key FILE] [--mfl N]
 *          [--sha1-profile 1] [--answer-timeout SECONDS]
 *          [--send TEXT | --send-size N | --mqtt 1]
 *
 * It brings its own socket callbacks, file reading and (when the header asks for
 * MBEDTLS_ENTROPY_HARDWARE_ALT) a hardware-poll stand-in, so it links with headers made for
 * boards without mbedTLS's net_sockets.c or file I/O. It sends a line (TEXT, or N bytes:
 * a reversing echo server then answers with records that large) or an MQTT CONNECT, prints
 * "ok: SUITE" and exits 0 when the server's answer came back; otherwise it prints
 * "error -0xNNNN in STEP" and exits 1.
 */
#include "mbedtls/ssl.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/pk.h"
#if defined(MBEDTLS_DEBUG_C)
#include "mbedtls/debug.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
/* What a board's SDK provides from its TRNG; here the host's random device stands in. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    (void) data;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL) {
        return -1;
    }
    *olen = fread(output, 1, len, f);
    fclose(f);
    return *olen == len ? 0 : -1;
}
#endif

static int fail(const char *step, int ret)
{
    printf("error %s0x%04X in %s\n", ret < 0 ? "-" : "", (unsigned) (ret < 0 ? -ret : ret), step);
    return 1;
}

static int send_cb(void *ctx, const unsigned char *buf, size_t len)
{
    ssize_t n = send(*(int *) ctx, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
        return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_SSL_CONN_EOF : -0x004E;
    }
    return (int) n;
}

/* Milliseconds to wait for the server's answer once the handshake is done (0: forever). */
static int answer_ms = 0;

static int recv_cb(void *ctx, unsigned char *buf, size_t len)
{
    if (answer_ms > 0) {
        struct pollfd ready = { .fd = *(int *) ctx, .events = POLLIN };
        if (poll(&ready, 1, answer_ms) == 0) {
            return MBEDTLS_ERR_SSL_TIMEOUT;
        }
    }
    ssize_t n = recv(*(int *) ctx, buf, len, 0);
    if (n < 0) {
        return errno == ECONNRESET ? -0x0050 : -0x004C;
    }
    return n == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : (int) n;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = calloc(1, (size_t) size + 1); /* + 1: PEM parsers want a NUL */
    if (buf != NULL && fread(buf, 1, (size_t) size, f) != (size_t) size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t) size;
    if (buf != NULL && size > 0 && strstr((char *) buf, "-----BEGIN") != NULL) {
        *len += 1;
    }
    return buf;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = { 0 }, *found = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &found) != 0) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = found; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            break;
        }
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

#if defined(MBEDTLS_DEBUG_C)
static void debug_cb(void *ctx, int level, const char *file, int line, const char *msg)
{
    (void) ctx;
    fprintf(stderr, "%s:%04d: |%d| %s", file, line, level, msg);
}
#endif

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: client HOST PORT CA_FILE [--name NAME] [--cert F --key F] "
                        "[--mfl N] [--send TEXT]\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *ca_file = argv[3];
    const char *name = host, *cert_file = NULL, *key_file = NULL, *text = "configgen ping\n";
    /* an encrypted device key's password: from the environment, never on the command line */
    const char *key_password = getenv("CONFIGGEN_KEY_PASSWORD");
    int mfl = 0, sha1_profile = 0, answer_timeout = 0;
    size_t total = 0;
    /* MQTT 3.1.1 CONNECT, client id "cfggen", clean session: a broker answers with CONNACK */
    static const char mqtt_connect[] = { 0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
                                         0x00, 0x3c, 0x00, 0x06, 'c', 'f', 'g', 'g', 'e', 'n' };
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--name") == 0) {
            name = argv[i + 1];
        } else if (strcmp(argv[i], "--cert") == 0) {
            cert_file = argv[i + 1];
        } else if (strcmp(argv[i], "--key") == 0) {
            key_file = argv[i + 1];
        } else if (strcmp(argv[i], "--sha1-profile") == 0) {
            /* what the header's banner tells the integrator to do for SHA-1-signed chains */
            sha1_profile = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--answer-timeout") == 0) {
            answer_timeout = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--mfl") == 0) {
            mfl = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--send") == 0) {
            text = argv[i + 1];
        } else if (strcmp(argv[i], "--send-size") == 0) {
            /* static, not malloc: the heap stays mbedTLS's alone, for heap measurements */
            static char line[16385];
            size_t size = (size_t) atol(argv[i + 1]);
            if (size == 0 || size >= sizeof(line)) {
                return 2;
            }
            memset(line, 'x', size - 1);
            line[size - 1] = '\n';
            text = line;
        } else if (strcmp(argv[i], "--mqtt") == 0) {
            text = mqtt_connect;
            total = sizeof(mqtt_connect);
        }
    }
    if (total == 0) {
        total = strlen(text);
    }

    int ret;
#if defined(MBEDTLS_PSA_CRYPTO_C)
    if ((ret = (int) psa_crypto_init()) != 0) {
        return fail("psa_crypto_init", ret);
    }
#endif
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&key);

    if ((ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                     (const unsigned char *) "configgen", 9)) != 0) {
        return fail("mbedtls_ctr_drbg_seed", ret);
    }
    size_t len;
    unsigned char *buf = read_file(ca_file, &len);
    if (buf == NULL) {
        fprintf(stderr, "cannot read %s\n", ca_file);
        return 2;
    }
    ret = mbedtls_x509_crt_parse(&ca, buf, len);
    free(buf);
    if (ret < 0) {
        return fail("mbedtls_x509_crt_parse (CA)", ret);
    }
    if ((ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                           MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        return fail("mbedtls_ssl_config_defaults", ret);
    }
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    static mbedtls_x509_crt_profile profile;
    if (sha1_profile) {
        profile = mbedtls_x509_crt_profile_default;
        profile.allowed_mds |= MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1);
        mbedtls_ssl_conf_cert_profile(&conf, &profile);
    }
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
#if defined(MBEDTLS_DEBUG_C)
    mbedtls_ssl_conf_dbg(&conf, debug_cb, NULL);
    mbedtls_debug_set_threshold(getenv("CONFIGGEN_DEBUG") ? atoi(getenv("CONFIGGEN_DEBUG")) : 0);
#endif
    if (cert_file != NULL && key_file != NULL) {
        buf = read_file(cert_file, &len);
        if (buf == NULL || (ret = mbedtls_x509_crt_parse(&own, buf, len)) != 0) {
            return fail("mbedtls_x509_crt_parse (own certificate)", buf == NULL ? -1 : ret);
        }
        free(buf);
        buf = read_file(key_file, &len);
        if (buf == NULL) {
            return fail("reading the key", -1);
        }
        const unsigned char *pwd = (const unsigned char *) key_password;
        size_t pwd_len = key_password != NULL ? strlen(key_password) : 0;
#if MBEDTLS_VERSION_MAJOR >= 3
        ret = mbedtls_pk_parse_key(&key, buf, len, pwd, pwd_len, mbedtls_ctr_drbg_random, &drbg);
#else
        ret = mbedtls_pk_parse_key(&key, buf, len, pwd, pwd_len);
#endif
        free(buf);
        if (ret != 0) {
            return fail("mbedtls_pk_parse_key", ret);
        }
        if ((ret = mbedtls_ssl_conf_own_cert(&conf, &own, &key)) != 0) {
            return fail("mbedtls_ssl_conf_own_cert", ret);
        }
    }
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    if (mfl != 0) {
        unsigned char code = mfl == 512 ? MBEDTLS_SSL_MAX_FRAG_LEN_512
                           : mfl == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                           : mfl == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                           : MBEDTLS_SSL_MAX_FRAG_LEN_4096;
        if ((ret = mbedtls_ssl_conf_max_frag_len(&conf, code)) != 0) {
            return fail("mbedtls_ssl_conf_max_frag_len", ret);
        }
    }
#else
    (void) mfl;
#endif
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
        return fail("mbedtls_ssl_setup", ret);
    }
    if ((ret = mbedtls_ssl_set_hostname(&ssl, name)) != 0) {
        return fail("mbedtls_ssl_set_hostname", ret);
    }
    int fd = connect_to(host, port);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s:%s\n", host, port);
        return 2;
    }
    mbedtls_ssl_set_bio(&ssl, &fd, send_cb, recv_cb, NULL);
    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
            if (flags != 0 && flags != (uint32_t) -1) {
                printf("verify flags 0x%08X\n", (unsigned) flags);
            }
            return fail("mbedtls_ssl_handshake", ret);
        }
    }
    printf("handshake: %s\n", mbedtls_ssl_get_ciphersuite(&ssl));
    fflush(stdout);
    answer_ms = answer_timeout * 1000;
    size_t sent = 0;
    while (sent < total) {
        ret = mbedtls_ssl_write(&ssl, (const unsigned char *) text + sent, total - sent);
        if (ret < 0) {
            return fail("mbedtls_ssl_write", ret);
        }
        sent += (size_t) ret;
    }
    unsigned char answer[64];
    do {
        ret = mbedtls_ssl_read(&ssl, answer, sizeof(answer) - 1);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ);
    if (ret <= 0) {
        return fail("mbedtls_ssl_read", ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret);
    }
    printf("ok: %s\n", mbedtls_ssl_get_ciphersuite(&ssl));
    mbedtls_ssl_close_notify(&ssl);
    close(fd);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&own);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return 0;
}
