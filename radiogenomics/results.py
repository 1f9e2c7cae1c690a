"""Result files of every stage: atomic writes, and readers of the tables and JSON files the workflow wrote.

Every output of the workflow is written to a temporary file in the target
directory and renamed into place only once it is complete, so a killed job
never leaves a half-written file that looks finished.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    The temporary file is hidden (``.<name>.<random>.part``). A job killed mid-write (SIGKILL: no
    clean-up runs) leaves only such a file, never a complete-looking ``path``; the next write of
    ``path`` (one job writes a given output at a time) removes those leftovers first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    leftover = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.part")  # exactly mkstemp's names below
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
        if leftover.fullmatch(stale.name):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the output the usual permissions under the umask
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(text: str, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def json_dumps(obj: Any) -> str:
    """Compact JSON (numpy scalars and arrays allowed), e.g. for a table cell."""
    return json.dumps(obj, sort_keys=True, default=_json_default)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n", path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as fh:
        return json.load(fh)


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False) -> None:
    """Write a table atomically; the format follows the suffix (.tsv, .csv, .parquet)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=index)
        elif path.suffix == ".tsv":
            df.to_csv(tmp, sep="\t", index=index)
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=index)
        else:
            raise ValueError(f"unknown table format for {path}: use .tsv, .csv or .parquet")


def read_table(path: str | os.PathLike, *, index_col: int | str | None = None) -> pd.DataFrame:
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    sep = "\t" if path.suffix == ".tsv" else ","
    return pd.read_csv(path, sep=sep, index_col=index_col)


def save_figure(fig, path: str | os.PathLike, **kwargs: Any) -> None:
    """Save a matplotlib figure atomically (format from the suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", **kwargs)
