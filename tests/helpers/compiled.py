"""The shipped extended bundle copied to a temporary folder and compiled there (once per session).

Compiled libraries are machine-specific and never committed, so tests build their own with
:func:`churn_core.prediction.compiled.compile_bundle` (tl2cgen + gcc, about 10 s) instead of
relying on ``make run`` having compiled ``models/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from churn_core.config import MODELS_DIR
from churn_core.prediction.training import BUNDLE_FILES, MANIFEST_FILE


def copy_bundle(folder: Path) -> Path:
    """Copy the shipped extended bundle's files (model, background, card, manifest) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (*BUNDLE_FILES, MANIFEST_FILE):
        shutil.copy2(MODELS_DIR / name, folder / name)
    return folder


def compiled_bundle_copy(folder: Path) -> Path:
    """:func:`copy_bundle`, then :func:`~churn_core.prediction.compiled.compile_bundle` it; the bundle folder."""
    from churn_core.prediction.compiled import compile_bundle

    copy_bundle(folder)
    compile_bundle(folder)
    return folder


def clone_compiled(source: Path, folder: Path) -> Path:
    """A copy of a compiled bundle folder (with ``compiled/``) that a test may tamper with."""
    shutil.copytree(source, folder)
    return folder
