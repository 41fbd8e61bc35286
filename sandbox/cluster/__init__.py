"""Several sandbox processes behind HAProxy, each tenant owned by one of them (`opescare-sandbox cluster`)."""

from .haproxy import ClusterError, render_haproxy, write_haproxy
from .launcher import run_cluster

__all__ = ["ClusterError", "render_haproxy", "run_cluster", "write_haproxy"]
