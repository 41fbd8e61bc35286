"""WSGI entry point for any server: `granian --interface wsgi sandbox.wsgi:app` or `waitress-serve sandbox.wsgi:app`.

Configuration comes from SANDBOX_* environment variables (the CLI sets them from its flags).
"""

from .app import create_app

app = create_app()
