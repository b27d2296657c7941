"""Where a webhook may be sent: what url_problem says of the URLs it refuses, which addresses
count as public (including private ones in IPv6 disguise), and resolve_public's answers, the
operating system's resolver faked (no test depends on DNS)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from relance.webhooks.addresses import (
    ForbiddenAddress,
    HostNotFound,
    is_public,
    resolve_public,
    url_problem,
)

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class FakeResolver:
    """Stands in for socket.getaddrinfo (the OS resolver, not Relance's code): the n-th
    question about a faked name gets the n-th answer (the last one from then on); an empty
    answer is a resolver failure; other names go to the real resolver."""

    def __init__(self) -> None:
        self.real = socket.getaddrinfo
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in self.answers:
            return self.real(host, port, *args, **kwargs)
        answers = self.answers[host]
        asked = self.asked.count(host)
        self.asked.append(host)
        addresses = answers[min(asked, len(answers) - 1)]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [_info(address, int(port)) for address in addresses]


def _info(address: str, port: int) -> tuple[Any, ...]:
    if ipaddress.ip_address(address).version == 6:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    fake = FakeResolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class TestUrlProblem:
    @pytest.mark.parametrize(
        "url",
        [
            "https://example.com/webhooks",
            "https://example.com:8443/hooks?company=7",
            "https://bücher.example/hooks",
            f"https://{PUBLIC_V4}/hooks",
            f"https://[{PUBLIC_V6}]/hooks",
            "https://localhost/hooks",  # a name: it is judged once resolved
        ],
    )
    def test_accepts(self, url: str) -> None:
        assert url_problem(url, allow_private=False) is None

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            (
                "http://example.com/hooks",
                "must be an absolute https URL, e.g. https://example.com/webhooks",
            ),
            ("ftp://example.com/hooks", "must be an absolute https URL"),
            ("example.com/hooks", "must be an absolute https URL"),
            ("https:///hooks", "must be an absolute https URL"),
            ("https://user:secret@example.com/hooks", "must not hold credentials (user:password@)"),
            ("https://token@example.com/hooks", "must not hold credentials"),
            ("https://example.com/hooks#part", "must not have a fragment (#...)"),
            ("https://example.com/hooks#", "must not have a fragment"),
            ("https://exa mple.com/hooks", "must not contain spaces or control characters"),
            ("https://example.com/ho\noks", "must not contain spaces or control characters"),
            ("https://example.com:99999/hooks", "a port 1-65535"),
            ("https://example.com:0/hooks", "a port 1-65535"),
            ("https://example.com:https/hooks", "a port 1-65535"),
            ("https://[::1/hooks", "must be a valid absolute URL"),
            ("https://example.com\\@internal/hooks", "must not contain backslashes in its host"),
            ("https://evil.example\\.example.com/", "must not contain backslashes"),
            ("https://" + "a" * 2040 + ".com/", "must be at most 2048 characters"),
            ("https://127.1/hooks", "must write an IPv4 address as four decimal numbers"),
            ("https://2130706433/hooks", "four decimal numbers"),
            ("https://0x7f.0.0.1/hooks", "four decimal numbers"),
            ("https://0/hooks", "four decimal numbers"),
            ("https://127.0.0.1/hooks", "must reach a public address: 127.0.0.1 is a loopback"),
            ("https://10.1.2.3/hooks", "10.1.2.3 is a private address"),
            ("https://100.64.0.1/hooks", "a shared (carrier-grade NAT) address"),
            ("https://169.254.169.254/latest", "a link-local address (cloud metadata"),
            ("https://0.0.0.0/hooks", "the unspecified address"),
            ("https://224.0.0.1/hooks", "a multicast address"),
            ("https://[::1]/hooks", "::1 is a loopback address"),
            ("https://[fd00::1]/hooks", "fd00::1 is a private address"),
            ("https://[fe80::1]/hooks", "a link-local address"),
            ("https://[fec0::1]/hooks", "must reach a public address"),
            ("https://[::ffff:10.0.0.1]/hooks", "a private address (10.0.0.1) in IPv6 form"),
            ("https://[64:ff9b::a00:1]/hooks", "a private address (10.0.0.1) in IPv6 form"),
            ("https://[64:ff9b::7f00:1]/hooks", "a loopback address (127.0.0.1) in IPv6 form"),
            ("https://[2002:a00:1::]/hooks", "a private address (10.0.0.1) in IPv6 form"),
        ],
    )
    def test_refuses_with_what_to_fix(self, url: str, message: str) -> None:
        problem = url_problem(url, allow_private=False)
        assert problem is not None
        assert message in problem

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/hooks",
            "http://localhost/hooks",
            "https://10.0.0.5/hooks",
            "http://[::1]:9000/hooks",
        ],
    )
    def test_private_networks_allowed_when_asked(self, url: str) -> None:
        assert url_problem(url, allow_private=True) is None

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("ftp://example.com/", "must be an absolute http or https URL"),
            ("http://user:pw@127.0.0.1/", "must not hold credentials"),
            ("http://127.1/", "four decimal numbers"),
            ("http://localhost/#x", "must not have a fragment"),
        ],
    )
    def test_still_refused_when_private_networks_are_allowed(self, url: str, message: str) -> None:
        problem = url_problem(url, allow_private=True)
        assert problem is not None
        assert message in problem


class TestIsPublic:
    @pytest.mark.parametrize(
        "address", [PUBLIC_V4, PUBLIC_V6, "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"]
    )
    def test_public(self, address: str) -> None:
        assert is_public(ipaddress.ip_address(address))

    @pytest.mark.parametrize(
        "address",
        [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",  # noqa: S104 - an address judged, not bound
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "224.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "64:ff9b::c0a8:101",
            "2002:7f00:1::",
        ],
    )
    def test_not_public(self, address: str) -> None:
        assert not is_public(ipaddress.ip_address(address))


class TestResolvePublic:
    async def test_a_literal_is_not_resolved(self, resolver: FakeResolver) -> None:
        assert await resolve_public(PUBLIC_V4, 443, allow_private=False) == [PUBLIC_V4]
        assert resolver.asked == []

    async def test_the_resolvers_answers_in_order_without_repeats(
        self, resolver: FakeResolver
    ) -> None:
        resolver.answers["hooks.example"] = [[PUBLIC_V6, PUBLIC_V4, PUBLIC_V6]]
        addresses = await resolve_public("hooks.example", 443, allow_private=False)
        assert addresses == [PUBLIC_V6, PUBLIC_V4]

    async def test_a_name_with_one_private_answer_is_refused(self, resolver: FakeResolver) -> None:
        resolver.answers["rebind.example"] = [[PUBLIC_V4, "127.0.0.1"]]
        with pytest.raises(ForbiddenAddress) as refused:
            await resolve_public("rebind.example", 443, allow_private=False)
        assert str(refused.value) == (
            "rebind.example resolves to 127.0.0.1, which is a loopback address"
        )
        assert refused.value.address == "127.0.0.1"

    async def test_a_private_literal_is_refused(self) -> None:
        with pytest.raises(ForbiddenAddress, match=r"^10\.0\.0\.1 is a private address$"):
            await resolve_public("10.0.0.1", 443, allow_private=False)

    async def test_private_answers_allowed_when_asked(self, resolver: FakeResolver) -> None:
        resolver.answers["intranet.example"] = [["10.0.0.7"]]
        assert await resolve_public("intranet.example", 80, allow_private=True) == ["10.0.0.7"]

    async def test_localhost_is_loopback(self) -> None:
        with pytest.raises(ForbiddenAddress, match="loopback"):
            await resolve_public("localhost", 443, allow_private=False)

    async def test_an_unknown_name(self, resolver: FakeResolver) -> None:
        resolver.answers["nowhere.example"] = [[]]
        with pytest.raises(HostNotFound, match=r"^nowhere\.example could not be resolved"):
            await resolve_public("nowhere.example", 443, allow_private=False)
