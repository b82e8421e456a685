"""The real app served over HTTP from a background thread, for the browser to talk to."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


def serve(app):
    """Serve `app` on 127.0.0.1 at a free port; returns (base URL, stop function)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=10)

    return f"http://127.0.0.1:{server.server_port}", stop
