"""The Python client against a real ``mailsync serve`` on 127.0.0.1 (see support.py): unary calls,
both streaming directions, cancellation, a deadline, error statuses, metadata and TLS."""

from __future__ import annotations

import asyncio
import ssl
import unittest

import support
import mailsync
from mailsync import Metadata, RPCError, StatusCode

WATCH = "mailsync.v1.MailSync/WatchSyncEvents"
SERVER: support.Server
OPERATOR_KEY: str


def setUpModule() -> None:
    global SERVER, OPERATOR_KEY
    SERVER = support.Server()
    try:
        OPERATOR_KEY = SERVER.operator_key()
        SERVER.start()
    except BaseException:
        SERVER.stop()
        raise


def tearDownModule() -> None:
    SERVER.stop()


async def wait_for_metric(name: str, at_least: float, timeout: float = 10, **labels: str) -> float:
    """Polls the server's /metrics until the sample reaches ``at_least`` (fails after ``timeout``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await asyncio.to_thread(SERVER.metric, name, **labels)
        if value >= at_least or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """A channel per test: the operator's, and a company with its administrator's channel."""

    async def asyncSetUp(self) -> None:
        asyncio.get_running_loop().slow_callback_duration = 2  # encoding 10,000 opportunities takes a while
        self.operator_channel = mailsync.Channel("127.0.0.1", SERVER.port, api_key=OPERATOR_KEY, timeout=30)
        self.operator = mailsync.MailSyncClient(self.operator_channel)
        self.channels = [self.operator_channel]

    async def asyncTearDown(self) -> None:
        for channel in self.channels:
            await channel.close()

    async def make_company(self, name: str) -> tuple[mailsync.Company, mailsync.MailSyncClient]:
        company = await self.operator.create_company(mailsync.CreateCompanyRequest(
            name=name, plan=mailsync.Plan.ESSENTIAL,
            administrator=mailsync.CreateUserRequest(id="alice", name="Alice", email="alice@acme.example")))
        key = await self.operator.create_api_key(mailsync.CreateApiKeyRequest(company_id=company.id, user_id="alice"))
        channel = mailsync.Channel("127.0.0.1", SERVER.port, api_key=key.secret, timeout=30)
        self.channels.append(channel)
        return company, mailsync.MailSyncClient(channel)


class UnaryTests(ServerTestCase):
    async def test_get_server_info_needs_no_credentials(self) -> None:
        async with mailsync.Channel("127.0.0.1", SERVER.port) as channel:
            info = await mailsync.MailSyncClient(channel).get_server_info(mailsync.GetServerInfoRequest())
        self.assertTrue(info.version)
        self.assertGreater(info.started_at, mailsync.Timestamp(0))

    async def test_a_created_company_reads_back(self) -> None:
        created = await self.operator.create_company(mailsync.CreateCompanyRequest(
            name="Read Back Ltd", plan=mailsync.Plan.ADVANCED, email_domains=["readback.example"],
            administrator=mailsync.CreateUserRequest(id="ann", name="Ann", email="ann@readback.example")))
        fetched = await self.operator.get_company(mailsync.GetCompanyRequest(company_id=created.id))
        self.assertEqual(fetched.id, created.id)
        self.assertEqual(fetched.name, "Read Back Ltd")
        self.assertEqual(fetched.plan, mailsync.Plan.ADVANCED)
        self.assertIsInstance(fetched.plan, mailsync.Plan)

    async def test_a_request_larger_than_the_stream_window_is_sent_in_credited_fragments(self) -> None:
        _, admin = await self.make_company("Big Request Ltd")
        await admin.upsert_leads([mailsync.Lead(id="lead-1", name="Lead", email_addresses=["lead@big.example"])])
        opportunities = [mailsync.Opportunity(id=f"opp-{i:05}", lead_id="lead-1", status=mailsync.OpportunityStatus.OPEN,
                                              name=f"Opportunity number {i:05} " + "x" * 40)
                         for i in range(10_000)]
        request = mailsync.UpsertOpportunitiesRequest(opportunities=opportunities)
        self.assertGreater(len(request.encode()), 256 * 1024 * 2)  # more than twice the server's stream window
        response = await admin.upsert_opportunities(request)
        self.assertEqual((response.created, response.updated, list(response.rejections)), (10_000, 0, []))


class ErrorTests(ServerTestCase):
    async def test_an_unknown_company_is_not_found_with_a_readable_error(self) -> None:
        with self.assertRaises(RPCError) as caught:
            await self.operator.get_company(mailsync.GetCompanyRequest(company_id="no-such-company"))
        error = caught.exception
        self.assertEqual(error.code, StatusCode.NOT_FOUND)
        self.assertTrue(str(error).startswith("not found: "), str(error))
        self.assertIn(error.message, str(error))

    async def test_a_wrong_key_and_no_key_are_unauthenticated(self) -> None:
        bogus = "msk_0123456789abcdef_" + "a" * 43
        for key in [bogus, None]:
            with self.subTest(key=key):
                async with mailsync.Channel("127.0.0.1", SERVER.port, api_key=key, timeout=10) as channel:
                    with self.assertRaises(RPCError) as caught:
                        await mailsync.MailSyncClient(channel).list_companies(mailsync.ListCompaniesRequest())
                self.assertEqual(caught.exception.code, StatusCode.UNAUTHENTICATED)
                self.assertTrue(str(caught.exception).startswith("unauthenticated: "))

    async def test_a_role_without_the_method_is_permission_denied(self) -> None:
        _, admin = await self.make_company("Denied Ltd")
        with self.assertRaises(RPCError) as caught:
            await admin.list_companies(mailsync.ListCompaniesRequest())
        self.assertEqual(caught.exception.code, StatusCode.PERMISSION_DENIED)


class MetadataTests(ServerTestCase):
    async def test_the_request_id_sent_comes_back_in_the_trailers_and_in_errors(self) -> None:
        trailers = Metadata()
        await self.operator.get_server_info(mailsync.GetServerInfoRequest(), metadata={"request-id": "py-ok-1"}, trailers=trailers)
        self.assertEqual(trailers.get("request-id"), "py-ok-1")
        with self.assertRaises(RPCError) as caught:
            await self.operator.get_company(mailsync.GetCompanyRequest(company_id="missing"), metadata=[("Request-ID", "py-err-2")])
        self.assertEqual(caught.exception.metadata.get("request-id"), "py-err-2")
        self.assertIn("(request id py-err-2)", str(caught.exception))

    async def test_credentials_can_travel_as_call_metadata(self) -> None:
        async with mailsync.Channel("127.0.0.1", SERVER.port, timeout=10) as channel:
            client = mailsync.MailSyncClient(channel)
            page = await client.list_companies(mailsync.ListCompaniesRequest(), metadata={"authorization": f"Bearer {OPERATOR_KEY}"})
        self.assertIsInstance(page, mailsync.ListCompaniesResponse)


class ClientStreamingTests(ServerTestCase):
    async def test_upsert_leads_counts_what_an_async_generator_streamed(self) -> None:
        _, admin = await self.make_company("Leads Ltd")

        async def leads(names: list[str]):
            for name in names:
                yield mailsync.Lead(id=name, name=name.title(), email_addresses=[f"{name}@client.example"])

        first = await admin.upsert_leads(leads(["jane", "john", "joan"]))
        self.assertEqual((first.created, first.updated), (3, 0))
        second = await admin.upsert_leads([mailsync.Lead(id="jane", name="Jane B", email_addresses=["jane@client.example"]),
                                           mailsync.Lead(id="", name="no id")])
        self.assertEqual((second.created, second.updated), (0, 1))
        self.assertEqual(len(second.rejections), 1)


class ServerStreamingTests(ServerTestCase):
    async def connect_mailboxes_until_an_event(self, admin: mailsync.MailSyncClient, stream: mailsync.ResponseStream) -> mailsync.SyncEvent:
        """Connects a new user's mailbox (on a closed loopback port) until the watch delivers an
        event: the server reads where the watch starts only once its handler runs, so an event
        made before that is history and not sent. Each attempt waits up to 3 s."""
        next_event = asyncio.ensure_future(stream.__anext__())
        try:
            for attempt in range(8):
                user = f"seller{attempt}"
                await admin.create_user(mailsync.CreateUserRequest(
                    id=user, name=f"Seller {attempt}", email=f"{user}@acme.example", role=mailsync.UserRole.SALESPERSON))
                await admin.create_mailbox_connection(mailsync.CreateMailboxConnectionRequest(
                    user_id=user, email_address=f"{user}@acme.example", provider=mailsync.MailProvider.CUSTOM_IMAP,
                    imap=mailsync.ServerEndpoint(host="127.0.0.1", port=support.free_port(), security=mailsync.ConnectionSecurity.NONE),
                    secret="app-password-1"))
                done, _ = await asyncio.wait({next_event}, timeout=3)
                if done:
                    return next_event.result()
            self.fail("the watch delivered no event for 8 new mailboxes")
        finally:
            if not next_event.done():
                next_event.cancel()

    async def test_a_watch_streams_events_and_cancelling_its_task_cancels_the_call_on_the_server(self) -> None:
        _, admin = await self.make_company("Watch Ltd")
        finished_before = await asyncio.to_thread(SERVER.metric, "mailsync_rpc_calls_total", method=WATCH)
        stream = admin.watch_sync_events(mailsync.WatchSyncEventsRequest(kinds=[mailsync.SyncEventKind.CONNECTED]))
        await stream.start()
        event = await self.connect_mailboxes_until_an_event(admin, stream)
        self.assertEqual(event.kind, mailsync.SyncEventKind.CONNECTED)
        self.assertTrue(event.mailbox_id)

        async def read_on():
            async for _ in stream:
                pass

        reader = asyncio.ensure_future(read_on())
        await asyncio.sleep(0)  # let the reader wait for the next event
        reader.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await reader
        # The watch never ends by itself: only the CANCEL frame ends it on the server, which then
        # counts it as finished (its handler returns when cancelled, so the code it records is ok).
        finished = await wait_for_metric("mailsync_rpc_calls_total", finished_before + 1, method=WATCH)
        self.assertEqual(finished, finished_before + 1)
        with self.assertRaises(RPCError) as caught:
            await stream.__anext__()
        self.assertEqual(caught.exception.code, StatusCode.CANCELLED)
        # The connection is still good for the next call.
        mailboxes = await admin.list_mailboxes(mailsync.ListMailboxesRequest())
        self.assertIn(event.mailbox_id, [m.id for m in mailboxes.mailboxes])

    async def test_an_unknown_mailbox_ends_the_stream_with_not_found(self) -> None:
        _, admin = await self.make_company("Watch Errors Ltd")
        with self.assertRaises(RPCError) as caught:
            async for _ in admin.watch_sync_events(mailsync.WatchSyncEventsRequest(mailbox_id="no-such-mailbox")):
                pass
        self.assertEqual(caught.exception.code, StatusCode.NOT_FOUND)


class DeadlineTests(ServerTestCase):
    async def test_a_watch_with_a_short_deadline_ends_with_deadline_exceeded(self) -> None:
        _, admin = await self.make_company("Deadline Ltd")

        before = await asyncio.to_thread(SERVER.metric, "mailsync_rpc_calls_total", method=WATCH)
        started = asyncio.get_running_loop().time()
        with self.assertRaises(RPCError) as caught:
            async for _ in admin.watch_sync_events(mailsync.WatchSyncEventsRequest(), timeout=0.5):
                pass
        elapsed = asyncio.get_running_loop().time() - started
        self.assertEqual(caught.exception.code, StatusCode.DEADLINE_EXCEEDED)
        self.assertGreaterEqual(elapsed, 0.5)
        self.assertLess(elapsed, 10)
        # The call ended on the server too (by its own timer, or the client's CANCEL code 4).
        after = await wait_for_metric("mailsync_rpc_calls_total", before + 1, method=WATCH)
        self.assertEqual(after, before + 1)


class TLSTests(unittest.IsolatedAsyncioTestCase):
    server: support.Server

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = support.Server(tls=True)
        cls.server.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    async def test_a_call_over_tls_verified_against_the_ca_file(self) -> None:
        context = mailsync.Channel.tls(ca_file=self.server.certificate)
        async with mailsync.Channel("127.0.0.1", self.server.port, ssl=context, server_hostname="localhost") as channel:
            info = await mailsync.MailSyncClient(channel).get_server_info(mailsync.GetServerInfoRequest())
        self.assertTrue(info.version)

    async def test_an_untrusted_certificate_or_a_wrong_name_is_unavailable(self) -> None:
        cases = [(mailsync.Channel.tls(), "localhost"), (mailsync.Channel.tls(self.server.certificate), "mail.example")]
        for context, name in cases:
            with self.subTest(name=name):
                channel = mailsync.Channel("127.0.0.1", self.server.port, ssl=context, server_hostname=name)
                with self.assertRaises(RPCError) as caught:
                    await mailsync.MailSyncClient(channel).get_server_info(mailsync.GetServerInfoRequest())
                await channel.close()
                self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)
                self.assertIn("CERTIFICATE_VERIFY_FAILED", str(caught.exception))

    async def test_plain_tcp_to_a_tls_port_fails_the_handshake(self) -> None:
        channel = mailsync.Channel("127.0.0.1", self.server.port, connect_timeout=2)
        with self.assertRaises(RPCError) as caught:
            await mailsync.MailSyncClient(channel).get_server_info(mailsync.GetServerInfoRequest())
        await channel.close()
        self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
