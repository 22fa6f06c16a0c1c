"""The message encoding of Schema/README.md ("Wire mapping"), for generated dataclasses.

Each generated message class lists its fields in a ``_wire`` table of :class:`Field` entries; the
:class:`Message` base class encodes and decodes from that table. The rules are those of the Swift
runtime (``Sources/MailSyncCoding``):

* ``int32``, ``int64``, enums and timestamps are zigzag varints; ``uint32``/``uint64`` plain
  varints; ``bool`` is 0 or 1 (anything else is refused); ``double`` is 8 bytes little-endian;
  strings, bytes and messages are length-delimited.
* Singular scalars are omitted at their default (a double only when its bits are all zero, so
  ``-0.0`` and NaN are written); ``optional`` fields are written whenever not ``None``; singular
  message fields are always written; repeated numbers, bools, enums and timestamps are packed;
  maps are one entry per key in ascending key order; then the unknown fields, verbatim.
* Reading: the last value of a repeated singular field wins; repeated scalars accept packed and
  unpacked; unknown fields are kept in ``unknown_fields`` and written back out.

Decoding untrusted bytes never reads past the end: every length is checked against what remains,
varints stop at 10 bytes, nesting stops at 64 levels (:data:`MAX_DEPTH`), and failures raise
:class:`DecodeError` naming the field.
"""

from __future__ import annotations

import struct
import sys
from typing import Any, ClassVar, Iterator, TypeVar

from ._fields import (BOOL, BYTES, DOUBLE, FIXED32 as _FIXED32, FIXED64 as _FIXED64, INT32, INT64, LENGTH as _LENGTH,
                      OPTIONAL, REPEATED, SINGULAR, STRING, TIMESTAMP, UINT32, UINT64, VARINT as _VARINT, Field,
                      _Kind, _MapShape, enum, map_of, message)
from ._timestamp import Timestamp
from ._varint import DecodeError, decode_varint, encode_varint, unzigzag, zigzag

__all__ = [
    "DecodeError", "Field", "Message", "Timestamp", "MAX_DEPTH",
    "INT32", "INT64", "UINT32", "UINT64", "BOOL", "DOUBLE", "STRING", "BYTES", "TIMESTAMP",
    "SINGULAR", "OPTIONAL", "REPEATED", "enum", "message", "map_of",
    "encode_varint", "decode_varint", "zigzag", "unzigzag",
]

#: How deeply messages may nest; the top-level message is depth 1 (as ``DecodingLimits``).
MAX_DEPTH = 64

_MAX_FIELD = 536_870_911


# MARK: - Scalars

_RANGES = {
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "uint32": (0, (1 << 32) - 1),
    "uint64": (0, (1 << 64) - 1),
    "enum": (-(1 << 31), (1 << 31) - 1),
}


def _check_range(kind: str, value: int, attribute: str) -> int:
    low, high = _RANGES[kind]
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{attribute}: {number} does not fit in {kind}")
    return number


def _encode_scalar(kind: _Kind, value: Any, attribute: str, depth: int) -> bytes:
    """The value's bytes without a tag (length-delimited values with their length)."""
    name = kind.name
    if name in ("int32", "int64", "enum"):
        return encode_varint(zigzag(_check_range(name, value, attribute)))
    if name in ("uint32", "uint64"):
        return encode_varint(_check_range(name, value, attribute))
    if name == "timestamp":
        return encode_varint(zigzag(_check_range("int64", value.micros, attribute)))
    if name == "bool":
        return b"\x01" if value else b"\x00"
    if name == "double":
        return struct.pack("<d", value)
    if name == "string":
        raw = value.encode("utf-8")
    elif name == "bytes":
        raw = bytes(value)
    else:  # message
        raw = value._encode(depth + 1)
    return encode_varint(len(raw)) + raw


def _is_default(kind: _Kind, value: Any) -> bool:
    """Whether a singular value is at its default and so is not written."""
    name = kind.name
    if name == "double":
        return struct.pack("<d", value) == bytes(8)
    if name == "timestamp":
        return value.micros == 0
    if name == "message":
        return False
    return not value


class _Reader:
    """Bounds-checked reads over one message's bytes."""

    __slots__ = ("data", "index", "end", "depth")

    def __init__(self, data: memoryview, index: int, end: int, depth: int) -> None:
        self.data, self.index, self.end, self.depth = data, index, end, depth

    def tags(self) -> Iterator[tuple[int, int, int]]:
        """(field, wire type, start of the tag) until the message ends."""
        while self.index < self.end:
            start = self.index
            key, self.index = decode_varint(self.data, self.index, self.end)
            number, wire_type = key >> 3, key & 7
            if not 1 <= number <= _MAX_FIELD:
                raise DecodeError(f"field number {number} is outside 1...{_MAX_FIELD}")
            if wire_type not in (_VARINT, _FIXED64, _LENGTH, _FIXED32):
                raise DecodeError(f"wire type {wire_type} is not used by this format", number)
            yield number, wire_type, start

    def varint(self, field: int) -> int:
        value, self.index = decode_varint(self.data, self.index, self.end, field)
        return value

    def length(self, field: int) -> int:
        length = self.varint(field)
        remaining = self.end - self.index
        if length > remaining:
            raise DecodeError(f"a length of {length} bytes exceeds the {remaining} that remain", field)
        return length

    def take(self, count: int, field: int) -> memoryview:
        if self.end - self.index < count:
            raise DecodeError(f"the input ends inside a {count}-byte value", field)
        chunk = self.data[self.index:self.index + count]
        self.index += count
        return chunk

    def skip(self, field: int, wire_type: int) -> None:
        if wire_type == _VARINT:
            self.varint(field)
        elif wire_type == _FIXED64:
            self.take(8, field)
        elif wire_type == _FIXED32:
            self.take(4, field)
        else:
            self.take(self.length(field), field)

    def value(self, kind: _Kind, field: int, resolve: Any) -> Any:
        """One value of ``kind`` whose wire type was already checked."""
        name = kind.name
        if name == "double":
            return struct.unpack("<d", self.take(8, field))[0]
        if kind.wire_type == _LENGTH:
            chunk_length = self.length(field)
            if name == "message":
                if self.depth >= MAX_DEPTH:
                    raise DecodeError(f"messages nest deeper than the limit of {MAX_DEPTH}", field)
                cls = resolve(kind.type_name)
                value = cls._decode(self.data, self.index, self.index + chunk_length, self.depth + 1)
                self.index += chunk_length
                return value
            chunk = self.take(chunk_length, field)
            if name == "bytes":
                return bytes(chunk)
            try:
                return str(chunk, "utf-8")
            except UnicodeDecodeError:
                raise DecodeError("a string is not valid UTF-8", field) from None
        raw = self.varint(field)
        if name == "uint64":
            return raw
        if name == "uint32":
            if raw > 0xFFFF_FFFF:
                raise DecodeError(f"{raw} does not fit in uint32", field)
            return raw
        if name == "bool":
            if raw > 1:
                raise DecodeError(f"a bool must be 0 or 1, got {raw}", field)
            return raw == 1
        signed = unzigzag(raw)
        if name == "int64":
            return signed
        if name == "timestamp":
            return Timestamp(signed)
        if not -(1 << 31) <= signed < (1 << 31):
            raise DecodeError(f"{signed} does not fit in int32", field)
        if name == "enum":
            cls = resolve(kind.type_name)
            try:
                return cls(signed)
            except ValueError:
                return signed  # open enums: a value this build does not know stays a number
        return signed


def _default(kind: _Kind, resolve: Any) -> Any:
    """The value a map entry's missing key or value takes."""
    if kind.name == "message":
        return resolve(kind.type_name)()
    if kind.name == "enum":
        return resolve(kind.type_name)(0)
    return _SCALAR_DEFAULTS[kind.name]


_SCALAR_DEFAULTS: dict[str, Any] = {
    "int32": 0, "int64": 0, "uint32": 0, "uint64": 0, "bool": False, "double": 0.0,
    "string": "", "bytes": b"", "timestamp": Timestamp.EPOCH,
}


def _expect(wire_type: int, expected: int, field: int) -> None:
    if wire_type != expected:
        raise DecodeError(f"expected wire type {expected}, got {wire_type}", field)


# MARK: - Messages

M = TypeVar("M", bound="Message")


class Message:
    """Base of every generated message: :meth:`encode`, :meth:`decode` and the field table."""

    __slots__ = ()
    _wire: ClassVar[tuple[Field, ...]] = ()
    _by_number: ClassVar[dict[int, Field]]

    def encode(self) -> bytes:
        """The message's bytes. Raises ``ValueError`` for a number outside its field's type."""
        return self._encode(1)

    @classmethod
    def decode(cls: type[M], data: bytes | bytearray | memoryview) -> M:
        """Decodes exactly one message from ``data``; raises :class:`DecodeError` when malformed."""
        view = memoryview(bytes(data))
        return cls._decode(view, 0, len(view), 1)

    @classmethod
    def _resolver(cls) -> Any:
        module = vars(sys.modules[cls.__module__])
        return module.__getitem__

    def _encode(self, depth: int) -> bytes:
        if depth > MAX_DEPTH:
            raise ValueError(f"messages nest deeper than the limit of {MAX_DEPTH}")
        out = bytearray()
        for field in sorted(self._wire, key=lambda f: f.number):
            value = getattr(self, field.attribute)
            kind, shape, number = field.kind, field.shape, field.number
            where = f"{type(self).__name__}.{field.attribute}"
            if isinstance(shape, _MapShape):
                for key in sorted(value):
                    entry = (encode_varint(1 << 3 | shape.key.wire_type) + _encode_scalar(shape.key, key, where, depth)
                             + encode_varint(2 << 3 | kind.wire_type) + _encode_scalar(kind, value[key], where, depth))
                    out += encode_varint(number << 3 | _LENGTH) + encode_varint(len(entry)) + entry
            elif shape == REPEATED:
                if kind.packable:
                    if value:
                        packed = b"".join(_encode_scalar(kind, v, where, depth) for v in value)
                        out += encode_varint(number << 3 | _LENGTH) + encode_varint(len(packed)) + packed
                else:
                    for v in value:
                        out += encode_varint(number << 3 | kind.wire_type) + _encode_scalar(kind, v, where, depth)
            elif value is None:
                if shape == SINGULAR:
                    raise ValueError(f"{where} is None; only optional fields may be")
            elif shape == OPTIONAL or not _is_default(kind, value):
                out += encode_varint(number << 3 | kind.wire_type) + _encode_scalar(kind, value, where, depth)
        out += self.unknown_fields  # type: ignore[attr-defined]
        return bytes(out)

    @classmethod
    def _decode(cls: type[M], data: memoryview, start: int, end: int, depth: int) -> M:
        if depth > MAX_DEPTH:
            raise DecodeError(f"nesting exceeds the limit of {MAX_DEPTH}")
        by_number = cls.__dict__.get("_by_number")
        if by_number is None:
            by_number = {f.number: f for f in cls._wire}
            cls._by_number = by_number
        resolve = cls._resolver()
        message = cls()
        unknown = bytearray()
        reader = _Reader(data, start, end, depth)
        for number, wire_type, tag_start in reader.tags():
            field = by_number.get(number)
            if field is None:
                reader.skip(number, wire_type)
                unknown += data[tag_start:reader.index]
                continue
            kind, shape = field.kind, field.shape
            if isinstance(shape, _MapShape):
                _expect(wire_type, _LENGTH, number)
                length = reader.length(number)
                if depth >= MAX_DEPTH:
                    raise DecodeError(f"messages nest deeper than the limit of {MAX_DEPTH}", number)
                entry = _Reader(data, reader.index, reader.index + length, depth + 1)
                key, value = _default(shape.key, resolve), _default(kind, resolve)
                for entry_field, entry_type, _ in entry.tags():
                    if entry_field == 1:
                        _expect(entry_type, shape.key.wire_type, number)
                        key = entry.value(shape.key, number, resolve)
                    elif entry_field == 2:
                        _expect(entry_type, kind.wire_type, number)
                        value = entry.value(kind, number, resolve)
                    else:
                        entry.skip(number, entry_type)
                reader.index += length
                getattr(message, field.attribute)[key] = value
            elif shape == REPEATED:
                values = getattr(message, field.attribute)
                if kind.packable and wire_type == _LENGTH:
                    length = reader.length(number)
                    packed = _Reader(data, reader.index, reader.index + length, depth)
                    while packed.index < packed.end:
                        values.append(packed.value(kind, number, resolve))
                    reader.index += length
                else:
                    _expect(wire_type, kind.wire_type, number)
                    values.append(reader.value(kind, number, resolve))
            else:
                _expect(wire_type, kind.wire_type, number)
                setattr(message, field.attribute, reader.value(kind, number, resolve))
        if unknown:
            message.unknown_fields = bytes(unknown)  # type: ignore[attr-defined]
        return message

