"""Who may call, and what it costs: the auth and charging layer every dialect goes through.

A dialect proves the caller knows the app's secret in its own way (a plain key, an MD5 or SHA-256
signature over a timestamp, ...). It hands :meth:`Access.admit` the claimed ``app_id`` and a
*proof*, a function that, given the stored :class:`App`, says whether the request was made with
its secret; :func:`secret_proof` and :func:`signature_proof` build the usual ones, both comparing
in constant time. ``admit`` then checks, in order: the app exists, the proof holds, the app is
enabled, the dialect is allowed, the client IP is allowed; and charges the calls atomically
(requests per second, daily quota). Each refusal is a typed :class:`AccessError`, counted in the
metrics by app, dialect and reason.

The app cache (the hot path)
----------------------------
Reading the app for every request cost a database transaction of its own; :class:`AppCache`
keeps the app records read for authentication in this process for :data:`APP_CACHE_TTL_S`
seconds (2 s), so a steady client costs one transaction per request: the charge. What that
means for a change made with ``qinggan apps ...`` (or by another server process):

* immediate, because :meth:`AppStore.charge` reads them inside its own transaction: disabling an
  app, removing it, changing its daily quota or its rate;
* eventually consistent, within the TTL, in every process: re-enabling a disabled app, the
  allowed dialects, the IP allow-list, and a changed secret (the old secret keeps working for
  at most the TTL; the new one works at once, because a proof that fails against a cached
  record is checked again against a fresh read).

Only apps that exist are cached (an unknown id is read each time, so made-up ids cannot fill
the cache); a wrong secret or signature is refused whether the app is cached or not. A TTL of
``0`` turns the cache off. An id that no app can have (empty, over 64 characters, a NUL or an
unpaired surrogate: what PostgreSQL or the driver would refuse) is refused as unknown without
reading the database.

Errors never charge
-------------------
Every charge of a request is written in its :class:`ChargeLedger` (one per request, opened by
the service's outer middleware through :func:`open_ledger`); when the request still ends in an
error (a typed refusal raised after the charge, or an unexpected failure), the error handler
calls :meth:`Access.refund_request` and the calls go back to the app's daily counter. Dialects
still check what they can *before* charging; this is the net under that.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import anyio.to_thread

from qinggan.service.apps import App, Charge
from qinggan.service.errors import (
    AccessError,
    AppDisabled,
    BadCredentials,
    DialectNotAllowed,
    IpNotAllowed,
    MissingCredentials,
    StaleTimestamp,
    UnknownApp,
)
from qinggan.service.metrics import Metrics
from qinggan.service.store import AppStore

#: given the stored app (with its secret), True when the request proves knowledge of the secret
Proof = Callable[[App], bool]

#: seconds an app record read for authentication is reused by this process (see above)
APP_CACHE_TTL_S = 2.0
#: most app records cached per process (only existing apps are cached)
APP_CACHE_SIZE = 10_000
#: longest app id any store holds (the ``apps.app_id`` column)
MAX_APP_ID_CHARS = 64


@dataclass(slots=True)
class ChargeLedger:
    """What one request was charged so far: ``(app_id, calls, UTC day, dialect)`` entries."""

    entries: list[tuple[str, int, str, str]] = field(default_factory=list)


_LEDGER: ContextVar[ChargeLedger | None] = ContextVar("qinggan_charge_ledger", default=None)


def open_ledger() -> ChargeLedger:
    """A fresh ledger for the request running in this context (called by the middleware)."""
    ledger = ChargeLedger()
    _LEDGER.set(ledger)
    return ledger


def plausible_app_id(app_id: str) -> bool:
    """Whether ``app_id`` could name an app at all (else it is unknown without a lookup)."""
    if not app_id or len(app_id) > MAX_APP_ID_CHARS or "\x00" in app_id:
        return False
    try:
        app_id.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True


class AppCache:
    """App records by id for ``ttl_s`` seconds (monotonic clock); safe from threads and the
    event loop (a dict, replaced whole per entry)."""

    def __init__(
        self,
        ttl_s: float = APP_CACHE_TTL_S,
        *,
        max_size: int = APP_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._clock = clock
        self._entries: dict[str, tuple[float, App]] = {}

    def get(self, app_id: str) -> App | None:
        """The cached app, or None when absent or older than the TTL."""
        entry = self._entries.get(app_id)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            self._entries.pop(app_id, None)
            return None
        return entry[1]

    def put(self, app: App) -> None:
        if self.ttl_s <= 0:
            return
        now = self._clock()
        if len(self._entries) >= self.max_size:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.max_size:
                self._entries.clear()
        self._entries[app.app_id] = (now + self.ttl_s, app)

    def invalidate(self, app_id: str | None = None) -> None:
        """Forget one app (or all of them)."""
        if app_id is None:
            self._entries.clear()
        else:
            self._entries.pop(app_id, None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class Grant:
    """An admitted request: the app and what it was charged."""

    app: App
    charge: Charge

    @property
    def remain(self) -> int | None:
        return self.charge.remain


def secret_proof(given: str) -> Proof:
    """The request carries the secret itself."""
    return lambda app: app.secret_matches(given)


def signature_proof(expected: Callable[[str], str], given: str) -> Proof:
    """The request carries ``given``, which must equal ``expected(secret)`` (compared in constant
    time; hex digests are compared case-insensitively)."""

    def prove(app: App) -> bool:
        want = expected(app.secret).lower().encode()
        return hmac.compare_digest(want, given.strip().lower().encode("utf-8", "surrogatepass"))

    return prove


def check_timestamp(
    timestamp: float, *, window_s: float, now: float | None = None, app_id: str | None = None
) -> None:
    """Refuse a signed request whose timestamp (seconds) is more than ``window_s`` from now."""
    now = time.time() if now is None else now
    if not abs(now - timestamp) <= window_s:  # also refuses NaN
        raise StaleTimestamp(
            f"the timestamp is outside the {window_s:g}-second window; check the client's clock",
            app_id=app_id,
        )


def parse_api_key(header: str | None) -> tuple[str, str]:
    """``app_id:secret`` of the native ``X-API-Key`` header."""
    if not header or not header.strip():
        raise MissingCredentials("send the header X-API-Key: <app_id>:<secret>")
    app_id, sep, secret = header.strip().partition(":")
    if not sep or not app_id or not secret:
        raise BadCredentials("the X-API-Key header must be <app_id>:<secret>")
    return app_id, secret


class Access:
    """Authentication and charging over an :class:`AppStore`: database work off the event
    loop, app records from an :class:`AppCache` of ``cache_ttl_s`` seconds."""

    def __init__(
        self, store: AppStore, metrics: Metrics, *, cache_ttl_s: float = APP_CACHE_TTL_S
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.cache = AppCache(cache_ttl_s)

    async def authenticate(
        self, app_id: str, proof: Proof, *, dialect: str, client_ip: str | None
    ) -> App:
        """The app, if the proof holds and it may use ``dialect`` from ``client_ip``."""
        try:
            if not plausible_app_id(app_id):
                raise UnknownApp("unknown app id")
            cached = self.cache.get(app_id)
            if cached is not None and proof(cached):
                return _permit(cached, app_id, dialect, client_ip)
            # not cached, or the proof fails against the cached record (the secret may have
            # changed since): decide on a fresh read
            app = await anyio.to_thread.run_sync(self.store.get_app, app_id)
            if app is None:
                self.cache.invalidate(app_id)
            else:
                self.cache.put(app)
            return _check(app, app_id, proof, dialect, client_ip)
        except AccessError as exc:
            self._refused(exc, dialect)
            raise

    async def charge(self, app: App, calls: int, *, dialect: str) -> Charge:
        """Charge ``calls`` to the app (one request toward the rate limit), atomically: on the
        event loop when the store can do it at once (SQLite, write lock free: some 30 µs, no
        thread hop), else in a worker thread."""
        try:
            charge = self.store.try_charge_now(app.app_id, calls)
            if charge is None:
                charge = await anyio.to_thread.run_sync(self.store.charge, app.app_id, calls)
        except AccessError as exc:
            if isinstance(exc, UnknownApp | AppDisabled):
                self.cache.invalidate(app.app_id)  # removed or disabled since it was cached
            self._refused(exc, dialect)
            raise
        ledger = _LEDGER.get()
        if ledger is not None and calls > 0:
            ledger.entries.append((app.app_id, calls, charge.day, dialect))
        return charge

    async def refund_request(self) -> int:
        """Give back every call charged so far to the request running in this context (it
        ended in an error); the number of calls given back."""
        ledger = _LEDGER.get()
        if ledger is None or not ledger.entries:
            return 0
        entries, ledger.entries = ledger.entries, []
        given = 0
        for app_id, calls, day, dialect in entries:
            await anyio.to_thread.run_sync(self.store.refund, app_id, calls, day)
            self.metrics.refunds.labels(dialect).inc(calls)
            given += calls
        return given

    async def admit(
        self, app_id: str, proof: Proof, *, dialect: str, client_ip: str | None, calls: int
    ) -> Grant:
        """:meth:`authenticate` then :meth:`charge`."""
        app = await self.authenticate(app_id, proof, dialect=dialect, client_ip=client_ip)
        return Grant(app=app, charge=await self.charge(app, calls, dialect=dialect))

    def _refused(self, exc: AccessError, dialect: str) -> None:
        # an unknown id is the caller's invention: never a label value
        app_label = "-" if exc.app_id is None or isinstance(exc, UnknownApp) else exc.app_id
        self.metrics.refused(app_label, dialect, exc.code)


def _check(app: App | None, app_id: str, proof: Proof, dialect: str, client_ip: str | None) -> App:
    if app is None:
        raise UnknownApp("unknown app id")
    if not proof(app):
        raise BadCredentials("the secret or signature does not match", app_id=app_id)
    return _permit(app, app_id, dialect, client_ip)


def _permit(app: App, app_id: str, dialect: str, client_ip: str | None) -> App:
    """The checks after the proof: enabled, dialect allowed, client IP allowed."""
    if not app.enabled:
        raise AppDisabled("this app is disabled", app_id=app_id)
    if dialect not in app.dialects:
        raise DialectNotAllowed(f"this app may not use the {dialect} API", app_id=app_id)
    if not app.allows_ip(client_ip):
        raise IpNotAllowed("requests from this address are not allowed", app_id=app_id)
    return app
