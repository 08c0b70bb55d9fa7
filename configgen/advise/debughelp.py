"""generate --debug: the C an application needs before mbedTLS's debug log reaches anyone.

MBEDTLS_DEBUG_C alone prints nothing: the application must register a print function
(mbedtls_ssl_conf_dbg) and raise the threshold (mbedtls_debug_set_threshold), a step people
often miss. `snippet(board)` returns those lines with the board's console call. Pure.
"""

from __future__ import annotations

DEBUG_OPTION = "MBEDTLS_DEBUG_C"
REASON = "debug logs for bring-up (configgen generate --debug); remove for production"

# Cost of MBEDTLS_DEBUG_C, measured here: text of all library objects (-Os, x86-64) built
# with the golden header rsa2048-ecdhe-rsa-gcm with and without it
# (tests/test_diagnose_debug.py measures it again).
COST = {"2.28": 24_075, "3.6": 34_418}


def cost(line: str) -> str:
    """What MBEDTLS_DEBUG_C costs on a line, in words."""
    return (f"MBEDTLS_DEBUG_C adds about {COST[line] // 1000} KB of code on mbedTLS {line} "
            "(debug.c and the message strings; measured for a minimal header at -Os); "
            "no RAM while the threshold is 0")

# Board name prefix -> (the call that writes a line to the board's console, what it needs).
CONSOLES = (
    ("esp", "printf(\"%s:%04d: |%d| %s\", file, line, level, msg)",
     "ESP-IDF sends stdout to the UART console"),
    ("nrf", "printk(\"%s:%04d: |%d| %s\", file, line, level, msg)",
     "Zephyr's printk goes to the console UART or RTT"),
    ("zephyr", "printk(\"%s:%04d: |%d| %s\", file, line, level, msg)",
     "Zephyr's printk goes to the console UART or RTT"),
    ("pico", "printf(\"%s:%04d: |%d| %s\", file, line, level, msg)",
     "pico-sdk stdio: call stdio_init_all() first (UART or USB)"),
    ("stm32", "printf(\"%s:%04d: |%d| %s\", file, line, level, msg)",
     "retarget printf to the UART (_write() calling HAL_UART_Transmit)"),
)
DEFAULT_CONSOLE = ("fprintf(stderr, \"%s:%04d: |%d| %s\", file, line, level, msg)",
                   "standard error of the process")


def snippet(board: str) -> str:
    """The C that makes the debug log appear, for a board (by its profile name)."""
    call, note = next(((c, n) for prefix, c, n in CONSOLES if board.startswith(prefix)),
                      DEFAULT_CONSOLE)
    return f"""\
/* mbedTLS debug output: MBEDTLS_DEBUG_C alone prints nothing. */
#include <stdio.h>
#include "mbedtls/debug.h"

static void tls_debug(void *ctx, int level, const char *file, int line, const char *msg)
{{
    (void) ctx;
    {call};  /* {note} */
}}

/* after mbedtls_ssl_config_defaults(&conf, ...): */
mbedtls_ssl_conf_dbg(&conf, tls_debug, NULL);
mbedtls_debug_set_threshold(3);  /* 1 errors, 2 state, 3 + ClientHello details, 4 everything */
/* then paste the output into: configgen diagnose LOGFILE */
"""
