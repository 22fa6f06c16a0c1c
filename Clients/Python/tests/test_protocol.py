"""The client's side of docs/protocol.md against a scripted server in this process (127.0.0.1):
what the real server never does on purpose — fragments, compression, windows, pings, GOAWAY,
broken frames — and exactly which frames the client sends for cancellation and deadlines."""

from __future__ import annotations

import asyncio
import os
import struct
import unittest
import zlib

import support  # noqa: F401 (sets sys.path)
import mailsync
from mailsync import RPCError, StatusCode, _frames
from test_generated import EchoClient, EchoRequest, EchoResponse, SleepRequest


class FakeServer:
    """Accepts one connection, does the handshake with ``settings``, and records every frame."""

    def __init__(self, settings: _frames.Settings = _frames.Settings()) -> None:
        self.settings = settings
        self.frames: asyncio.Queue[tuple[int, int, int, bytes]] = asyncio.Queue()
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()
        self.stream_credit: dict[int, int] = {}
        self.connection_credit = 0
        self.credit_changed = asyncio.Event()

    async def __aenter__(self) -> FakeServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        try:
            assert await reader.readexactly(12) == _frames.PREFACE
            writer.write(_frames.PREFACE + self.settings.encode())
            self.connected.set()
            while True:
                length, kind, flags, stream = self._header(await reader.readexactly(12))
                payload = await reader.readexactly(length)
                if kind == _frames.WINDOW_UPDATE:
                    increment = struct.unpack(">I", payload)[0]
                    if stream == 0:
                        self.connection_credit += increment
                    else:
                        self.stream_credit[stream] = self.stream_credit.get(stream, 0) + increment
                    self.credit_changed.set()
                await self.frames.put((kind, flags, stream, payload))
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.frames.put((-1, 0, 0, b""))  # the client closed
        except asyncio.CancelledError:
            pass  # the test ended

    @staticmethod
    def _header(raw: bytes) -> tuple[int, int, int, int]:
        length, kind, flags, _, stream = struct.unpack(">IBBHI", raw)
        return length, kind, flags, stream

    def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    async def next(self, kind: int, timeout: float = 5) -> tuple[int, int, int, bytes]:
        """The next frame of ``kind`` (others, and the end of a connection, are skipped); fails
        after ``timeout`` seconds."""
        async def find():
            while True:
                frame = await self.frames.get()
                if frame[0] == kind:
                    return frame
        return await asyncio.wait_for(find(), timeout)

    def status(self, stream: int, code: int = 0, message: str = "", trailers: list[tuple[str, str]] = ()) -> None:
        raw = message.encode()
        payload = struct.pack(">HI", code, len(raw)) + raw + struct.pack(">I", 0) + _frames.metadata_block(list(trailers))
        self.send(_frames.header(len(payload), _frames.STATUS, 0, stream) + payload)


class ProtocolTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.server = await FakeServer().__aenter__()
        self.channel = mailsync.Channel("127.0.0.1", self.server.port, timeout=10)
        self.client = EchoClient(self.channel)

    async def asyncTearDown(self) -> None:
        await self.channel.close()
        await self.server.__aexit__()

    async def test_a_unary_call_sends_call_start_message_and_end_stream_on_odd_increasing_ids(self) -> None:
        for expected_stream in (1, 3):
            call = asyncio.ensure_future(self.client.echo(EchoRequest(text="hi"), metadata={"request-id": "r1"}))
            kind, _, stream, payload = await self.server.next(_frames.CALL_START)
            self.assertEqual(stream, expected_stream)
            self.assertIn(b"test.v1.Echo/Echo", payload)
            self.assertEqual(struct.unpack(">Q", payload[:8])[0], 10_000_000)  # the channel's 10 s, in µs
            _, _, _, message = await self.server.next(_frames.MESSAGE)
            self.assertEqual(message, EchoRequest(text="hi").encode())
            await self.server.next(_frames.END_STREAM)
            self.server.send(_frames.message(stream, EchoResponse(text="hi back").encode(), 0))
            self.server.status(stream, trailers=[("request-id", "r1")])
            self.assertEqual((await call).text, "hi back")

    async def test_a_fragmented_compressed_response_larger_than_the_windows_arrives_whole(self) -> None:
        payload = os.urandom(1_500_000)  # incompressible: more than the 1 MiB connection window as sent
        compressed = await asyncio.to_thread(zlib.compress, EchoResponse(payload=payload).encode())
        call = asyncio.ensure_future(self.client.echo(EchoRequest()))
        _, _, stream, _ = await self.server.next(_frames.CALL_START)
        stream_window, connection_window = 256 * 1024, 1024 * 1024  # the client's announced windows
        offset = 0
        while offset < len(compressed):
            while min(stream_window + self.server.stream_credit.get(stream, 0),
                      connection_window + self.server.connection_credit) <= 0:
                self.server.credit_changed.clear()
                await asyncio.wait_for(self.server.credit_changed.wait(), 5)  # the client must credit
            stream_window += self.server.stream_credit.pop(stream, 0)
            connection_window += self.server.connection_credit
            self.server.connection_credit = 0
            size = min(16_384, len(compressed) - offset, stream_window, connection_window)
            more = _frames.FLAG_MORE if offset + size < len(compressed) else 0
            self.server.send(_frames.message(stream, compressed[offset:offset + size], _frames.FLAG_COMPRESSED | more))
            stream_window -= size
            connection_window -= size
            offset += size
        self.server.status(stream)
        self.assertEqual((await asyncio.wait_for(call, 10)).payload, payload)

    async def test_a_ping_is_answered_with_the_same_bytes(self) -> None:
        await self.channel.connect()
        await self.server.connected.wait()
        self.server.send(_frames.ping(b"12345678", ack=False))
        _, flags, _, data = await self.server.next(_frames.PING)
        self.assertEqual((flags, data), (_frames.FLAG_ACK, b"12345678"))

    async def test_cancelling_the_task_sends_cancel_code_1(self) -> None:
        call = asyncio.ensure_future(self.client.sleep(SleepRequest(milliseconds=60_000)))
        _, _, stream, _ = await self.server.next(_frames.END_STREAM)
        call.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await call
        _, _, cancelled, payload = await self.server.next(_frames.CANCEL)
        self.assertEqual(cancelled, stream)
        self.assertEqual(payload, struct.pack(">HH", 1, 29) + b"the client cancelled the call")

    async def test_a_deadline_sends_its_timeout_then_cancel_code_4_and_fails_the_call(self) -> None:
        call = asyncio.ensure_future(self.client.sleep(SleepRequest(milliseconds=60_000), timeout=0.2))
        _, _, stream, start = await self.server.next(_frames.CALL_START)
        self.assertEqual(struct.unpack(">Q", start[:8])[0], 200_000)
        _, _, cancelled, payload = await self.server.next(_frames.CANCEL)
        self.assertEqual((cancelled, payload[:2]), (stream, b"\x00\x04"))
        with self.assertRaises(RPCError) as caught:
            await call
        self.assertEqual(caught.exception.code, StatusCode.DEADLINE_EXCEEDED)

    async def test_a_status_with_an_error_raises_it_with_its_trailers(self) -> None:
        call = asyncio.ensure_future(self.client.echo(EchoRequest()))
        _, _, stream, _ = await self.server.next(_frames.END_STREAM)
        self.server.status(stream, 18, "a code from the future", [("request-id", "abc"), ("x-extra", "1")])
        with self.assertRaises(RPCError) as caught:
            await call
        self.assertEqual(caught.exception.code, 18)
        self.assertEqual(str(caught.exception), "code 18: a code from the future (request id abc)")
        self.assertEqual(caught.exception.metadata.get_all("x-extra"), ["1"])

    async def test_goaway_with_an_error_fails_calls_in_flight_and_the_next_call_reconnects(self) -> None:
        call = asyncio.ensure_future(self.client.sleep(SleepRequest(milliseconds=60_000)))
        await self.server.next(_frames.END_STREAM)
        self.server.send(_frames.goaway(1, _frames.INTERNAL_ERROR, "the server broke"))
        with self.assertRaises(RPCError) as caught:
            await call
        self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)
        self.assertIn("internalError", str(caught.exception))
        self.assertIn("the server broke", str(caught.exception))
        # The next call connects again: a new connection, whose stream ids start over at 1.
        again = asyncio.ensure_future(self.client.echo(EchoRequest(text="again")))
        _, _, stream, _ = await self.server.next(_frames.CALL_START)
        self.assertEqual(stream, 1)
        self.server.send(_frames.message(stream, EchoResponse(text="back").encode(), 0))
        self.server.status(stream)
        self.assertEqual((await again).text, "back")

    async def test_an_unknown_frame_type_ends_the_connection_with_goaway_protocol_error(self) -> None:
        call = asyncio.ensure_future(self.client.sleep(SleepRequest(milliseconds=60_000)))
        await self.server.next(_frames.END_STREAM)
        self.server.send(_frames.header(0, 0x0B, 0, 0))
        _, _, _, payload = await self.server.next(_frames.GOAWAY)
        self.assertEqual(struct.unpack(">I", payload[4:8])[0], _frames.PROTOCOL_ERROR)
        with self.assertRaises(RPCError) as caught:
            await call
        self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)
        self.assertIn("unknown frame type 0x0b", str(caught.exception))


class ConcurrencyTests(unittest.IsolatedAsyncioTestCase):
    async def test_calls_beyond_the_servers_limit_wait_for_a_free_slot(self) -> None:
        async with FakeServer(_frames.Settings(max_concurrent_calls=1)) as server:
            async with mailsync.Channel("127.0.0.1", server.port, timeout=10) as channel:
                client = EchoClient(channel)
                first = asyncio.ensure_future(client.echo(EchoRequest(text="1")))
                second = asyncio.ensure_future(client.echo(EchoRequest(text="2")))
                _, _, stream, _ = await server.next(_frames.END_STREAM)
                with self.assertRaises(asyncio.TimeoutError):
                    await server.next(_frames.CALL_START, timeout=0.3)  # the second waits for a slot
                server.send(_frames.message(stream, EchoResponse(text="one").encode(), 0))
                server.status(stream)
                _, _, next_stream, _ = await server.next(_frames.CALL_START)
                self.assertEqual((stream, next_stream), (1, 3))
                server.send(_frames.message(next_stream, EchoResponse(text="two").encode(), 0))
                server.status(next_stream)
                self.assertEqual([(await first).text, (await second).text], ["one", "two"])


if __name__ == "__main__":
    unittest.main()
