"""Signing in helper processes: what a helper signs verifies, a helper that dies or never starts
costs no signature, and closing the signer leaves no process behind.

The Signer tests start real `python -m fedipub.signer` children; the helper program itself is
also driven directly (`serve` over a pair of pipes, and the module as a subprocess), frame by
frame. Time is the injected clock, never a sleep.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fedipub import signer as signer_module
from fedipub.signatures import (
    PendingSignature,
    PrivateKey,
    SignatureFormat,
    prepare_signature,
    sign_message,
    sign_request,
)
from fedipub.signer import RESTART_AFTER, Signer, serve

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000
INBOX = "https://blog.example/inbox?page=1"
KEY_ID = "https://social.example/users/alice#main-key"
BODY = b'{"type": "Follow", "actor": "https://social.example/users/alice"}'

# The protocol, spelled out here rather than imported: the test pins the bytes on the wire.
FRAME = struct.Struct("!BII")
KEY, SIGN = 1, 2
SIGNED, FAILED, READY = 0, 1, 2
ANSWER_TIMEOUT = 10.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def rsa_keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]


@pytest.fixture(scope="module")
def ed_keys() -> list[ed25519.Ed25519PrivateKey]:
    return [ed25519.Ed25519PrivateKey.generate() for _ in range(2)]


@pytest.fixture(scope="module")
def keys(
    rsa_keys: list[rsa.RSAPrivateKey], ed_keys: list[ed25519.Ed25519PrivateKey]
) -> list[PrivateKey]:
    """Two RSA-2048 and two Ed25519 keys, alternating by type."""
    return [rsa_keys[0], ed_keys[0], rsa_keys[1], ed_keys[1]]


@dataclass
class Clock:
    now: float = 5000.0

    def __call__(self) -> float:
        return self.now


def verifies(key: PrivateKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-256, or Ed25519, checked with the public half."""
    try:
        if isinstance(key, rsa.RSAPrivateKey):
            key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.public_key().verify(signature, message)
    except InvalidSignature:
        return False
    return True


def der(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def helper_pids(signer: Signer) -> list[int]:
    """The pids of the signer's running helper processes, from their transports."""
    pids = []
    for helper in signer._helpers:
        assert helper._transport is not None
        if helper.alive:
            pids.append(helper._transport.get_pid())
    return pids


async def exited(signer: Signer, pid: int) -> None:
    """Wait until the signer has seen helper `pid` exit."""
    for helper in signer._helpers:
        assert helper._transport is not None
        if helper._transport.get_pid() == pid:
            async with asyncio.timeout(ANSWER_TIMEOUT):
                await helper._exited.wait()
            return
    raise AssertionError(f"no helper has pid {pid}")


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill(signer: Signer, pid: int) -> None:
    """SIGKILL helper `pid` (the signer closes its transport once it is gone)."""
    assert pid in helper_pids(signer), f"no helper has pid {pid}"
    os.kill(pid, signal.SIGKILL)


async def settle() -> None:
    """Let every task that is ready run up to its next wait (here: a helper's answer)."""
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.fixture
def sent_keys(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every KEY frame a signer sends, as (helper, slot)."""
    sent: list[tuple[int, int]] = []
    real = signer_module._Helper.send_key

    def send_key(helper: signer_module._Helper, slot: int, der: bytes) -> None:
        sent.append((id(helper), slot))
        real(helper, slot, der)

    monkeypatch.setattr(signer_module._Helper, "send_key", send_key)
    return sent


# --- signing in helpers ---------------------------------------------------------------------


async def test_signatures_made_in_helpers_verify_and_each_key_is_sent_once(
    keys: list[PrivateKey], sent_keys: list[tuple[int, int]]
) -> None:
    signer = Signer(2)
    try:
        await signer.start()
        assert signer.helpers == 2
        pids = helper_pids(signer)
        assert len(set(pids)) == 2
        assert all(process_exists(pid) for pid in pids)

        for round_ in range(5):  # the keys interleaved, one signature at a time
            for index, key in enumerate(keys):
                message = f"round {round_}, key {index}".encode()
                assert verifies(key, message, await signer.sign(key, message))
    finally:
        await signer.aclose()

    assert signer.signed_in_helpers == 5 * len(keys)
    # A key goes down each helper's pipe at most once, however often it signs there.
    assert len(sent_keys) == len(set(sent_keys))
    assert {slot for _, slot in sent_keys} == set(range(len(keys)))


async def test_five_hundred_concurrent_signatures_are_all_correct(
    keys: list[PrivateKey], sent_keys: list[tuple[int, int]]
) -> None:
    signer = Signer(2)
    work = [(keys[n % len(keys)], f"delivery {n}".encode()) for n in range(500)]
    try:
        # No start(): the first signatures start the helpers, the rest wait for that start.
        signatures = await asyncio.gather(*(signer.sign(key, message) for key, message in work))
        assert signer.helpers == 2
    finally:
        await signer.aclose()

    assert [verifies(key, m, s) for (key, m), s in zip(work, signatures, strict=True)] == [
        True
    ] * 500
    assert signer.signed_in_helpers == 500
    # The work was spread: both helpers were sent keys, each key once per helper.
    assert len({helper for helper, _ in sent_keys}) == 2
    assert len(sent_keys) == len(set(sent_keys))


async def test_the_same_message_signs_the_same_in_a_helper_and_inline(
    keys: list[PrivateKey],
) -> None:
    """Both algorithms are deterministic, so a helper's signature is byte for byte ours."""
    signer = Signer(1)
    try:
        for key in keys:
            assert await signer.sign(key, b"same bytes") == sign_message(b"same bytes", key)
    finally:
        await signer.aclose()
    assert signer.signed_in_helpers == len(keys)


async def test_with_no_processes_nothing_is_started_and_everything_signs_inline(
    keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("a helper process was started")

    monkeypatch.setattr(asyncio.get_running_loop(), "subprocess_exec", no_subprocess)
    signer = Signer(0)

    await signer.start()
    signatures = await asyncio.gather(*(signer.sign(key, b"inline") for key in keys))

    assert all(verifies(key, b"inline", s) for key, s in zip(keys, signatures, strict=True))
    assert signer.helpers == 0
    assert signer.signed_in_helpers == 0
    assert signer._helpers == []
    await signer.aclose()


# --- helpers that fail ----------------------------------------------------------------------


async def test_a_killed_helper_loses_no_signature_and_is_restarted_after_the_delay(
    keys: list[PrivateKey],
) -> None:
    clock = Clock()
    signer = Signer(1, clock=clock)
    try:
        await signer.start()
        assert verifies(keys[0], b"before", await signer.sign(keys[0], b"before"))
        assert signer.signed_in_helpers == 1
        [pid] = helper_pids(signer)

        # Stopped, the helper holds every request sent to it unanswered until it is killed.
        os.kill(pid, signal.SIGSTOP)
        work = [(keys[n % len(keys)], f"pending {n}".encode()) for n in range(20)]
        tasks = [asyncio.create_task(signer.sign(key, message)) for key, message in work]
        await settle()
        assert signer._helpers[0].load == 20
        kill(signer, pid)

        signatures = await asyncio.gather(*tasks)
        assert all(verifies(k, m, s) for (k, m), s in zip(work, signatures, strict=True))
        assert signer.signed_in_helpers == 1  # the 20 were signed inline
        assert signer.helpers == 0
        assert not process_exists(pid)

        # Not restarted before RESTART_AFTER seconds since the last start...
        clock.now += RESTART_AFTER - 0.001
        assert verifies(keys[1], b"later", await signer.sign(keys[1], b"later"))
        assert signer.helpers == 0
        assert signer.signed_in_helpers == 1
        assert signer._helpers == []

        # ...and restarted once they have passed; the new helper is sent the key again.
        clock.now += 0.001
        assert verifies(keys[1], b"restarted", await signer.sign(keys[1], b"restarted"))
        assert signer.helpers == 1
        assert signer.signed_in_helpers == 2
        [new_pid] = helper_pids(signer)
        assert new_pid != pid
        assert process_exists(new_pid)
    finally:
        await signer.aclose()


async def test_when_one_of_two_helpers_dies_the_other_keeps_signing(
    keys: list[PrivateKey],
) -> None:
    signer = Signer(2, clock=Clock())
    try:
        await signer.start()
        first, second = helper_pids(signer)
        kill(signer, first)
        await exited(signer, first)
        signatures = await asyncio.gather(*(signer.sign(keys[0], b"%d" % n) for n in range(10)))
        assert all(verifies(keys[0], b"%d" % n, s) for n, s in enumerate(signatures))
        assert signer.helpers == 1
        assert helper_pids(signer) == [second]
        assert signer.signed_in_helpers == 10
    finally:
        await signer.aclose()


async def test_a_dead_helper_is_replaced_after_the_delay_while_others_run(
    keys: list[PrivateKey],
) -> None:
    clock = Clock()
    signer = Signer(2, clock=clock)
    try:
        await signer.start()
        first, _ = helper_pids(signer)
        kill(signer, first)
        await exited(signer, first)
        assert verifies(keys[0], b"one left", await signer.sign(keys[0], b"one left"))
        assert signer.helpers == 1

        clock.now += RESTART_AFTER
        assert verifies(keys[0], b"two again", await signer.sign(keys[0], b"two again"))
        assert signer.helpers == 2
    finally:
        await signer.aclose()


async def test_a_dead_helper_is_closed_when_it_is_dropped(keys: list[PrivateKey]) -> None:
    signer = Signer(1, clock=Clock())
    await signer.start()
    transport = signer._helpers[0]._transport
    assert transport is not None
    try:
        os.kill(transport.get_pid(), signal.SIGKILL)
        await exited(signer, transport.get_pid())
        assert verifies(keys[0], b"inline", await signer.sign(keys[0], b"inline"))
        assert signer._helpers == []  # dropped, and aclose() will not see it either
        assert transport.is_closing()
    finally:
        transport.close()
        await signer.aclose()


async def test_a_helper_refusing_a_request_means_it_is_signed_inline(
    keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGN for a slot the helper never received is answered FAILED, not signed."""

    def forget_to_send(helper: signer_module._Helper, slot: int, der: bytes) -> None:
        helper.loaded.add(slot)

    monkeypatch.setattr(signer_module._Helper, "send_key", forget_to_send)
    signer = Signer(1)
    try:
        signature = await signer.sign(keys[0], b"unknown slot")
        assert verifies(keys[0], b"unknown slot", signature)
        assert signer.signed_in_helpers == 0
        assert signer.helpers == 1  # a refusal is not a death
    finally:
        await signer.aclose()


async def test_helpers_that_cannot_start_leave_signing_inline(
    keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    signer = Signer(2, clock=clock)
    monkeypatch.setattr(sys, "executable", "/nonexistent/bin/python3")
    try:
        with caplog.at_level(logging.WARNING, logger="fedipub.signer"):
            await signer.start()
            signatures = await asyncio.gather(*(signer.sign(key, b"no helper") for key in keys))
        assert all(verifies(k, b"no helper", s) for k, s in zip(keys, signatures, strict=True))
        assert signer.helpers == 0
        assert signer.signed_in_helpers == 0
        assert "cannot start a signing helper" in caplog.text

        # Once the interpreter is back and the delay has passed, helpers start after all.
        monkeypatch.undo()
        clock.now += RESTART_AFTER
        assert verifies(keys[0], b"helper", await signer.sign(keys[0], b"helper"))
        assert signer.helpers == 2
        assert signer.signed_in_helpers == 1
    finally:
        await signer.aclose()


async def test_a_helper_that_exits_before_it_is_ready_leaves_signing_inline(
    keys: list[PrivateKey], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A program that starts but never says it is ready (here `true`, which exits at once)
    is not counted as a helper."""
    signer = Signer(1, clock=Clock())
    monkeypatch.setattr(sys, "executable", shutil.which("true") or "/bin/true")
    try:
        with caplog.at_level(logging.WARNING, logger="fedipub.signer"):
            await signer.start()
            assert verifies(keys[0], b"inline", await signer.sign(keys[0], b"inline"))
        assert (signer.helpers, signer.signed_in_helpers) == (0, 0)
        assert "exited before it was ready" in caplog.text
    finally:
        await signer.aclose()


# --- closing --------------------------------------------------------------------------------


async def test_aclose_ends_every_helper_process(keys: list[PrivateKey]) -> None:
    signer = Signer(3)
    await signer.start()
    await signer.sign(keys[0], b"warm")
    pids = helper_pids(signer)
    assert len(pids) == 3
    assert all(process_exists(pid) for pid in pids)

    await signer.aclose()

    assert [process_exists(pid) for pid in pids] == [False] * 3
    assert signer.helpers == 0
    # A closed signer still signs, inline, and starts nothing again.
    assert verifies(keys[1], b"after", await signer.sign(keys[1], b"after"))
    assert signer._helpers == []
    await signer.aclose()


async def test_aclose_lets_helpers_finish_what_they_were_sent(keys: list[PrivateKey]) -> None:
    signer = Signer(1)
    await signer.start()
    [pid] = helper_pids(signer)
    work = [(keys[n % len(keys)], f"in flight {n}".encode()) for n in range(50)]
    tasks = [asyncio.create_task(signer.sign(key, message)) for key, message in work]
    await settle()

    await signer.aclose()
    signatures = await asyncio.gather(*tasks)

    assert all(verifies(k, m, s) for (k, m), s in zip(work, signatures, strict=True))
    assert not process_exists(pid)


async def test_aclose_before_anything_started_is_harmless(keys: list[PrivateKey]) -> None:
    signer = Signer(2)
    await signer.aclose()
    await signer.aclose()
    assert signer.helpers == 0
    assert verifies(keys[0], b"closed", await signer.sign(keys[0], b"closed"))
    assert signer._helpers == []


# --- the helper program ---------------------------------------------------------------------


def frame(kind: int, ident: int, payload: bytes) -> bytes:
    return FRAME.pack(kind, ident, len(payload)) + payload


def sign_frame(request: int, slot: int, message: bytes) -> bytes:
    return frame(SIGN, request, struct.pack("!I", slot) + message)


def read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        ready, _, _ = select.select([fd], [], [], ANSWER_TIMEOUT)
        assert ready, "the helper did not answer"
        chunk = os.read(fd, size - len(data))
        assert chunk, "the helper closed its output mid-answer"
        data += chunk
    return data


def read_answer(fd: int) -> tuple[int, int, bytes]:
    status, request, length = FRAME.unpack(read_exactly(fd, FRAME.size))
    return status, request, read_exactly(fd, length)


@dataclass
class Served:
    """`serve` running in a thread: write requests to `requests`, read answers from `answers`."""

    requests: int
    answers: int
    thread: threading.Thread

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.requests, view) :]

    def end_input(self) -> None:
        os.close(self.requests)
        self.requests = -1


@pytest.fixture
def served() -> Iterator[Served]:
    request_read, request_write = os.pipe()
    answer_read, answer_write = os.pipe()
    thread = threading.Thread(target=serve, args=(request_read, answer_write), daemon=True)
    thread.start()
    running = Served(request_write, answer_read, thread)
    yield running
    if running.requests != -1:
        running.end_input()
    thread.join(ANSWER_TIMEOUT)
    for fd in (request_read, answer_read, answer_write):
        os.close(fd)


def test_serve_answers_sign_frames_with_the_key_it_was_sent(
    served: Served, keys: list[PrivateKey]
) -> None:
    served.send(b"".join(frame(KEY, 10 + slot, der(key)) for slot, key in enumerate(keys)))
    # Requests for all keys, in one write; answers carry the request id they answer.
    served.send(b"".join(sign_frame(100 + n, 10 + n, b"message %d" % n) for n in range(4)))

    for n, key in enumerate(keys):
        status, request, signature = read_answer(served.answers)
        assert (status, request) == (SIGNED, 100 + n)
        assert verifies(key, b"message %d" % n, signature)
        assert signature == sign_message(b"message %d" % n, key)


def test_serve_answers_failed_for_an_unknown_slot_and_keeps_serving(
    served: Served, keys: list[PrivateKey]
) -> None:
    served.send(frame(KEY, 1, der(keys[0])))
    served.send(sign_frame(7, 2, b"who?"))
    status, request, error = read_answer(served.answers)
    assert (status, request) == (FAILED, 7)
    assert error.startswith(b"KeyError")

    served.send(frame(SIGN, 8, b"\x00\x01"))  # too short to name a slot
    status, request, error = read_answer(served.answers)
    assert (status, request) == (FAILED, 8)
    assert error.startswith(b"error")  # struct.error

    served.send(sign_frame(9, 1, b"still here"))
    status, request, signature = read_answer(served.answers)
    assert (status, request) == (SIGNED, 9)
    assert verifies(keys[0], b"still here", signature)


def test_serve_handles_frames_split_across_reads(served: Served, keys: list[PrivateKey]) -> None:
    """Every write below is one pipe write under PIPE_BUF, so it arrives in one read; a write
    is only made after the answer to a request in the previous one, so the read that held the
    previous write is over: frames 2 (in its header) and 4 (in its payload) span two reads."""
    key = keys[0]
    second, third, fourth = (sign_frame(n, 0, b"message %d" % n) for n in (2, 3, 4))
    first_write = frame(KEY, 0, der(key)) + sign_frame(1, 0, b"message 1") + second[:3]
    assert len(first_write) <= select.PIPE_BUF

    served.send(first_write)
    # Answered while frame 2 is incomplete: answers do not wait for the rest of the input.
    assert read_answer(served.answers)[:2] == (SIGNED, 1)
    served.send(second[3:] + third + fourth[: FRAME.size + 6])
    assert read_answer(served.answers)[:2] == (SIGNED, 2)
    assert read_answer(served.answers)[:2] == (SIGNED, 3)
    served.send(fourth[FRAME.size + 6 :])
    status, request, signature = read_answer(served.answers)
    assert (status, request) == (SIGNED, 4)
    assert verifies(key, b"message 4", signature)


def test_serve_returns_at_the_end_of_its_input(served: Served, keys: list[PrivateKey]) -> None:
    served.send(frame(KEY, 0, der(keys[1])) + sign_frame(1, 0, b"last"))
    served.send(sign_frame(2, 0, b"never finished")[:12])  # cut short by the end of input
    served.end_input()

    served.thread.join(ANSWER_TIMEOUT)
    assert not served.thread.is_alive()
    status, request, signature = read_answer(served.answers)
    assert (status, request) == (SIGNED, 1)
    assert verifies(keys[1], b"last", signature)
    ready, _, _ = select.select([served.answers], [], [], 0)
    assert not ready  # nothing more was written for the cut-off frame


def test_the_helper_module_signs_its_stdin_and_exits_at_its_end(keys: list[PrivateKey]) -> None:
    requests = b"".join(frame(KEY, slot, der(key)) for slot, key in enumerate(keys))
    requests += b"".join(sign_frame(n, n, b"stdin %d" % n) for n in range(len(keys)))

    done = subprocess.run(
        [sys.executable, "-m", "fedipub.signer"],
        input=requests,
        capture_output=True,
        timeout=ANSWER_TIMEOUT,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    # First of all it says it is ready (its imports are done), then it answers.
    assert done.stdout[: FRAME.size] == FRAME.pack(READY, 0, 0)
    out = done.stdout[FRAME.size :]
    for n, key in enumerate(keys):
        status, request, length = FRAME.unpack_from(out)
        signature, out = out[FRAME.size : FRAME.size + length], out[FRAME.size + length :]
        assert (status, request) == (SIGNED, n)
        assert verifies(key, b"stdin %d" % n, signature)
    assert out == b""


# --- prepare_signature: what the signer is handed -------------------------------------------

CASES = [
    pytest.param(format, key_index, body, id=f"{format.value}-{kind}-{method}")
    for format in SignatureFormat
    for key_index, kind in [(0, "rsa"), (1, "ed25519")]
    for body, method in [(BODY, "post"), (None, "get")]
]


def prepared_and_signed(
    format: SignatureFormat, key: PrivateKey, body: bytes | None
) -> tuple[PendingSignature, dict[str, str]]:
    """The same outbound request, prepared for signing elsewhere and signed here."""
    method = "POST" if body is not None else "GET"
    headers = {"content-type": "application/activity+json", "accept": "application/ld+json"}
    pending = prepare_signature(
        format=format,
        method=method,
        url=INBOX,
        headers=headers,
        body=body,
        private_key=key,
        key_id=KEY_ID,
        now=NOW,
    )
    signed = sign_request(
        format=format,
        method=method,
        url=INBOX,
        headers=headers,
        body=body,
        private_key=key,
        key_id=KEY_ID,
        now=NOW,
    )
    return pending, signed


@pytest.mark.parametrize(("format", "key_index", "body"), CASES)
def test_a_prepared_signature_gives_exactly_the_headers_sign_request_gives(
    format: SignatureFormat, key_index: int, body: bytes | None, keys: list[PrivateKey]
) -> None:
    key = keys[key_index]
    pending, expected = prepared_and_signed(format, key, body)

    assert pending.headers(sign_message(pending.message, key)) == expected
    if format is SignatureFormat.CAVAGE:
        added = {"Host", "Date", "Digest"} if body is not None else {"Host", "Date"}
        assert set(expected) == {*added, "Signature"}
    else:
        added = {"Content-Digest"} if body is not None else set()
        assert set(expected) == {*added, "Signature-Input", "Signature"}
    assert set(pending.added) == added


async def test_prepared_signatures_signed_in_a_helper_give_the_same_headers(
    keys: list[PrivateKey],
) -> None:
    signer = Signer(1)
    try:
        for case in CASES:
            format, key_index, body = case.values
            assert isinstance(format, SignatureFormat)
            assert isinstance(key_index, int)
            assert body is None or isinstance(body, bytes)
            key = keys[key_index]
            pending, expected = prepared_and_signed(format, key, body)
            assert pending.headers(await signer.sign(key, pending.message)) == expected
    finally:
        await signer.aclose()
    assert signer.signed_in_helpers == len(CASES)
