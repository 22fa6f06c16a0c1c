"""Following ``MOVED`` (docs/protocol.md, "Redirects (fleets)"): the owner address a redirect
names, which owner a call goes to first, and how many redirects one call may take.

A value-level module (no sockets), used by :class:`mailsync.Channel`.
"""

from __future__ import annotations

from ._status import Metadata, RPCError, StatusCode

#: Redirects followed for one call at most; one more ``MOVED`` fails it with ``UNAVAILABLE``.
MAX_HOPS = 4
#: Owner connections a channel keeps at most, besides the seed's.
MAX_CONNECTIONS = 64
#: Entries in each map of :class:`OwnerCache`.
CACHE_CAPACITY = 1024

_NAME = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_IPV6 = frozenset(b"0123456789abcdefABCDEF:.")
_DIGITS = frozenset(b"0123456789")

Address = tuple[str, int]


def parse_address(text: str) -> Address:
    """``(host, port)`` from ``host:port`` (IPv6: ``[host]:port``; the host comes back without
    brackets). Raises ``ValueError`` naming the rule the text breaks: a host is 1–253 characters of
    ``A-Z a-z 0-9 - .`` not starting with ``-`` or ``.``, or a bracketed IPv6 address (2–45
    characters of hex digits, ``:`` and ``.``, with a ``:``; no zone id); the port is 1–5 digits,
    1–65535; nothing else, not even a space."""
    raw = text.encode("utf-8")
    if not raw:
        raise ValueError("it is empty")
    if len(raw) > 300:
        raise ValueError("it is longer than 300 bytes")
    if raw[0] == ord("["):
        close = raw.find(b"]")
        if close < 0:
            raise ValueError("the '[' of an IPv6 host has no ']'")
        if raw[close + 1:close + 2] != b":":
            raise ValueError("no ':port' follows the bracketed host")
        host, port = raw[1:close], raw[close + 2:]
        if not 2 <= len(host) <= 45 or b":" not in host:
            raise ValueError("the bracketed host is not an IPv6 address")
        if not set(host) <= _IPV6:
            raise ValueError("the bracketed host has a character other than hex digits, ':' and '.'")
    else:
        colon = raw.rfind(b":")
        if colon < 0:
            raise ValueError("it has no ':port'")
        host, port = raw[:colon], raw[colon + 1:]
        if b":" in host:
            raise ValueError("an IPv6 host must be in brackets, as in [::1]:7420")
        if not host:
            raise ValueError("the host is empty")
        if len(host) > 253:
            raise ValueError("the host is longer than 253 characters")
        if not set(host) <= _NAME:
            raise ValueError("the host has a character other than A-Z a-z 0-9 - .")
        if host[0] in b"-.":
            raise ValueError("the host starts with '-' or '.'")
    if not 1 <= len(port) <= 5 or not set(port) <= _DIGITS:
        raise ValueError("the port is not 1 to 5 decimal digits")
    number = int(port)
    if not 1 <= number <= 65535:
        raise ValueError(f"the port {number} is not 1–65535")
    return host.decode("ascii"), number


def format_address(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _shown(value: str) -> str:
    return value if len(value) <= 100 else value[:100] + "…"


class Redirect:
    """What a ``MOVED`` error says: ``owner`` (an address) and ``company`` (None when absent,
    empty or over 128 bytes: followed, not cached)."""

    def __init__(self, error: RPCError, node: Address, method: str) -> None:
        value = error.metadata.get(Metadata.OWNER)
        key = Metadata.OWNER
        if not value:
            raise RPCError(StatusCode.INTERNAL,
                           f"{format_address(node)} answered {method} with MOVED but no owner address ('{key}' "
                           f"trailer); the redirect was not followed ({error.message})", error.details, error.metadata)
        try:
            self.owner = parse_address(value)
        except ValueError as reason:
            raise RPCError(StatusCode.INTERNAL,
                           f"{format_address(node)} answered {method} with MOVED to the owner address '{_shown(value)}' "
                           f"('{key}' trailer), which is not host:port: {reason}; the redirect was not followed",
                           error.details, error.metadata) from None
        company = error.metadata.get(Metadata.COMPANY) or ""
        self.company = company if company and len(company.encode("utf-8")) <= 128 else None


class RedirectPath:
    """The nodes one call went through; :meth:`follow` refuses the redirect after ``max_hops``."""

    def __init__(self, start: Address, max_hops: int = MAX_HOPS) -> None:
        self.nodes = [start]
        self.hops = 0
        self.max_hops = max_hops

    def follow(self, owner: Address, company: str | None, method: str) -> None:
        if self.hops >= self.max_hops:
            route = " → ".join(format_address(node) for node in [*self.nodes, owner])
            what = f"company '{_shown(company)}'" if company else "the company"
            raise RPCError(StatusCode.UNAVAILABLE,
                           f"{method} was redirected {self.hops} times without reaching the owner of {what} ({route}): "
                           "the fleet's placements disagree (a redirect loop); try again once the move has settled")
        self.hops += 1
        self.nodes.append(owner)

    def restart(self, node: Address) -> None:
        """A retry through the seed after a cached owner could not be reached (not a hop)."""
        self.nodes.append(node)


#: A key whose redirects named different companies (an operator's): not routed by key.
MANY_COMPANIES = object()


class OwnerCache:
    """Which node owns which company, and which company an API key acts on.

    A tenant key belongs to one company: its calls go to that company's owner once a redirect named
    it. A key whose redirects name two companies (an operator's) is not routed by key again: its
    calls go to the seed, and each company-scoped call pays one redirect. Both maps hold at most
    ``capacity`` entries (the oldest goes first).
    """

    def __init__(self, capacity: int = CACHE_CAPACITY) -> None:
        self.capacity = capacity
        self.keys: dict[str, object] = {}  # key -> company id, or MANY_COMPANIES
        self.owners: dict[str, Address] = {}

    def owner(self, key: str | None) -> tuple[Address, str] | None:
        """Where a call made with ``key`` goes first, and the company that decided it; None: the seed."""
        company = self.keys.get(key) if key is not None else None
        if not isinstance(company, str) or company not in self.owners:
            return None
        return self.owners[company], company

    def learned(self, redirect: Redirect, key: str | None) -> None:
        company = redirect.company
        if company is None:
            return
        if company not in self.owners and len(self.owners) >= self.capacity:
            del self.owners[next(iter(self.owners))]
        self.owners[company] = redirect.owner
        if key is None:
            return
        known = self.keys.get(key)
        if known is None:
            if len(self.keys) >= self.capacity:
                del self.keys[next(iter(self.keys))]
            self.keys[key] = company
        elif known is not MANY_COMPANIES and known != company:
            self.keys[key] = MANY_COMPANIES

    def owner_unreachable(self, owner: Address, company: str) -> None:
        """Forgets ``company``'s owner if it is still ``owner``."""
        if self.owners.get(company) == owner:
            del self.owners[company]
