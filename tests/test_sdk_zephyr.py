"""generate --format zephyr, checked without Zephyr: every prj.conf symbol is defined by the
Kconfig recorded from Zephyr's mbedTLS module (configgen/sdk/zephyr.toml, with its sources)
and holds there with the value written (kconfiglib); the heap is sized from a real measured
peak (valgrind massif) or, offline, estimated and said to be."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from configgen import handshake, profile as profiles, sources
from configgen.sdk import rules, zephyr
from configgen.sdk.outputs import HEADER, generate_format
from e2e_scenarios import SCENARIOS, started
from handshake import build_client
from test_sdk_espidf import golden_as_esp32

kconfiglib = pytest.importorskip("kconfiglib")

_LINE = re.compile(r"^CONFIG_(\w+)=(.*)$")


def golden_profile(case: str, work: Path, extra: str = "") -> Path:
    path = golden_as_esp32(case, work)
    path.write_text(path.read_text() + extra)
    return path


def conf_values(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in map(_LINE.match, text.splitlines()) if m}


def load_recorded_kconfig(work: Path):
    """The module's symbols as zephyr.toml records them, as one Kconfig file."""
    path = work / "Kconfig"
    path.write_text("\n".join(s["kconfig"] for s in rules("zephyr.toml")["symbol"]) + "\n")
    return kconfiglib.Kconfig(str(path), warn_to_stderr=False)


def test_every_symbol_is_the_modules_and_holds_with_its_value(tmp_path):
    out = dict(generate_format(profiles.load(golden_profile("tls13-only", tmp_path)), "zephyr",
                               str(tmp_path / "out"), offline=True).files)
    values = conf_values(out[zephyr.FRAGMENT])
    assert values["MBEDTLS_CFG_FILE"] == f'"{HEADER}"'
    assert int(values["MBEDTLS_HEAP_SIZE"]) > 0
    kconf = load_recorded_kconfig(tmp_path)
    assert kconf.warnings == []
    (tmp_path / "prj.conf").write_text(out[zephyr.FRAGMENT])
    kconf.load_config(str(tmp_path / "prj.conf"), replace=True)
    assert kconf.warnings == [], kconf.warnings
    for name, value in values.items():
        sym = kconf.syms[name]
        assert sym.nodes, f"CONFIG_{name} is not a symbol of the module's Kconfig"
        shown = f'"{sym.str_value}"' if sym.orig_type == kconfiglib.STRING else sym.str_value
        assert shown == value, f"CONFIG_{name}={value} does not hold (Kconfig: {shown})"
    assert out[HEADER].startswith("/*\n * mbedtls_config.h: mbedTLS 3.6 configuration")


def test_heap_estimate_says_so_and_follows_the_margin(tmp_path):
    minimal = generate_format(profiles.load(golden_profile("tls13-only", tmp_path)), "zephyr",
                              offline=True).files
    text = dict(minimal)[zephyr.FRAGMENT]
    size = int(conf_values(text)["MBEDTLS_HEAP_SIZE"])
    assert "estimated, nothing measured" in text and "--heap-peak" in text
    balanced = golden_profile("tls13-only", tmp_path, "margin = \"balanced\"\n")
    more = int(conf_values(dict(generate_format(profiles.load(balanced), "zephyr", offline=True)
                                .files)[zephyr.FRAGMENT])["MBEDTLS_HEAP_SIZE"])
    assert size % 1024 == 0 and more >= size * 5 // 4


def test_heap_peak_needs_the_zephyr_format(tmp_path):
    path = golden_profile("tls13-only", tmp_path)
    run = subprocess.run([sys.executable, "-m", "configgen", "generate", "--profile", str(path),
                          "--offline", "--heap-peak", "30000"], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.count("\n") <= 2, run.stderr
    assert "--heap-peak" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.mbedtls
@pytest.mark.skipif(not handshake.can_measure_heap(), reason="valgrind is not installed")
def test_heap_is_sized_from_the_measured_peak(tmp_path):
    """A real handshake under valgrind massif gives the peak; the heap holds it."""
    scenario = next(s for s in SCENARIOS if s.name == "mosquitto-ec-client")
    with started(scenario, "3.6", tmp_path / "work") as run:
        profile = profiles.load(run.profile)
        header = dict(generate_format(profile, "zephyr").files)[HEADER]
        client = build_client(sources.find_tree("3.6"), header, tmp_path / "client")
        measured = handshake.run_client(client, "127.0.0.1", run.port, run.files.ca, run.client_args,
                                        timeout=120, heap=True)
        assert measured.ok and measured.heap_peak, measured.text
        text = dict(generate_format(profile, "zephyr", heap_peak=measured.heap_peak).files)[zephyr.FRAGMENT]
    size = int(conf_values(text)["MBEDTLS_HEAP_SIZE"])
    print(f"\nmeasured peak {measured.heap_peak:,} bytes -> CONFIG_MBEDTLS_HEAP_SIZE={size:,}")
    assert measured.heap_peak <= size < measured.heap_peak + 1024
    assert f"measured peak heap {measured.heap_peak:,} bytes" in text


def test_the_formats_warn_as_the_header_does(tmp_path, capsys):
    """Whichever files generate writes, the integrator reads the same warnings (here: the
    profile's mbedTLS 2.28 is past its end of life)."""
    from configgen.cli import main
    from test_golden import GOLDEN

    profile = str(GOLDEN / "mfl-small-heap" / "profile.toml")
    assert main(["generate", "--offline", "--profile", profile, "-o", str(tmp_path / "mbedtls_config.h")]) == 0
    header = capsys.readouterr().err.splitlines()[:-1]  # less "Wrote ..."
    assert main(["generate", "--offline", "--profile", profile, "--format", "zephyr", "-o", str(tmp_path)]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("configgen: warning: ")]
    assert header and warned == header
    assert "no longer maintained" in header[0]
