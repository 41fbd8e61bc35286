"""OpesCare Sandbox: a local, stateful imitation of the OpesCare Connect API and the OpenEyes Patient API.

Installed as `opescare_sandbox` (the repository folder is `sandbox/`, mapped by setup.cfg's package_dir).
Importing the folder as `sandbox` from a checkout would load a second copy of every module with its own
state, so it is refused here as well as in the import contract (setup.cfg, `lint-imports`).
"""

if __name__ != "opescare_sandbox":
    raise ImportError(
        f"this package is imported as `opescare_sandbox`, not `{__name__}` "
        "(pip install -e . from the repository, then `import opescare_sandbox`)"
    )

from .version import __version__  # noqa: E402

__all__ = ["__version__", "create_app"]


def create_app(config=None):
    """The WSGI app (see opescare_sandbox.app.create_app); imported lazily so `import opescare_sandbox` stays light."""
    from .app import create_app as _create_app

    return _create_app(config)
