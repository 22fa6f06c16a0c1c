"""Frames against the hex test vectors of docs/protocol.md (section 17), read from the page itself
as Tests/MailSyncWireTests/TestVectorTests.swift reads them: no server needed."""

from __future__ import annotations

import os
import re
import unittest

import support
from mailsync import _frames
from mailsync._frames import ProtocolViolation, Settings


def vectors() -> dict[str, bytes]:
    with open(os.path.join(support.ROOT, "docs", "protocol.md"), encoding="utf-8") as f:
        text = f.read()
    found = {}
    for name, block in re.findall(r"<!-- vector: ([a-z0-9-]+) -->\s*```\n(.*?)```", text, re.S):
        hex_text = " ".join(line.split("#")[0] for line in block.splitlines())
        found[name] = bytes.fromhex(hex_text)
    return found


VECTORS = vectors()


def parse(frame: bytes) -> _frames.Frame:
    length, frame_type, flags, stream_id = _frames.check_header(frame[:12], 65_536)
    return _frames.parse_frame(frame_type, flags, stream_id, frame[12:12 + length])


class VectorTests(unittest.TestCase):
    def test_the_page_has_the_vectors_this_suite_checks(self) -> None:
        self.assertLessEqual({"client-preface", "settings-default", "call-start", "message", "end-stream", "status-ok",
                              "status-not-found", "cancel", "ping", "ping-ack", "goaway", "window-update-stream"}, set(VECTORS))

    def test_the_client_encodes_each_frame_it_sends_as_the_vectors_show(self) -> None:
        self.assertEqual(_frames.PREFACE, VECTORS["client-preface"])
        self.assertEqual(Settings().encode(), VECTORS["settings-default"])
        self.assertEqual(_frames.call_start(1, "test.v1.Echo/Echo", 1_500_000, [("authorization", "admin-key"), ("request-id", "r1")]),
                         VECTORS["call-start"])
        self.assertEqual(_frames.message(1, bytes.fromhex("0a026869"), 0), VECTORS["message"])
        self.assertEqual(_frames.end_stream(1), VECTORS["end-stream"])
        self.assertEqual(_frames.cancel(3, 1, "the client cancelled the call"), VECTORS["cancel"])
        self.assertEqual(_frames.ping(bytes(range(1, 9)), ack=True), VECTORS["ping-ack"])
        self.assertEqual(_frames.window_update(0, 524_288), VECTORS["window-update-connection"])
        self.assertEqual(_frames.window_update(1, 131_072), VECTORS["window-update-stream"])
        self.assertEqual(_frames.goaway(5, 0, "the server is shutting down"), VECTORS["goaway"])

    def test_the_client_decodes_each_frame_it_receives_as_the_vectors_show(self) -> None:
        self.assertEqual(parse(VECTORS["status-ok"]).fields, (0, "", b"", []))
        self.assertEqual(parse(VECTORS["status-not-found"]).fields, (5, "no mailbox with id 42", b"", []))
        self.assertEqual(parse(VECTORS["settings-default"]).fields, (Settings(),))
        self.assertEqual(parse(VECTORS["ping"]).fields, (bytes(range(1, 9)),))
        self.assertEqual(parse(VECTORS["goaway"]).fields, (5, 0, "the server is shutting down"))
        self.assertEqual(parse(VECTORS["window-update-stream"]).fields, (131_072,))
        first = parse(VECTORS["fragmented-message"][:20])
        self.assertEqual((first.flags, first.payload), (_frames.FLAG_MORE, bytes.fromhex("0a0c68656c6c6f2c")))
        refused = VECTORS["goaway-unsupported-version"]
        self.assertEqual(refused[:8], _frames.MAGIC)
        self.assertEqual(parse(refused[12:]).fields[1:], (6, "this server speaks protocol version 1; the client offered version 2"))


class RuleTests(unittest.TestCase):
    def assertViolation(self, frame: bytes, code: int, fragment: str) -> None:
        with self.assertRaises(ProtocolViolation) as caught:
            parse(frame)
        self.assertEqual(caught.exception.code, code)
        self.assertIn(fragment, str(caught.exception))

    def test_frames_against_the_rules_are_connection_errors_naming_the_rule(self) -> None:
        h = _frames.header
        self.assertViolation(h(70_000, _frames.MESSAGE, 0, 1), _frames.FRAME_SIZE_ERROR, "exceeds the maximum frame size")
        self.assertViolation(h(0, _frames.MESSAGE, 0, 1 | 1 << 31), _frames.PROTOCOL_ERROR, "reserved bits")
        self.assertViolation(h(0, 0x0A, 0, 0), _frames.PROTOCOL_ERROR, "unknown frame type 0x0a")
        self.assertViolation(h(0, _frames.MESSAGE, 0x04, 1), _frames.PROTOCOL_ERROR, "undefined flags")
        self.assertViolation(h(0, _frames.MESSAGE, 0, 0), _frames.PROTOCOL_ERROR, "must name a stream")
        self.assertViolation(h(8, _frames.PING, 0, 3) + bytes(8), _frames.PROTOCOL_ERROR, "belongs on stream 0")
        self.assertViolation(h(4, _frames.PING, 0, 0) + bytes(4), _frames.FRAME_SIZE_ERROR, "must carry 8 bytes")
        self.assertViolation(h(0, _frames.END_STREAM, 0, 1), _frames.PROTOCOL_ERROR, "only clients send")
        self.assertViolation(h(4, _frames.WINDOW_UPDATE, 0, 1) + bytes(4), _frames.FLOW_CONTROL_ERROR, "1...2^31-1")
        self.assertViolation(h(5, _frames.SETTINGS, 0, 0) + bytes(5), _frames.FRAME_SIZE_ERROR, "not a multiple of 6")
        self.assertViolation(h(6, _frames.SETTINGS, 0, 0) + bytes.fromhex("000100000100"), _frames.PROTOCOL_ERROR, "maxFrameSize 256")
        status = VECTORS["status-ok"]
        self.assertViolation(status[:3] + b"\x0d" + status[4:] + b"\x00", _frames.PROTOCOL_ERROR, "bytes after its last field")
        # A STATUS claiming 2 trailing pairs in 0 bytes: the count is refused before anything else.
        self.assertViolation(h(12, _frames.STATUS, 0, 1) + bytes(10) + b"\x00\x02", _frames.PROTOCOL_ERROR, "cannot fit")

    def test_unknown_settings_are_ignored_and_a_repeated_one_keeps_the_last(self) -> None:
        payload = bytes.fromhex("00630000002a" "000300000005" "000300000007")
        self.assertEqual(Settings.parse(payload), Settings(max_concurrent_calls=7))


if __name__ == "__main__":
    unittest.main()
