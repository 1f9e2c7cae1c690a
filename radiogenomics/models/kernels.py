"""Hand-fused CPU kernels: small C functions compiled at first use with the system C compiler.

torch has no fused CPU Adadelta: its update is about ten whole-tensor passes over the weights,
gradients and two running averages, which at the study's size (58 M weights) is memory traffic
of several GB per training step. :func:`adadelta_` makes the same update in one pass: each
element is read once (weight, gradient, both averages) and written once (weight, both averages).

The C source below is compiled once per machine into a cache directory
(``$RADIOGENOMICS_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/radiogenomics`` or
``~/.cache/radiogenomics``; a compile takes well under a second) with portable flags (no
``-march=native``, so a cache shared by the nodes of a cluster is valid on all of them), and
loaded with :mod:`ctypes`. A shared library is code run in this process, so the cache is private:
the directory is created with mode 0700 and used only while it is owned by this user and no other
user can write it (one of ours that others cannot write, e.g. 0755 from an older version, is
tightened to 0700); otherwise it is refused with a warning and the kernel is compiled into a fresh
private temporary directory instead. The library's name is the sha256 of the source, the flags and
the compiler; the sha256 of the built file is recorded beside it and checked before every load (a
changed file is rebuilt). The work is split over ``torch.get_num_threads()`` threads (ctypes
releases the GIL during the call). Where no C compiler is found, or with
``RADIOGENOMICS_NO_KERNELS=1``, :func:`adadelta_available` is false and the training code
falls back to torch's own Adadelta stepped in cache-sized blocks (same numbers, slower).
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

log = logging.getLogger(__name__)

#: torch.optim.Adadelta's arithmetic (its single-tensor CPU implementation), element by element:
#: ``g += wd * p; s = rho * s + (1 - rho) * g * g; d = sqrt(a + eps) / sqrt(s + eps) * g;
#: a = rho * a + (1 - rho) * d * d; p -= lr * d``.
ADADELTA_SOURCE = r"""
#include <math.h>
#include <stdint.h>

void adadelta_step(float *restrict p, const float *restrict g, float *restrict sq, float *restrict acc,
                   int64_t n, float lr, float rho, float one_m_rho, float eps, float wd) {
    if (wd != 0.0f) {
        for (int64_t i = 0; i < n; ++i) {
            const float gi = g[i] + wd * p[i];
            const float s = sq[i] * rho + one_m_rho * gi * gi;
            const float d = sqrtf(acc[i] + eps) / sqrtf(s + eps) * gi;
            sq[i] = s;
            acc[i] = acc[i] * rho + one_m_rho * d * d;
            p[i] = p[i] - lr * d;
        }
    } else {
        for (int64_t i = 0; i < n; ++i) {
            const float gi = g[i];
            const float s = sq[i] * rho + one_m_rho * gi * gi;
            const float d = sqrtf(acc[i] + eps) / sqrtf(s + eps) * gi;
            sq[i] = s;
            acc[i] = acc[i] * rho + one_m_rho * d * d;
            p[i] = p[i] - lr * d;
        }
    }
}
"""

#: Portable optimisation flags: vectorised loops (sqrt and division vectorise once errno is not
#: set), no fused multiply-add contraction (the same rounding on every machine), no -march=native.
CFLAGS = ("-O3", "-fno-math-errno", "-ffp-contract=off", "-fPIC", "-shared")

#: Below this many elements a call is not split over threads.
_MIN_PER_THREAD = 1 << 16
_ALIGN = 16  # elements per thread chunk are a multiple of this (64-byte aligned chunk starts)


def cache_dir() -> Path:
    env = os.environ.get("RADIOGENOMICS_KERNEL_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "radiogenomics"


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")


def private_dir(path: Path) -> Path | None:
    """``path`` as a directory only this user can write (created with mode 0700), or ``None`` (logged) if unsafe.

    Unsafe: not a directory, owned by another user, or writable by group or others. A directory
    of this user that others cannot write but can read (0755) is tightened to 0700.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(path)
    except OSError as err:
        log.warning("kernel cache %s unusable (%s)", path, err)
        return None
    if not stat.S_ISDIR(st.st_mode):
        log.warning("kernel cache %s is not a directory; not used", path)
        return None
    if st.st_uid != os.getuid():
        log.warning("kernel cache %s is owned by uid %d, not this user (%d); not loading libraries from it",
                    path, st.st_uid, os.getuid())
        return None
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        log.warning("kernel cache %s has mode %o: other users can write it; not loading libraries from it "
                    "(chmod 700 it to use it)", path, stat.S_IMODE(st.st_mode))
        return None
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


@functools.lru_cache(maxsize=None)
def _fresh_private_dir() -> Path:
    """A new private temporary directory (mode 0700) for this process, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="radiogenomics-kernels-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(lib: Path) -> Path:
    """The file holding the sha256 of ``lib`` recorded when it was built."""
    return lib.with_name(lib.name + ".sha256")


def verified(lib: Path) -> bool:
    """Whether ``lib`` is ours, not writable by others, and has the sha256 recorded when it was built."""
    try:
        st = os.lstat(lib)
        recorded = _record(lib).read_text().strip()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return recorded == _sha256(lib)


def compile_library(source: str, name: str) -> Path:
    """Compile ``source`` into a shared library in :func:`cache_dir` (reused when verified) and return its path.

    The file name is the sha256 of the source, the flags and the compiler (path and version),
    so a changed kernel or compiler never loads a stale library; the library is written under a
    temporary name and renamed, so concurrent jobs never load a half-written file, and the
    sha256 of the built file is recorded beside it (``<name>.so.sha256``). A library whose file
    no longer has that sha256 is rebuilt. When the cache directory is not private
    (:func:`private_dir`), the library is built in a fresh private temporary directory.
    Raises ``RuntimeError`` (with the compiler's message) when there is no compiler or it fails.
    """
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (tried $CC, cc, gcc, clang)")
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256("\0".join([source, " ".join(CFLAGS), cc, version]).encode()).hexdigest()
    out_dir = private_dir(cache_dir()) or _fresh_private_dir()
    lib = out_dir / f"{name}-{key}.so"
    if verified(lib):
        return lib
    if lib.exists():
        log.warning("kernel library %s does not match the sha256 recorded when it was built; rebuilding it", lib)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        src = Path(tmp) / f"{name}.c"
        src.write_text(source)
        tmp_lib = Path(tmp) / lib.name
        t0 = time.perf_counter()
        run = subprocess.run([cc, *CFLAGS, "-o", str(tmp_lib), str(src), "-lm"], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"{cc} failed to compile the {name} kernel:\n{run.stderr.strip()}")
        os.chmod(tmp_lib, 0o700)
        tmp_record = Path(tmp) / _record(lib).name
        tmp_record.write_text(_sha256(tmp_lib) + "\n")
        os.replace(tmp_lib, lib)
        os.replace(tmp_record, _record(lib))
    log.info("compiled the %s kernel with %s in %.2f s: %s", name, cc, time.perf_counter() - t0, lib)
    return lib


def load_library(lib: Path) -> ctypes.CDLL:
    """Load a library built by :func:`compile_library` after checking it (:func:`verified`); ``RuntimeError`` if not."""
    if private_dir(lib.parent) is None or not verified(lib):
        raise RuntimeError(f"{lib} is not a private library with the sha256 recorded when it was built; not loaded")
    return ctypes.CDLL(str(lib))


@functools.lru_cache(maxsize=None)
def _adadelta_function():
    """The compiled ``adadelta_step``, or ``None`` (logged once) when it cannot be built."""
    try:
        fn = load_library(compile_library(ADADELTA_SOURCE, "adadelta")).adadelta_step
    except (RuntimeError, OSError) as err:
        log.warning("fused Adadelta kernel unavailable (%s); using torch's Adadelta in blocks", err)
        return None
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] + [ctypes.c_float] * 5
    return fn


def adadelta_available() -> bool:
    """Whether :func:`adadelta_` can run here (a C compiler, and ``RADIOGENOMICS_NO_KERNELS`` unset)."""
    if os.environ.get("RADIOGENOMICS_NO_KERNELS", "") not in ("", "0"):
        return False
    return _adadelta_function() is not None


@functools.lru_cache(maxsize=None)
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="radiogenomics-kernel")


def adadelta_(param: torch.Tensor, grad: torch.Tensor, square_avg: torch.Tensor, acc_delta: torch.Tensor, *,
              lr: float, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0) -> None:
    """One Adadelta update of ``param`` (and its ``square_avg`` / ``acc_delta`` state) in place.

    All four are contiguous float32 CPU tensors of one shape (or views of one contiguous range);
    the same update as ``torch.optim.Adadelta`` to float rounding.
    """
    tensors = (param, grad, square_avg, acc_delta)
    for t in tensors:
        if t.device.type != "cpu" or t.dtype != torch.float32 or not t.is_contiguous() or t.shape != param.shape:
            raise ValueError("adadelta_ needs contiguous float32 CPU tensors of one shape; got "
                             f"{[(tuple(x.shape), x.dtype, x.device.type, x.is_contiguous()) for x in tensors]}")
    fn = _adadelta_function()
    if fn is None:
        raise RuntimeError("the fused Adadelta kernel is unavailable here (see the log)")
    n = param.numel()
    ptrs = [t.data_ptr() for t in tensors]
    args = (float(lr), float(rho), 1.0 - float(rho), float(eps), float(weight_decay))  # 1 - rho as torch: in double
    threads = max(1, min(torch.get_num_threads(), n // _MIN_PER_THREAD))
    if threads == 1:
        fn(*ptrs, n, *args)
        return
    chunk = -(-n // threads)
    chunk = -(-chunk // _ALIGN) * _ALIGN
    futures = [_pool(threads).submit(fn, *[p + 4 * a for p in ptrs], min(chunk, n - a), *args)
               for a in range(0, n, chunk)]
    for f in futures:
        f.result()
