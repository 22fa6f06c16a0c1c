"""Base-128 varints and zigzag, as Schema/README.md ("Wire mapping") uses them, and the error
malformed input raises. Decoding never reads past ``end``: a varint stops at 10 bytes (64 bits)."""

from __future__ import annotations

_U64 = (1 << 64) - 1  # the largest varint


class DecodeError(ValueError):
    """Bytes that are not a valid encoding of the message; ``field`` is the field number, if any."""

    def __init__(self, message: str, field: int | None = None) -> None:
        super().__init__(message if field is None else f"field {field}: {message}")
        self.field = field


def zigzag(value: int) -> int:
    """A signed 64-bit integer as an unsigned one: 0 → 0, -1 → 1, 1 → 2."""
    return ((value << 1) ^ (value >> 63)) & _U64


def unzigzag(value: int) -> int:
    """The inverse of :func:`zigzag`."""
    return (value >> 1) ^ -(value & 1)


def encode_varint(value: int) -> bytes:
    """``value`` (0 ... 2**64-1) as a base-128 varint, least significant group first."""
    if not 0 <= value <= _U64:
        raise ValueError(f"{value} does not fit in a 64-bit varint")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes | memoryview, index: int, end: int, field: int | None = None) -> tuple[int, int]:
    """Reads a varint at ``index`` (before ``end``): the value and the index after it.

    Raises :class:`DecodeError` when the input ends inside it or it is longer than 64 bits.
    """
    result = 0
    for i in range(10):
        if index >= end:
            raise DecodeError("the input ends inside a varint", field)
        byte = data[index]
        index += 1
        if i == 9 and byte > 1:
            raise DecodeError("a varint overflows 64 bits", field)
        result |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return result, index
    raise DecodeError("a varint is longer than 10 bytes", field)  # pragma: no cover (the i == 9 check)
