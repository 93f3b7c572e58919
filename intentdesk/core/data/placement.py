"""Where a clip's file goes: a unique, safe name under `clips/<label>/`, placed without replacing anything.

Clip file names are unique in the whole dataset (case-folded), so a clip whose move was
interrupted can be found again by its name. Every folder on the way is checked not to be a link
that could lead outside the dataset.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from intentdesk.core.data import CLIPS
from intentdesk.core.data.metadata_csv import Clip
from intentdesk.core.data.safety import file_name_problem, path_problem, real, safe_stem, safe_suffix
from intentdesk.core.errors import DatasetError
from intentdesk.core.files import move_no_clobber


def taken_names(clips: Iterable[Clip]) -> set[str]:
    """The clips' file names, case-folded (a case-insensitive disk treats A.wav and a.wav as one)."""
    return {clip.name.casefold() for clip in clips}


class ClipFolder:
    """The `clips/` folder of the dataset at `root`: checked paths in, unique names out."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def clips_real(self) -> str:
        """Where clips/ must be, links resolved in the dataset folder's path but not in clips/ itself."""
        return os.path.join(real(self.root), CLIPS)

    def clip_path(self, clip: Clip) -> Path:
        """The clip's file, after checking that it is inside `clips/` (links included)."""
        path = self.root / clip.file_name
        problem = file_name_problem(clip.file_name) or path_problem(path, clip.file_name, self.clips_real())
        if problem is not None:
            raise DatasetError(f"{self.root}: the clip {problem}; nothing was changed")
        return path

    def own_dir(self, name: str) -> Path:
        """A folder of the dataset the store writes into, made if needed; never a link to elsewhere."""
        path = self.root / name
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise DatasetError(f"{path}: is a link or a file, but IntentDesk keeps its own folder there; "
                               "move it away and try again")
        path.mkdir(exist_ok=True)
        return path

    def new_path(self, relative: str) -> Path:
        """Make the folders of a new clip path, refusing links on the way (they could lead outside)."""
        problem = file_name_problem(relative)
        if problem is not None:
            raise DatasetError(f"{self.root}: a new clip {problem}")
        folder = self.own_dir(CLIPS)
        for part in PurePosixPath(relative).parts[1:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise DatasetError(f"{folder}: is a link or a file, not a label folder; move it away and try again")
            folder.mkdir(exist_ok=True)
        return self.root / relative

    def place(self, choose: Callable[[], str], put: Callable[[Path], None], clip: Clip) -> Path:
        """Choose a free name (under the lock) and `put` the file there without replacing anything;
        `clip.file_name` becomes that name.

        A name can still be taken by someone who does not take the lock; then the next one is tried.
        """
        for _ in range(100):
            relative = choose()
            target = self.new_path(relative)
            try:
                put(target)
            except FileExistsError:
                continue
            clip.file_name = relative
            return target
        raise DatasetError(f"{self.root}: could not find a free file name for a clip; is another program "
                           "writing into clips/?")

    def unique_name(self, label: str, stem: str, suffix: str, taken: set[str]) -> str:
        """A path `clips/<label>/<stem><suffix>` whose file name is unique in the whole dataset.

        `taken` holds the names in use (case-folded); the chosen one is added to it. Names are
        capped in bytes (UTF-8), so stem, counter and suffix stay well below the 255-byte limit.
        With no `suffix`, the one of `stem` is kept.
        """
        if not suffix:
            stem, suffix = os.path.splitext(stem)
        stem, suffix = safe_stem(stem), safe_suffix(suffix)
        folder = self.root / CLIPS / label
        candidate, n = f"{stem}{suffix}", 1
        while candidate.casefold() in taken or os.path.lexists(folder / candidate):
            n += 1
            candidate = f"{stem}-{n}{suffix}"
        taken.add(candidate.casefold())
        return f"{CLIPS}/{label}/{candidate}"

    @contextlib.contextmanager
    def undoing_new_label_dirs(self, labels: Iterable[str]) -> Iterator[None]:
        """If the block fails, remove the folders of `labels` that it made and left empty: a failed
        change leaves clips/ as it was (a folder that was there before stays, even when empty)."""
        clips_dir = self.root / CLIPS
        new = [clips_dir / label for label in set(labels) if not os.path.lexists(clips_dir / label)]
        try:
            yield
        except BaseException:
            for folder in new:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only succeeds when empty
            raise

    def remove_empty_label_dirs(self) -> None:
        """Drop label folders left empty by a move or delete (a label with no clips is no label)."""
        clips_dir = self.root / CLIPS
        if clips_dir.is_dir() and not clips_dir.is_symlink():
            for folder in clips_dir.iterdir():
                if folder.is_dir() and not folder.is_symlink():
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only succeeds when empty


def move_back(moves: list[tuple[Path, Path]]) -> None:
    """Undo (destination, source) moves, newest first, as far as the disk lets us."""
    for destination, source in reversed(moves):
        with contextlib.suppress(OSError):
            move_no_clobber(destination, source)
