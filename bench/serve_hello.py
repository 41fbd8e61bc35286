"""Serve bench/hello.py with the sandbox's own granian settings: `python bench/serve_hello.py PORT [THREADS]`."""

import os
import sys
from pathlib import Path

from opescare_sandbox.cli import _serve_granian
from opescare_sandbox.config import load_config

if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent)
    sys.path.insert(0, os.getcwd())
    config = load_config({"THREADS": int(sys.argv[2])} if len(sys.argv) > 2 else None)
    _serve_granian({**config, "PORT": int(sys.argv[1])}, target="hello:app")
