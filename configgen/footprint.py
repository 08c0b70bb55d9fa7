"""Footprint: how much code mbedTLS built with a header brings, for Cortex-M4 or the host.

A header made for a board may enable what only an OS provides (net_sockets, timing, file
I/O, time()); `bare_metal` removes those with mbedTLS's own scripts/config.py, as its
scripts/footprint.sh does, so any header builds with arm-none-eabi-gcc. Two figures:
`cortex_m4`/`host` total the library archive (`size -t`: every object compiled with
-ffunction-sections -fdata-sections); `firmware` is what a device pays: a small TLS client
(data/footprint_client.c, the same calls as the test client) linked with --gc-sections and
newlib-nano, so only what the handshake and one round trip reach is counted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from configgen import mbedbuild, output, resources
from configgen.model.results import Footprint
from configgen.sources import SourceTree

CFLAGS = ("-Os", "-mcpu=cortex-m4", "-mthumb", "-ffunction-sections", "-fdata-sections")
ARM = "arm-none-eabi-"
ARM_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi"
LINK = ("-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs")
DEVICE_CLIENT = (resources.path("data/footprint_client.c"), resources.path("data/footprint_board.c"))
# footprint.sh's list, plus what 3.6 cannot build bare metal with (config.py's baremetal
# preset drops them too): PSA storage on files, and time()
NOT_BARE_METAL = ("MBEDTLS_NET_C", "MBEDTLS_TIMING_C", "MBEDTLS_FS_IO",
                  "MBEDTLS_PSA_ITS_FILE_C", "MBEDTLS_PSA_CRYPTO_STORAGE_C",
                  "MBEDTLS_HAVE_TIME", "MBEDTLS_HAVE_TIME_DATE")


def bare_metal(tree: SourceTree, text: str) -> str:
    """A config made bare-metal buildable with mbedTLS's own config.py (footprint.sh)."""
    if not (tree.root / "scripts" / "config.py").is_file():
        raise mbedbuild.BuildError(f"{tree.root} has no scripts/config.py to make the header "
                                   "bare-metal buildable")
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "config.h"
        output.write_text(path, text)
        script = [sys.executable, str(tree.root / "scripts" / "config.py"), "-f", str(path)]
        for name in NOT_BARE_METAL:
            subprocess.run([*script, "unset", name], capture_output=True)
        subprocess.run([*script, "--force", "set", "MBEDTLS_NO_PLATFORM_ENTROPY"], capture_output=True)
        return path.read_text()


def missing_arm_tools() -> list[str]:
    """The Cortex-M tools not on PATH (empty when the footprint can be measured)."""
    return [ARM + tool for tool in ("gcc", "ar", "size") if shutil.which(ARM + tool) is None]


def sizes(built: Path, size_tool: str = "size") -> tuple[int, int, int]:
    """(text, data, bss) of a program, or summed over every object of an archive."""
    out = subprocess.run([size_tool, "-t", str(built)], capture_output=True, text=True,
                         check=True).stdout
    text, data, bss = (int(v) for v in out.strip().splitlines()[-1].split()[:3])
    return text, data, bss


def _cortex_m4_library(tree: SourceTree, text: str) -> mbedbuild.Library:
    return mbedbuild.build_library(tree, text, cc=ARM + "gcc", cflags=CFLAGS, ar=ARM + "ar")


def cortex_m4(tree: SourceTree, text: str) -> Footprint:
    """mbedTLS built for Cortex-M4 with `text` as it stands (cached by hash); BuildError when
    it does not compile. Pass bare_metal(tree, header) for a header made for an OS."""
    library = _cortex_m4_library(tree, text)
    return Footprint("Cortex-M4 library", f"{ARM}gcc {' '.join(CFLAGS)}",
                     *sizes(library.archive, ARM + "size"))


def firmware(tree: SourceTree, text: str, client_auth: bool, work: Path) -> Footprint:
    """The device client linked for Cortex-M4 with mbedTLS built from `text` (pass
    bare_metal(tree, header)); `client_auth` links the parsing of the device's own
    certificate and key. BuildError when it does not build or link."""
    defines = ("-DCONFIGGEN_CLIENT_AUTH",) if client_auth else ()
    elf = mbedbuild.build_program(_cortex_m4_library(tree, text), DEVICE_CLIENT, work / "footprint_client.elf",
                                  cc=ARM + "gcc", extra=LINK, cflags=CFLAGS + defines)
    return Footprint("Cortex-M4 firmware", f"{ARM}gcc {' '.join(CFLAGS + LINK)}", *sizes(elf, ARM + "size"))


def host(library: mbedbuild.Library) -> Footprint:
    """The sizes of a library built for the host."""
    return Footprint("host library", library.compiler, *sizes(library.archive))
