/* What the board's SDK provides to the footprint client: network, entropy, credentials. */
#include <stddef.h>

int board_send(void *ctx, const unsigned char *buf, size_t len) { (void) ctx; (void) buf; return (int) len; }
int board_recv(void *ctx, unsigned char *buf, size_t len) { (void) ctx; (void) buf; return (int) len; }
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    (void) data; (void) output; *olen = len; return 0;
}
const unsigned char trust_anchor[1], own_cert[1], own_key[1];
const size_t trust_anchor_len = 1, own_cert_len = 1, own_key_len = 1;
