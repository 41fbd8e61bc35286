"""Marshmallow schemas of the wire format, one module per resource (named like its api module)."""
