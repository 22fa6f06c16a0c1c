"""One call (a stream) on a connection: the client side of docs/protocol.md sections 6–10.

A call is opened with CALL_START, sends messages (split to fit the peer's frame size and the
stream and connection send windows), half-closes with END_STREAM and ends when the server's STATUS
arrives, when the caller cancels (CANCEL code 1), when its deadline fires (CANCEL code 4) or when
the connection is lost. Received messages are reassembled, decompressed when COMPRESSED (zlib,
bounded by ``maxMessageSize``) and queued; stream credit is returned as the application reads them.
"""

from __future__ import annotations

import asyncio
import collections
import zlib
from typing import TYPE_CHECKING

from . import _frames
from ._status import Metadata, RPCError, StatusCode

if TYPE_CHECKING:
    from ._connection import Connection

#: Complete messages a call holds unread before it is cancelled with RESOURCE_EXHAUSTED.
MAX_UNREAD_MESSAGES = 4096


class Call:
    """The client's state for one stream. Created by :meth:`Connection.open_call`."""

    def __init__(self, connection: Connection, stream_id: int, method: str) -> None:
        self.connection = connection
        self.stream_id = stream_id
        self.method = method
        self.send_window = connection.peer.initial_stream_window
        self.receive_window = connection.local.initial_stream_window
        self._credit_to_return = 0
        self.send_closed = False
        self.closed = False
        #: Set when the call ended: None for OK, else the error the caller sees.
        self.error: RPCError | None = None
        #: The STATUS's trailing metadata, once it arrived.
        self.trailers: Metadata | None = None
        self._inbound: collections.deque[tuple[bytes, int]] = collections.deque()
        self._fragments: list[bytes] = []
        self._fragment_bytes = 0
        self._fragment_credit = 0
        self._fragment_compressed = False
        self._changed = asyncio.Event()
        self._deadline: asyncio.TimerHandle | None = None
        self._timeout: float | None = None
        self._local_failure = False

    # MARK: Sending

    async def send(self, data: bytes, compress: bool = False) -> bool:
        """Sends one message; False when the call has already ended (read its outcome instead).

        Raises ``RPCError(RESOURCE_EXHAUSTED)`` for a message over the server's ``maxMessageSize``
        (nothing is sent) and ``RPCError(FAILED_PRECONDITION)`` after :meth:`finish_sending`.
        """
        if self.closed:
            return False
        if self.send_closed:
            raise RPCError(StatusCode.FAILED_PRECONDITION, f"{self.method}: the call has finished sending")
        flags = 0
        if compress:
            data, flags = zlib.compress(data, 1), _frames.FLAG_COMPRESSED
        limit = self.connection.peer.max_message_size
        if len(data) > limit:
            raise RPCError(StatusCode.RESOURCE_EXHAUSTED,
                           f"the request takes {len(data)} bytes, over the {limit}-byte maxMessageSize the server announced")
        return await self.connection.send_message(self, data, flags)

    def finish_sending(self) -> None:
        """Sends END_STREAM: the client has sent its last message."""
        if not self.closed and not self.send_closed:
            self.send_closed = True
            self.connection.write(_frames.end_stream(self.stream_id))

    # MARK: Receiving

    async def receive(self) -> bytes | None:
        """The next message; None once the call ended OK; raises the call's ``RPCError`` otherwise.

        Messages that arrived before the server's STATUS are delivered first; a local failure
        (cancellation, the deadline, a lost connection) is raised at once.
        """
        while True:
            if self._local_failure and self.error is not None:
                raise self.error
            if self._inbound:
                data, credit = self._inbound.popleft()
                self._return_credit(credit)
                return data
            if self.closed:
                if self.error is not None:
                    raise self.error
                return None
            self._changed.clear()
            await self._changed.wait()

    def _return_credit(self, credit: int) -> None:
        """Returns stream credit in batches (half the initial window, or when the window is at 0)."""
        if self.closed or credit == 0:
            return
        self._credit_to_return += credit
        if self._credit_to_return >= self.connection.local.initial_stream_window // 2 or self.receive_window == 0:
            self.connection.write(_frames.window_update(self.stream_id, self._credit_to_return))
            self.receive_window += self._credit_to_return
            self._credit_to_return = 0

    def on_message(self, frame: _frames.Frame) -> None:
        """A MESSAGE frame for this call (already counted against the connection window)."""
        length = len(frame.payload)
        if length > self.receive_window:
            raise _frames.ProtocolViolation(
                _frames.FLOW_CONTROL_ERROR, f"a MESSAGE of {length} bytes exceeds stream {self.stream_id}'s window of {self.receive_window}")
        self.receive_window -= length
        compressed = bool(frame.flags & _frames.FLAG_COMPRESSED)
        if self._fragments and compressed != self._fragment_compressed:
            raise _frames.ProtocolViolation(_frames.PROTOCOL_ERROR, "fragments of one message disagree on COMPRESSED")
        if not self._fragments:
            self._fragment_compressed = compressed
        self._fragments.append(frame.payload)
        self._fragment_bytes += length
        limit = self.connection.local.max_message_size
        if self._fragment_bytes > limit:
            self.fail_locally(StatusCode.RESOURCE_EXHAUSTED,
                              f"a response of more than {limit} bytes is over this client's maxMessageSize", cancel_code=8)
            return
        more = bool(frame.flags & _frames.FLAG_MORE)
        if more and not self._inbound:
            self._return_credit(length)  # the reader waits for this message: a half cannot be read
        else:
            self._fragment_credit += length
        if more:
            return
        data = b"".join(self._fragments)
        credit = self._fragment_credit
        self._fragments, self._fragment_bytes, self._fragment_credit = [], 0, 0
        if self._fragment_compressed:
            try:
                inflater = zlib.decompressobj()
                data = inflater.decompress(data, limit + 1)
                if len(data) > limit:
                    self.fail_locally(StatusCode.RESOURCE_EXHAUSTED,
                                      f"a response decompresses to more than this client's maxMessageSize of {limit} bytes", cancel_code=8)
                    return
                if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
                    raise zlib.error("the zlib stream is incomplete or has bytes after its end")
            except zlib.error as error:
                self.fail_locally(StatusCode.INVALID_ARGUMENT, f"a compressed response is corrupt: {error}", cancel_code=3)
                return
        self._inbound.append((data, credit))
        if len(self._inbound) > MAX_UNREAD_MESSAGES:
            self.fail_locally(StatusCode.RESOURCE_EXHAUSTED,
                              f"more than {MAX_UNREAD_MESSAGES} messages arrived without being read", cancel_code=8)
            return
        self._changed.set()

    def on_status(self, code: int, message: str, details: bytes, trailers: list[tuple[str, str]]) -> None:
        self.trailers = Metadata(trailers)
        if code != StatusCode.OK:
            self.error = RPCError(code, message, details, self.trailers)
        self._close()

    # MARK: Ending

    def start_deadline(self, timeout: float | None) -> None:
        if timeout is not None:
            self._timeout = timeout
            self._deadline = asyncio.get_running_loop().call_later(timeout, self._deadline_passed)

    def _deadline_passed(self) -> None:
        self.fail_locally(StatusCode.DEADLINE_EXCEEDED,
                          f"the call's deadline of {self._timeout:g} s passed", cancel_code=4, reason="the deadline passed")

    def cancel(self, reason: str = "the client cancelled the call") -> None:
        """Sends CANCEL (code 1) and fails the call with CANCELLED; nothing once the call ended."""
        self.fail_locally(StatusCode.CANCELLED, reason, cancel_code=1)

    def fail_locally(self, code: StatusCode, message: str, cancel_code: int | None = None, reason: str | None = None) -> None:
        """Ends the call on this side; with ``cancel_code``, tells the server with CANCEL."""
        if self.closed:
            return
        if cancel_code is not None:
            self.connection.write(_frames.cancel(self.stream_id, cancel_code, reason or message))
        self.error = RPCError(code, f"{self.method}: {message}")
        self._local_failure = True
        self._inbound.clear()
        self._close()

    def _close(self) -> None:
        self.closed = True
        if self._deadline is not None:
            self._deadline.cancel()
        self._changed.set()
        self.connection.call_ended(self)
