"""The probe's shell: schedule plan.py's jobs on a small pool, hand the observations to fold.

The connection itself is `run_job` (transport.run by default), so tests can drive the
whole probe from recorded or synthetic observations without a network.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from configgen.errors import ProbeError
from configgen.probe import clientauth, plan, transport
from configgen.model.facts import ServerFacts, Status
from configgen.probe.fold import failure, fold
from configgen.probe.observation import Job, Observation
from configgen.probe.plan import Chain, Target
from configgen.probe.verdict import judge

RunJob = Callable[[Job], Observation]
Progress = Callable[[int, str], None]  # (connections so far, question just answered)


def probe(
    target: Target,
    timeouts: transport.Timeouts,
    budget: float,
    pool: int = 24,
    progress: Progress | None = None,
    run_job: RunJob | None = None,
) -> ServerFacts:
    """Probe one server within `budget` seconds; ProbeError when it cannot be probed at all."""
    deadline = time.monotonic() + budget
    address = None
    if run_job is None:
        address = transport.resolve(target.host, target.port, target.where,
                                    min(timeouts.connect, budget))

        def run_job(job: Job) -> Observation:
            return transport.run(job, address, timeouts, deadline)

    session = _Session(run_job, progress, target.key_exchange_of())
    with ThreadPoolExecutor(max_workers=pool, thread_name_prefix="probe") as executor:
        opening = session.batch(executor, plan.opening(target))
        default = next(o for o in opening if o.job.key == "default")
        blamed: tuple[str, ...] = ()
        flags = plan.ALL_FLAGS
        asked = opening
        if plan.intolerant(default):
            trials = session.batch(executor, plan.intolerance_jobs(default.job.hello))
            blamed = plan.blame(trials) or ()
            if blamed:
                flags = plan.ALL_FLAGS - set(blamed)
                again = plan.opening(target, flags, with_default=False)
                opening = session.batch(executor, again) + (default,)
            asked = opening + trials
        _finished(target, asked, budget)
        failed = failure(target, asked)
        if failed is not None:
            status, reason = failed
            raise ProbeError(reason, where=target.where, hint=_hint(status, timeouts))
        chains = plan.chains(target, flags, {o.job.key: o for o in opening})
        later = session.chains(executor, chains, target)
    _finished(target, later, budget)
    facts = fold(target, opening + later, blamed, session.connections)
    remaining = deadline - time.monotonic()
    if facts.client_auth is not None and address is not None and remaining > 0:
        demand = clientauth.required(address.sockaddr[0], target.port, target.sni,
                                     min(timeouts.read, remaining))
        facts = dataclasses.replace(facts, client_auth=dataclasses.replace(facts.client_auth, required=demand),
                                    connections=facts.connections + 1)
    return facts


def _finished(target: Target, observations: Iterable[Observation], budget: float) -> None:
    """ProbeError when the deadline cut a question short: facts half-learnt are not facts."""
    cut = [o for o in observations if o.cut]
    if cut:
        first = min(cut, key=lambda o: o.job.key)
        raise ProbeError(
            f"the probe did not finish within its deadline of {budget:g} s "
            f"({len(cut)} question{'s' if len(cut) > 1 else ''} cut short, e.g. "
            f"{first.job.question}: {first.detail})",
            where=target.where,
            hint="raise --deadline (or lower --timeout when the server is slow to refuse)",
        )


def _hint(status: Status, timeouts: transport.Timeouts) -> str:
    if status is Status.REFUSED:
        return ("the server accepts none of the suites and versions this mbedTLS line offers; "
                "it may want a pre-shared key (--psk) or another --mbedtls line")
    if status is Status.TIMEOUT:
        return f"the server said nothing; raise --timeout (now {timeouts.read:g} s) if it is slow"
    if status is Status.VIOLATION:
        return ("its answers break TLS (they choose what was not offered), so no device can "
                "talk to it; tell its operator")
    return "is this port a TLS server? configgen probe speaks TLS from the first byte"


class _Session:
    def __init__(self, run_job: RunJob, progress: Progress | None, kex: Mapping[int, str]):
        self.run_job = run_job
        self.progress = progress
        self.kex = kex
        self.connections = 0

    def _done(self, observation: Observation) -> Observation:
        self.connections += 1
        if self.progress is not None:
            self.progress(self.connections, observation.job.question)
        return judge(observation, self.kex)

    def batch(self, executor: ThreadPoolExecutor, jobs: Iterable[Job]) -> tuple[Observation, ...]:
        futures = [executor.submit(self.run_job, job) for job in jobs]
        return tuple(self._done(f.result()) for f in futures)

    def chains(self, executor: ThreadPoolExecutor, chains: tuple[Chain, ...], target: Target
               ) -> tuple[Observation, ...]:
        kex = target.key_exchange_of()
        found: dict[str, list[int]] = {c.key: list(c.seed) for c in chains}
        steps: dict[str, int] = {c.key: 0 for c in chains}
        pending: dict[Future[Observation], Chain] = {}
        out: list[Observation] = []

        def submit(chain: Chain) -> None:
            job = plan.chain_job(chain, tuple(found[chain.key]), steps[chain.key])
            if job is not None:
                pending[executor.submit(self.run_job, job)] = chain

        for chain in chains:
            submit(chain)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chain = pending.pop(future)
                observation = self._done(future.result())
                out.append(observation)
                choice = plan.chain_choice(chain, observation, kex, tuple(found[chain.key]))
                if choice is not None:
                    found[chain.key].append(choice)
                    steps[chain.key] += 1
                    submit(chain)
        return tuple(out)
