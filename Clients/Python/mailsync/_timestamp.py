"""``Timestamp``: the schema's ``timestamp``, microseconds since the Unix epoch (a zigzag varint on
the wire), with exact ``datetime`` conversions."""

from __future__ import annotations

import dataclasses
import datetime
from typing import ClassVar


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Timestamp:
    """A point in time with microsecond precision: microseconds since 1970-01-01T00:00:00Z."""

    micros: int = 0

    EPOCH: ClassVar[Timestamp]

    @classmethod
    def from_datetime(cls, value: datetime.datetime) -> Timestamp:
        """An aware ``datetime`` (a naive one is taken as UTC), exactly."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return cls((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)

    @classmethod
    def now(cls) -> Timestamp:
        return cls.from_datetime(datetime.datetime.now(datetime.timezone.utc))

    def to_datetime(self) -> datetime.datetime:
        """The time as an aware UTC ``datetime``; ``OverflowError`` outside years 1–9999."""
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return epoch + datetime.timedelta(microseconds=self.micros)

    def __str__(self) -> str:
        try:
            return self.to_datetime().isoformat()
        except OverflowError:
            return f"Timestamp({self.micros}µs)"


Timestamp.EPOCH = Timestamp(0)
