"""OpesCare Sandbox: a local, stateful imitation of the OpesCare Connect API and the OpenEyes Patient API."""

__version__ = "0.1.0"


def create_app(config=None):
    """The WSGI app (see sandbox.app.create_app); imported lazily so `sandbox.domain` stays Flask-free."""
    from .app import create_app as _create_app

    return _create_app(config)
