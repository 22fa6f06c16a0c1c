"""One connection to a Mail Sync server: the client side of docs/protocol.md sections 2–14.

:meth:`Connection.open` connects (TCP, or TLS with an ``ssl.SSLContext``), sends the preface and
SETTINGS at once, and waits for the server's preface and SETTINGS before any call is opened.
A reader task then handles every frame: MESSAGE and STATUS go to their call; WINDOW_UPDATE
credits the send windows; PING is answered at once; GOAWAY stops new calls (an error code ends the
connection). Anything the server sends against the rules ends the connection with a GOAWAY naming
the rule, and every call on it fails with UNAVAILABLE.

Limits: calls beyond the server's ``maxConcurrentCalls`` wait for a free slot; stream ids are odd
and increasing (a connection that runs out stops taking calls); a silent connection is pinged after
``keepalive_interval`` (120 s) and closed when the answer takes over ``keepalive_timeout`` (20 s).
"""

from __future__ import annotations

import asyncio
import os
import ssl as _ssl
import struct

from . import _frames
from ._call import Call
from ._status import RPCError, StatusCode

_MAX_STREAM_ID = (1 << 31) - 1


class Connection:
    """A connected, handshaken connection. Use :class:`mailsync.Channel` rather than this directly."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, local: _frames.Settings,
                 peer: _frames.Settings, address: str) -> None:
        self.reader, self.writer = reader, writer
        self.local, self.peer = local, peer
        self.address = address
        self.calls: dict[int, Call] = {}
        self._next_stream_id = 1
        self._send_window = peer.initial_connection_window
        self._receive_window = local.initial_connection_window
        self._connection_credit = 0
        self._changed = asyncio.Event()  # set (and replaced) when windows, slots or state change
        #: No new calls here: the server sent GOAWAY, the ids ran out, or the connection ended.
        self.draining = False
        self.closed = False
        self._goaway_last_id: int | None = None
        self._received_since_check = False
        self._ping_outstanding: bytes | None = None
        self._reader_task: asyncio.Task | None = None
        self._keepalive_task: asyncio.Task | None = None
        self.keepalive_interval = 120.0
        self.keepalive_timeout = 20.0

    # MARK: Opening

    @classmethod
    async def open(cls, host: str, port: int, *, ssl: _ssl.SSLContext | None = None, server_hostname: str | None = None,
                   connect_timeout: float = 5.0, local: _frames.Settings = _frames.Settings()) -> Connection:
        """Connects and finishes the handshake: ``connect_timeout`` for the TCP connect, then again
        for TLS and the server's preface and SETTINGS. Raises ``RPCError(UNAVAILABLE)`` on failure."""
        address = f"{host}:{port}"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=ssl, server_hostname=(server_hostname or host) if ssl else None,
                                        ssl_handshake_timeout=connect_timeout if ssl else None),
                timeout=2 * connect_timeout if ssl else connect_timeout)
        except (OSError, asyncio.TimeoutError, _ssl.SSLError) as error:
            raise RPCError(StatusCode.UNAVAILABLE, f"could not connect to {address}: {error or type(error).__name__}") from None
        try:
            writer.write(_frames.PREFACE + local.encode())
            peer = await asyncio.wait_for(cls._handshake(reader, address), timeout=connect_timeout)
        except BaseException as error:
            writer.close()
            if isinstance(error, RPCError):
                raise
            if isinstance(error, (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, _frames.ProtocolViolation)):
                what = "timed out" if isinstance(error, asyncio.TimeoutError) else str(error) or type(error).__name__
                raise RPCError(StatusCode.UNAVAILABLE, f"the handshake with {address} failed: {what}") from None
            raise
        connection = cls(reader, writer, local, peer, address)
        connection._reader_task = asyncio.ensure_future(connection._read_loop())
        connection._keepalive_task = asyncio.ensure_future(connection._keepalive())
        return connection

    @staticmethod
    async def _handshake(reader: asyncio.StreamReader, address: str) -> _frames.Settings:
        preface = await reader.readexactly(12)
        if preface[:8] != _frames.MAGIC:
            raise RPCError(StatusCode.UNAVAILABLE, f"{address} does not speak the Mail Sync protocol (it sent {preface[:8].hex(' ')})")
        version, reserved = struct.unpack(">HH", preface[8:])
        if version != _frames.VERSION:
            raise RPCError(StatusCode.UNAVAILABLE, f"{address} speaks protocol version {version}; this client speaks {_frames.VERSION}")
        if reserved:
            raise _frames.ProtocolViolation(_frames.PROTOCOL_ERROR, "the server's preface has nonzero reserved bytes")
        length, frame_type, flags, stream_id = _frames.check_header(await reader.readexactly(12), _frames.Settings().max_frame_size)
        frame = _frames.parse_frame(frame_type, flags, stream_id, await reader.readexactly(length))
        if frame.type == _frames.GOAWAY:
            _, code, text = frame.fields
            raise RPCError(StatusCode.UNAVAILABLE, f"{address} refused the connection ({_frames.error_name(code)}): {text}")
        if frame.type != _frames.SETTINGS or not frame.fields:
            raise _frames.ProtocolViolation(_frames.PROTOCOL_ERROR, "the first frame after the preface must be SETTINGS")
        return frame.fields[0]

    # MARK: Calls

    async def open_call(self, method: str, timeout: float | None, metadata: list[tuple[str, str]]) -> Call | None:
        """A new call with CALL_START sent and its deadline running, once a slot is free; None when
        this connection takes no new calls (open another)."""
        while len(self.calls) >= self.peer.max_concurrent_calls and not self.draining:
            await self._wait_for_change()
        if self.draining:
            return None
        stream_id = self._next_stream_id
        if stream_id > _MAX_STREAM_ID:
            self.draining = True
            return None
        micros = 0 if timeout is None else max(1, int(timeout * 1_000_000))
        frame = _frames.call_start(stream_id, method, micros, metadata)
        if len(frame) - _frames.HEADER_SIZE > self.peer.max_frame_size:
            raise RPCError(StatusCode.RESOURCE_EXHAUSTED, f"{method}: the call's metadata does not fit in one frame")
        self._next_stream_id += 2
        call = Call(self, stream_id, method)
        self.calls[stream_id] = call
        self.write(frame)
        call.start_deadline(timeout)
        return call

    async def send_message(self, call: Call, data: bytes, flags: int) -> bool:
        """Sends ``data`` as MESSAGE fragments within the frame size and both send windows."""
        if not data:
            self.write(_frames.message(call.stream_id, b"", flags))
            return True
        offset = 0
        while offset < len(data):
            while not call.closed and (call.send_window <= 0 or self._send_window <= 0):
                await self._wait_for_change()
            if call.closed:
                return False
            size = min(len(data) - offset, self.peer.max_frame_size, call.send_window, self._send_window)
            more = _frames.FLAG_MORE if offset + size < len(data) else 0
            self.write(_frames.message(call.stream_id, data[offset:offset + size], flags | more))
            call.send_window -= size
            self._send_window -= size
            offset += size
            if not self.closed:
                try:
                    await self.writer.drain()
                except OSError:
                    pass  # the reader sees the connection end and fails the call
        return True

    def call_ended(self, call: Call) -> None:
        self.calls.pop(call.stream_id, None)
        self._signal()
        if self.draining and not self.calls:
            self.close()

    # MARK: Writing and closing

    def write(self, frame: bytes) -> None:
        if not self.closed:
            self.writer.write(frame)

    def close(self, reason: str = "client closing") -> None:
        """Sends GOAWAY noError and closes at once; calls still open fail with UNAVAILABLE."""
        if not self.closed:
            self.write(_frames.goaway(0, _frames.NO_ERROR, reason))
        self._fail(f"the connection to {self.address} was closed by the client")

    async def wait_closed(self, timeout: float = 2.0) -> None:
        """Waits (at most ``timeout`` seconds) until the socket is closed."""
        try:
            await asyncio.wait_for(self.writer.wait_closed(), timeout)
        except (OSError, asyncio.TimeoutError, _ssl.SSLError):
            pass

    def _fail(self, message: str) -> None:
        """Ends the connection: every call on it fails with UNAVAILABLE and ``message``."""
        self.draining = True
        for call in list(self.calls.values()):
            call.fail_locally(StatusCode.UNAVAILABLE, message)
        if not self.closed:
            self.closed = True
            self.writer.close()
        current = asyncio.current_task()
        for task in (self._reader_task, self._keepalive_task):
            if task is not None and task is not current:
                task.cancel()
        self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_for_change(self) -> None:
        await self._changed.wait()

    # MARK: Reading

    async def _read_loop(self) -> None:
        try:
            while True:
                raw = await self.reader.readexactly(_frames.HEADER_SIZE)
                self._received_since_check = True
                length, frame_type, flags, stream_id = _frames.check_header(raw, self.local.max_frame_size)
                payload = await self.reader.readexactly(length) if length else b""
                self._handle(_frames.parse_frame(frame_type, flags, stream_id, payload))
                if self.closed:
                    return
        except _frames.ProtocolViolation as violation:
            self.write(_frames.goaway(0, violation.code, str(violation)))
            self._fail(f"connection error ({_frames.error_name(violation.code)}): {violation}")
        except (asyncio.IncompleteReadError, OSError) as error:
            self._fail(f"the connection to {self.address} was lost: {error or type(error).__name__}")
        except asyncio.CancelledError:
            pass
        except Exception as error:  # a bug here must not leave calls waiting forever
            self.write(_frames.goaway(0, _frames.INTERNAL_ERROR, "the client failed"))
            self._fail(f"the client failed while reading from {self.address}: {error!r}")

    def _handle(self, frame: _frames.Frame) -> None:
        kind = frame.type
        if kind == _frames.MESSAGE:
            self._on_message(frame)
        elif kind == _frames.STATUS:
            call = self.calls.get(frame.stream_id)
            if call is not None:
                call.on_status(*frame.fields)
        elif kind == _frames.WINDOW_UPDATE:
            self._on_window_update(frame.stream_id, frame.fields[0])
        elif kind == _frames.PING:
            if not frame.flags & _frames.FLAG_ACK:
                self.write(_frames.ping(frame.payload, ack=True))
            elif frame.payload == self._ping_outstanding:
                self._ping_outstanding = None
        elif kind == _frames.GOAWAY:
            self._on_goaway(*frame.fields)
        elif kind == _frames.SETTINGS and frame.fields:
            raise _frames.ProtocolViolation(_frames.PROTOCOL_ERROR, "a second SETTINGS frame")

    def _on_message(self, frame: _frames.Frame) -> None:
        length = len(frame.payload)
        if length > self._receive_window:
            raise _frames.ProtocolViolation(
                _frames.FLOW_CONTROL_ERROR, f"a MESSAGE of {length} bytes exceeds the connection window of {self._receive_window}")
        # The connection window is credited at once, whatever the stream's state: each stream's
        # own window bounds what sits unread.
        self._receive_window -= length
        self._connection_credit += length
        if self._connection_credit and (self._connection_credit >= self.local.initial_connection_window // 2 or self._receive_window == 0):
            self.write(_frames.window_update(0, self._connection_credit))
            self._receive_window += self._connection_credit
            self._connection_credit = 0
        call = self.calls.get(frame.stream_id)
        if call is not None:
            call.on_message(frame)

    def _on_window_update(self, stream_id: int, increment: int) -> None:
        if stream_id == 0:
            self._send_window += increment
            if self._send_window > _frames.MAX_WINDOW:
                raise _frames.ProtocolViolation(_frames.FLOW_CONTROL_ERROR, "the connection send window passed 2^31-1")
        else:
            call = self.calls.get(stream_id)
            if call is None:
                return
            call.send_window += increment
            if call.send_window > _frames.MAX_WINDOW:
                raise _frames.ProtocolViolation(_frames.FLOW_CONTROL_ERROR, f"stream {stream_id}'s send window passed 2^31-1")
        self._signal()

    def _on_goaway(self, last_stream_id: int, code: int, text: str) -> None:
        self.draining = True
        self._goaway_last_id = last_stream_id
        if code != _frames.NO_ERROR:
            self._fail(f"the server closed the connection ({_frames.error_name(code)}): {text}")
            return
        for call in [c for c in self.calls.values() if c.stream_id > last_stream_id]:
            call.fail_locally(StatusCode.UNAVAILABLE,
                              f"the server did not process this call ({text}); it is safe to retry")
        if not self.calls:
            self._fail(f"the server closed the connection: {text}")
        self._signal()

    async def _keepalive(self) -> None:
        """Pings a connection silent for a whole interval; no answer in time closes it."""
        try:
            while not self.closed:
                await asyncio.sleep(self.keepalive_interval)
                if self._received_since_check:
                    self._received_since_check = False
                    continue
                self._ping_outstanding = os.urandom(8)
                self.write(_frames.ping(self._ping_outstanding, ack=False))
                await asyncio.sleep(self.keepalive_timeout)
                if self._ping_outstanding is not None:
                    self.write(_frames.goaway(0, _frames.KEEPALIVE_TIMEOUT, "no answer to a keepalive ping"))
                    self._fail(f"{self.address} did not answer a keepalive ping within {self.keepalive_timeout:g} s")
        except asyncio.CancelledError:
            pass
