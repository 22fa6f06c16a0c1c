"""Status codes (docs/protocol.md, section 11), the error a failed call raises, and metadata."""

from __future__ import annotations

import enum
from typing import Iterable, Iterator


class StatusCode(enum.IntEnum):
    """gRPC's 17 codes and Mail Sync's ``MOVED``. A code this build does not know arrives as a plain
    ``int`` (section 16)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16
    #: The company lives on another node of the fleet (trailers ``mailsync-owner``,
    #: ``mailsync-company``); nothing was done. :class:`mailsync.Channel` follows it by itself.
    MOVED = 17


def code_name(code: int) -> str:
    """``"not found"`` for 5, as the Swift client's description; ``"code 18"`` for unknown codes."""
    try:
        return StatusCode(code).name.lower().replace("_", " ")
    except ValueError:
        return f"code {code}"


class Metadata:
    """Key-value pairs sent with a call or received in its STATUS; a key may repeat, order is kept.

    Keys are lowercased on the way in (the wire accepts 1–128 characters of ``a-z 0-9 - _ .``);
    values are strings. Build one from pairs or a dict: ``Metadata({"request-id": "r1"})``.
    """

    #: The API key (``msk_…``, optionally preceded by ``Bearer ``).
    AUTHORIZATION = "authorization"
    #: The caller's id for the call, echoed in the STATUS's trailing metadata and server logs.
    REQUEST_ID = "request-id"
    #: On ``RESOURCE_EXHAUSTED``: milliseconds to wait before trying again.
    RETRY_AFTER_MS = "retry-after-ms"
    #: On ``MOVED``: the owner node's RPC address, ``host:port`` (IPv6 in brackets).
    OWNER = "mailsync-owner"
    #: On ``MOVED``: the company whose owner ``OWNER`` names.
    COMPANY = "mailsync-company"

    def __init__(self, pairs: Iterable[tuple[str, str]] | dict[str, str] | None = None) -> None:
        items = pairs.items() if isinstance(pairs, dict) else (pairs or ())
        self._pairs: list[tuple[str, str]] = [(k.lower(), v) for k, v in items]

    def add(self, key: str, value: str) -> None:
        """Appends a pair; pairs with the same key stay."""
        self._pairs.append((key.lower(), value))

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value for ``key``."""
        key = key.lower()
        return next((v for k, v in self._pairs if k == key), default)

    def get_all(self, key: str) -> list[str]:
        """Every value for ``key``, in order."""
        key = key.lower()
        return [v for k, v in self._pairs if k == key]

    def pairs(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Metadata) and other._pairs == self._pairs

    def __repr__(self) -> str:
        return f"Metadata({self._pairs!r})"


class RPCError(Exception):
    """A call that ended with a status other than OK.

    ``code`` is a :class:`StatusCode` (or an ``int`` for a code this build does not know),
    ``message`` says what went wrong for a person, ``details`` holds optional structured detail
    (an encoded message, or empty), and ``metadata`` the STATUS's trailing metadata
    (``request-id``, and ``retry-after-ms`` on ``RESOURCE_EXHAUSTED`` when the server knows).
    ``str()`` reads ``"not found: no company with id 'x' (request id r1)"``.
    """

    def __init__(self, code: int, message: str, details: bytes = b"", metadata: Metadata | None = None) -> None:
        try:
            code = StatusCode(code)
        except ValueError:
            pass
        self.code: StatusCode | int = code
        self.message = message
        self.details = details
        self.metadata = metadata if metadata is not None else Metadata()
        super().__init__(self.code, message)

    @property
    def request_id(self) -> str | None:
        """The call's request id from the trailing metadata, when the server sent one."""
        return self.metadata.get(Metadata.REQUEST_ID)

    def __str__(self) -> str:
        text = f"{code_name(self.code)}: {self.message}"
        request_id = self.request_id
        return f"{text} (request id {request_id})" if request_id else text

    def __repr__(self) -> str:
        name = self.code.name if isinstance(self.code, StatusCode) else str(self.code)
        return f"RPCError({name}, {self.message!r})"
