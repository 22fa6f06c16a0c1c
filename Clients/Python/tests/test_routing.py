"""Redirects in a fleet (docs/protocol.md, "Redirects (fleets)"): scripted nodes on 127.0.0.1 that
answer every call with MOVED or serve the test schema's Echo service, and a channel following them;
plus the address and cache rules as values."""

from __future__ import annotations

import asyncio
import struct
import unittest

import support  # noqa: F401 (sets sys.path)
import mailsync
from mailsync import Metadata, RPCError, StatusCode, _frames, _routing
from test_generated import CollectItem, CollectSummary, EchoClient, EchoRequest, EchoResponse, ExpandItem, ExpandRequest


class Node:
    """A fleet node: while ``moved`` holds trailers, answers every call at once with MOVED and
    them; otherwise serves Echo (the text back), Expand (``count`` items) and Collect (how many
    items came). Counts the calls and connections it saw."""

    def __init__(self) -> None:
        self.moved: list[tuple[str, str]] | None = None
        self.calls = 0
        self.connections = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> Node:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def redirect(self, owner: Node, company: str = "acme") -> None:
        self.moved = [(Metadata.OWNER, owner.address), (Metadata.COMPANY, company)]

    async def stop(self) -> None:
        self.server.close()
        for writer in list(self._writers):
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        calls: dict[int, tuple[str, list[bytes]]] = {}
        try:
            assert await reader.readexactly(12) == _frames.PREFACE
            writer.write(_frames.PREFACE + _frames.Settings().encode())
            while True:
                length, kind, _, _, stream = struct.unpack(">IBBHI", await reader.readexactly(12))
                payload = await reader.readexactly(length)
                if kind == _frames.CALL_START:
                    size = struct.unpack(">H", payload[8:10])[0]
                    self.calls += 1
                    if self.moved is not None:
                        self._status(writer, stream, StatusCode.MOVED, "the company lives on another node", self.moved)
                    else:
                        calls[stream] = (payload[10:10 + size].decode(), [])
                elif kind == _frames.MESSAGE and stream in calls:
                    calls[stream][1].append(payload)
                elif kind == _frames.END_STREAM and stream in calls:
                    method, messages = calls.pop(stream)
                    self._answer(writer, stream, method, messages)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _answer(self, writer: asyncio.StreamWriter, stream: int, method: str, messages: list[bytes]) -> None:
        if method.endswith("/Echo"):
            replies = [EchoResponse(text=EchoRequest.decode(messages[0]).text)]
        elif method.endswith("/Expand"):
            replies = [ExpandItem(index=i) for i in range(ExpandRequest.decode(messages[0]).count)]
        else:
            replies = [CollectSummary(count=len(messages))]
        for reply in replies:
            writer.write(_frames.message(stream, reply.encode(), 0))
        self._status(writer, stream, 0, "", [])

    @staticmethod
    def _status(writer: asyncio.StreamWriter, stream: int, code: int, message: str, trailers: list[tuple[str, str]]) -> None:
        raw = message.encode()
        payload = struct.pack(">HI", code, len(raw)) + raw + struct.pack(">I", 0) + _frames.metadata_block(trailers)
        writer.write(_frames.header(len(payload), _frames.STATUS, 0, stream) + payload)


class RoutingTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.nodes = [await Node().start() for _ in range(3)]
        self.a, self.b, self.c = self.nodes
        self.channel = mailsync.Channel("127.0.0.1", self.a.port, api_key="msk_tenant", timeout=10)
        self.client = EchoClient(self.channel)

    async def asyncTearDown(self) -> None:
        await self.channel.close()
        for node in self.nodes:
            await node.stop()

    async def echo(self, text: str) -> str:
        return (await self.client.echo(EchoRequest(text=text))).text

    def calls(self) -> tuple[int, int, int]:
        return self.a.calls, self.b.calls, self.c.calls

    async def test_a_unary_call_is_redirected_and_the_next_goes_straight_to_the_owner(self) -> None:
        self.a.redirect(self.b)
        self.assertEqual(await self.echo("one"), "one")
        self.assertEqual(self.calls(), (1, 1, 0))
        self.assertEqual(await self.echo("two"), "two")
        self.assertEqual(self.calls(), (1, 2, 0))

    async def test_a_redirect_loop_fails_with_unavailable_after_4_redirects(self) -> None:
        self.a.redirect(self.b)
        self.b.redirect(self.a)
        with self.assertRaises(RPCError) as caught:
            await self.echo("loop")
        self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)
        self.assertIn("redirected 4 times", caught.exception.message)
        self.assertIn(f"{self.a.address} → {self.b.address} → {self.a.address}", caught.exception.message)
        self.assertEqual(self.a.calls + self.b.calls, 5)  # the call and 4 redirects

    async def test_an_owner_trailer_that_is_missing_or_not_host_port_is_an_error_and_not_followed(self) -> None:
        port = self.b.port
        for value in [None, "", "127.0.0.1", f"127.0.0.1 :{port}", f"127.0.0.1:{port} ", f"[127.0.0.1]:{port}",
                      f"::1:{port}", "127.0.0.1:0", "127.0.0.1:99999", f"user@127.0.0.1:{port}"]:
            with self.subTest(value=value):
                self.a.moved = [(Metadata.COMPANY, "acme")] + ([(Metadata.OWNER, value)] if value is not None else [])
                with self.assertRaises(RPCError) as caught:
                    await self.echo("x")
                self.assertEqual(caught.exception.code, StatusCode.INTERNAL)
                self.assertIn(Metadata.OWNER, caught.exception.message)
                if value:
                    self.assertIn(f"'{value}'", caught.exception.message)
                self.assertEqual(caught.exception.metadata.get(Metadata.COMPANY), "acme")
                self.assertEqual(self.b.connections, 0)

    async def test_a_cached_owner_that_is_gone_is_dropped_and_the_call_goes_through_the_seed(self) -> None:
        self.a.redirect(self.b)
        self.assertEqual(await self.echo("before"), "before")
        await self.b.stop()
        await self._until_closed(self.b)
        self.a.redirect(self.c)  # the company lives on c now
        self.assertEqual(await self.echo("after"), "after")
        self.assertEqual(self.calls(), (2, 1, 1))
        self.assertEqual(await self.echo("again"), "again")
        self.assertEqual(self.calls(), (2, 1, 2))

    async def test_an_operator_key_whose_calls_name_two_companies_goes_to_the_seed(self) -> None:
        self.a.redirect(self.b, "acme")
        self.assertEqual(await self.echo("acme"), "acme")
        self.b.redirect(self.c, "globex")
        self.assertEqual(await self.echo("globex"), "globex")
        self.assertEqual(self.calls(), (1, 2, 1))
        self.a.redirect(self.c, "globex")
        self.assertEqual(await self.echo("seed"), "seed")
        self.assertEqual(self.calls(), (2, 2, 2))

    async def test_a_server_streaming_call_is_redirected_before_its_first_item(self) -> None:
        self.a.redirect(self.b)
        for expected in [(1, 1, 0), (1, 2, 0)]:
            items = [item.index async for item in self.client.expand(ExpandRequest(count=4))]
            self.assertEqual(items, [0, 1, 2, 3])
            self.assertEqual(self.calls(), expected)

    async def test_a_client_streaming_call_raises_moved_and_the_next_goes_to_the_owner(self) -> None:
        self.a.redirect(self.b)
        with self.assertRaises(RPCError) as caught:
            await self.client.collect([CollectItem(payload=b"x")] * 3)
        self.assertEqual(caught.exception.code, StatusCode.MOVED)
        self.assertEqual(caught.exception.metadata.get(Metadata.OWNER), self.b.address)
        self.assertEqual((await self.client.collect([CollectItem(payload=b"x")] * 3)).count, 3)
        self.assertEqual(self.calls(), (1, 1, 0))

    async def _until_closed(self, node: Node) -> None:
        """Waits until the channel saw its connection to ``node`` end."""
        owner = self.channel._owners[("127.0.0.1", node.port)]
        for _ in range(200):
            if owner.connection is None or owner.connection.draining:
                return
            await asyncio.sleep(0.01)
        self.fail("the channel did not see the connection end")


class AddressTests(unittest.TestCase):
    def test_addresses_that_parse(self) -> None:
        for text, expected in [("127.0.0.1:7420", ("127.0.0.1", 7420)), ("node-a.example:1", ("node-a.example", 1)),
                               ("[::1]:65535", ("::1", 65535)), ("[::ffff:10.0.0.1]:80", ("::ffff:10.0.0.1", 80))]:
            with self.subTest(text=text):
                self.assertEqual(_routing.parse_address(text), expected)
                self.assertEqual(_routing.format_address(expected), text)

    def test_addresses_that_do_not_parse(self) -> None:
        for text, reason in [("", "empty"), ("host", "no ':port'"), (":1", "host is empty"), ("host:0", "1–65535"),
                             ("host:123456", "1 to 5"), (" host:1", "character"), ("host:1 ", "1 to 5"),
                             ("-host:1", "starts with"), ("::1:1", "brackets"), ("[::1]", "':port'"), ("[::1:1", "no ']'"),
                             ("[10.0.0.1]:1", "not an IPv6"), ("[fe80::1%eth0]:1", "hex digits"), ("héllo:1", "character"),
                             ("a" * 301, "300"), ("a" * 254 + ":1", "253")]:
            with self.subTest(text=text):
                with self.assertRaises(ValueError) as caught:
                    _routing.parse_address(text)
                self.assertIn(reason, str(caught.exception))


class OwnerCacheTests(unittest.TestCase):
    @staticmethod
    def moved(owner: str, company: str | None) -> _routing.Redirect:
        trailers = Metadata([(Metadata.OWNER, owner)] + ([(Metadata.COMPANY, company)] if company else []))
        return _routing.Redirect(RPCError(StatusCode.MOVED, "moved", metadata=trailers), ("seed", 1), "m")

    def test_a_tenant_key_goes_to_its_companys_owner_until_it_is_unreachable(self) -> None:
        cache = _routing.OwnerCache()
        cache.learned(self.moved("a:1", "acme"), "k")
        self.assertEqual(cache.owner("k"), (("a", 1), "acme"))
        self.assertIsNone(cache.owner("other"))
        self.assertIsNone(cache.owner(None))
        cache.learned(self.moved("b:1", "acme"), None)
        self.assertEqual(cache.owner("k"), (("b", 1), "acme"))
        cache.owner_unreachable(("a", 1), "acme")  # stale
        self.assertEqual(cache.owner("k"), (("b", 1), "acme"))
        cache.owner_unreachable(("b", 1), "acme")
        self.assertIsNone(cache.owner("k"))

    def test_two_companies_for_one_key_stop_routing_by_key_and_no_company_is_not_cached(self) -> None:
        cache = _routing.OwnerCache(capacity=2)
        cache.learned(self.moved("a:1", None), "k")
        self.assertEqual((cache.keys, cache.owners), ({}, {}))
        cache.learned(self.moved("a:1", "acme"), "op")
        cache.learned(self.moved("a:1", "globex"), "op")
        self.assertIsNone(cache.owner("op"))
        cache.learned(self.moved("a:1", "acme"), "op")
        self.assertIsNone(cache.owner("op"))
        for index in range(5):
            cache.learned(self.moved(f"n{index}:1", f"c{index}"), f"k{index}")
            self.assertLessEqual(len(cache.keys), 2)
            self.assertLessEqual(len(cache.owners), 2)
        self.assertEqual(cache.owner("k4"), (("n4", 1), "c4"))


if __name__ == "__main__":
    unittest.main()
