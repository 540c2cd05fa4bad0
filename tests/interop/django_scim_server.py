"""Serves the django-scim2 project in tests/interop/scim_django on
127.0.0.1 and a free port.

Environment: SCIM_DJANGO_DATA_DIR (the folder for the SQLite file) and
SCIM_DJANGO_BEARER_TOKEN. It creates the tables, then prints one line
`listening on http://127.0.0.1:PORT` and serves until killed. A single
thread serves requests one at a time, so SQLite never sees two writers.
"""

import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

# The project is imported from the source tree, which must stay clean.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scim_django.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    # One line per request on stderr is the log the Rust test shows when the
    # server fails to start; requests themselves need not be logged.
    def log_message(self, format, *args):
        pass


def main():
    # The project has no migration files: syncdb makes the tables straight
    # from the models in the fresh SQLite file.
    call_command("migrate", run_syncdb=True, verbosity=0)
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    # django-scim2 builds each resource's meta.location from its NETLOC
    # setting, read on first use; the port is known only now, before any
    # request has been served.
    settings.SCIM_SERVICE_PROVIDER["NETLOC"] = f"127.0.0.1:{server.server_port}"
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
