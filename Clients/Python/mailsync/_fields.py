"""The field tables of generated messages: each ``_wire`` entry is a :class:`Field` naming the
field's number, attribute, kind (a scalar, ``enum("Name")`` or ``message("Name")``, resolved by
name in the message's module) and shape (singular, ``OPTIONAL``, ``REPEATED`` or ``map_of(key)``)."""

from __future__ import annotations

import dataclasses

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


@dataclasses.dataclass(frozen=True, slots=True)
class _Kind:
    """What one value of a field is: a scalar, an enum or a message (named, resolved lazily)."""

    name: str
    wire_type: int
    type_name: str | None = None  # the enum or message class, for "enum" and "message"

    @property
    def packable(self) -> bool:
        return self.wire_type in (VARINT, FIXED64)


INT32 = _Kind("int32", VARINT)
INT64 = _Kind("int64", VARINT)
UINT32 = _Kind("uint32", VARINT)
UINT64 = _Kind("uint64", VARINT)
BOOL = _Kind("bool", VARINT)
DOUBLE = _Kind("double", FIXED64)
STRING = _Kind("string", LENGTH)
BYTES = _Kind("bytes", LENGTH)
TIMESTAMP = _Kind("timestamp", VARINT)


def enum(type_name: str) -> _Kind:
    """An enum field's kind; the class is looked up by name in the message's module."""
    return _Kind("enum", VARINT, type_name)


def message(type_name: str) -> _Kind:
    """A message field's kind; the class is looked up by name in the message's module."""
    return _Kind("message", LENGTH, type_name)


SINGULAR = "singular"
OPTIONAL = "optional"
REPEATED = "repeated"


@dataclasses.dataclass(frozen=True, slots=True)
class _MapShape:
    key: _Kind


def map_of(key: _Kind) -> _MapShape:
    """The shape of a ``map<key, value>`` field (the field's kind is the value's)."""
    return _MapShape(key)


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """One field of a generated message: number, attribute name, kind and shape."""

    number: int
    attribute: str
    kind: _Kind
    shape: str | _MapShape = SINGULAR
