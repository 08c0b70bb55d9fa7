"""generate --format esp-idf, proved against ESP-IDF's own files (../shared/esp-idf: the
mbedTLS component's real Kconfig at v5.5.5 and v6.0.2 and the rows of its esp_config.h).

1. Every line of the fragment names a symbol of that release's Kconfig, with the right type,
   inside its range, and kconfiglib, loading the Kconfig defaults plus the fragment, ends with
   exactly the fragment's values: nothing dropped for an unmet `depends on`, no warning.
2. Its effect: the symbols kconfiglib ends with, run through esp_config.h's rows (v5.5.5 ships
   mbedTLS 3.6), plus the user header, compile against real mbedTLS 3.6.6 (check_config.h
   clean) and complete the end-to-end handshakes of tests/e2e_scenarios.py on the esp32 board.

Symbols of other ESP-IDF components are undefined in the mbedTLS Kconfig, so they evaluate as
n, except the chip's capabilities, where the test assumes an ESP32 (CHIP below).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from configgen import headerfile, resources, sources
from configgen import profile as profiles
from configgen.errors import ConfiggenError
from configgen.sdk import espidf
from configgen.sdk.extract_espidf import dumps, extract
from configgen.sdk.outputs import generate_format
from e2e_scenarios import SCENARIOS, started
from handshake import build_client, integration_arguments, run_client

kconfiglib = pytest.importorskip("kconfiglib")

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
_FACTS = [p / "shared" / "esp-idf" for p in (ROOT.parent, ROOT.parent.parent)]
FACTS = next((p for p in _FACTS if p.is_dir()), None)
needs_facts = pytest.mark.skipif(FACTS is None, reason="ESP-IDF ground truth (../shared/esp-idf) not here")

# The chip assumed wherever ESP-IDF decides by SOC_* capability (components/soc/esp32/include/
# soc/soc_caps.h): AES, SHA (SHA-1/256/384/512) and MPI accelerators; no ECC or ECDSA
# peripheral, no AES-GCM in hardware.
CHIP = "ESP32"
CHIP_KCONFIG = {"IDF_TARGET_ESP32": "y", "SOC_AES_SUPPORTED": "y", "SOC_SHA_SUPPORTED": "y",
                "SOC_MPI_SUPPORTED": "y"}
CHIP_MACROS = {"SOC_SHA_SUPPORT_SHA512": "1", "SOC_SHA_SUPPORT_SHA1": "1",
               "SOC_SHA_SUPPORT_SHA256": "1"}
# What the ESP32 port supplies and the host does not: its hardware drivers (*_ALT), its
# allocator, its millisecond clock. mbedTLS's software implementations stand in for them; the
# test client supplies mbedtls_hardware_poll(), so MBEDTLS_ENTROPY_HARDWARE_ALT stays. And
# x86's AES instructions, which esp_config.h enables and which compile to nothing on the
# ESP32's Xtensa core (aesni.c, padlock.c test the architecture), but not on this host.
PORT_ONLY = ("*_ALT", "*_ALT_FALLBACK", "*_SOFT_FALLBACK", "MBEDTLS_PLATFORM_STD_CALLOC",
             "MBEDTLS_PLATFORM_STD_FREE", "MBEDTLS_AESNI_C", "MBEDTLS_PADLOCK_C")
KEEP = {"MBEDTLS_ENTROPY_HARDWARE_ALT"}
_LINE = re.compile(r"^CONFIG_(\w+)=(.*)$")


def fragment_values(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = _LINE.match(line)
            assert match, f"not an sdkconfig line: {line!r}"
            values[match.group(1)] = match.group(2)
    return values


def load_kconfig(release: str, work: Path):
    """The release's Kconfig, with the chip's symbols of other components defined."""
    wrapper = work / f"Kconfig-{release}"
    chip = "".join(f"config {name}\n\tbool\n\tdefault {value}\n" for name, value in CHIP_KCONFIG.items())
    wrapper.write_text(f'{chip}source "{FACTS / f"Kconfig-{release}"}"\n')
    return kconfiglib.Kconfig(str(wrapper), warn_to_stderr=False)


def check_symbols(fragment: str, release: str, work: Path):
    """Proof 1; returns the Kconfig with defaults + fragment applied."""
    kconf = load_kconfig(release, work)
    values = fragment_values(fragment)
    for name, value in values.items():
        sym = kconf.syms.get(name)
        assert sym is not None and sym.nodes, f"CONFIG_{name} is not a symbol of ESP-IDF {release}"
        kind = kconfiglib.TYPE_TO_STR[sym.orig_type]
        expected = "bool" if value in ("y", "n") else "int" if value.isdigit() else "string"
        assert kind == expected, f"CONFIG_{name} is {kind}, the fragment sets it as {expected}"
        for low, high, cond in sym.ranges:
            if kconfiglib.expr_value(cond):
                assert int(low.str_value) <= int(value) <= int(high.str_value), f"CONFIG_{name}={value}"
    path = work / "sdkconfig.defaults"
    path.write_text(fragment)
    kconf.warnings.clear()
    kconf.load_config(str(path), replace=True)
    assert kconf.warnings == [], kconf.warnings
    for name, value in values.items():
        sym = kconf.syms[name]
        assert sym.str_value == value, (
            f"CONFIG_{name}={value} does not hold: Kconfig makes it {sym.str_value} "
            f"(depends on {kconfiglib.expr_str(sym.direct_dep)})")
        if value == "y":
            assert kconfiglib.expr_value(sym.direct_dep) == 2, f"CONFIG_{name}: depends on fails"
    return kconf


def effective_options(kconf, release: str, user_header: str) -> dict[str, str | None]:
    """Proof 2's option set: esp_config.h over every symbol, the port dropped, the user header."""
    config = {}
    for sym in kconf.unique_defined_syms:
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
            config[sym.name] = "y" if sym.str_value == "y" else "n"
        elif sym.orig_type in (kconfiglib.INT, kconfiglib.HEX) and sym.str_value:
            config[sym.name] = sym.str_value
    macros = espidf.esp_config(espidf.load(release), config, CHIP_MACROS)
    options = {name: value for name, value in macros.items()
               if name in KEEP or not any(fnmatch.fnmatchcase(name, p) for p in PORT_ONLY)}
    options.update(headerfile.parse(user_header, espidf.USER_HEADER).active())
    return options


def config_header(options: dict[str, str | None]) -> str:
    lines = [f"#define {name}{'' if value is None else ' ' + value}" for name, value in options.items()]
    return "\n".join(["#ifndef ESP_CONFIG_AS_BUILT_H", "#define ESP_CONFIG_AS_BUILT_H", *lines, "#endif", ""])


def golden_as_esp32(case: str, work: Path) -> Path:
    """A golden case's profile on the esp32 board (its snapshot replayed offline)."""
    source = GOLDEN / case / "profile.toml"
    text = re.sub(r'^board = ".*"$', 'board = "esp32"', source.read_text(), flags=re.M)
    text = re.sub(r'^mbedtls = ".*"$', 'mbedtls = "3.6"', text, flags=re.M)
    text = text.replace('"../../data/', f'"{GOLDEN.parent / "data"}/').replace(
        'snapshot = "server.json"', f'snapshot = "{GOLDEN / case / "server.json"}"')
    path = work / "tls.toml"
    path.write_text(text)
    return path


@needs_facts
@pytest.mark.parametrize("release", ["v5.5.5", "v6.0.2"])
def test_committed_facts_regenerate_byte_for_byte(release):
    committed = resources.read_text(f"sdk/esp-idf-{release}.json")
    fresh = dumps(extract(FACTS / f"Kconfig-{release}", FACTS / f"config-map-{release}.json", release))
    assert fresh == committed, "run python -m configgen.sdk.extract_espidf (see its docstring)"


@needs_facts
@pytest.mark.parametrize("release", ["v5.5.5", "v6.0.2"])
@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if (p / "profile.toml").is_file()))
def test_every_symbol_exists_has_its_type_and_range_and_holds(case, release, tmp_path):
    profile = dataclasses.replace(profiles.load(golden_as_esp32(case, tmp_path)), esp_idf=release)
    out = dict(generate_format(profile, "esp-idf", str(tmp_path / "out"), offline=True).files)
    check_symbols(out[espidf.FRAGMENT], release, tmp_path)
    assert "CONFIG_MBEDTLS_TLS_CLIENT_ONLY=y" in out[espidf.FRAGMENT]


def test_esp32_board_names_its_release_and_a_profile_may_choose_another(tmp_path):
    assert profiles.load_board("esp32").esp_idf == "v5.5.5"
    path = golden_as_esp32("tls13-only", tmp_path)
    text = path.read_text()
    path.write_text('esp_idf = "v6.0.2"\nformat = "esp-idf"\n' + text)
    profile = profiles.load(path)
    assert (profile.esp_idf, profile.format) == ("v6.0.2", "esp-idf")
    path.write_text('esp_idf = "v4.4"\n' + text)
    with pytest.raises(ConfiggenError, match="'v4.4' is not an ESP-IDF release configgen knows"):
        profiles.load(path)


def test_user_header_holds_only_what_no_symbol_expresses(tmp_path):
    profile = profiles.load(golden_as_esp32("sha1-root-rsa4096-large-chain", tmp_path))
    out = generate_format(profile, "esp-idf", str(tmp_path / "out"), offline=True)
    files = dict(out.files)
    user = headerfile.parse(files[espidf.USER_HEADER], espidf.USER_HEADER).active()
    assert user["MBEDTLS_MPI_MAX_SIZE"] == "512"
    assert "MBEDTLS_SSL_CIPHERSUITES" in user
    assert "MBEDTLS_SHA1_C" not in user and "CONFIG_MBEDTLS_SHA1_C=y" in files[espidf.FRAGMENT]
    assert "MBEDTLS_SSL_IN_CONTENT_LEN" not in user
    assert out.hint and "MBEDTLS_USER_CONFIG_FILE" in out.hint


@needs_facts
@pytest.mark.mbedtls
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fragment_builds_what_the_device_needs_and_handshakes(scenario, tmp_path, capsys):
    """Proof 2 on the esp32 board (CHIP assumed for SOC_* conditions)."""
    esp32 = dataclasses.replace(scenario, board="esp32")
    tree = sources.find_tree("3.6")
    with started(esp32, "3.6", tmp_path / "work") as run:
        try:
            out = generate_format(profiles.load(run.profile), "esp-idf", str(tmp_path / "out"))
        except ConfiggenError as error:
            assert "3.6" in scenario.stops and scenario.stops["3.6"] in str(error), str(error)
            pytest.skip(f"configgen refuses {scenario.name}: {error.message}")
        files = dict(out.files)
        kconf = check_symbols(files[espidf.FRAGMENT], "v5.5.5", tmp_path)
        options = effective_options(kconf, "v5.5.5", files[espidf.USER_HEADER])
        header = config_header(options)
        client = build_client(tree, header, tmp_path / "client")
        outcome = run_client(client, run.port, run.files.ca, *run.client_args, *integration_arguments(header))
    with capsys.disabled():
        print(f"\n{scenario.name:28} esp-idf v5.5.5 on {CHIP}: {len(options)} macros, {outcome.text}")
    assert outcome.ok, outcome.text


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "configgen", "generate", *args], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize(("change", "args", "says"), [
    (lambda t: t.replace('board = "esp32"', 'board = "linux-host"'), ["--format", "esp-idf", "-o", "out"],
     "board 'linux-host' names no ESP-IDF release"),
    (lambda t: 'format = "xml"\n' + t, ["-o", "out"], "'xml' is not one of 'header', 'esp-idf', 'zephyr'"),
    (lambda t: 'format = "esp-idf"\n' + t.replace('board = "esp32"', 'board = "pico-w"'), ["-o", "out"],
     "board 'pico-w' names no ESP-IDF release"),
    (lambda t: t, ["--format", "esp-idf", "-o", "tls.toml"], "writes several files: -o names a directory"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(change, args, says, tmp_path):
    path = golden_as_esp32("p256-ccm8-client-auth", tmp_path)
    path.write_text(change(path.read_text()))
    before = sorted(p.name for p in tmp_path.iterdir())
    run = _cli("--profile", "tls.toml", "--offline", *args, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.startswith("configgen: ") and run.stderr.count("\n") <= 2, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_check_names_the_stale_file_and_the_lines_that_change(tmp_path):
    path = golden_as_esp32("p256-ccm8-client-auth", tmp_path)
    assert _cli("--profile", "tls.toml", "--offline", "--format", "esp-idf", "-o", "main", cwd=tmp_path).returncode == 0
    fresh = _cli("--profile", "tls.toml", "--offline", "--format", "esp-idf", "-o", "main", "--check", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    path.write_text(path.read_text().replace('[policy]', '[policy]\nmargin = "balanced"'))
    stale = _cli("--profile", "tls.toml", "--offline", "--format", "esp-idf", "-o", "main", "--check", cwd=tmp_path)
    assert stale.returncode == 1, stale.stderr
    assert "main/sdkconfig.defaults.mbedtls" in stale.stderr and "CONFIG_ lines change" in stale.stderr
    assert "+ CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=" in stale.stderr


@needs_facts
def test_short_heap_turns_dynamic_buffers_on_and_kconfig_holds(tmp_path):
    board = (ROOT / "profiles" / "esp32.toml").read_text().replace("heap_kib = 160", "heap_kib = 20")
    (tmp_path / "small-esp32.toml").write_text(board)
    path = golden_as_esp32("rsa2048-ecdhe-rsa-gcm", tmp_path)
    path.write_text(path.read_text().replace('board = "esp32"', 'board = "small-esp32.toml"'))
    fragment = dict(generate_format(profiles.load(path), "esp-idf", offline=True).files)[espidf.FRAGMENT]
    assert "CONFIG_MBEDTLS_DYNAMIC_BUFFER=y" in fragment
    check_symbols(fragment, "v5.5.5", tmp_path)
    roomy = golden_as_esp32("rsa2048-ecdhe-rsa-gcm", tmp_path)
    assert "CONFIG_MBEDTLS_DYNAMIC_BUFFER=n" in dict(
        generate_format(profiles.load(roomy), "esp-idf", offline=True).files)[espidf.FRAGMENT]
