"""The client's entry point: a :class:`Channel` to one server, and the three call shapes that
generated clients use (unary, server streaming, client streaming).

A channel connects on first use (or in ``async with``), reconnects on the next call after the
connection is lost or the server sent GOAWAY, and closes in :meth:`Channel.close`. Cancelling the
asyncio task that awaits a call, or leaving ``async with stream`` early, sends CANCEL to the server.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from typing import AsyncIterable, Generic, Iterable, TypeVar

from . import _frames
from ._call import Call
from ._codec import DecodeError, Message
from ._connection import Connection
from ._status import Metadata, RPCError, StatusCode

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response", bound=Message)

MetadataLike = Metadata | dict[str, str] | Iterable[tuple[str, str]] | None


class Channel:
    """Calls to the Mail Sync server at ``host:port``.

    - ``api_key``: sent as ``authorization`` metadata with every call (default: none, so only
      methods open to anyone succeed).
    - ``metadata``: more pairs sent with every call, before the call's own.
    - ``ssl``: an ``ssl.SSLContext`` to speak TLS (see :meth:`tls`); default plain TCP.
      ``server_hostname``: the name the certificate must carry (default ``host``).
    - ``timeout``: the default deadline of each call in seconds (default none); a call's own
      ``timeout`` replaces it.
    - ``connect_timeout``: seconds for the TCP connect, then again for TLS and the handshake
      (default 5).
    - ``compression_threshold``: requests of at least this many bytes are sent zlib-compressed
      (default never). Compressed responses are always accepted.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 7420, *, api_key: str | None = None,
                 metadata: MetadataLike = None, ssl: _ssl.SSLContext | None = None, server_hostname: str | None = None,
                 timeout: float | None = None, connect_timeout: float = 5.0, compression_threshold: int | None = None,
                 settings: _frames.Settings = _frames.Settings()) -> None:
        self.host, self.port = host, port
        self.metadata = _metadata(metadata)
        if api_key is not None:
            self.metadata.add(Metadata.AUTHORIZATION, api_key)
        self.ssl, self.server_hostname = ssl, server_hostname
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.compression_threshold = compression_threshold
        self.settings = settings
        self._connection: Connection | None = None
        self._connecting: asyncio.Lock | None = None
        self._closed = False

    @staticmethod
    def tls(ca_file: str | None = None) -> _ssl.SSLContext:
        """A TLS context that verifies the server against ``ca_file`` (a PEM file; default: the
        system's trusted roots), TLS 1.2 at least."""
        context = _ssl.create_default_context(cafile=ca_file)
        context.minimum_version = _ssl.TLSVersion.TLSv1_2
        return context

    async def __aenter__(self) -> Channel:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connects now rather than on the first call; raises ``RPCError(UNAVAILABLE)`` on failure."""
        await self._current()

    async def close(self) -> None:
        """Sends GOAWAY and closes; calls still in flight fail with UNAVAILABLE. Idempotent."""
        self._closed = True
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
            await connection.wait_closed()

    async def _current(self) -> Connection:
        if self._closed:
            raise RPCError(StatusCode.UNAVAILABLE, "the channel is closed")
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._connection is None or self._connection.draining:
                self._connection = await Connection.open(
                    self.host, self.port, ssl=self.ssl, server_hostname=self.server_hostname,
                    connect_timeout=self.connect_timeout, local=self.settings)
            return self._connection

    async def _open(self, method: str, timeout: float | None, metadata: MetadataLike) -> Call:
        pairs = self.metadata.pairs() + _metadata(metadata).pairs()
        deadline = self.timeout if timeout is None else timeout
        while True:
            connection = await self._current()
            call = await connection.open_call(method, deadline, pairs)
            if call is not None:
                return call

    async def _send(self, call: Call, request: Message) -> bool:
        data = request.encode()
        threshold = self.compression_threshold
        return await call.send(data, compress=threshold is not None and len(data) >= threshold)

    # MARK: Call shapes

    async def unary(self, method: str, request: Message, response_type: type[Response], *, timeout: float | None = None,
                    metadata: MetadataLike = None, trailers: Metadata | None = None) -> Response:
        """One request, one response. ``trailers``, when given, receives the STATUS's metadata."""
        call = await self._open(method, timeout, metadata)
        try:
            await self._send(call, request)
            call.finish_sending()
            data = await call.receive()
            if data is None:
                raise RPCError(StatusCode.INTERNAL, f"the server ended {method} without a response")
            if await call.receive() is not None:
                raise RPCError(StatusCode.INTERNAL, f"the server sent {method} more than one response")
            _copy_trailers(call, trailers)
            return _decode(response_type, data, method)
        except BaseException:
            call.cancel()  # nothing when the call already ended; CANCEL when the task was cancelled
            raise

    def server_streaming(self, method: str, request: Message, response_type: type[Response], *,
                         timeout: float | None = None, metadata: MetadataLike = None) -> ResponseStream[Response]:
        """One request, a stream of responses, read with ``async for``. Nothing is sent until the
        stream is first read (or entered with ``async with``)."""
        return ResponseStream(self, method, request, response_type, timeout, metadata)

    async def client_streaming(self, method: str, requests: Iterable[Request] | AsyncIterable[Request],
                               response_type: type[Response], *, timeout: float | None = None,
                               metadata: MetadataLike = None, trailers: Metadata | None = None) -> Response:
        """Sends every request of ``requests`` (a plain or async iterable), then reads the one
        response. If iterating ``requests`` raises, the call is cancelled and the error re-raised;
        if the server ends the call early, sending stops and its status is raised."""
        call = await self._open(method, timeout, metadata)
        try:
            if isinstance(requests, AsyncIterable):
                async for request in requests:
                    if not await self._send(call, request):
                        break
            else:
                for request in requests:
                    if not await self._send(call, request):
                        break
            call.finish_sending()
            data = await call.receive()
            if data is None:
                raise RPCError(StatusCode.INTERNAL, f"the server ended {method} without a response")
            if await call.receive() is not None:
                raise RPCError(StatusCode.INTERNAL, f"the server sent {method} more than one response")
            _copy_trailers(call, trailers)
            return _decode(response_type, data, method)
        except BaseException:
            call.cancel()
            raise


class ResponseStream(Generic[Response]):
    """The responses of a server-streaming call: ``async for item in stream``.

    The iteration ends when the server ends the call with OK and raises :class:`RPCError`
    otherwise. :meth:`cancel`, cancelling the task that iterates, or leaving ``async with stream``
    before the end sends CANCEL. ``trailers`` holds the STATUS's metadata once the call ended.
    """

    def __init__(self, channel: Channel, method: str, request: Message, response_type: type[Response],
                 timeout: float | None, metadata: MetadataLike) -> None:
        self._channel, self._method, self._request = channel, method, request
        self._response_type, self._timeout, self._metadata = response_type, timeout, metadata
        self._call: Call | None = None
        self._cancelled = False

    async def start(self) -> None:
        """Opens the call and sends the request, if not done yet."""
        if self._call is not None:
            return
        if self._cancelled:
            raise RPCError(StatusCode.CANCELLED, f"{self._method}: the call was cancelled before it started")
        call = await self._channel._open(self._method, self._timeout, self._metadata)
        self._call = call
        try:
            await self._channel._send(call, self._request)
            call.finish_sending()
        except BaseException:
            call.cancel()
            raise

    @property
    def trailers(self) -> Metadata | None:
        return self._call.trailers if self._call is not None else None

    def cancel(self) -> None:
        """Cancels the call (CANCEL code 1 to the server); nothing once it ended."""
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()

    def __aiter__(self) -> ResponseStream[Response]:
        return self

    async def __anext__(self) -> Response:
        try:
            await self.start()
            assert self._call is not None
            data = await self._call.receive()
        except BaseException:
            self.cancel()
            raise
        if data is None:
            raise StopAsyncIteration
        return _decode(self._response_type, data, self._method)

    async def __aenter__(self) -> ResponseStream[Response]:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.cancel()


def _metadata(value: MetadataLike) -> Metadata:
    if isinstance(value, Metadata):
        return Metadata(value.pairs())
    return Metadata(value)


def _copy_trailers(call: Call, into: Metadata | None) -> None:
    if into is not None and call.trailers is not None:
        for key, value in call.trailers:
            into.add(key, value)


def _decode(response_type: type[Response], data: bytes, method: str) -> Response:
    try:
        return response_type.decode(data)
    except DecodeError as error:
        raise RPCError(StatusCode.INTERNAL, f"the response to {method} could not be decoded: {error}") from None
