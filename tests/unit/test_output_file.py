"""``--output``: regular files are replaced atomically; devices, FIFOs, symlinks respected."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conntest.output_file import write_report


def test_a_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "conntest.prom"
    path.write_text("old\n")
    before = path.stat().st_ino
    write_report(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert path.stat().st_ino != before  # a new file renamed over the old one
    assert [p.name for p in tmp_path.iterdir()] == ["conntest.prom"]  # no temporary left


def test_a_new_path_is_created(tmp_path: Path) -> None:
    write_report(tmp_path / "fresh.txt", b"x\n", 0o600)
    assert stat.S_IMODE((tmp_path / "fresh.txt").stat().st_mode) == 0o600


def test_a_symlink_to_a_file_stays_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.prom"
    target.write_text("old\n")
    link = tmp_path / "link.prom"
    link.symlink_to(target)
    write_report(link, b"new\n")
    assert link.is_symlink()
    assert target.read_bytes() == b"new\n"


@pytest.fixture
def char_device(tmp_path: Path) -> Iterator[tuple[Path, int | None]]:
    """A character device to write to, never the machine's own ``/dev/null``.

    As root, a null device made in ``tmp_path`` (a regression replaces only that node);
    otherwise a pseudo-terminal's slave, whose master reads what was written.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        node = tmp_path / "null"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        yield node, None
        return
    master, slave = os.openpty()
    try:
        yield Path(os.ttyname(slave)), master
    finally:
        os.close(slave)
        os.close(master)


def test_a_character_device_stays_a_device(char_device: tuple[Path, int | None]) -> None:
    device, master = char_device
    write_report(device, b"through the device\n")
    assert stat.S_ISCHR(device.stat().st_mode)
    if master is not None:
        assert b"through the device" in os.read(master, 1024)


SHM = Path("/dev/shm")


@pytest.mark.skipif(
    not (SHM.is_dir() and os.access(SHM, os.W_OK)), reason="no writable /dev/shm here"
)
def test_a_regular_file_under_dev_is_replaced_whole_and_a_new_one_created() -> None:
    # A textfile collector reading /dev/shm: a regular file there is replaced atomically
    # (a shorter report must not keep the old one's tail), and a new path is created.
    with tempfile.TemporaryDirectory(dir=SHM, prefix="conntest-test-") as where:
        old = Path(where) / "conntest.prom"
        old.write_bytes(b"old old old old old\n")
        before = old.stat().st_ino
        write_report(old, b"new\n")
        assert old.read_bytes() == b"new\n"
        assert old.stat().st_ino != before
        fresh = Path(where) / "fresh.prom"
        write_report(fresh, b"first\n")
        assert fresh.read_bytes() == b"first\n" and stat.S_ISREG(fresh.stat().st_mode)
        assert sorted(p.name for p in Path(where).iterdir()) == ["conntest.prom", "fresh.prom"]


def test_a_descriptor_path_is_written_through_not_replaced(tmp_path: Path) -> None:
    # /dev/fd/N names this process's descriptor: the file behind it is written in place
    # (as a shell's "> file" behind /dev/stdout would be), not renamed over.
    behind = tmp_path / "redirected.txt"
    fd = os.open(behind, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        before = behind.stat().st_ino
        write_report(Path(f"/dev/fd/{fd}"), b"through the descriptor\n")
    finally:
        os.close(fd)
    assert behind.read_bytes() == b"through the descriptor\n"
    assert behind.stat().st_ino == before


def test_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader waiting, as a collector would
    try:
        write_report(fifo, b"through the fifo\n")
        assert os.read(reader, 1024) == b"through the fifo\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_without_a_reader_fails_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="No such device"):
        write_report(fifo, b"nobody listens\n")
