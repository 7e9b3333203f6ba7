"""Where the hub may send: the addresses a webhook or push endpoint may reach, and the one HTTP POST both use.

A webhook or push endpoint is a URL a person typed (or a browser handed over). Unchecked, it turns the hub into a
tool for reaching what only the hub can reach: its own loopback services, a link-local metadata service
(169.254.169.254), and, through the delivery log, a port scanner of them. So every URL is checked when it is made
and again at every delivery: the host is resolved, every answer must be allowed, and the connection goes to the very
address that was checked (a name that changes its answer between the check and the connection, DNS rebinding,
changes nothing). The answer is read for its status only: its body never reaches the log or the caller.

Push endpoints are a browser vendor's service on the internet: public HTTPS hosts only. Webhooks may reach the home
network (home automation lives there: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), but not this machine or
link-local addresses unless the config says so (`notify.webhooks.allow_loopback`).
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import SplitResult, urlsplit

from homewarden.i18n import N_, _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Return the addresses a host name stands for (the system's resolver unless a test stands in for DNS).
Resolver = Callable[[str, int], list[str]]

HOME_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
# Names of this machine (RFC 6761), and names that never stand for a public host (RFC 6761, RFC 8375, mDNS and the
# usual home-router suffixes).
LOOPBACK_SUFFIXES = (".localhost", "localhost.localdomain")
LOCAL_SUFFIXES = (".local", ".internal", ".home.arpa", ".lan", ".localdomain", ".invalid", ".test", ".example")


class DestinationRefusedError(ValueError):
    """A URL the hub will not send to; the message says why, for whoever made it."""


class DeliveryFailedError(Exception):
    """A delivery that got no HTTP answer; the message is a short reason fit for a delivery log."""


def system_resolver(host: str, port: int) -> list[str]:
    """Return every address the system's resolver gives for ``host``."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


@dataclass(frozen=True)
class DestinationPolicy:
    """Which URLs one kind of endpoint may have, and which addresses its hosts may resolve to."""

    kind: str
    schemes: frozenset[str]
    home_network: bool
    loopback: bool
    public_names_only: bool
    resolver: Resolver = field(default=system_resolver, compare=False)
    # The config key that would allow this machine, named in the refusal (None: nothing allows it).
    loopback_setting: str | None = None

    def check_url(self, url: str) -> SplitResult:
        """Refuse a URL whose scheme, host name or literal address is not allowed (no DNS lookup)."""
        parts = urlsplit(url)
        if parts.scheme not in self.schemes:
            wanted = _(" or ").join(f"{scheme}://" for scheme in sorted(self.schemes))
            raise DestinationRefusedError(_("{kind} must be an {wanted} URL").format(kind=_(self.kind), wanted=wanted))
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise DestinationRefusedError(_("{kind} needs a host").format(kind=_(self.kind)))
        try:
            parts.port  # noqa: B018 (urlsplit checks the port only when asked)
        except ValueError:
            raise DestinationRefusedError(_("{kind} has an invalid port").format(kind=_(self.kind))) from None
        literal = _literal_address(host)
        if literal is not None:
            self._check_address(literal)
        elif host == "localhost" or host.endswith(LOOPBACK_SUFFIXES):
            if not self.loopback:
                raise DestinationRefusedError(
                    _("{kind} may not reach this machine ({host}){hint}").format(
                        kind=_(self.kind), host=host, hint=self._hint()
                    )
                )
        elif self.public_names_only and ("." not in host or host.endswith(LOCAL_SUFFIXES)):
            raise DestinationRefusedError(
                _("{kind} must be a public host name, not {host}").format(kind=_(self.kind), host=host)
            )
        return parts

    def addresses(self, url: str) -> tuple[SplitResult, list[IPAddress]]:
        """Check a URL, resolve its host and refuse it if any answer is not allowed; return the addresses."""
        parts = self.check_url(url)
        host = (parts.hostname or "").rstrip(".")
        literal = _literal_address(host)
        if literal is not None:
            return parts, [literal]
        try:
            answers = [_plain(ipaddress.ip_address(answer.split("%", 1)[0])) for answer in self.resolver(host, 443)]
        except (OSError, UnicodeError, ValueError):
            raise DeliveryFailedError(f"{host} does not resolve") from None
        if not answers:
            raise DeliveryFailedError(f"{host} does not resolve")
        for address in answers:
            self._check_address(address, f"{host} is {address}")
        return parts, answers

    def check_when_made(self, url: str) -> None:
        """Refuse a URL at the moment it is saved: its form, and its host's addresses if the name resolves now."""
        # A name that does not resolve yet may later: every delivery checks again.
        with contextlib.suppress(DeliveryFailedError):
            self.addresses(url)

    def _check_address(self, address: IPAddress, shown: str | None = None) -> None:
        """Refuse an address the policy does not allow; ``shown`` names it in the refusal ("name is address")."""
        address = _plain(address)
        shown = shown or str(address)
        if address.is_loopback or address.is_unspecified or address.is_link_local:
            if not self.loopback:
                if address.is_link_local:
                    refusal = _("{kind} may not reach a link-local address ({address}){hint}")
                else:
                    refusal = _("{kind} may not reach this machine ({host}){hint}")
                raise DestinationRefusedError(
                    refusal.format(kind=_(self.kind), address=shown, host=shown, hint=self._hint())
                )
            return
        if any(address in network for network in HOME_NETWORKS):
            if not self.home_network:
                raise DestinationRefusedError(
                    _("{kind} must reach a public address, not {address}").format(kind=_(self.kind), address=shown)
                )
            return
        if not address.is_global or address.is_multicast:
            raise DestinationRefusedError(
                _("{kind} may not reach a reserved address ({address})").format(kind=_(self.kind), address=shown)
            )

    def _hint(self) -> str:
        if not self.loopback_setting:
            return ""
        return _("; {setting}: true in the config allows it").format(setting=self.loopback_setting)


PUSH_ENDPOINTS = DestinationPolicy(
    N_("a push endpoint"), frozenset({"https"}), home_network=False, loopback=False, public_names_only=True
)


def webhook_destinations(*, allow_loopback: bool = False, resolver: Resolver = system_resolver) -> DestinationPolicy:
    """Return the policy of webhooks: http or https, the home network allowed, this machine only if configured."""
    return DestinationPolicy(
        N_("a webhook URL"),
        frozenset({"http", "https"}),
        home_network=True,
        loopback=allow_loopback,
        public_names_only=False,
        resolver=resolver,
        loopback_setting="notify.webhooks.allow_loopback",
    )


def _literal_address(host: str) -> IPAddress | None:
    try:
        return _plain(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        pass
    # Forms the resolver reads as IPv4 though they are not dotted quads ("2130706433", "0x7f.1", "127.1").
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def _plain(address: IPAddress) -> IPAddress:
    """Return the IPv4 address an IPv4-mapped or -translated IPv6 address reaches, else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in ipaddress.IPv6Network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


@dataclass(frozen=True)
class Answer:
    """What an endpoint answered: the status and its standard phrase (never the body, never its own phrase)."""

    status: int

    @property
    def reason(self) -> str:
        """Return the standard phrase of the status ("Not Found"), or "" for a status without one."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to an address checked beforehand, speaking to the URL's host name."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float, tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((str(self._address), self.port), self.timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    policy: DestinationPolicy,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    """POST ``body`` to ``url`` at an address the policy allows; return the status (redirects are not followed).

    Raise DestinationRefusedError for a URL the policy refuses and DeliveryFailedError, with a short reason, when
    no HTTP answer came.
    """
    parts, addresses = policy.addresses(url)
    hostname = (parts.hostname or "").rstrip(".")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = (tls or ssl.create_default_context()) if secure else None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    failure = DeliveryFailedError("no address")
    for address in addresses:
        connection = _PinnedConnection(hostname, port, address, timeout, context)
        try:
            try:
                connection.connect()
            except ssl.SSLError as error:
                raise DeliveryFailedError(_short_reason(error)) from None
            except OSError as error:
                failure = DeliveryFailedError(_short_reason(error))
                continue  # another address of the same host may answer (IPv6 down, IPv4 up)
            connection.request("POST", target, body=body, headers=dict(headers))
            return Answer(connection.getresponse().status)
        except (OSError, http.client.HTTPException) as error:
            raise DeliveryFailedError(_short_reason(error)) from None
        except ValueError:  # a path or header http.client cannot put on the wire (control or non-ASCII characters)
            raise DeliveryFailedError("the URL cannot be sent as it is") from None
        finally:
            connection.close()
    raise failure


def _short_reason(error: BaseException) -> str:
    """Name a failure in a few words, never quoting what the other side sent."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate refused ({error.verify_message})"
    if isinstance(error, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(error, http.client.HTTPException):
        return "not an HTTP answer"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(error, ConnectionError):
        return "connection lost"
    if isinstance(error, OSError) and error.errno is not None:
        return f"network error ({errno.errorcode.get(error.errno, error.errno)})"
    return "network error"
