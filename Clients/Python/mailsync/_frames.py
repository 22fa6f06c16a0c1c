"""Frames of the Mail Sync protocol, version 1 (docs/protocol.md, sections 2–5): the preface, the
12-byte header, every frame type's payload, SETTINGS and metadata blocks.

Encoding functions return whole frames (header and payload). :func:`parse_frame` checks a frame
the way ``FrameDecoder`` does: flags a type does not define, the stream id rules, fixed payload
sizes, every length against the bytes that remain, UTF-8, metadata keys and counts, and no bytes
after the last field. A violation raises :class:`ProtocolViolation` carrying the GOAWAY error code
to close the connection with.
"""

from __future__ import annotations

import dataclasses
import struct

PREFACE = b"\x8eMSYNC\r\n" + struct.pack(">HH", 1, 0)
MAGIC = PREFACE[:8]
VERSION = 1
HEADER_SIZE = 12

CALL_START, MESSAGE, END_STREAM, STATUS, CANCEL, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = range(1, 10)
FLAG_COMPRESSED, FLAG_MORE, FLAG_ACK = 0x01, 0x02, 0x01

# GOAWAY error codes (section 4.8).
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR = 0, 1, 2, 3, 4
BAD_PREFACE, UNSUPPORTED_VERSION, ENHANCE_YOUR_CALM, HANDSHAKE_TIMEOUT = 5, 6, 7, 8
READ_TIMEOUT, TOO_MANY_CONNECTIONS, KEEPALIVE_TIMEOUT = 9, 10, 11
ERROR_NAMES = [
    "noError", "protocolError", "internalError", "flowControlError", "frameSizeError", "badPreface",
    "unsupportedVersion", "enhanceYourCalm", "handshakeTimeout", "readTimeout", "tooManyConnections",
    "keepaliveTimeout",
]

MAX_WINDOW = (1 << 31) - 1
MAX_METHOD_LENGTH = 512
_TYPE_NAMES = {1: "CALL_START", 2: "MESSAGE", 3: "END_STREAM", 4: "STATUS", 5: "CANCEL", 6: "SETTINGS",
               7: "PING", 8: "GOAWAY", 9: "WINDOW_UPDATE"}


def error_name(code: int) -> str:
    """A GOAWAY error code's name; unknown codes are kept as numbers (section 16)."""
    return ERROR_NAMES[code] if code < len(ERROR_NAMES) else f"error {code}"


class ProtocolViolation(Exception):
    """The peer broke a framing rule: a connection error with ``code`` (a GOAWAY error code)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


# MARK: - Settings


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one side accepts (section 4.6); the defaults are the protocol's."""

    max_frame_size: int = 65_536
    max_message_size: int = 4 * 1024 * 1024
    max_concurrent_calls: int = 100
    initial_stream_window: int = 256 * 1024
    initial_connection_window: int = 1024 * 1024
    max_metadata_size: int = 8 * 1024

    def encode(self) -> bytes:
        """A SETTINGS frame with all six settings in id order, as the Swift implementation sends."""
        values = (self.max_frame_size, self.max_message_size, self.max_concurrent_calls,
                  self.initial_stream_window, self.initial_connection_window, self.max_metadata_size)
        payload = b"".join(struct.pack(">HI", i + 1, v) for i, v in enumerate(values))
        return header(len(payload), SETTINGS, 0, 0) + payload

    @classmethod
    def parse(cls, payload: bytes) -> Settings:
        """Defaults, overridden by the entries; unknown ids ignored; a repeated id keeps the last."""
        if len(payload) % 6:
            raise ProtocolViolation(FRAME_SIZE_ERROR, f"a SETTINGS payload of {len(payload)} bytes is not a multiple of 6")
        values = dataclasses.asdict(cls())
        names = list(values)
        for offset in range(0, len(payload), 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if 1 <= key <= 6:
                values[names[key - 1]] = value
        settings = cls(**values)
        if not 16_384 <= settings.max_frame_size <= 16_777_215:
            raise ProtocolViolation(PROTOCOL_ERROR, f"maxFrameSize {settings.max_frame_size} is outside 16384...16777215")
        for window in (settings.initial_stream_window, settings.initial_connection_window):
            if window > MAX_WINDOW:
                raise ProtocolViolation(FLOW_CONTROL_ERROR, f"a window of {window} exceeds 2^31-1")
        return settings


# MARK: - Encoding


def header(length: int, frame_type: int, flags: int, stream_id: int) -> bytes:
    return struct.pack(">IBBHI", length, frame_type, flags, 0, stream_id)


def is_valid_key(key: str) -> bool:
    """1–128 characters of ``a-z 0-9 - _ .`` (section 5)."""
    return 1 <= len(key) <= 128 and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-_." for c in key)


def metadata_block(pairs: list[tuple[str, str]]) -> bytes:
    """A metadata block; raises ``ValueError`` for a malformed key or an oversized value."""
    out = bytearray(struct.pack(">H", len(pairs)))
    for key, value in pairs:
        if not is_valid_key(key):
            raise ValueError(f"metadata key {key!r} is not 1–128 characters of a-z 0-9 - _ .")
        raw = value.encode("utf-8")
        if len(raw) > 0xFFFF:
            raise ValueError(f"the value of metadata key {key!r} is longer than 65535 bytes")
        out += struct.pack(">B", len(key)) + key.encode("ascii") + struct.pack(">H", len(raw)) + raw
    return bytes(out)


def call_start(stream_id: int, method: str, timeout_micros: int, pairs: list[tuple[str, str]]) -> bytes:
    raw = method.encode("utf-8")
    if not 1 <= len(raw) <= MAX_METHOD_LENGTH:
        raise ValueError(f"a method name must be 1–{MAX_METHOD_LENGTH} bytes")
    payload = struct.pack(">QH", timeout_micros, len(raw)) + raw + metadata_block(pairs)
    return header(len(payload), CALL_START, 0, stream_id) + payload


def message(stream_id: int, chunk: bytes, flags: int) -> bytes:
    return header(len(chunk), MESSAGE, flags, stream_id) + chunk


def end_stream(stream_id: int) -> bytes:
    return header(0, END_STREAM, 0, stream_id)


def cancel(stream_id: int, code: int, reason: str) -> bytes:
    raw = reason.encode("utf-8")[:0xFFFF]
    payload = struct.pack(">HH", code, len(raw)) + raw
    return header(len(payload), CANCEL, 0, stream_id) + payload


def ping(data: bytes, ack: bool) -> bytes:
    return header(8, PING, FLAG_ACK if ack else 0, 0) + data


def goaway(last_stream_id: int, code: int, text: str) -> bytes:
    raw = text.encode("utf-8")
    payload = struct.pack(">III", last_stream_id, code, len(raw)) + raw
    return header(len(payload), GOAWAY, 0, 0) + payload


def window_update(stream_id: int, increment: int) -> bytes:
    return header(4, WINDOW_UPDATE, 0, stream_id) + struct.pack(">I", increment)


# MARK: - Decoding


@dataclasses.dataclass
class Frame:
    """One decoded frame. ``fields`` holds the type's parsed payload (see :func:`parse_frame`)."""

    type: int
    flags: int
    stream_id: int
    payload: bytes
    fields: tuple = ()


def check_header(raw: bytes, max_frame_size: int) -> tuple[int, int, int, int]:
    """(length, type, flags, stream id) from a 12-byte header, checked before any payload is read."""
    length, frame_type, flags, reserved, stream = struct.unpack(">IBBHI", raw)
    if length > max_frame_size:
        raise ProtocolViolation(FRAME_SIZE_ERROR, f"a frame of {length} bytes exceeds the maximum frame size of {max_frame_size}")
    if reserved or stream & 0x8000_0000:
        raise ProtocolViolation(PROTOCOL_ERROR, "reserved bits are set in a frame header")
    return length, frame_type, flags, stream


class _Payload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.data, self.index = name, data, 0

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.index:
            raise ProtocolViolation(
                PROTOCOL_ERROR, f"{self.name} frame: a length of {count} exceeds the {len(self.data) - self.index} bytes that remain")
        chunk = self.data[self.index:self.index + count]
        self.index += count
        return chunk

    def integer(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if size > len(self.data) - self.index:
            raise ProtocolViolation(PROTOCOL_ERROR, f"{self.name} frame ends in the middle of a field")
        return struct.unpack(fmt, self.take(size))[0]

    def text(self, count: int) -> str:
        try:
            return self.take(count).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolViolation(PROTOCOL_ERROR, f"{self.name} frame: a string is not valid UTF-8") from None

    def metadata(self) -> list[tuple[str, str]]:
        count = self.integer(">H")
        if count * 4 > len(self.data) - self.index:
            raise ProtocolViolation(
                PROTOCOL_ERROR, f"{self.name} frame: {count} metadata pairs cannot fit in {len(self.data) - self.index} bytes")
        pairs = []
        for _ in range(count):
            key = self.text(self.integer(">B"))
            if not is_valid_key(key):
                raise ProtocolViolation(PROTOCOL_ERROR, f"{self.name} frame: metadata key {key!r} is not 1–128 characters of a-z 0-9 - _ .")
            pairs.append((key, self.text(self.integer(">H"))))
        return pairs

    def end(self) -> None:
        if self.index != len(self.data):
            raise ProtocolViolation(PROTOCOL_ERROR, f"{self.name} frame has {len(self.data) - self.index} bytes after its last field")


def parse_frame(frame_type: int, flags: int, stream_id: int, payload: bytes) -> Frame:
    """Checks and parses a frame a client may receive; frames only a server receives are refused.

    ``fields`` is: STATUS (code, message, details, trailers); GOAWAY (last stream id, code,
    message); WINDOW_UPDATE (increment,); SETTINGS (Settings,) or () for an ACK; PING (data,);
    MESSAGE ().
    """
    name = _TYPE_NAMES.get(frame_type)
    if name is None:
        raise ProtocolViolation(PROTOCOL_ERROR, f"unknown frame type 0x{frame_type:02x} (this client speaks version {VERSION})")
    allowed = {MESSAGE: FLAG_COMPRESSED | FLAG_MORE, SETTINGS: FLAG_ACK, PING: FLAG_ACK}.get(frame_type, 0)
    if flags & ~allowed:
        raise ProtocolViolation(PROTOCOL_ERROR, f"{name} frame has undefined flags 0x{flags:x}")
    on_stream = frame_type not in (SETTINGS, PING, GOAWAY)
    if frame_type != WINDOW_UPDATE and on_stream != (stream_id != 0):
        where = "must name a stream, not stream 0" if on_stream else f"belongs on stream 0, not stream {stream_id}"
        raise ProtocolViolation(PROTOCOL_ERROR, f"{name} frame {where}")
    if frame_type in (CALL_START, END_STREAM, CANCEL):
        raise ProtocolViolation(PROTOCOL_ERROR, f"a server sent {name}, which only clients send")
    reader = _Payload(name, payload)
    if frame_type == MESSAGE:
        return Frame(frame_type, flags, stream_id, payload)
    if frame_type == STATUS:
        code = reader.integer(">H")
        text = reader.text(reader.integer(">I"))
        details = reader.take(reader.integer(">I"))
        trailers = reader.metadata()
        reader.end()
        return Frame(frame_type, flags, stream_id, payload, (code, text, details, trailers))
    if frame_type == SETTINGS:
        if flags & FLAG_ACK:
            if payload:
                raise ProtocolViolation(FRAME_SIZE_ERROR, f"SETTINGS ACK must carry 0 bytes, got {len(payload)}")
            return Frame(frame_type, flags, stream_id, payload)
        return Frame(frame_type, flags, stream_id, payload, (Settings.parse(payload),))
    if frame_type == PING:
        if len(payload) != 8:
            raise ProtocolViolation(FRAME_SIZE_ERROR, f"PING frame must carry 8 bytes, got {len(payload)}")
        return Frame(frame_type, flags, stream_id, payload, (payload,))
    if frame_type == GOAWAY:
        last = reader.integer(">I")
        code = reader.integer(">I")
        text = reader.text(reader.integer(">I"))
        reader.end()
        return Frame(frame_type, flags, stream_id, payload, (last, code, text))
    # WINDOW_UPDATE
    if len(payload) != 4:
        raise ProtocolViolation(FRAME_SIZE_ERROR, f"WINDOW_UPDATE frame must carry 4 bytes, got {len(payload)}")
    increment = struct.unpack(">I", payload)[0]
    if not 1 <= increment <= MAX_WINDOW:
        raise ProtocolViolation(FLOW_CONTROL_ERROR, f"a window increment must be 1...2^31-1, got {increment}")
    return Frame(frame_type, flags, stream_id, payload, (increment,))
