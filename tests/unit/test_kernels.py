"""The compiled Adadelta kernel makes torch.optim.Adadelta's update; the compile cache and fallbacks."""

import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path

import pytest
import torch

from radiogenomics.models import kernels, training

pytestmark = pytest.mark.skipif(not kernels.adadelta_available(), reason="no C compiler for the fused Adadelta kernel")


@pytest.mark.parametrize("n,threads,weight_decay", [(1000, 1, 0.0), (300_001, 2, 0.0), (300_001, 2, 1e-2)])
def test_adadelta_kernel_equals_torch_adadelta(n, threads, weight_decay):
    """Ten steps from the same weights and gradients; 300,001 elements are split over two threads
    (chunk boundaries not at the end of the tensor)."""
    torch.manual_seed(0)
    p_torch = torch.nn.Parameter(torch.randn(n))
    p_ours = p_torch.detach().clone()
    p_start = p_ours.clone()
    opt = torch.optim.Adadelta([p_torch], lr=1.0, weight_decay=weight_decay)
    sq, acc = torch.zeros(n), torch.zeros(n)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for _ in range(10):
            g = torch.randn(n) * torch.rand(n)  # a range of gradient magnitudes
            p_torch.grad = g.clone()
            opt.step()
            kernels.adadelta_(p_ours, g, sq, acc, lr=1.0, weight_decay=weight_decay)
    finally:
        torch.set_num_threads(before)
    assert (p_ours - p_start).abs().mean() > 1e-4  # it moved the weights
    state = opt.state[p_torch]
    torch.testing.assert_close(p_ours, p_torch.detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(sq, state["square_avg"], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(acc, state["acc_delta"], rtol=1e-5, atol=1e-9)


def test_adadelta_kernel_updates_only_the_given_range():
    p, g = torch.zeros(100), torch.ones(100)
    sq, acc = torch.zeros(100), torch.zeros(100)
    kernels.adadelta_(p[10:20], g[10:20], sq[10:20], acc[10:20], lr=1.0)
    assert (p[10:20] < 0).all() and (p[:10] == 0).all() and (p[20:] == 0).all()
    assert (sq[:10] == 0).all() and (sq[10:20] > 0).all()


def test_adadelta_kernel_refuses_other_tensors():
    p = torch.zeros(10)
    with pytest.raises(ValueError, match="contiguous float32 CPU"):
        kernels.adadelta_(p, torch.zeros(10, dtype=torch.float64), torch.zeros(10), torch.zeros(10), lr=1.0)
    with pytest.raises(ValueError, match="contiguous float32 CPU"):
        kernels.adadelta_(torch.zeros(4, 5).t(), torch.zeros(5, 4), torch.zeros(5, 4), torch.zeros(5, 4), lr=1.0)


def test_kernel_library_is_compiled_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("RADIOGENOMICS_KERNEL_CACHE", str(tmp_path))
    lib = kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta")
    assert lib.parent == tmp_path and lib.name.startswith("adadelta-") and lib.suffix == ".so"
    mtime = lib.stat().st_mtime_ns
    assert kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta") == lib
    assert lib.stat().st_mtime_ns == mtime  # reused, not rebuilt
    changed = kernels.compile_library(kernels.ADADELTA_SOURCE + "\n/* changed */\n", "adadelta")
    assert changed != lib  # another source, another library
    # no temporaries left: the two libraries and the sha256 recorded for each
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [lib.name, changed.name, lib.name + ".sha256", changed.name + ".sha256"])
    assert (tmp_path / (lib.name + ".sha256")).read_text().strip() == hashlib.sha256(lib.read_bytes()).hexdigest()


def test_kernel_cache_is_created_private(tmp_path, monkeypatch):
    cache = tmp_path / "home" / "cache" / "radiogenomics"
    monkeypatch.setenv("RADIOGENOMICS_KERNEL_CACHE", str(cache))
    lib = kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta")
    assert lib.parent == cache and stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert cache.stat().st_uid == os.getuid() and not lib.stat().st_mode & 0o022
    assert kernels.load_library(lib).adadelta_step is not None


def test_own_cache_that_others_cannot_write_is_tightened(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    monkeypatch.setenv("RADIOGENOMICS_KERNEL_CACHE", str(cache))
    assert kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta").parent == cache
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


@pytest.mark.parametrize("unsafe", ["group_writable", "world_writable", "other_owner"])
def test_kernel_cache_another_user_can_write_is_refused(tmp_path, monkeypatch, caplog, unsafe):
    """A library planted in a cache that another user can write (or owns) is never loaded: the kernel is
    compiled into a fresh private temporary directory instead, with a warning."""
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    monkeypatch.setenv("RADIOGENOMICS_KERNEL_CACHE", str(cache))
    planted = kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta")  # as if another user had put it there
    assert planted.parent == cache
    cache.chmod({"group_writable": 0o770, "world_writable": 0o777, "other_owner": 0o700}[unsafe])
    if unsafe == "other_owner":
        uid = os.getuid()
        monkeypatch.setattr(kernels.os, "getuid", lambda: uid + 1)  # the cache now belongs to "someone else"
    kernels._fresh_private_dir.cache_clear()
    with caplog.at_level(logging.WARNING, logger="radiogenomics.models.kernels"):
        lib = kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta")
    assert lib.parent != cache and lib.name == planted.name
    assert stat.S_IMODE(lib.parent.stat().st_mode) == 0o700 and lib.parent.parent == Path(tempfile.gettempdir())
    assert "not loading libraries from it" in caplog.text and str(cache) in caplog.text
    with pytest.raises(RuntimeError, match="not loaded"):
        kernels.load_library(planted)
    if unsafe != "other_owner":
        kernels.load_library(lib)


def test_changed_library_file_is_rebuilt_not_loaded(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("RADIOGENOMICS_KERNEL_CACHE", str(tmp_path))
    lib = kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta")
    good = lib.read_bytes()
    lib.write_bytes(good[:-100] + bytes(100))  # changed after it was built (same owner, same mode)
    assert not kernels.verified(lib)
    with pytest.raises(RuntimeError, match="not loaded"):
        kernels.load_library(lib)
    with caplog.at_level(logging.WARNING, logger="radiogenomics.models.kernels"):
        assert kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta") == lib
    assert "does not match the sha256 recorded" in caplog.text
    assert kernels.verified(lib) and lib.read_bytes() == good
    (tmp_path / (lib.name + ".sha256")).unlink()  # no record: rebuilt too
    assert not kernels.verified(lib)
    kernels.compile_library(kernels.ADADELTA_SOURCE, "adadelta")
    assert kernels.verified(lib)


def test_compile_errors_name_the_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("RADIOGENOMICS_KERNEL_CACHE", str(tmp_path))
    with pytest.raises(RuntimeError, match="failed to compile the broken kernel"):
        kernels.compile_library("this is not C", "broken")
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="no C compiler found"):
        kernels.compile_library(kernels.ADADELTA_SOURCE, "other")


def test_switched_off_kernels_fall_back_to_blocked_adadelta(monkeypatch):
    net = torch.nn.Linear(4, 2)
    cfg = training.TrainingConfig(optimizer="adadelta", lr=1.0)
    assert isinstance(training.fast_optimizer(net.parameters(), cfg), training.FusedAdadelta)
    monkeypatch.setenv("RADIOGENOMICS_NO_KERNELS", "1")
    assert not kernels.adadelta_available()
    assert isinstance(training.fast_optimizer(net.parameters(), cfg), training.BlockedOptimizer)
