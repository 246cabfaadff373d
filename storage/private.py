"""The data directory is the service user's alone: directories 0700, files 0600, whatever
the umask. It holds staff password hashes and session ids, what people wrote, their
photos and the HMAC secret: no other local account may read any of it.

Everything created under it goes through these helpers (an explicit mode, which a
umask can only narrow); `tighten` mends what an earlier version left readable (an
upgrade) and says so; `exposed` is what `jalerte doctor` reports."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import IO, Any

DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # group and others: read, write, search

log = logging.getLogger(__name__)

_FLAGS = {
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def private_dir(path: Path) -> Path:
    """Creates `path` and its missing parents, each 0700; an existing one is left as is
    (`tighten` mends those)."""
    missing, above = [], Path(path)
    while not above.exists() and above != above.parent:
        missing.append(above)
        above = above.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue
    return Path(path)


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """`open(path, mode)` for a file that is born 0600 ("w", "a" or "x", with "b" for
    bytes); an existing file is narrowed to 0600 too."""
    fd = os.open(path, _FLAGS[mode.replace("b", "")], FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def private_file(path: Path) -> None:
    """Creates `path` empty and 0600 if it does not exist (SQLite then gives its log and
    shared-memory files the same mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def exposed(root: Path) -> list[Path]:
    """`root` and whatever under it group or others may read, write or search."""
    return [path for path, mode in _walk(Path(root)) if mode & OTHERS]


def tighten(*paths: Path) -> list[Path]:
    """Takes group and others' rights off these paths and everything under them; logs
    and returns what had them (files of an earlier version, an upgrade)."""
    fixed = []
    for root in paths:
        for path, mode in _walk(Path(root)):
            if mode & OTHERS:
                try:
                    os.chmod(path, stat.S_IMODE(mode) & ~OTHERS, follow_symlinks=False)
                except OSError as exc:
                    log.error("%s stays readable by other local users: %s", path, exc.strerror)
                    continue
                fixed.append(path)
    if fixed:
        log.warning(
            "%d file(s) of the data were readable by other local users, now the "
            "service user's only: %s",
            len(fixed),
            ", ".join(map(str, fixed)),
        )
    return fixed


def _walk(root: Path) -> list[tuple[Path, int]]:
    """(path, mode) of `root` and all under it; symbolic links are neither followed nor
    changed (their own mode means nothing)."""
    found = []
    try:
        top = root.lstat()
    except FileNotFoundError:
        return []
    if stat.S_ISLNK(top.st_mode):
        return []
    found.append((root, top.st_mode))
    if stat.S_ISDIR(top.st_mode):
        for directory, dirs, files in os.walk(root):
            for name in dirs + files:
                path = Path(directory) / name
                try:
                    mode = path.lstat().st_mode
                except FileNotFoundError:  # gone meanwhile
                    continue
                if not stat.S_ISLNK(mode):
                    found.append((path, mode))
    return found
