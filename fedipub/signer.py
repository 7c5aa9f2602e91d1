"""Where outbound requests are signed: in helper processes beside the event loop, or inline.

Every delivery costs one RSA-2048 signature (~250 µs of CPU). cryptography releases the GIL
while it signs, but a signing thread must take the GIL back to return its result, and a busy
event loop hands it over only every switch interval (5 ms): measured here, a thread signing
beside a delivering event loop made 340 signatures/s instead of 3,900. A helper process shares
no GIL, so fedipub starts `processes` of them (`python -m fedipub.signer`, started on the first
signature) and talks to each over its stdin and stdout:

    request:  kind (1 byte), id (4), length (4), payload
              KEY:  id = key slot, payload = the private key (PKCS#8 DER)
              SIGN: id = request id, payload = key slot (4) + the message
    answer:   status (1 byte: 0 signed, 1 failed), id (4), length (4), signature or error
              (and first of all, once its imports are done: status 2 ready, id 0, length 0)

The key never leaves the machine: it goes down a pipe to our own child. A helper that dies
fails none of its requests: they are signed inline, and helpers are started again after
`RESTART_AFTER` seconds. With `processes=0` (one core) everything is signed inline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import struct
import sys
import time
from collections.abc import Callable
from typing import cast

from cryptography.hazmat.primitives import serialization

from fedipub.signatures import PrivateKey, sign_message

log = logging.getLogger("fedipub.signer")

_FRAME = struct.Struct("!BII")
_SLOT = struct.Struct("!I")
_KEY, _SIGN = 1, 2
_SIGNED, _FAILED, _READY = 0, 1, 2
RESTART_AFTER = 30.0
START_TIMEOUT = 30.0


class _HelperGone(Exception):
    """The helper process ended (or failed a request) before answering."""


class _Helper(asyncio.SubprocessProtocol):
    """The parent's end of one helper process."""

    def __init__(self) -> None:
        self._transport: asyncio.SubprocessTransport | None = None
        self._stdin: asyncio.WriteTransport | None = None
        self._buffer = bytearray()
        self._outgoing: list[bytes] = []
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0
        self.loaded: set[int] = set()  # key slots this helper holds
        self.alive = True
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._exited = asyncio.Event()

    @property
    def load(self) -> int:
        return len(self._pending)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.SubprocessTransport, transport)
        self._stdin = cast(asyncio.WriteTransport, self._transport.get_pipe_transport(0))

    def send_key(self, slot: int, der: bytes) -> None:
        self._write(_FRAME.pack(_KEY, slot, len(der)) + der)
        self.loaded.add(slot)

    def sign(self, slot: int, message: bytes) -> asyncio.Future[bytes]:
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        payload = _SLOT.pack(slot) + message
        self._write(_FRAME.pack(_SIGN, self._next_id, len(payload)) + payload)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        return future

    def _write(self, data: bytes) -> None:
        if self._stdin is None or self._stdin.is_closing():
            raise _HelperGone("the helper's input is closed")
        # Requests made in one turn of the event loop (a claim starts dozens of deliveries)
        # go out in one write.
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(data)

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if self._stdin is not None and not self._stdin.is_closing():
            self._stdin.write(data)

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= _FRAME.size:
            status, request, length = _FRAME.unpack_from(self._buffer)
            end = _FRAME.size + length
            if len(self._buffer) < end:
                return
            payload = bytes(self._buffer[_FRAME.size : end])
            del self._buffer[:end]
            if status == _READY:
                if not self.ready.done():
                    self.ready.set_result(None)
                continue
            future = self._pending.pop(request, None)
            if future is None or future.done():
                continue
            if status == _SIGNED:
                future.set_result(payload)
            else:
                future.set_exception(_HelperGone(payload.decode("utf-8", "replace")))

    def process_exited(self) -> None:
        self.alive = False
        self._exited.set()

    def connection_lost(self, exc: Exception | None) -> None:
        # After the exit and after its output is read to the end: what is unanswered now
        # never will be.
        self.alive = False
        if not self.ready.done():
            self.ready.set_exception(_HelperGone("the helper process exited before it was ready"))
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(_HelperGone("the helper process exited"))
        if self._transport is not None:
            self._transport.close()

    def close(self) -> None:
        """Close its input: the helper finishes what it was sent and exits."""
        self.alive = False
        if self._stdin is not None:
            self._stdin.close()

    async def wait(self, timeout: float) -> None:
        if self._transport is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._exited.wait()
        except TimeoutError:
            self._transport.kill()
        self._transport.close()


class Signer:
    """Signs messages with private keys; see the module docstring."""

    def __init__(self, processes: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._processes = processes
        self._clock = clock
        self._helpers: list[_Helper] = []
        self._starting: asyncio.Task[None] | None = None
        self._last_start = float("-inf")
        self._slots: dict[int, tuple[PrivateKey, int, bytes]] = {}  # id(key) → key, slot, DER
        self._closed = False
        self.signed_in_helpers = 0

    @property
    def helpers(self) -> int:
        """How many helper processes are running now."""
        return sum(1 for helper in self._helpers if helper.alive)

    async def start(self) -> None:
        """Start the helpers now rather than at the first signature (~150 ms)."""
        await self._helper()

    async def sign(self, key: PrivateKey, message: bytes) -> bytes:
        """`sign_message(message, key)`, in a helper process when one runs."""
        helper = await self._helper()
        if helper is not None:
            slot = self._slot(key)
            try:
                if slot[1] not in helper.loaded:
                    helper.send_key(slot[1], slot[2])
                signature = await helper.sign(slot[1], message)
                self.signed_in_helpers += 1
                return signature
            except _HelperGone as exc:
                log.warning("signing helper failed (%s); signing inline", exc)
        return sign_message(message, key)

    async def aclose(self) -> None:
        self._closed = True
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)
        helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.close()
        await asyncio.gather(*(helper.wait(5.0) for helper in helpers))

    async def _helper(self) -> _Helper | None:
        if self._processes <= 0 or self._closed:
            return None
        self._helpers = [helper for helper in self._helpers if helper.alive]
        if (
            len(self._helpers) < self._processes
            and self._starting is None
            and self._clock() - self._last_start >= RESTART_AFTER
        ):
            self._last_start = self._clock()
            self._starting = asyncio.create_task(self._start(self._processes - len(self._helpers)))
        if self._starting is not None:  # every caller waits for the start under way
            await asyncio.shield(self._starting)
        if not self._helpers:
            return None
        return min(self._helpers, key=lambda helper: helper.load)

    async def _start(self, count: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            for _ in range(count):
                async with asyncio.timeout(START_TIMEOUT):
                    _, helper = await loop.subprocess_exec(
                        _Helper,
                        sys.executable,
                        "-m",
                        "fedipub.signer",
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=None,
                    )
                    # Spawned is not ready: its imports take ~100 ms, which the first
                    # signatures would otherwise wait for inside their deadline.
                    try:
                        await helper.ready
                    except BaseException:
                        helper.close()
                        raise
                self._helpers.append(helper)
        except (OSError, TimeoutError, _HelperGone) as exc:
            log.warning("cannot start a signing helper (%s); signing inline", exc)
        finally:
            self._starting = None

    def _slot(self, key: PrivateKey) -> tuple[PrivateKey, int, bytes]:
        # Keyed by identity, the key itself kept so that its id is never reused.
        found = self._slots.get(id(key))
        if found is None:
            der = key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            found = self._slots[id(key)] = (key, len(self._slots), der)
        return found


# --- the helper process ---------------------------------------------------------------------


def _answer(keys: dict[int, PrivateKey], kind: int, request: int, payload: bytes) -> bytes:
    if kind == _KEY:
        # Checked when the server loaded it from disk; checking an RSA key again costs ~35 ms.
        loaded = serialization.load_der_private_key(
            payload, password=None, unsafe_skip_rsa_key_validation=True
        )
        keys[request] = cast(PrivateKey, loaded)
        return b""
    try:
        (slot,) = _SLOT.unpack_from(payload)
        signature = sign_message(payload[_SLOT.size :], keys[slot])
    except (KeyError, ValueError, struct.error) as exc:  # told to the parent, which signs inline
        error = f"{type(exc).__name__}: {exc}".encode()
        return _FRAME.pack(_FAILED, request, len(error)) + error
    return _FRAME.pack(_SIGNED, request, len(signature)) + signature


def serve(read_fd: int = 0, write_fd: int = 1) -> None:
    """Answer requests from `read_fd` until it ends, each as soon as it is signed (not with
    the rest of its read: sixteen signatures are four milliseconds)."""
    keys: dict[int, PrivateKey] = {}
    buffer = bytearray()
    while chunk := os.read(read_fd, 1 << 16):
        buffer += chunk
        while len(buffer) >= _FRAME.size:
            kind, request, length = _FRAME.unpack_from(buffer)
            end = _FRAME.size + length
            if len(buffer) < end:
                break
            out = memoryview(_answer(keys, kind, request, bytes(buffer[_FRAME.size : end])))
            del buffer[:end]
            while out:
                out = out[os.write(write_fd, out) :]


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group; the server decides when its helpers end (by
    # closing their input), so they ignore it rather than print a traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.write(1, _FRAME.pack(_READY, 0, 0))
    serve()
