"""Aspect categories from a keyword lexicon.

The shipped lexicon is ``resources/aspects/categories.tsv``: a header line, then
``keyword<TAB>category<TAB>match`` per line, where ``match`` says which term the keyword is looked
for in: ``aspect`` (the aspect term), ``opinion`` (the opinion term, used for implicit aspects and
for aspects that match no aspect keyword) or ``any`` (both). Lines starting with ``#`` are comments.

An aspect gets the category of the longest keyword found inside its term (keywords are folded like
the text: half-width, simplified, lower case); the first line wins a tie. When no aspect keyword
matches, the opinion term is tried with the ``opinion`` and ``any`` keywords; when none matches the
category is ``None``.

Your own keywords come first: ``Analyzer(aspect_categories="my.tsv")`` (the same three columns,
``match`` optional, default ``aspect``) or ``Analyzer(aspect_categories={"续航": "battery"})``.
A keyword you give overrides the shipped one, and you may name new categories.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from qinggan.absa.chars import fold
from qinggan.errors import ConfigError

MATCHES = ("aspect", "opinion", "any")


def shipped_path() -> Path:
    return Path(str(resources.files("qinggan") / "resources" / "aspects" / "categories.tsv"))


def read_lexicon(path: str | Path) -> list[tuple[str, str, str]]:
    """Read a keyword lexicon file; a malformed line raises :class:`ConfigError` naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the aspect category lexicon {path}: {exc}") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split("\t")]
        if number == 1 and fields[0].lower() == "keyword":
            continue
        if len(fields) == 2:
            fields.append("aspect")
        if len(fields) != 3 or not fields[0] or not fields[1] or fields[2] not in MATCHES:
            raise ConfigError(
                f"{path}:{number}: expected 'keyword<TAB>category[<TAB>aspect|opinion|any]', "
                f"got {line!r}"
            )
        entries.append((fields[0], fields[1], fields[2]))
    return entries


class CategoryLexicon:
    """Keyword -> category, for aspect terms and opinion terms."""

    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        # per match side: first folded character -> [(keyword, category, order)]
        self._aspect: dict[str, list[tuple[str, str, int]]] = {}
        self._opinion: dict[str, list[tuple[str, str, int]]] = {}
        seen: set[tuple[str, str]] = set()
        self.categories: list[str] = []
        for order, (keyword, category, match) in enumerate(entries):
            key = fold(keyword).strip()
            if not key:
                continue
            if category not in self.categories:
                self.categories.append(category)
            sides = (
                (self._aspect, self._opinion)
                if match == "any"
                else ((self._aspect,) if match == "aspect" else (self._opinion,))
            )
            for side in sides:
                tag = (key, "a" if side is self._aspect else "o")
                if tag in seen:  # an earlier entry (a user's) wins
                    continue
                seen.add(tag)
                side.setdefault(key[0], []).append((key, category, order))
        self._cache: dict[tuple[str | None, str], str | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def shipped(cls, extra: str | Path | Mapping[str, str] | None = None) -> CategoryLexicon:
        """The shipped lexicon, with ``extra`` entries (a TSV path or a mapping) in front."""
        entries: list[tuple[str, str, str]] = []
        if isinstance(extra, Mapping):
            for keyword, category in extra.items():
                if not isinstance(keyword, str) or not isinstance(category, str) or not category:
                    raise ConfigError(
                        f"aspect_categories maps keywords to category names (strings); "
                        f"got {keyword!r}: {category!r}"
                    )
                entries.append((keyword, category, "aspect"))
        elif extra is not None:
            entries.extend(read_lexicon(extra))
        entries.extend(read_lexicon(shipped_path()))
        return cls(entries)

    @staticmethod
    def _longest(term: str, side: dict[str, list[tuple[str, str, int]]]) -> str | None:
        best: tuple[int, int, str] | None = None  # (-length, order, category)
        for i, ch in enumerate(term):
            for keyword, category, order in side.get(ch, ()):
                if term.startswith(keyword, i):
                    candidate = (-len(keyword), order, category)
                    if best is None or candidate < best:
                        best = candidate
        return None if best is None else best[2]

    def assign(self, aspect: str | None, opinion: str) -> str | None:
        """Category of an aspect (``None`` when implicit) given its opinion term."""
        key = (aspect, opinion)
        cached = self._cache.get(key, "")
        if cached != "":
            return cached
        category = None
        if aspect is not None:
            category = self._longest(fold(aspect), self._aspect)
        if category is None:
            category = self._longest(fold(opinion), self._opinion)
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = category
        return category
