"""Files written whole or not at all: a saved scenario (``save.py``) and a trace (``ledger.py``).

The text goes to a temporary file beside the target, is flushed and synced, then renamed
over the target, so a crash, a full disk or Ctrl-C never leaves a broken file. What can
be replaced is checked first:

- only a regular file, or a name not yet taken. A folder, a pipe, a device or a socket is
  refused (``NotSaved``): renaming over one would replace it with a file, and writing into
  one may never end.
- a symbolic link is followed, as editors do: the file it points to is replaced and the
  link stays a link (a link to nothing creates the file it names).

The temporary file has a fixed name that says what it is, ``.NAME.bptui-save.tmp`` (or
``-trace``), and is deleted on every way out that Python sees (an error, Ctrl-C, SIGTERM
made an exception by the caller). A process killed outright leaves it behind; the next
save of the same target takes it over, so at most one is ever left per target. A lock on
it keeps two saves of one target from writing into each other.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from bptui.core.errors import NUL_IN_PATH

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two saves of one target at once are not guarded
    fcntl = None

NAME_MAX = 255  # bytes in one file name, on the common file systems
_KINDS = ((stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISSOCK, "a socket"))


class NotSaved(OSError):
    """A target bptui will not write, and why (``strerror``, a phrase for after ``PATH:``)."""

    def __init__(self, reason: str):
        super().__init__(errno.EINVAL, reason)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_target(path) -> Path:
    """The file a save to ``path`` replaces (symbolic links followed). Raises NotSaved when
    it is not a regular file or a new name, FileNotFoundError when its folder is missing;
    other OSErrors (no right to write there, a full disk) come when writing."""
    name = os.fspath(path)
    if "\0" in name:
        raise NotSaved(NUL_IN_PATH)
    if not name or name.endswith(os.sep) or (os.altsep and name.endswith(os.altsep)):
        raise NotSaved("not a file name: it names a folder")
    real = Path(os.path.realpath(name))
    try:
        info = os.stat(real)
    except FileNotFoundError:
        if not real.parent.is_dir():  # said now, not after a long run has nowhere to go
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(real.parent)) from None
        return real  # a new file (or a link to one not yet there)
    if stat.S_ISDIR(info.st_mode):
        raise NotSaved("is a folder: name a file in it")
    if not stat.S_ISREG(info.st_mode):
        raise NotSaved(f"is {_kind(info.st_mode)}, not a regular file: bptui saves only over a regular file "
                       "or as a new file")
    return real


def temp_name(target: Path, what: str) -> Path:
    """``.NAME.bptui-WHAT.tmp`` beside the target; a name too long for that is shortened and
    made unique with a hash of it."""
    suffix = f".bptui-{what}.tmp"
    raw = os.fsencode(target.name)
    if len(raw) + 1 + len(suffix) > NAME_MAX:
        raw = raw[:100] + b"-" + hashlib.sha256(raw).hexdigest()[:16].encode()
    return target.with_name("." + os.fsdecode(raw) + suffix)


class AtomicFile:
    """A file being written to replace ``path`` whole: write to ``file``, then ``commit()``
    or ``discard()``. Opening raises OSError (NotSaved for a target bptui will not replace)
    before anything is written, so a caller can check a path before long work."""

    def __init__(self, path, what: str = "save"):
        self.target = check_target(path)
        self.tmp = temp_name(self.target, what)
        fd = self._open_temp()
        try:
            self.file = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        except BaseException:
            self._remove(fd)
            raise

    def _open_temp(self) -> int:
        for _ in range(3):  # another save may rename or remove the name between open and lock
            try:
                info = os.lstat(self.tmp)
            except FileNotFoundError:
                pass
            else:
                if not stat.S_ISREG(info.st_mode):
                    what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else _kind(info.st_mode)
                    raise NotSaved(f"{self.tmp.name} is in the way ({what}, where bptui puts its temporary "
                                   "file): remove it")
            flags = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
            fd = os.open(self.tmp, flags, 0o600)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    raise NotSaved(f"{self.tmp.name} is in the way ({_kind(info.st_mode)}, where bptui puts its "
                                   "temporary file): remove it")
                if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                    # Writing into another user's file would hand them the saved file.
                    raise NotSaved(f"{self.tmp.name} is in the way (another user's file, where bptui puts its "
                                   "temporary file): remove it")
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise NotSaved("another bptui is saving this file right now (its temporary file "
                                       f"{self.tmp.name} is in use): try again when it is done") from None
                try:
                    now = os.lstat(self.tmp)
                except FileNotFoundError:
                    now = None
                if now is None or (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
                    os.close(fd)  # the other save finished with it: start again
                    continue
                os.set_blocking(fd, True)
                os.ftruncate(fd, 0)  # a stale one, from a save that was killed, is taken over
                try:
                    mode = os.stat(self.target).st_mode & 0o777
                except FileNotFoundError:
                    mode = 0o644  # a saved scenario is an ordinary file, not a private one
                os.fchmod(fd, mode)
                return fd
            except BaseException:
                os.close(fd)
                raise
        raise NotSaved("another bptui is saving this file right now: try again when it is done")

    def commit(self) -> None:
        """Flush, sync and rename over the target; on any failure, the temporary file is removed."""
        fd = self.file.fileno()
        try:
            self.file.flush()
            os.fsync(fd)
            try:
                info = os.stat(self.target)
            except FileNotFoundError:
                pass
            else:  # something else took the name while the file was written
                if not stat.S_ISREG(info.st_mode):
                    check_target(self.target)
            # Renamed while still open and locked: another save cannot take the name over in between.
            os.replace(self.tmp, self.target)
        except BaseException:
            self.discard()
            raise
        self.file.close()
        _sync_folder(self.target.parent)

    def discard(self) -> None:
        """Remove the temporary file; never raises."""
        try:
            os.unlink(self.tmp)  # while locked, so no other save is writing it
        except OSError:
            pass
        try:
            self.file.close()
        except OSError:
            pass

    def _remove(self, fd: int) -> None:
        try:
            os.unlink(self.tmp)
        except OSError:
            pass
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some systems cannot sync a folder, which is no error."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def write_atomic(path, text: str, what: str = "save") -> None:
    """Write text to path whole or not at all (see the module's docstring)."""
    out = AtomicFile(path, what)
    try:
        out.file.write(text)
    except BaseException:
        out.discard()
        raise
    out.commit()
