"""moto's request dispatcher, without its one lock held around each request's own I/O.

moto 5.2.5's `DomainDispatcherApplication.get_application`
(moto/moto_server/werkzeug_app.py, lines 279-309) picks the Flask app for every request inside
`with self.lock:`, one `threading.Lock` for the whole server. Under that lock it calls
`infer_service_region_host` (line 299). For a request without an Authorization header that
method calls `_get_body` (line 171), which reads the whole body from the socket:
`environ["wsgi.input"].read(request_body_size)` (line 320) when the Content-Type is
application/x-www-form-urlencoded. werkzeug's dev server gives the raw socket file as
`wsgi.input` (werkzeug/serving.py, line 193) and sets no socket timeout. So one client whose body
is slow to arrive, or never arrives, holds the lock, and every other request to the server,
signed or not and for any service, waits in `get_application` without an answer until that
client closes its connection. The lock also covers `create_app` (lines 305-308), which builds a
service's Flask app the first time that service is called (up to 0.5 s for xray or sagemaker
here), so the first call to one service also holds up the calls to every other service.

Here the lock only guards the table of apps. Working out the service, which may read the body,
happens outside it, so a slow client blocks only its own request. Each service's app is built
under that service's own lock.

`get_backend_for_host` (werkzeug_app.py, lines 120-128) also lists moto's package directory
(`backends.list_of_moto_modules`: an os.listdir and an os.path.isdir per entry, about 200) on
every request; py-spy found it at 4-7 % of the server's samples under load. The directory does
not change while the server runs, so it is listed once.
"""

from __future__ import annotations

import threading
from typing import Any

from moto import backends
from moto.moto_server.werkzeug_app import DEFAULT_SERVICE_REGION, DomainDispatcherApplication

# The moto attribute this module overrides; tests/localcloud checks it still fits.
PATCHED = {
    "moto.moto_server.werkzeug_app.DomainDispatcherApplication": [
        "get_application",
        "get_backend_for_host",
    ]
}


class NonBlockingDispatcher(DomainDispatcherApplication):
    """The same routing as moto's dispatcher; only the app table is behind a lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._app_locks: dict[str, threading.Lock] = {}
        self._moto_modules = frozenset(backends.list_of_moto_modules())

    def get_backend_for_host(self, host: str | None) -> Any:
        # moto's get_backend_for_host (werkzeug_app.py, lines 120-138), its modules listed once.
        if host is None:
            return None
        if host == "moto_api" or host in self._moto_modules:
            return host
        for backend, pattern in self.backend_url_patterns:
            if pattern.match(f"http://{host}"):
                return backend
        if "amazonaws.com" in host:
            print(f"Unable to find appropriate backend for {host}.")
        return None

    def get_application(self, environ: dict[str, Any]) -> Any:
        # Same steps as moto's get_application (werkzeug_app.py, lines 279-309).
        path_info = environ.get("PATH_INFO", "")
        if isinstance(path_info, bytes):
            path_info = path_info.decode("utf-8")
        if path_info.startswith("/moto-api") or path_info == "/favicon.ico":
            host: str | None = "moto_api"
        elif path_info.startswith(("/latest/meta-data/", "/latest/api/")):
            host = "instance_metadata"
        else:
            host = None

        # Per-request work, no lock: it may wait on this request's own socket (_get_body).
        backend = self.get_backend_for_host(host)
        if not backend:
            host = self.infer_service_region_host(environ, path_info)
            if host is None:
                service, region = DEFAULT_SERVICE_REGION
                host = f"{service}.{region}.amazonaws.com"
            backend = self.get_backend_for_host(host)

        app = self.app_instances.get(backend)
        if app is not None:
            return app
        with self.lock:  # held only to find this service's lock
            service_lock = self._app_locks.setdefault(backend, threading.Lock())
        with service_lock:  # calls to this service wait for its app; other services do not
            app = self.app_instances.get(backend)
            if app is None:
                app = self.create_app(backend)
                self.app_instances[backend] = app
        return app
