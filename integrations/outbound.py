"""Outbound HTTP to addresses that users type in (a governance centre's report endpoint): the destination guard.

A coordinator chooses the URL; the hub's server POSTs there. Without a guard that is server-side request
forgery: the hub would call its own loopback services, the cloud metadata address or any host of the private
network. ``DestinationGuard.check`` decides whether a URL may be called and returns a ``Destination`` with the
addresses it vetted; ``post`` then connects to exactly one of those addresses (no second DNS lookup, so no
DNS-rebinding window) while the Host header and the TLS server name and certificate check keep the host name.

Rules: https only; no ``user:password@``; every address the host resolves to must be globally routable
(not loopback, private, link-local, multicast, reserved, unspecified, site-local, shared 100.64/10, nor an
IPv6 form of such an IPv4 address). The allow list (setting ``WEBHOOK_ALLOWED_HOSTS``: host names, IP
addresses and CIDR networks) admits a listed host name, or addresses inside a listed network, and for those
also plain http. Redirects are never followed and the answer's body is never read."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not globally routable although ``is_global`` says so on some Python versions.
NEVER_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "64:ff9b:1::/48",  # local-use NAT64
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")

# Why a destination is refused: a code, and the message a person sees (the reporting package's bilingual style).
# The messages never repeat the addresses the host resolved to.
REFUSALS = {
    "malformed": ("不是有效的网址", "not a valid URL"),
    "scheme": ("只允许 https 地址", "https only"),
    "credentials": ("地址中不能包含用户名或密码", "no user:password@ in the URL"),
    "unresolvable": ("无法解析主机名", "cannot resolve the host name"),
    "private": (
        "不允许本机、内网、链路本地、组播或保留地址",
        "private address: loopback, private, link-local, multicast or reserved",
    ),
}


class DestinationRefused(Exception):
    """The URL may not be called; ``reason`` is a key of ``REFUSALS``."""

    def __init__(self, reason: str):
        zh, en = REFUSALS[reason]
        super().__init__(f"{zh} ({en})")
        self.reason = reason
        self.message = f"{zh} ({en})"


class OutboundFailure(Exception):
    """The call to a vetted destination did not produce an answer; ``kind`` is timeout, tls or connection."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def is_public(address: IPAddress) -> bool:
    """Whether an address is globally routable (an IPv6 address carrying an IPv4 one is judged by both)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
        if address.is_site_local:
            return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not any(address in network for network in NEVER_PUBLIC)
    )


def _normalise_host(host: str) -> str:
    """Lower case, no trailing dot, IDNA (ASCII) form; ValueError when it is no host name or IP address."""
    host = host.strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{host!r} is not a host name") from exc
    if not _HOST_NAME.match(ascii_host):
        raise ValueError(f"{host!r} is not a host name")
    return ascii_host


@dataclass(frozen=True)
class AllowList:
    """Host names and networks outbound calls may reach although they are not public (and over http)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, value: AllowList | str | Iterable[str] | None) -> AllowList:
        """``"gov-centre.local, 10.20.0.5, 10.30.0.0/16"`` (or a list of such entries); ValueError for an entry
        that is neither a host name, an IP address nor a CIDR network."""
        if isinstance(value, AllowList):
            return value
        entries = [] if value is None else value.split(",") if isinstance(value, str) else value
        hosts, networks = set(), []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=True))
                continue
            except ValueError:
                if "/" in entry or ":" in entry or entry.replace(".", "").isdigit():
                    raise ValueError(f"{entry!r} is not a host name, an IP address or a CIDR network") from None
            hosts.add(_normalise_host(entry))
        return cls(frozenset(hosts), tuple(networks))

    @property
    def entries(self) -> tuple[str, ...]:
        return tuple(sorted(self.hosts)) + tuple(str(n) for n in self.networks)

    def admits(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


@dataclass(frozen=True)
class Destination:
    """A vetted URL: where to connect (``addresses``, already checked) and what to say (Host, path)."""

    scheme: str
    host: str
    port: int
    target: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"


class _UrlParts(TypedDict):
    """A URL split into what the guard checks and connects to (``DestinationGuard._split``)."""

    scheme: str
    host: str
    port: int
    target: str


class DestinationGuard:
    """Checks outbound URLs against the rules above; run it when a URL is saved and again at every call."""

    def __init__(self, allowed: AllowList | str | Iterable[str] | None = None):
        self.allowed = AllowList.parse(allowed)

    def check(self, url: str) -> Destination:
        """The vetted destination of ``url`` (the call time check: the host must resolve now), or
        DestinationRefused naming the first rule it breaks."""
        return self._check(url, must_resolve=True)

    def vet(self, url: str) -> None:
        """The check when a URL is saved: as ``check``, except that a host the allow list names need not
        resolve yet (a governance centre's name on its private network)."""
        self._check(url, must_resolve=False)

    def _check(self, url: str, *, must_resolve: bool) -> Destination:
        parts = self._split(url)
        host = parts["host"]
        listed = host in self.allowed.hosts
        if parts["scheme"] == "http" and not listed and not self.allowed.networks:
            raise DestinationRefused("scheme")
        if listed and not must_resolve:
            return Destination(parts["scheme"], host, parts["port"], parts["target"], ())
        addresses = self.resolve(host, parts["port"])
        if not listed:
            if not all(is_public(a) or self.allowed.admits(a) for a in addresses):
                raise DestinationRefused("private")
            if parts["scheme"] == "http" and not all(self.allowed.admits(a) for a in addresses):
                raise DestinationRefused("scheme")
        return Destination(parts["scheme"], host, parts["port"], parts["target"], tuple(str(a) for a in addresses))

    @staticmethod
    def _split(url: str) -> _UrlParts:
        text = (url or "").strip()
        if any(ord(c) < 0x21 or c == "\x7f" for c in text):  # spaces and control characters
            raise DestinationRefused("malformed")
        try:
            parts = urlsplit(text)
            port = parts.port
            host = _normalise_host(parts.hostname or "")
        except ValueError:
            raise DestinationRefused("malformed") from None
        if parts.scheme not in ("http", "https"):
            raise DestinationRefused("scheme" if parts.scheme and parts.netloc else "malformed")
        if parts.username is not None or parts.password is not None:
            raise DestinationRefused("credentials")
        if port == 0:
            raise DestinationRefused("malformed")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return {
            "scheme": parts.scheme,
            "host": host,
            "port": port or (443 if parts.scheme == "https" else 80),
            "target": target,
        }

    @staticmethod
    def resolve(host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to now (an IP literal is its own answer)."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, ValueError):
            raise DestinationRefused("unresolvable") from None
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise DestinationRefused("unresolvable")
        return addresses


def post(
    destination: Destination, body: bytes, headers: dict[str, str], *, timeout: float, ca_certs: str | None = None
) -> int:
    """POST ``body`` to a vetted destination and return the status code, without following a redirect or
    reading the answer's body. Connects only to the vetted addresses, in turn while one refuses the
    connection; raises OutboundFailure (timeout, tls or connection) when none answers."""
    return post_reading(destination, body, headers, timeout=timeout, ca_certs=ca_certs, read_limit=0)[0]


def post_reading(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    ca_certs: str | None = None,
    read_limit: int = 2048,
) -> tuple[int, bytes]:
    """``post``, also returning the first ``read_limit`` bytes of the answer (a peer hub's refusal code; the
    caller keeps only what it validates of them)."""
    for address in destination.addresses:
        pool = _pool(destination, address, timeout, ca_certs)
        try:
            response = pool.urlopen(
                "POST",
                destination.target,
                body=body,
                headers={**headers, "Host": destination.host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            status = response.status
            answer = response.read(read_limit) if read_limit else b""
            response.close()  # the rest of the body stays unread: nothing of it is kept or shown
            return status, answer
        except NewConnectionError:  # nothing listens there (a subclass of the connect timeout: test it first)
            continue
        except Urllib3Timeout:
            raise OutboundFailure("timeout") from None
        except SSLError:
            raise OutboundFailure("tls") from None
        except (HTTPError, OSError, ValueError):  # ValueError: http.client refusing what it was asked to send
            raise OutboundFailure("connection") from None
        finally:
            pool.close()
    raise OutboundFailure("connection")


def _pool(destination: Destination, address: str, timeout: float, ca_certs: str | None) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if destination.scheme == "https":
        # TLS speaks to the vetted address but names (SNI) and verifies the certificate for the URL's host.
        return urllib3.HTTPSConnectionPool(
            address,
            destination.port,
            timeout=limits,
            retries=False,
            maxsize=1,
            server_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs or certifi.where(),
        )
    return urllib3.HTTPConnectionPool(address, destination.port, timeout=limits, retries=False, maxsize=1)
