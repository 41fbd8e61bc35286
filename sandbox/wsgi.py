"""WSGI entry point: `granian --interface wsgi opescare_sandbox.wsgi:app` or `waitress-serve opescare_sandbox.wsgi:app`.

Configuration comes from SANDBOX_* environment variables (the CLI sets them from its flags).
"""

from .app import create_app

app = create_app()
