"""Errors of the HTTP service, each with a stable ``code`` and the HTTP status the native API uses.

    ServiceError                   status  code
    ├── AccessError                          (refusals of the credentials and quota layer)
    │   ├── MissingCredentials     401     missing_credentials
    │   ├── UnknownApp             401     unknown_app
    │   ├── BadCredentials         401     bad_credentials     (wrong secret or signature)
    │   ├── StaleTimestamp         401     stale_timestamp     (outside the timestamp window)
    │   ├── AppDisabled            403     app_disabled
    │   ├── DialectNotAllowed      403     dialect_not_allowed
    │   ├── IpNotAllowed           403     ip_not_allowed
    │   ├── QuotaExceeded          429     quota_exceeded      (daily quota)
    │   ├── RateLimited            429     rate_limited        (requests per second)
    │   ├── JobQuotaRefused        429     job_quota_exceeded  (daily job messages)
    │   ├── AdminDisabled          403     admin_disabled      (no admin key configured)
    │   └── BadAdminKey            401     bad_admin_key       (missing or wrong admin key)
    └── RequestError                         (the client sent something unusable)
        ├── BadJson                400     bad_json
        ├── BadEncoding            400     bad_encoding
        ├── UnsupportedMediaType   415     unsupported_media_type
        ├── PayloadTooLarge        413     payload_too_large
        ├── HeadersTooLarge        431     headers_too_large
        ├── InvalidRequest         422     invalid_request     (schema, limits)
        │   └── InvalidText        422     invalid_text        (empty, too long, bad characters)
        └── NotFound               404     not_found
            ├── AppNotFound        404     unknown_app         (admin routes)
            └── JobNotFound        404     unknown_job         (unknown or another app's job)

Plus two codes without a class: ``method_not_allowed`` (405) and ``internal`` (500, never for a
client mistake). A vendor dialect maps ``code`` to its own error numbers; the native API answers
``{"error": {"code": ..., "message": ...}}`` with ``status``.
"""

from __future__ import annotations

from qinggan.errors import QingganError


class ServiceError(QingganError):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str) -> None:
        # a message may quote the client's input: an unpaired surrogate in it would make the
        # JSON answer itself fail to encode, so it is written as its escape
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(message)
        self.message = message


class AccessError(ServiceError):
    """The credentials or the quota layer refused a request."""

    status = 403
    code = "forbidden"

    def __init__(self, message: str, *, app_id: str | None = None) -> None:
        super().__init__(message)
        self.app_id = app_id


class MissingCredentials(AccessError):
    status, code = 401, "missing_credentials"


class UnknownApp(AccessError):
    status, code = 401, "unknown_app"


class BadCredentials(AccessError):
    status, code = 401, "bad_credentials"


class StaleTimestamp(AccessError):
    status, code = 401, "stale_timestamp"


class AppDisabled(AccessError):
    status, code = 403, "app_disabled"


class DialectNotAllowed(AccessError):
    status, code = 403, "dialect_not_allowed"


class IpNotAllowed(AccessError):
    status, code = 403, "ip_not_allowed"


class QuotaExceeded(AccessError):
    status, code = 429, "quota_exceeded"


class RateLimited(AccessError):
    status, code = 429, "rate_limited"


class JobQuotaRefused(AccessError):
    status, code = 429, "job_quota_exceeded"


class AdminDisabled(AccessError):
    status, code = 403, "admin_disabled"


class BadAdminKey(AccessError):
    status, code = 401, "bad_admin_key"


class RequestError(ServiceError):
    status, code = 400, "bad_request"


class BadJson(RequestError):
    status, code = 400, "bad_json"


class BadEncoding(RequestError):
    status, code = 400, "bad_encoding"


class UnsupportedMediaType(RequestError):
    status, code = 415, "unsupported_media_type"


class PayloadTooLarge(RequestError):
    status, code = 413, "payload_too_large"


class HeadersTooLarge(RequestError):
    status, code = 431, "headers_too_large"


class InvalidRequest(RequestError):
    status, code = 422, "invalid_request"


class NotFound(RequestError):
    status, code = 404, "not_found"


class AppNotFound(NotFound):
    status, code = 404, "unknown_app"


class JobNotFound(NotFound):
    status, code = 404, "unknown_job"


class InvalidText(InvalidRequest):
    status, code = 422, "invalid_text"
