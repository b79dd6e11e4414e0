"""Shared test fixtures: paths to the repository and to ../shared data."""

from __future__ import annotations

import sys
from pathlib import Path

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


def _extract_members(archive: Path, names: list[str], into: Path) -> list[Path]:
    import tarfile

    wanted = set(names)
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:  # read only as far as the last wanted member
            if member.name in wanted:
                tar.extract(member, into, filter="data")
                wanted.discard(member.name)
                if not wanted:
                    break
    assert not wanted, f"{archive} lacks {sorted(wanted)}"
    return [into / name for name in names]


@pytest.fixture(scope="session")
def archive_members():
    """archive_members(archive, member paths, into) -> the members of a ../shared .tar.xz archive,
    extracted into `into` (reading only as far as the last one); skips the test when the
    archive is absent."""

    def extract(archive: Path, members: list[str] | tuple[str, ...], into: Path) -> list[Path]:
        if not Path(archive).is_file():
            pytest.skip(f"{archive} is not present")
        return _extract_members(Path(archive), list(members), into)

    return extract


@pytest.fixture(scope="session")
def repacked_archive(archive_members):
    """repacked_archive(archive, member paths, into) -> a ../shared lookalike under `into` whose
    copy of `archive` (same relative path) holds only those members, with the archive's
    README.md and index.tsv beside it; skips the test when the archive is absent."""
    import shutil
    import tarfile

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
def kinect_files(tmp_path: Path):
    """kinect_files(folder, archive name, member paths) -> the members of a ../shared/data/kinect
    archive, extracted into tmp_path/extracted; skips the test when the archive is absent."""

    def extract(folder: str, name: str, members: list[str]) -> list[Path]:
        archive = SHARED / "data" / "kinect" / folder / name
        if not archive.is_file():
            pytest.skip(f"{archive} is not present")
        return _extract_members(archive, members, tmp_path / "extracted")

    return extract
