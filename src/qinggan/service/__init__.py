"""The HTTP service: one FastAPI app, the native API and the vendor dialects over one engine.

Importing ``qinggan.service`` imports nothing heavy; :func:`create_app` is loaded on first use.

Layout
------
``app``         ``create_app(settings, analyzer=None, store=None, *, dialects=None)``; lifespan
                opens the store (migrating it) and loads every model; ``/healthz``, ``/metrics``,
                ``/docs``.
``native``      the native API under ``/api/v1/`` (polarity, emotions, dialogue-emotion, trend).
``store``       :class:`~qinggan.service.store.AppStore`: every SQL statement (apps, daily usage,
                per-second rate), migrations; SQLite or PostgreSQL.
``apps``        :class:`App` and :class:`Charge` values, credential generation, dialect names.
``access``      authentication and charging (``Access``, proofs, timestamp window).
``inference``   the inference thread pool and the polarity micro-batcher.
``errors``      the service error tree, each error with an HTTP ``status`` and a ``code``.
``handlers``    exception handlers (an error refunds what its request was charged);
                ``middleware``: head (431) and body (413) limits, metrics, generic 500, 499 for
                a client that hangs up.
``docs``        ``/docs`` and ``/openapi.json``, Swagger UI from the installed package (no CDN).
``server``      the uvicorn options of ``qinggan serve`` (the parser's cap on a request head).
``registry``    :class:`Dialect` and the registry that routes errors to a dialect's renderer.

Adding a vendor dialect (the extension points)
-----------------------------------------------
Write ``qinggan/service/dialects/<name>.py`` with ``<name>`` in
:data:`qinggan.service.registry.DIALECT_MODULES` (``jd``, ``jumdata``, ``iflytek``, ``wecom``) and
define ``dialect() -> Dialect``; :func:`~qinggan.service.registry.discover_dialects` finds it and
``create_app`` mounts it. A dialect uses only these:

* ``Dialect(name, router, prefixes, render_error)`` (``qinggan.service.registry``): ``router`` is an
  ``APIRouter`` with routes at the vendor's full paths; ``prefixes`` are the path prefixes it owns;
  ``render_error(request, error: ServiceError) -> Response`` turns every error met on those paths
  (bad JSON, body too large, validation, auth and quota refusals, an internal error) into the
  vendor's envelope and codes, by ``error.code`` (see ``qinggan.service.errors``).
* ``await authorize(request, *, dialect, app_id, proof, calls=1) -> Grant``
  (``qinggan.service.context``): checks the app exists, the proof holds, the app is enabled, may use
  ``dialect`` and the client IP is allowed, then charges ``calls`` atomically (one request toward
  the per-second rate, ``calls`` toward the daily quota). ``grant.remain`` and
  ``grant.charge.calls`` are the real counters for the envelope. Raises an ``AccessError``
  (``UnknownApp``, ``BadCredentials``, ``StaleTimestamp``, ``AppDisabled``,
  ``DialectNotAllowed``, ``IpNotAllowed``, ``QuotaExceeded``, ``RateLimited``); let it propagate
  to ``render_error`` or catch it.
  For auth and charge at separate moments (validate the body in between), use
  ``get_services(request).access.authenticate(app_id, proof, dialect=..., client_ip=...)`` and
  ``...access.charge(app, calls, dialect=...)``.
* proofs (``qinggan.service.access``): ``secret_proof(given_secret)`` and
  ``signature_proof(expected: Callable[[secret], str], given_signature)``, both constant-time;
  ``check_timestamp(seconds, *, window_s, now=None, app_id=None)`` raises ``StaleTimestamp``
  (use ``get_services(request).settings.timestamp_window_s``).
* ``await run_inference(request, fn, *args, **kwargs)`` (``qinggan.service.context``): an
  engine call (``analyzer.analyze_batch``, ``emotions_batch``, ``dialogue_emotion_batch``,
  ``analyze_conversation``) in the inference pool; ``get_services(request).analyzer`` is the
  engine and ``get_services(request).inference.polarity(text)`` the micro-batched single text.

Vendor label numbers, field names, byte limits and error codes live in the dialect module only.
Never log message text, secrets, signatures or tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qinggan.service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from qinggan.service.app import create_app

        return create_app
    raise AttributeError(f"module 'qinggan.service' has no attribute {name!r}")
