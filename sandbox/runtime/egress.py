"""Where webhooks may go: in the public profile only to public unicast addresses (or an operator's allow-list). No Flask.

Checked twice: when subscribing (every address the host resolves to) and on the address actually
connected to, because DNS can answer differently a second later. The check works on resolved
addresses, never on the host's spelling, so `2130706433`, `0x7f000001`, `0177.1`, `127.1`, `0`, `[::]`
and `[::ffff:127.0.0.1]` all reach it as the address they mean. Local mode allows everything:
loopback receivers are how a vendor tests on a laptop.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from ..domain.webhooks import check_callback_url
from ..errors import CallbackUrlForbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EgressRefused(OSError):
    """The host resolved only to addresses this server may not deliver to."""


def parse_networks(text: str) -> tuple:
    """`"127.0.0.1/32, 10.0.0.0/8"` -> networks; an empty text gives none."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in (text or "").split(",") if part.strip())


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo client, NAT64), which is what it reaches."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_unicast(ip: IPAddress) -> bool:
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public_unicast(inner)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
                                 or ip.is_link_local or ip.is_private)


@dataclass(frozen=True)
class EgressPolicy:
    """`public=False`: anything goes. `public=True`: public unicast addresses, plus `allow` networks."""

    public: bool = False
    allow: tuple = field(default_factory=tuple)

    @classmethod
    def from_settings(cls, settings: dict) -> EgressPolicy:
        return cls(public=bool(settings.get("PUBLIC")), allow=parse_networks(str(settings.get("WEBHOOK_ALLOW") or "")))

    def permits(self, address: str) -> bool:
        if not self.public:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        inner = embedded_ipv4(ip)
        if any(ip in net or (inner is not None and inner in net) for net in self.allow):
            return True
        return is_public_unicast(ip)

    def check_callback_url(self, url: str) -> None:
        """Subscribe time: a deliverable URL (both modes), whose every address is permitted (public)."""
        host, port = check_callback_url(url)
        if not self.public:
            return
        addresses = resolve(host, port)
        refused = [a for a in addresses if not self.permits(a)]
        if not addresses or refused:
            raise CallbackUrlForbidden(errors={"callback_url": [
                "the host does not resolve" if not addresses else "the host resolves to a non-public address"]})

    def create_connection(self, address: tuple, timeout: float | None = None, source_address=None) -> socket.socket:
        """`http.client`'s connection factory: connect only to a permitted address, then check the peer."""
        host, port = address
        for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            if not self.permits(sockaddr[0]):
                continue
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
                if not self.permits(sock.getpeername()[0]):
                    raise EgressRefused("connected to a non-public address")
                return sock
            except BaseException:
                sock.close()
                raise
        raise EgressRefused(f"no permitted address for {host}")


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself, whatever its spelling)."""
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in found))
