"""The client's entry point: a :class:`Channel` to one server, and the three call shapes that
generated clients use (unary, server streaming, client streaming).

A channel connects on first use (or in ``async with``), reconnects on the next call after the
connection is lost or the server sent GOAWAY, and closes in :meth:`Channel.close`. Cancelling the
asyncio task that awaits a call, or leaving ``async with stream`` early, sends CANCEL to the server.

In a fleet, a channel follows ``MOVED`` to the node that owns the company and remembers it
(docs/protocol.md, "Redirects (fleets)"; the rules are in ``_routing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl
from typing import AsyncIterable, Generic, Iterable, TypeVar

from . import _frames, _routing
from ._call import Call
from ._codec import DecodeError, Message
from ._connection import Connection
from ._status import Metadata, RPCError, StatusCode

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response", bound=Message)

MetadataLike = Metadata | dict[str, str] | Iterable[tuple[str, str]] | None


class Channel:
    """Calls to the Mail Sync server at ``host:port`` (in a fleet: any node, the *seed*).

    - ``api_key``: sent as ``authorization`` metadata with every call (default: none, so only
      methods open to anyone succeed).
    - ``metadata``: more pairs sent with every call, before the call's own.
    - ``ssl``: an ``ssl.SSLContext`` to speak TLS (see :meth:`tls`); default plain TCP.
      ``server_hostname``: the name the seed's certificate must carry (default ``host``; an owner's
      must carry the host its address names).
    - ``timeout``: the default deadline of each call in seconds (default none); a call's own
      ``timeout`` replaces it. It covers the whole call, redirects included.
    - ``connect_timeout``: seconds for the TCP connect, then again for TLS and the handshake
      (default 5).
    - ``compression_threshold``: requests of at least this many bytes are sent zlib-compressed
      (default never). Compressed responses are always accepted.
    - ``max_hops``: redirects (``MOVED``) followed per call at most (default 4); one more fails the
      call with ``UNAVAILABLE`` naming the nodes. ``max_connections``: owner connections kept
      besides the seed's (default 64; the least recently used idle one is closed to make room).

    Unary and server-streaming calls follow ``MOVED`` by themselves (a server-streaming call only
    before its first response, as the protocol guarantees). A client-streaming call raises it
    (``error.metadata.get(Metadata.OWNER)`` names the owner): its requests may have been consumed
    from an iterator, so the channel cannot send them again; the owner is remembered, so making
    the call again on the same channel goes there.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 7420, *, api_key: str | None = None,
                 metadata: MetadataLike = None, ssl: _ssl.SSLContext | None = None, server_hostname: str | None = None,
                 timeout: float | None = None, connect_timeout: float = 5.0, compression_threshold: int | None = None,
                 settings: _frames.Settings = _frames.Settings(), max_hops: int = _routing.MAX_HOPS,
                 max_connections: int = _routing.MAX_CONNECTIONS) -> None:
        self.host, self.port = host, port
        self.metadata = _metadata(metadata)
        if api_key is not None:
            self.metadata.add(Metadata.AUTHORIZATION, api_key)
        self.ssl, self.server_hostname = ssl, server_hostname
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.compression_threshold = compression_threshold
        self.settings = settings
        self.max_hops, self.max_connections = max_hops, max_connections
        self._seed = _Node(self, (host, port), server_hostname)
        self._owners: dict[_routing.Address, _Node] = {}  # least recently used first
        self._cache = _routing.OwnerCache()
        self._closing: set[asyncio.Task] = set()
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
        """Connects to the seed now rather than on the first call; raises ``RPCError(UNAVAILABLE)``
        on failure."""
        await self._seed.current()

    async def close(self) -> None:
        """Sends GOAWAY on every connection and closes; calls still in flight fail with
        UNAVAILABLE. Idempotent."""
        self._closed = True
        nodes = [self._seed, *self._owners.values()]
        self._owners.clear()
        for node in nodes:
            await node.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # MARK: Nodes

    def _node(self, address: _routing.Address) -> _Node:
        """The node at ``address`` (the seed, or an owner made on first use), now most recently used."""
        if address == self._seed.address:
            return self._seed
        node = self._owners.pop(address, None)
        if node is None:
            node = _Node(self, address, None)
            if len(self._owners) >= self.max_connections:
                idle = next((known for known, other in self._owners.items() if not other.busy), None)
                if idle is not None:
                    self._close_later(self._owners.pop(idle))
        self._owners[address] = node
        return node

    def _drop(self, node: _Node, company: str) -> None:
        """A cached owner could not be reached: forget it and its connection."""
        self._cache.owner_unreachable(node.address, company)
        if self._owners.get(node.address) is node:
            self._close_later(self._owners.pop(node.address))

    def _close_later(self, node: _Node) -> None:
        task = asyncio.ensure_future(node.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _send(self, call: Call, request: Message) -> bool:
        data = request.encode()
        threshold = self.compression_threshold
        return await call.send(data, compress=threshold is not None and len(data) >= threshold)

    # MARK: Call shapes

    async def unary(self, method: str, request: Message, response_type: type[Response], *, timeout: float | None = None,
                    metadata: MetadataLike = None, trailers: Metadata | None = None) -> Response:
        """One request, one response. ``trailers``, when given, receives the STATUS's metadata.
        ``MOVED`` is followed (see the class)."""
        route = _Route(self, method, timeout, metadata)
        while True:
            call = await route.open()
            try:
                await self._send(call, request)
                call.finish_sending()
                return await _one_response(call, method, response_type, trailers)
            except RPCError as error:
                call.cancel()
                if error.code != StatusCode.MOVED:
                    raise
                moved = error
            except BaseException:
                call.cancel()  # nothing when the call already ended; CANCEL when the task was cancelled
                raise
            route.follow(moved)

    def server_streaming(self, method: str, request: Message, response_type: type[Response], *,
                         timeout: float | None = None, metadata: MetadataLike = None) -> ResponseStream[Response]:
        """One request, a stream of responses, read with ``async for``. Nothing is sent until the
        stream is first read (or entered with ``async with``). ``MOVED`` before the first response
        is followed (see the class)."""
        return ResponseStream(self, method, request, response_type, timeout, metadata)

    async def client_streaming(self, method: str, requests: Iterable[Request] | AsyncIterable[Request],
                               response_type: type[Response], *, timeout: float | None = None,
                               metadata: MetadataLike = None, trailers: Metadata | None = None) -> Response:
        """Sends every request of ``requests`` (a plain or async iterable), then reads the one
        response. If iterating ``requests`` raises, the call is cancelled and the error re-raised;
        if the server ends the call early, sending stops and its status is raised. ``MOVED`` is
        raised, not followed, and the owner it names is remembered for the next call (see the class)."""
        route = _Route(self, method, timeout, metadata)
        call = await route.open()
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
            return await _one_response(call, method, response_type, trailers)
        except RPCError as error:
            call.cancel()
            if error.code == StatusCode.MOVED:
                with contextlib.suppress(RPCError):  # an owner that is not host:port: not remembered
                    route.learn(error)
            raise
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
        self._route: _Route | None = None
        self._received = False
        self._cancelled = False

    async def start(self) -> None:
        """Opens the call and sends the request, if not done yet."""
        if self._call is None:
            self._route = self._route or _Route(self._channel, self._method, self._timeout, self._metadata)
            await self._open()

    async def _open(self) -> None:
        if self._cancelled:
            raise RPCError(StatusCode.CANCELLED, f"{self._method}: the call was cancelled before it started")
        assert self._route is not None
        call = await self._route.open()
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
            while True:
                assert self._call is not None and self._route is not None
                try:
                    data = await self._call.receive()
                    break
                except RPCError as error:
                    if error.code != StatusCode.MOVED or self._received:
                        raise
                    moved = error
                self._route.follow(moved)  # before the first response: nothing was done
                await self._open()
        except BaseException:
            self.cancel()
            raise
        if data is None:
            raise StopAsyncIteration
        self._received = True
        return _decode(self._response_type, data, self._method)

    async def __aenter__(self) -> ResponseStream[Response]:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.cancel()


class _Node:
    """One node's connection: made on first use, remade after it was lost or the server drained it."""

    def __init__(self, channel: Channel, address: _routing.Address, server_hostname: str | None) -> None:
        self.channel, self.address, self.server_hostname = channel, address, server_hostname
        self.connection: Connection | None = None
        self._connecting: asyncio.Lock | None = None

    @property
    def busy(self) -> bool:
        """Whether calls are in flight on its connection."""
        return self.connection is not None and bool(self.connection.calls)

    async def current(self) -> Connection:
        channel = self.channel
        if channel._closed:
            raise RPCError(StatusCode.UNAVAILABLE, "the channel is closed")
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self.connection is None or self.connection.draining:
                host, port = self.address
                self.connection = await Connection.open(
                    host, port, ssl=channel.ssl, server_hostname=self.server_hostname,
                    connect_timeout=channel.connect_timeout, local=channel.settings)
            return self.connection

    async def open_call(self, method: str, timeout: float | None, pairs: list[tuple[str, str]]) -> Call:
        while True:
            connection = await self.current()
            call = await connection.open_call(method, timeout, pairs)
            if call is not None:
                return call

    async def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            connection.close()
            await connection.wait_closed()


class _Route:
    """One call's way through a fleet: the node it goes to next, the nodes it went through, and
    what is left of its deadline."""

    def __init__(self, channel: Channel, method: str, timeout: float | None, metadata: MetadataLike) -> None:
        self.channel, self.method = channel, method
        self.pairs = channel.metadata.pairs() + _metadata(metadata).pairs()
        self.timeout = channel.timeout if timeout is None else timeout
        # The server reads only the first authorization value, so that is what names the company.
        self.key = next((value for key, value in self.pairs if key == Metadata.AUTHORIZATION), None)
        self.started = asyncio.get_running_loop().time()
        cached = channel._cache.owner(self.key)
        self.node = channel._node(cached[0]) if cached else channel._seed
        self.cached_company = cached[1] if cached else None
        self.path = _routing.RedirectPath(self.node.address, channel.max_hops)
        self.moved_on = False  # a redirect or retry happened: the deadline counts from `started`

    async def open(self) -> Call:
        """Opens the call at the current node; at the seed instead when that is a cached owner that
        cannot be reached (nothing was sent there, so this is safe for every method)."""
        if self.cached_company is not None:
            company, self.cached_company = self.cached_company, None
            try:
                await self.node.current()
            except RPCError as error:
                if error.code != StatusCode.UNAVAILABLE:
                    raise
                self.channel._drop(self.node, company)
                self.node = self.channel._seed
                self.path.restart(self.node.address)
                self.moved_on = True
        return await self.node.open_call(self.method, self._remaining(), self.pairs)

    def learn(self, moved: RPCError) -> _routing.Redirect:
        """Remembers the owner a ``MOVED`` error names; raises ``RPCError(INTERNAL)`` when its
        owner trailer is missing or not ``host:port``."""
        redirect = _routing.Redirect(moved, self.node.address, self.method)
        self.channel._cache.learned(redirect, self.key)
        return redirect

    def follow(self, moved: RPCError) -> None:
        """Moves to the owner a ``MOVED`` error names; raises when the trailer cannot be followed
        (``INTERNAL``) or the call took ``max_hops`` redirects already (``UNAVAILABLE``)."""
        redirect = _routing.Redirect(moved, self.node.address, self.method)
        self.path.follow(redirect.owner, redirect.company, self.method)
        self.channel._cache.learned(redirect, self.key)
        self.node = self.channel._node(redirect.owner)
        self.moved_on = True

    def _remaining(self) -> float | None:
        """The first attempt gets the whole timeout; later ones what is left of it."""
        if self.timeout is None or not self.moved_on:
            return self.timeout
        left = self.timeout - (asyncio.get_running_loop().time() - self.started)
        if left <= 0:
            raise RPCError(StatusCode.DEADLINE_EXCEEDED,
                           f"{self.method}: the call's deadline of {self.timeout:g} s passed while following redirects")
        return left


def _metadata(value: MetadataLike) -> Metadata:
    if isinstance(value, Metadata):
        return Metadata(value.pairs())
    return Metadata(value)


async def _one_response(call: Call, method: str, response_type: type[Response], trailers: Metadata | None) -> Response:
    """The one response of a unary or client-streaming call, its trailers copied; ``INTERNAL``
    when the server sent none or more than one."""
    data = await call.receive()
    if data is None:
        raise RPCError(StatusCode.INTERNAL, f"the server ended {method} without a response")
    if await call.receive() is not None:
        raise RPCError(StatusCode.INTERNAL, f"the server sent {method} more than one response")
    _copy_trailers(call, trailers)
    return _decode(response_type, data, method)


def _copy_trailers(call: Call, into: Metadata | None) -> None:
    if into is not None and call.trailers is not None:
        for key, value in call.trailers:
            into.add(key, value)


def _decode(response_type: type[Response], data: bytes, method: str) -> Response:
    try:
        return response_type.decode(data)
    except DecodeError as error:
        raise RPCError(StatusCode.INTERNAL, f"the response to {method} could not be decoded: {error}") from None
