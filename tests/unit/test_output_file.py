"""``--output``: regular files are replaced atomically; devices, FIFOs, symlinks respected."""

from __future__ import annotations

import os
import stat
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


def test_dev_null_stays_a_device() -> None:
    write_report(Path("/dev/null"), b"discarded\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


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
