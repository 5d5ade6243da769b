"""The server's HTTP/1.1 connections kept open between requests, as AWS's endpoints keep them.

werkzeug's dev server (werkzeug/serving.py, `WSGIRequestHandler.run_wsgi.write`, "Always close
the connection") answers every request with `Connection: close`, because http.server does not
drain a request body the application left unread before it reads the next request line. So
every SDK call to the local cloud opens a new TCP connection, and the server accepts it and
starts a new thread for it. py-spy on the server running 8 executions at a time found the
accepting thread (accept, a socket object, Thread() and its start) at over a third of the
samples that held the GIL, and every request's thread pays it one at a time.

Here the connection stays open when the request's body has a known length (Content-Length, or
none). While the request is handled, the handler's `rfile` is that body alone, so werkzeug's own
drain after the response (`execute`'s finally: it reads the socket for as long as data comes
within 10 ms, which on a kept connection could be the client's next request) stops at the body's
end; afterwards the handler reads whatever of the body is still unread, and the next request
line starts where it should. A chunked request body, or a client that asks
for `Connection: close`, still closes the connection as before. The SDK clients (urllib3 pools)
reuse an open connection and notice a closed one before they send.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.wsgi import LimitedStream

# The werkzeug attributes this module builds on; tests/localcloud checks they still fit.
PATCHED = {
    "werkzeug.serving.WSGIRequestHandler": [
        "make_environ (wsgi.input wrapped)",
        "send_header (Connection: close dropped)",
        "handle_one_request (body drained)",
    ]
}


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler, keeping the connection for the next request when it safely can."""

    # werkzeug writes the headers and the body in separate sends; on a kept connection Nagle's
    # algorithm holds the body until the client's delayed ACK (about 40 ms per request).
    disable_nagle_algorithm = True
    _body: LimitedStream | None = None
    _connection_file: Any = None

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        if environ.get("wsgi.input_terminated"):  # a chunked body: read to its end or close
            self._body = None
            return environ
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._body = None
            return environ
        # What the application and werkzeug's drain read goes through this, never past the body.
        self._connection_file = self.rfile
        self._body = LimitedStream(self.rfile, length)  # type: ignore[arg-type]
        environ["wsgi.input"] = self.rfile = self._body  # type: ignore[assignment]
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and self._body is not None:
            return  # werkzeug's blanket close: this connection can be reused
        super().send_header(keyword, value)

    def handle_one_request(self) -> None:
        self._body = None
        try:
            super().handle_one_request()  # make_environ sets _body when the request has one
        finally:
            body = self._kept_body()
            if body is not None:
                self.rfile = self._connection_file
        if body is None:
            self.close_connection = True
        elif not self.close_connection:
            body.exhaust()  # the next request line follows the whole body

    def _kept_body(self) -> LimitedStream | None:
        body, self._body = self._body, None
        return body
