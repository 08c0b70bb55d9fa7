"""The patch-level facts against real handshakes, on every tested release's own tree:

- a server that splits its Certificate message (`openssl s_server -max_send_frag 1024`, a
  chain over 4 KiB): configgen refuses a header for a release without reassembly (3.6.2,
  2.28.3 — and 2.28.3's own default client fails with -0x7080), and the header it writes for
  3.6.6 and 3.6.7 handshakes;
- the TLS 1.2 RSA-PSS defect: mbedTLS's default configuration against `openssl s_server
  -tls1_2` with an RSA key fails with -0x6600 exactly on the releases the fact holds for,
  and on 3.6.6 exactly where its [fact.bites] says, for the server's probed facts (not
  without MBEDTLS_X509_RSASSA_PSS_SUPPORT, not against a server that also speaks TLS 1.3);
- the DHM overflow: a client whose output buffer (OUT_CONTENT_LEN 512) cannot hold the DHE
  ClientKeyExchange of an 8192-bit group writes past it in mbedtls_dhm_make_public() (valgrind)
  before failing with -0x6C00, on every release the fact holds for (all three).
"""

from __future__ import annotations

import pytest

import shutil
import subprocess

from configgen import readers
from configgen import headerfile
from configgen import kb as knowledge
from configgen import profile as profiles
from configgen import sources
from configgen.errors import ResolveConflict
from configgen.generate import generate
from configgen.kb import releases
from configgen.prove import Mode
from e2e_scenarios import CERTS, openssl
from handshake import build_client, integration_arguments, run_client
from probe_servers import LOOPBACK

# ECDHE only: with DHE, OpenSSL sends a 4096-bit group for this RSA-4096 key, and the
# ClientKeyExchange (518 bytes) does not fit the 512-byte output buffer derive sizes today.
SPLITS_ITS_CERTIFICATE = openssl("-cert", "rsa4096-server.pem", "-cert_chain", "rsa4096-intermediate.pem",
                                 "-key", "rsa4096-server.key", "-max_send_frag", "1024",
                                 "-cipher", "ECDHE-RSA-AES256-GCM-SHA384")
TLS12_RSA = openssl("-cert", "rsa2048-server.pem", "-key", "rsa2048-server.key", "-tls1_2")
TLS12_AND_13_RSA = openssl("-cert", "rsa2048-server.pem", "-key", "rsa2048-server.key")
CA = CERTS / "sha1-rsa4096-root.pem"


def _profile(work, port: int, board: str, line: str, ca=CA):
    work.mkdir(parents=True, exist_ok=True)
    path = work / "tls.toml"
    path.write_text(f'board = "{board}"\nmbedtls = "{line}"\n\n[[server]]\nhost = "{LOOPBACK}"\n'
                    f'port = {port}\nsni = "localhost"\napp_record_max = 1024\n\n[trust]\nca = ["{ca}"]\n')
    return profiles.load(path)


@pytest.mark.mbedtls
def test_a_split_certificate_is_refused_where_the_release_cannot_reassemble_it(tmp_path):
    with SPLITS_ITS_CERTIFICATE(tmp_path) as port:
        with pytest.raises(ResolveConflict, match=r"over 5 records, which mbedTLS 3\.6\.2 cannot reassemble"):
            generate(_profile(tmp_path / "pico", port, "pico-w", "3.6"), "mbedtls_config.h")
        with pytest.raises(ResolveConflict, match=r"which mbedTLS 2\.28\.3 cannot reassemble"):
            generate(_profile(tmp_path / "host", port, "linux-host", "2.28"), "mbedtls_config.h")
        # the fact behind the refusal, on the real 2.28.3 library
        tree = sources.find_tree("2.28.3")
        default = build_client(tree, tree.config_header.read_text(), tmp_path / "default-2.28")
        outcome = run_client(default, port, CA, "--name", "localhost")
    assert outcome.code == -0x7080, outcome.text
    assert not releases.facts_for("2.28.3").has("handshake-reassembly")


@pytest.mark.mbedtls
@pytest.mark.parametrize("release", ["3.6.6", "3.6.7"])
def test_a_split_certificate_handshakes_where_the_release_reassembles_it(tmp_path, release):
    tree = sources.find_tree(release)
    with SPLITS_ITS_CERTIFICATE(tmp_path) as port:
        result = generate(_profile(tmp_path / "p", port, "linux-host", "3.6"), "mbedtls_config.h",
                          tree_version=tree.version)
        assert f"Target release: mbedTLS {release}, read from the tree" in result.text
        client = build_client(tree, result.text, tmp_path / "client")
        outcome = run_client(client, port, CA, "--name", "localhost", *integration_arguments(result.text))
    assert outcome.ok, outcome.text
    assert releases.facts_for(release).has("handshake-reassembly")


@pytest.mark.mbedtls
@pytest.mark.parametrize("release", ["3.6.6", "3.6.7"])
def test_the_rsa_pss_defect_bites_exactly_where_the_fact_says(tmp_path, release):
    tree = sources.find_tree(release)
    client = build_client(tree, tree.config_header.read_text(), tmp_path / "default")
    with TLS12_RSA(tmp_path) as port:
        outcome = run_client(client, port, CERTS / "rsa2048-root.pem", "--name", "localhost")
    defect = releases.facts_for(release).has("rsa-pss-tls12-server-key-exchange")
    assert (outcome.code == -0x6600) == defect, outcome.text
    assert outcome.ok == (not defect), outcome.text


@pytest.mark.mbedtls
@pytest.mark.parametrize("pss, server", [
    (True, TLS12_RSA),
    (False, TLS12_RSA),  # without MBEDTLS_X509_RSASSA_PSS_SUPPORT no rsa_pss_rsae_* is offered
    (True, TLS12_AND_13_RSA),  # TLS 1.3 is negotiated
], ids=["default-tls12", "no-pss-tls12", "default-tls13"])
def test_the_rsa_pss_defect_bites_where_its_bite_says(tmp_path, pss, server):
    tree = sources.find_tree("3.6.6")
    default = readers.read_header(tree.config_header)
    text = default.text if pss else headerfile.with_setting(default, "MBEDTLS_X509_RSASSA_PSS_SUPPORT", False).text
    client = build_client(tree, text, tmp_path / "client")
    root = CERTS / "rsa2048-root.pem"
    with server(tmp_path) as port:
        outcome = run_client(client, port, root, "--name", "localhost")
        probed = generate(_profile(tmp_path / "p", port, "linux-host", "3.6", root), "h.h", verify=Mode.OFF).servers
    header = headerfile.parse(text, "mbedtls_config.h").active()
    walks = releases.facts_for("3.6.6").walked_into(header, probed, knowledge.load("3.6"))
    assert (outcome.code == -0x6600) == bool(walks) == (pss and server is TLS12_RSA), outcome.text


def _small_output_buffer(tree) -> str:
    """mbedTLS's default configuration, TLS 1.2 only (3.6.6's RSA-PSS defect would stop the
    handshake earlier), with a 512-byte output buffer."""
    small = "#undef MBEDTLS_SSL_PROTO_TLS1_3\n#define MBEDTLS_SSL_OUT_CONTENT_LEN 512\n"
    text = tree.config_header.read_text()
    check = '#include "mbedtls/check_config.h"'  # 2.28's config.h ends with it
    return text.replace(check, small + check) if check in text else text + small


@pytest.mark.mbedtls
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
@pytest.mark.parametrize("release", sources.TESTED_RELEASES)
def test_the_dhm_overflow_writes_past_the_output_buffer(tmp_path, release):
    tree = sources.find_tree(release)
    client = build_client(tree, _small_output_buffer(tree), tmp_path / "client")
    dhparam = tmp_path / "ffdhe8192.pem"
    subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe8192",
                    "-out", str(dhparam)], check=True, capture_output=True)
    server = openssl("-cert", "rsa4096-server.pem", "-cert_chain", "rsa4096-intermediate.pem",
                     "-key", "rsa4096-server.key", "-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256",
                     "-dhparam", str(dhparam))
    with server(tmp_path) as port:
        run = subprocess.run(["valgrind", "-q", "--error-exitcode=99", str(client), LOOPBACK, str(port),
                              str(CA), "--name", "localhost"], capture_output=True, text=True, timeout=300,
                             stdin=subprocess.DEVNULL)
    written_past = "Invalid write" in run.stderr and "mbedtls_dhm_make_public" in run.stderr
    assert "error -0x6C00" in run.stdout, run.stdout[-300:]
    assert written_past == releases.facts_for(release).has("dhm-client-key-exchange-overflow"), run.stderr[-2000:]
