"""`opescare-sandbox repair`: keep a copy of a damaged tenant's files, then cut them back to the last good record. No Flask."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from ..errors import WorldDamaged
from .persistence import TenantFiles

MAX_PASSES = 3  # a cut journal is read again; an overlay removed takes its journal with it


def repair_tenant(data_dir: Path, tenant: str) -> str:
    """One line saying what was found and done. The server must be stopped (the caller holds the data dir's lock)."""
    files = TenantFiles(Path(data_dir) / "tenants" / tenant)
    done, kept = [], None
    for _ in range(MAX_PASSES):
        try:
            files.load()
        except WorldDamaged as damage:
            kept = kept or _keep_copy(files, Path(data_dir) / "damaged" / tenant)
            done.append(_cut(files, damage))
            continue
        finally:
            files.close()
        if not done:
            return f"{tenant}: intact" + (f" (a torn last record was cut off: {files.torn})" if files.torn else "")
        return f"{tenant}: repaired ({'; '.join(done)}); the damaged files are kept in {kept}"
    raise RuntimeError(f"{tenant}: still damaged after {MAX_PASSES} passes")


def _keep_copy(files: TenantFiles, parent: Path) -> Path:
    target = parent / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target.mkdir(parents=True)
    for path in (files.overlay_path, files.journal_path):
        if path.exists():
            shutil.copy2(path, target / path.name)
    return target


def _cut(files: TenantFiles, damage: WorldDamaged) -> str:
    """Truncate to the last good record: the journal before the bad line; nothing, for an unreadable overlay."""
    journal = files.label(files.journal_path)
    if damage.file == journal and damage.offset > 0:
        with open(files.journal_path, "r+b") as fh:
            fh.truncate(damage.offset)
        return f"{journal} cut before line {damage.line} ({damage.reason})"
    if damage.file == journal:  # its header: a journal of another generation continues nothing we have
        files.journal_path.unlink()
        return f"{journal} removed ({damage.reason})"
    # The overlay is the base every journal line applies to: without it the tenant starts from its template.
    files.overlay_path.unlink(missing_ok=True)
    files.journal_path.unlink(missing_ok=True)
    return f"{damage.file} unreadable ({damage.reason}): tenant back to its seeded template"
