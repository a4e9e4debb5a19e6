"""How ``qinggan serve`` runs uvicorn: the HTTP protocol with a cap on the request head.

uvicorn's default parser (httptools) buffers a request's headers without any limit, so a client
could hold hundreds of megabytes per connection before the app sees the request.
:class:`HeadLimitedHttpTools` counts the bytes of a request head while it arrives and answers
``431 Request Header Fields Too Large`` (and closes) once they pass
:data:`~qinggan.service.middleware.MAX_HEADER_BYTES`, before the app runs; with the ``h11``
parser, uvicorn's ``h11_max_incomplete_event_size`` is the same limit. The app refuses an
over-long head itself too (:class:`~qinggan.service.middleware.BodyLimitMiddleware`), whatever
server runs it.
"""

from __future__ import annotations

from typing import Any

from qinggan.service.middleware import MAX_HEADER_BYTES

_BODY = b"the request headers are over the limit"
REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + _BODY
)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: uvicorn's h11 with its own limit
    HttpToolsProtocol = None  # type: ignore[misc, assignment]


if HttpToolsProtocol is not None:

    class HeadLimitedHttpTools(HttpToolsProtocol):  # type: ignore[misc, valid-type]
        """uvicorn's httptools protocol refusing a request head over the limit with 431
        (module level, so that ``--workers`` processes can import it)."""

        max_head_bytes = MAX_HEADER_BYTES
        _in_head = False
        _head_bytes = 0
        _refused = False

        def on_message_begin(self) -> None:
            self._in_head, self._head_bytes = True, 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            if self._in_head:  # the head began and is not complete yet
                self._head_bytes += len(data)
                if self._head_bytes > self.max_head_bytes:
                    self._refused = True
                    self.transport.write(REFUSAL)
                    self.transport.close()


def server_options() -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` (or ``uvicorn.Config``) for the capped head."""
    return {
        "http": HeadLimitedHttpTools if HttpToolsProtocol is not None else "h11",
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }
