"""Shared test fixtures: the repository, a cut of the sample video, members of ../shared archives
(each archive decompressed at most once per session)."""

from __future__ import annotations

import io
import lzma
import shutil
import sys
import tarfile
from pathlib import Path
from typing import BinaryIO

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cut.mp4: the first 2 s of the sample video at half size (tests/cli/_sample_cut.py), written
    once for the session (encoding it takes ~1.5 s); tests read it and write nothing beside it."""
    sys.path.insert(0, str(REPO / "tests" / "cli"))
    from _sample_cut import write_sample_cut

    return write_sample_cut(tmp_path_factory.mktemp("sample_cut") / "cut.mp4", seconds=2.0)


class _Tee(io.RawIOBase):
    """A forward-only reader of `source` that writes every byte it passes to `sink`."""

    def __init__(self, source: BinaryIO, sink: BinaryIO) -> None:
        self.source, self.sink, self.position = source, sink, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sink.write(data)
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        assert whence == io.SEEK_SET and offset >= self.position, "forward only"
        while self.position < offset and self.read(min(offset - self.position, 1 << 20)):
            pass
        return self.position


class _Archive:
    """One .tar.xz, decompressed as far as requests needed into a plain (seekable) .tar."""

    def __init__(self, archive: Path, plain: Path) -> None:
        self.plain = plain
        self.sink = plain.open("wb")
        self.tee = _Tee(lzma.open(archive), self.sink)
        self.reader = tarfile.open(fileobj=self.tee, mode="r:")
        self.members: dict[str, tarfile.TarInfo] = {}
        self.done = False

    def read_next(self) -> str | None:
        """Decompress through the next member (header and data); its name, or None at the end."""
        member = None if self.done else self.reader.next()
        if member is None:
            self.done = True
            return None
        self.tee.seek(member.offset_data + member.size)
        self.members[member.name] = member
        return member.name

    def close(self) -> None:
        self.reader.close()
        self.tee.source.close()
        self.sink.close()


class ArchiveCache:
    """Members of ../shared .tar.xz archives, each archive decompressed at most once per session.

    An archive is decompressed in order and only as far as a request needs, into a plain .tar
    under `folder`; a later request reads a member passed before from there, and decompresses
    on from where the last one stopped for one further in.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.archives: dict[Path, _Archive] = {}

    def _archive(self, archive: Path) -> _Archive:
        key = Path(archive).resolve()
        if key not in self.archives:
            self.archives[key] = _Archive(key, self.folder / f"{len(self.archives)}.tar")
        return self.archives[key]

    def names(self, archive: Path) -> list[str]:
        """Every member name of `archive`, in archive order (decompresses it to the end)."""
        opened = self._archive(archive)
        while opened.read_next() is not None:
            pass
        return list(opened.members)

    def extract(self, archive: Path, names: list[str] | tuple[str, ...], into: Path) -> list[Path]:
        """Those members, extracted under `into` at their paths in the archive."""
        opened = self._archive(archive)
        wanted = set(names) - set(opened.members)
        while wanted and (name := opened.read_next()) is not None:
            wanted.discard(name)
        assert not wanted, f"{archive} lacks {sorted(wanted)}"
        opened.sink.flush()
        with tarfile.open(opened.plain, "r:") as plain:
            for name in names:
                plain.extract(opened.members[name], into, filter="data")
        return [into / name for name in names]

    def close(self) -> None:
        for opened in self.archives.values():
            opened.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_archives(tmp_path_factory: pytest.TempPathFactory):
    """The session's `ArchiveCache` of ../shared archives (removed at the end of the session)."""
    cache = ArchiveCache(tmp_path_factory.mktemp("archives"))
    yield cache
    cache.close()


@pytest.fixture(scope="session")
def archive_members(shared_archives: ArchiveCache):
    """archive_members(archive, member paths, into) -> the members of a ../shared .tar.xz archive,
    extracted into `into` (through the session's archive cache); skips the test when the
    archive is absent."""

    def extract(archive: Path, members: list[str] | tuple[str, ...], into: Path) -> list[Path]:
        if not Path(archive).is_file():
            pytest.skip(f"{archive} is not present")
        return shared_archives.extract(Path(archive), members, into)

    return extract


@pytest.fixture(scope="session")
def repacked_archive(archive_members):
    """repacked_archive(archive, member paths, into) -> a ../shared lookalike under `into` whose
    copy of `archive` (same relative path) holds only those members, with the archive's
    README.md and index.tsv beside it; skips the test when the archive is absent."""

    def repack(archive: Path, members: list[str] | tuple[str, ...], into: Path) -> Path:
        archive_members(archive, members, into / "unpacked")
        target = into / "shared" / Path(archive).relative_to(SHARED)
        target.parent.mkdir(parents=True)
        with tarfile.open(target, "w:xz", preset=0) as small:
            for name in members:
                small.add(into / "unpacked" / name, arcname=name)
        for extra in ("README.md", "index.tsv"):
            if (Path(archive).parent / extra).is_file():
                shutil.copy(Path(archive).parent / extra, target.parent / extra)
        return into / "shared"

    return repack


@pytest.fixture
def kinect_files(tmp_path: Path, archive_members):
    """kinect_files(folder, archive name, member paths) -> the members of a ../shared/data/kinect
    archive, extracted into tmp_path/extracted; skips the test when the archive is absent."""

    def extract(folder: str, name: str, members: list[str]) -> list[Path]:
        return archive_members(SHARED / "data" / "kinect" / folder / name, members, tmp_path / "extracted")

    return extract
