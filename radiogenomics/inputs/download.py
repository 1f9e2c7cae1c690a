"""Public input tables: fetch by URL with a pinned sha256, or use a local copy.

The config section ``downloads`` lists the public sources of the real-data
route (UCSC Xena, TCGA Biotab, Verhaak 2010, MSigDB, Puchalski 2018)::

    downloads:
      enabled: true
      dir: resources
      sources:
        verhaak_clanc840:
          url: https://.../TCGA_unified_CORE_ClaNC840.txt
          sha256: c69b92fe...            # null: record the observed checksum, warn
          input: [expression, clanc]      # the workflow inputs this file provides
          path: data/my_copy.txt          # optional local copy: no download

:func:`plan` checks that section and says where each source lives: the local
``path`` when one is given, otherwise ``<dir>/<file>`` (``file`` defaults to
the last component of the URL path). :func:`fetch` streams one URL into a
temporary file beside the destination, hashing as it goes, and renames it
into place only when the transfer is complete and the checksum matches: a
wrong checksum, an HTTP error, an unreachable server or a cut connection
raises :class:`DownloadError` naming the URL and the file, and leaves no file
behind (neither the destination nor the temporary file).

A ``sha256`` of ``null`` is allowed for sources whose provider publishes no
fixed file (the UCSC Xena hub regenerates its matrices): the file is kept,
and the observed checksum is returned so that the caller logs it with a
warning and the user can pin it.

A file already in place is checked again before it is parsed
(:func:`check_inputs`, called by every workflow script at start-up): a
downloaded file whose sha256 no longer matches the pin (truncated, changed,
or put there by hand) is removed and reported, so the next run fetches it
anew; a local ``path:`` copy that does not match is reported and left alone.

Why not pooch: ``pooch.retrieve`` would replace only :func:`fetch` and its streaming (about 75 of these lines:
hash while streaming, atomic rename), not the config plan, the schema-derived input kinds, the run-time check of
files already in place or the errors that name the config key, and it brings requests and platformdirs along.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import posixpath
import re
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

log = logging.getLogger(__name__)

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
SCHEMES = ("http", "https", "ftp", "file")
CHUNK_SIZE = 1 << 20
USER_AGENT = "radiogenomics-download/1 (+urllib)"
GENE_SETS = "gene_sets"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
SOURCE_KEYS = {"url", "sha256", "file", "path", "input", "description"}


class DownloadError(RuntimeError):
    """A download that did not produce a verified file; names the URL and the destination."""

    def __init__(self, url: str, dest: str | os.PathLike, message: str):
        self.url = url
        self.dest = str(dest)
        super().__init__(f"download of {url} into {self.dest} failed: {message}")


@dataclass(frozen=True)
class Fetched:
    """A completed download: where it is, its size and its observed sha256."""

    path: Path
    n_bytes: int
    sha256: str
    verified: bool


@dataclass(frozen=True)
class Source:
    """One public table: its URL, pinned checksum, file name, local override and the inputs it provides."""

    name: str
    url: str
    sha256: str | None
    file: str
    path: str | None = None
    inputs: tuple[str, ...] = ()
    description: str = ""

    @property
    def local(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class Plan:
    """Checked ``downloads`` section: the sources and where each of them is read from."""

    enabled: bool
    dir: str
    timeout: float
    sources: dict[str, Source] = field(default_factory=dict)

    def target(self, name: str) -> str:
        """Download destination of a source (``<dir>/<file>``)."""
        return posixpath.join(self.dir, self.sources[name].file)

    def location(self, name: str) -> str:
        """Where the workflow reads a source: its local ``path``, or its download destination."""
        source = self.sources[name]
        return source.path if source.local else self.target(name)

    def fetched(self) -> dict[str, Source]:
        """Sources the download rule fetches (enabled, no local path), keyed by file name."""
        if not self.enabled:
            return {}
        return {s.file: s for s in self.sources.values() if not s.local}

    def targets(self) -> list[str]:
        return [posixpath.join(self.dir, f) for f in self.fetched()]

    def input_path(self, kind: str) -> str | None:
        """Path of workflow input ``kind`` provided by a source (None when no enabled source provides it)."""
        if not self.enabled:
            return None
        for name, source in self.sources.items():
            if kind in source.inputs:
                return self.location(name)
        return None

    def gene_set_paths(self) -> dict[str, str]:
        """Gene-set collections provided by sources (``input: gene_sets.<collection>``)."""
        if not self.enabled:
            return {}
        out = {}
        for name, source in self.sources.items():
            for kind in source.inputs:
                if kind.startswith(GENE_SETS + "."):
                    out[kind.split(".", 1)[1]] = self.location(name)
        return out


def file_name(url: str) -> str:
    """Last component of a URL's (unquoted) path: ``.../TCGA.GBM.sampleMap%2FHT_HG-U133A.gz`` -> ``HT_HG-U133A.gz``."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    name = posixpath.basename(path.rstrip("/")) if path else ""
    return name


def input_kinds(schema_path: str | os.PathLike) -> set[str]:
    """Workflow inputs a source may provide: the path-valued keys of the schema's ``inputs`` section."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    props = schema["properties"]["inputs"]["properties"]
    return {k for k, v in props.items() if k != GENE_SETS and v.get("type") == "string" and "enum" not in v}


def plan(downloads: Mapping[str, Any] | None, *, kinds: Iterable[str], check_local: bool = True) -> Plan:
    """Check the ``downloads`` config section and resolve where each source is read from.

    ``kinds`` are the workflow inputs a source may provide (see :func:`input_kinds`);
    ``gene_sets.<collection>`` is always allowed. Raises ``ValueError`` naming the
    offending key (``downloads.sources.<name>.<key>``) for a URL that is not
    http(s)/ftp/file, a checksum that is not 64 lowercase hex digits, a missing or
    duplicated file name, an unknown or twice-provided input, or (``check_local``,
    only when enabled) a local ``path`` that does not exist.
    """
    downloads = dict(downloads or {})
    enabled = bool(downloads.get("enabled", False))
    folder = str(downloads.get("dir", "resources")).rstrip("/") or "."
    timeout = float(downloads.get("timeout", 60))
    kinds = set(kinds)
    sources: dict[str, Source] = {}
    files: dict[str, str] = {}
    provided: dict[str, str] = {}
    for name, spec in (downloads.get("sources") or {}).items():
        key = f"downloads.sources.{name}"
        if not NAME_PATTERN.match(str(name)):
            raise ValueError(f"config {key}: a source name may hold only letters, digits, '_', '.' and '-'")
        if not isinstance(spec, Mapping):
            raise ValueError(f"config {key}: expected a mapping with url, sha256 and optional file/path/input")
        unknown = set(spec) - SOURCE_KEYS
        if unknown:
            raise ValueError(f"config {key}: unknown keys {sorted(unknown)} (allowed: {sorted(SOURCE_KEYS)})")
        url = spec.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ValueError(f"config {key}.url: a URL is required")
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in SCHEMES:
            raise ValueError(f"config {key}.url: {url!r} has scheme {scheme!r}; expected one of {list(SCHEMES)}")
        sha = spec.get("sha256")
        if sha is not None:
            sha = str(sha).strip().lower()
            if not SHA256_PATTERN.match(sha):
                raise ValueError(f"config {key}.sha256: {spec.get('sha256')!r} is not a sha256 "
                                 "(64 hexadecimal digits); use null to record the observed checksum instead")
        fname = spec.get("file") or file_name(url)
        if not fname or "/" in fname or fname in (".", ".."):
            raise ValueError(f"config {key}.file: no file name (the URL {url!r} has none); set `file:` "
                             "to a plain file name")
        if fname in files:
            raise ValueError(f"config {key}.file: {fname!r} is also the file of source {files[fname]!r}; "
                             "each source needs its own file name")
        files[fname] = name
        raw_inputs = spec.get("input") or []
        inputs = (raw_inputs,) if isinstance(raw_inputs, str) else tuple(raw_inputs)
        for kind in inputs:
            collection = kind.startswith(GENE_SETS + ".") and NAME_PATTERN.match(kind.split(".", 1)[1])
            if kind not in kinds and not collection:
                raise ValueError(f"config {key}.input: unknown workflow input {kind!r}; expected one of "
                                 f"{sorted(kinds)} or 'gene_sets.<collection>'")
            if kind in provided:
                raise ValueError(f"config {key}.input: {kind!r} is already provided by source {provided[kind]!r}")
            provided[kind] = name
        local = spec.get("path")
        if local is not None:
            local = str(local)
            if enabled and check_local and not Path(local).is_file():
                raise ValueError(f"config {key}.path: local file {local!r} not found (relative to the working "
                                 f"directory {os.getcwd()}); remove `path:` to download {url} instead")
        sources[name] = Source(name=name, url=url, sha256=sha, file=fname, path=local, inputs=inputs,
                               description=str(spec.get("description") or ""))
    return Plan(enabled=enabled, dir=folder, timeout=timeout, sources=sources)


def sha256_file(path: str | os.PathLike, chunk_size: int = CHUNK_SIZE) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url: str, dest: str | os.PathLike, sha256: str | None = None, *, timeout: float = 60.0,
          chunk_size: int = CHUNK_SIZE) -> Fetched:
    """Download ``url`` to ``dest``, verifying ``sha256`` (when given), atomically.

    The body is streamed into a temporary file beside ``dest`` and renamed to
    ``dest`` only after the whole body arrived (``Content-Length`` checked when
    the server sends it) and its sha256 matched. On any failure the temporary
    file is removed, ``dest`` is left as it was, and :class:`DownloadError`
    says which URL and file, and why.
    """
    dest = Path(dest)
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not SHA256_PATTERN.match(sha256):
            raise ValueError(f"expected sha256 for {dest} is not 64 hexadecimal digits: {sha256!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            n_bytes, observed = _stream(url, dest, out, timeout=timeout, chunk_size=chunk_size)
        if sha256 is not None and observed != sha256:
            raise DownloadError(url, dest, f"sha256 mismatch: expected {sha256}, received {observed} "
                                           f"({n_bytes} bytes); the file was not kept")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
        log.info("fetched %s -> %s (%d bytes, sha256 %s%s)", url, dest, n_bytes, observed,
                 ", verified" if sha256 else ", not pinned")
        return Fetched(path=dest, n_bytes=n_bytes, sha256=observed, verified=sha256 is not None)
    finally:
        if tmp.exists():
            tmp.unlink()


def _stream(url: str, dest: Path, out, *, timeout: float, chunk_size: int) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(url, dest, f"HTTP error {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(url, dest, f"cannot reach the server ({exc.reason})") from None
    except (TimeoutError, socket.timeout) as exc:
        raise DownloadError(url, dest, f"no answer within {timeout:g} s ({exc})") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DownloadError(url, dest, f"{type(exc).__name__}: {exc}") from None
    digest = hashlib.sha256()
    n_bytes = 0
    with response:
        length = response.headers.get("Content-Length")
        try:
            while chunk := response.read(chunk_size):
                out.write(chunk)
                digest.update(chunk)
                n_bytes += len(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(url, dest, f"connection broken after {n_bytes} bytes "
                                           f"({type(exc).__name__}: {exc})") from None
    if length is not None and length.strip().isdigit() and n_bytes != int(length):
        raise DownloadError(url, dest, f"truncated transfer: received {n_bytes} of {int(length)} bytes "
                                       "(Content-Length)")
    return n_bytes, digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ChecksumError(ValueError):
    """A file of a pinned source, already in place, whose sha256 does not match: never parsed."""


def verify_file(source: Source, path: str | os.PathLike, *, remove: bool) -> str:
    """Check ``path`` against the pinned sha256 of ``source``; return the observed sha256.

    A mismatch raises :class:`ChecksumError` naming the file, the source, both checksums and the
    size; with ``remove`` (a file the download rule wrote) the file is deleted first, so that
    the next run downloads it again.
    """
    path = Path(path)
    observed = sha256_file(path)
    if source.sha256 is None or observed == source.sha256:
        return observed
    size = path.stat().st_size
    what = (f"file {path}: sha256 {observed} ({size} bytes) does not match the pinned sha256 {source.sha256} of "
            f"downloads.sources.{source.name} ({source.url}); the file is truncated or changed, and was not parsed")
    if remove:
        path.unlink()
        raise ChecksumError(f"{what}. It was removed: run snakemake again to download it anew")
    raise ChecksumError(f"{what}. It is your local copy (downloads.sources.{source.name}.path), left in place: "
                        "replace it with the published file, or remove `path:` to download it")


def check_inputs(inputs: Iterable[str | os.PathLike], downloads: Plan) -> list[str]:
    """Verify every input among ``inputs`` that is a pinned source of ``downloads`` (see :func:`verify_file`).

    Returns one line per checked file (for the log). Downloaded files that fail are removed;
    local copies are reported only. Sources without a pinned sha256 are not checked.
    """
    if not downloads.enabled:
        return []
    wanted = {os.path.abspath(os.fspath(p)): p for p in inputs}
    lines = []
    for name, source in downloads.sources.items():
        location = downloads.location(name)
        if source.sha256 is None or os.path.abspath(location) not in wanted or not Path(location).is_file():
            continue
        verify_file(source, location, remove=not source.local)
        lines.append(f"{location}: sha256 {source.sha256} verified (downloads.sources.{name})")
    return lines


# What the workflow cannot run without each input (for the parse-time input report).
NEEDED_FOR = {
    "expression": "every model (no expression matrix)",
    "vasari": "imaging-trait targets (the `vasari` preset), their networks, masking, saliency and GSEA",
    "clinical": "survival (endpoints, Kaplan-Meier curves, log-rank tests)",
    "clanc": "the subtype target (subtype-validation network) and the Verhaak gene-set collection",
    "targets": "targets read from a plain or imaging-feature target table (source: targets)",
}


def input_report(paths: Mapping[str, str | None], gene_sets: Mapping[str, str], downloads: Plan,
                 *, expression_format: str | None = None) -> list[str]:
    """One line per workflow input: where it is read from, or what is skipped without it."""
    origin = {}
    for name in downloads.sources if downloads.enabled else ():
        source = downloads.sources[name]
        how = "local copy" if source.local else f"downloaded from {source.url}"
        for kind in source.inputs:
            origin[kind] = how
    lines = []
    for kind, path in paths.items():
        if path is None:
            skipped = NEEDED_FOR.get(kind, "the stages that read it")
            lines.append(f"input {kind}: absent -> skipped: {skipped}")
            continue
        extra = ""
        if kind == "expression" and expression_format == "clanc":
            extra = " [expression block of the ClaNC table: its classifier genes only]"
        lines.append(f"input {kind}: {path} ({origin.get(kind, 'file')}){extra}")
    for collection, path in gene_sets.items():
        lines.append(f"input gene_sets.{collection}: {path} ({origin.get(f'{GENE_SETS}.{collection}', 'file')})")
    return lines
