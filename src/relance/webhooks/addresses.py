"""Where a webhook may be sent: the checks that keep an integrator's URL from reaching Relance's
own network (SSRF). `url_problem` checks a URL as it is given, without resolving it, so that
the API answers at once; `resolve_public` resolves a host when a connection is about to be made,
and the sender connects to the very addresses it returned, so that a name which changes its
answer between the check and the connection (DNS rebinding) cannot slip past."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
EXAMPLE = "https://example.com/webhooks"
# NAT64's well-known prefix (RFC 6052): a translator sends such an address to the IPv4 address
# in its last 32 bits, which is the one that must be public.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressError(Exception):
    """A webhook's host cannot be connected to."""


class HostNotFound(AddressError):
    """The host has no address (or the resolver failed)."""


class ForbiddenAddress(AddressError):
    """The host is, or resolves to, an address webhooks may not reach."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host
        self.address = address
        shown = address if host == address else f"{host} resolves to {address}, which"
        super().__init__(f"{shown} is {address_kind(ipaddress.ip_address(address))}")


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """None when `url` may be an endpoint's URL, else what to fix, for a 400's details."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    # urlsplit silently drops tabs and newlines; a URL that holds them is not the one we'd call.
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return "must not contain spaces or control characters (percent-encode them)"
    # Even an empty one ("…/#"): a receiver never sees a fragment, so the URL is not meant.
    if "#" in url:
        return "must not have a fragment (#...)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return (
            f"must be a valid absolute URL with a host and, if any, a port 1-65535, e.g. {EXAMPLE}"
        )
    return _parts_problem(parts, allow_private=allow_private)


def _parts_problem(parts: SplitResult, *, allow_private: bool) -> str | None:
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        wanted = "an absolute http or https URL" if allow_private else "an absolute https URL"
        return f"must be {wanted}, e.g. {EXAMPLE}"
    # urlsplit keeps a backslash in the host where browsers and some clients read a "/".
    if "\\" in parts.netloc:
        return "must not contain backslashes in its host"
    if "@" in parts.netloc:
        return "must not hold credentials (user:password@); the signature authenticates Relance"
    if not parts.hostname:
        return f"must name a host, e.g. {EXAMPLE}"
    return host_problem(parts.hostname, allow_private=allow_private)


def host_problem(host: str, *, allow_private: bool) -> str | None:
    """What is wrong with a URL's host as written, without resolving it."""
    address = literal_address(host)
    if address is None:
        if _legacy_ipv4(host):
            return "must write an IPv4 address as four decimal numbers (a.b.c.d)"
        return None
    if not allow_private and not is_public(address):
        return f"must reach a public address: {address} is {address_kind(address)}"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally ("10.0.0.1", "::1" without its brackets), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _legacy_ipv4(host: str) -> bool:
    # The C resolver reads "127.1", "2130706433" or "0x7f.1" as 127.0.0.1: such a host is an
    # address in disguise, never a name (a top-level domain is never numeric).
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def is_public(address: IPAddress) -> bool:
    """Whether a webhook may reach `address`: globally routable unicast, judged by the IPv4
    address inside the IPv6 forms that carry one (mapped, NAT64, 6to4)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or _nat64_inner(address) or address.sixtofour
        if inner is not None:
            return is_public(inner)
        # Deprecated site-local addresses (fec0::/10) count as global to the ipaddress module.
        if address.is_site_local:
            return False
    # is_global alone lets multicast and some reserved IPv6 ranges (::/8) through.
    return address.is_global and not address.is_multicast and not address.is_reserved


def _nat64_inner(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address not in _NAT64:
        return None
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def address_kind(address: IPAddress) -> str:
    """What kind of address it is, in words, for a message."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or _nat64_inner(address) or address.sixtofour
        if inner is not None:
            return f"{address_kind(inner)} ({inner}) in IPv6 form"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if address.is_multicast:
        return "a multicast address"
    if address in ipaddress.IPv4Network("100.64.0.0/10"):
        return "a shared (carrier-grade NAT) address"
    if address.is_private:
        return "a private address"
    if is_public(address):
        return "a public address"
    return "a reserved address"


async def resolve_public(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for `host`, in the resolver's order. Unless private networks
    are allowed, refuses the host (ForbiddenAddress) if any of its addresses is not public: a
    name that mixes public and private answers is refused, not filtered."""
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = await _resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address)):
                raise ForbiddenAddress(host, address)
    return addresses


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    # A gaierror, or a ValueError for a name the resolver cannot even be asked (IDNA, NUL).
    except (OSError, ValueError) as exc:
        raise HostNotFound(f"{host} could not be resolved: {exc}") from None
    # One entry per address, in order: getaddrinfo repeats them per family and protocol.
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise HostNotFound(f"{host} has no address")
    return addresses
