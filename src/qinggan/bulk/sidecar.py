"""The sidecar of a local run: a folder beside the output that makes ``--resume`` possible.

``OUTPUT.qinggan-bulk/`` holds ``manifest.json`` (what is being run: the input's size and
modification time, the options, the qinggan version) and, for each finished chunk ``N``,
``N.part`` (its annotated rows, in the output format) and ``N.json`` (its label counts). A chunk
is finished when its ``.json`` exists: both files are written to a temporary name and renamed,
part first, so a run killed at any instant leaves only whole chunks behind. The output is put
together from the parts, in order, at the end, and the sidecar is removed; so a resumed run
writes exactly the bytes an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from qinggan._version import __version__
from qinggan.errors import ConfigError

SUFFIX = ".qinggan-bulk"
MANIFEST = "manifest.json"


def sidecar_dir(output: Path) -> Path:
    return output.with_name(output.name + SUFFIX)


def fingerprint(input_path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    stat = input_path.stat()
    return {
        "qinggan": __version__,
        "input": str(input_path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        **options,
    }


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Sidecar:
    """Finished chunks of one output, on disk."""

    def __init__(self, output: Path) -> None:
        self.dir = sidecar_dir(output)

    def part(self, index: int) -> Path:
        return self.dir / f"{index:06d}.part"

    def stats_file(self, index: int) -> Path:
        return self.dir / f"{index:06d}.json"

    def start(self, manifest: dict[str, Any], *, resume: bool) -> dict[int, dict[str, Any]]:
        """Prepare the folder; return the stats of the chunks already finished (if resuming)."""
        if resume and (self.dir / MANIFEST).is_file():
            previous = json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))
            if previous != manifest:
                changed = sorted(
                    k
                    for k in manifest.keys() | previous.keys()
                    if manifest.get(k) != previous.get(k)
                )
                raise ConfigError(
                    f"cannot resume: the unfinished run in {self.dir} was for another input or "
                    f"other options (changed: {', '.join(changed)}); run without --resume to "
                    "start over"
                )
            return self._finished()
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        write_atomically(self.dir / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
        return {}

    def _finished(self) -> dict[int, dict[str, Any]]:
        done = {}
        for path in self.dir.glob("[0-9]*.json"):
            index = int(path.stem)
            if self.part(index).is_file():
                done[index] = json.loads(path.read_text(encoding="utf-8"))
        return done

    def commit(self, index: int, stats: dict[str, Any]) -> None:
        """Mark chunk ``index`` finished (its part is already in place)."""
        write_atomically(self.stats_file(index), json.dumps(stats).encode("utf-8"))

    def part_tmp(self, index: int) -> Path:
        return self.dir / f".{index:06d}.{os.getpid()}.part.tmp"

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
