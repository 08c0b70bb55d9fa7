"""What `configgen inspect` says of certificate and key files, for every mbedTLS line asked.

`build(files, anchors, host, at, kbs)` gathers the verdicts (configgen/verdicts.py)
and the chain diagnosis (configgen/chain.py) of each line, what each line needs for all of
it, and every problem they found, once each, errors first. Pure: the files are already read,
the time and the knowledge bases are arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from configgen import chain
from configgen import verdicts as judge
from configgen.kb.model import KnowledgeBase
from configgen.model.certificates import FileFacts
from configgen.model.verdicts import OptionNeed, Problem, Role, Severity
from configgen.model.inspection import CertReport, DeviceNeed, Inspection, KeyReport, LineReport, Located

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}


def build(files: Sequence[FileFacts], anchors: Sequence[FileFacts], host: str | None, at: dt.datetime,
          kbs: Mapping[str, KnowledgeBase]) -> Inspection:
    """Every verdict on `files` and the trust anchors, per line of `kbs`."""
    given = [*files, *anchors]
    presented = [c for f in files for c in f.certificates]
    trusted = [c for f in anchors for c in f.certificates]
    all_keys = [k for f in given for k in f.keys]
    # A certificate that matches a key given is the device's own: the application parses it.
    roles = {c.label: Role.OWN if any(judge.matches(c, k) for k in all_keys) else Role.PRESENTED
             for c in presented}
    roles.update({c.label: Role.ANCHOR for c in trusted})
    file_needs = tuple(n for f in given for n in judge.file_needs(f))
    problems: list[Located] = []
    lines = []
    for line, kb in kbs.items():
        file_verdicts = []
        for f in (f for f in given if f.certificates or any(s.der for s in f.slots)):
            found = judge.file_verdict(f, kb)
            file_verdicts.append(found)
            problems += [Located(line, f.source, p) for p in found.problems]
        certificates = []
        for cert in presented + trusted:
            verdict = judge.certificate_verdict(cert, kb, roles[cert.label])
            certificates.append(CertReport(roles[cert.label], verdict))
            problems += [Located(line, cert.label, p) for p in verdict.problems]
        keys = []
        for key in all_keys:
            needs, key_problems = judge.key_verdict(key, kb)
            matches = tuple(c.label for c in presented + trusted if judge.matches(c, key))
            keys.append(KeyReport(key.source, key.public_key.describe(), matches, key.encryption,
                                  needs, key_problems))
            problems += [Located(line, key.source, p) for p in key_problems]
            if presented and not matches:
                problems.append(Located(line, key.source, _mismatch(key.source, key.public_key.describe(),
                                                                    {c.source for c in presented})))
        report = chain.diagnose(presented, trusted, host, at, kb) if trusted and presented else None
        problems += [Located(line, "chain", p) for p in report.findings] if report else []
        every = [n for c in certificates for n in c.verdict.needs] + [n for k in keys for n in k.needs]
        lines.append(LineReport(line, tuple(certificates), tuple(file_verdicts), tuple(keys), report,
                                _merged(every + list(file_needs))))
    unique: list[Located] = []
    for problem in sorted(problems, key=lambda p: (_ORDER[p.problem.severity], p.where, p.problem.code,
                                                   p.line)):
        if problem not in unique:
            unique.append(problem)
    own = frozenset(label for label, role in roles.items() if role is Role.OWN)
    return Inspection(at, host, tuple(given), file_needs, own, tuple(lines), tuple(unique))


def _mismatch(source: str, key: str, certificates: set[str]) -> Problem:
    return Problem(Severity.ERROR, "key-mismatch",
                   f"the private key in {source} ({key}) matches no certificate in "
                   f"{', '.join(sorted(certificates))}",
                   "give the device certificate together with its own key (compare "
                   "`openssl pkey -pubout` of the key with `openssl x509 -pubkey` of the certificate)")


def _merged(every: Sequence[OptionNeed]) -> tuple[DeviceNeed, ...]:
    """The needs by option and value, with all their reasons; of MBEDTLS_MPI_MAX_SIZE, the largest."""
    needs: dict[tuple[str, str | None], list[str]] = {}
    for need in every:
        needs.setdefault((need.option, need.value), []).append(need.reason)
    mpi = [int(v) for (o, v) in needs if o == judge.MPI_OPTION and v]
    return tuple(DeviceNeed(option, value, tuple(sorted(set(reasons))))
                 for (option, value), reasons in sorted(needs.items())
                 if not (option == judge.MPI_OPTION and value and int(value) != max(mpi)))
