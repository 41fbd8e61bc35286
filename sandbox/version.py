"""The package version, in a leaf module every layer may import (setup.cfg reads it too)."""

__version__ = "0.1.0"
