"""Apps (credentials with limits) and charges: plain values, no SQL (that is in ``store``)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from qinggan.errors import ConfigError

#: every door an app may be allowed through
DIALECTS: tuple[str, ...] = ("native", "jd", "jumdata", "iflytek", "wecom")
DEFAULT_DAILY_QUOTA = 50_000
DEFAULT_RPS = 50
APP_ID_BYTES = 8
SECRET_BYTES = 24

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class App:
    """One client's credentials and limits. ``None`` quota or rate means unlimited."""

    app_id: str
    name: str
    secret: str = field(repr=False)
    dialects: frozenset[str]
    daily_quota: int | None
    rps: int | None
    allow_ips: tuple[str, ...] = ()
    enabled: bool = True
    created_at: datetime | None = None

    def secret_matches(self, given: str) -> bool:
        """Constant-time comparison of ``given`` with the secret."""
        return hmac.compare_digest(self.secret.encode(), given.encode("utf-8", "surrogatepass"))

    def allows_ip(self, ip: str | None) -> bool:
        """True without an allow-list, else when ``ip`` falls in one of its networks."""
        if not self.allow_ips:
            return True
        if ip is None:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net) for net in self.allow_ips)

    def to_dict(self, *, with_secret: bool = False) -> dict[str, object]:
        out: dict[str, object] = {"app_id": self.app_id}
        if with_secret:
            out["secret"] = self.secret
        out.update(
            name=self.name,
            dialects=sorted(self.dialects),
            daily_quota=self.daily_quota,
            rps=self.rps,
            allow_ips=list(self.allow_ips),
            enabled=self.enabled,
            created_at=self.created_at.isoformat() if self.created_at else None,
        )
        return out


@dataclass(frozen=True, slots=True)
class Charge:
    """What one accepted request cost: ``calls`` charged, ``used`` today, ``remain`` today
    (``None`` without a daily quota), and the UTC ``day`` it was counted on."""

    app_id: str
    calls: int
    used: int
    remain: int | None
    day: str = ""


def new_app_id() -> str:
    return secrets.token_hex(APP_ID_BYTES)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def parse_dialects(names: Iterable[str]) -> frozenset[str]:
    """Dialect names, comma-separated or not; unknown ones raise :class:`ConfigError`."""
    chosen = {part.strip().lower() for name in names for part in name.split(",") if part.strip()}
    unknown = chosen - set(DIALECTS)
    if unknown:
        raise ConfigError(
            f"unknown dialect {', '.join(sorted(unknown))}; expected some of: {', '.join(DIALECTS)}"
        )
    if not chosen:
        raise ConfigError(f"no dialect given; expected some of: {', '.join(DIALECTS)}")
    return frozenset(chosen)


def parse_networks(values: Iterable[str]) -> tuple[str, ...]:
    """CIDR blocks (or single addresses) in canonical form; a bad one raises ConfigError."""
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise ConfigError(f"not an IP network: {value!r} (expected e.g. 10.0.0.0/8)") from None
    return tuple(dict.fromkeys(out))


def check_limit(name: str, value: int | None) -> int | None:
    """A quota or rate as stored: ``0`` means unlimited (``None``); negative is an error."""
    if value is None or value == 0:
        return None
    if value < 0:
        raise ConfigError(f"{name} must be a positive number (0 for unlimited), got {value}")
    return value
