"""`python -m sandbox` is the CLI."""

from .cli import main

main(prog_name="opescare-sandbox")
