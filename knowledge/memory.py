"""An in-memory copy of an index collection: exact cosine search with Chroma's `where` filters.

Chroma stays the index of record (`kb build`, sync, a shared Chroma server). A process that
uses the embedded store answers its queries from this copy: a filtered search over a few
thousand vectors is one matrix product, well under a millisecond, where a filtered Chroma
query costs several. The copy is also saved as a snapshot file inside the embedded store, so
the next process that finds it current answers without importing Chroma (about a second).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import ge, gt, le, lt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MASK_CACHE = 512  # filters seen again (a skill, a language, a budget) are not evaluated twice
LOGICAL = {"$and", "$or"}


class FilterError(ValueError):
    """A `where` filter this copy does not understand (Chroma would refuse it too)."""


@dataclass
class MemoryCollection:
    """Ids, L2-normalised float32 vectors and metadata of one collection, in the same order."""

    ids: tuple[str, ...]
    vectors: np.ndarray
    metadatas: tuple[dict[str, Any], ...]
    _masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, ids: Sequence[str], vectors: Any, metadatas: Sequence[dict[str, Any] | None]
    ) -> MemoryCollection:
        import numpy as np

        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.maximum(norms, 1e-12)
        return cls(tuple(ids), matrix, tuple(dict(m or {}) for m in metadatas))

    def count(self) -> int:
        return len(self.ids)

    def query(
        self, embedding: Sequence[float], limit: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the `limit` nearest entries that pass `where`, best first."""
        import numpy as np

        if not self.ids or limit <= 0:
            return []
        query = np.asarray(embedding, dtype=np.float32)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        rows = np.flatnonzero(self.mask(where)) if where else np.arange(len(self.ids))
        if rows.size == 0:
            return []
        similarity = self.vectors[rows] @ query
        if rows.size > limit:
            keep = np.argpartition(-similarity, limit - 1)[:limit]
            rows, similarity = rows[keep], similarity[keep]
        order = np.lexsort((rows, -similarity))  # ties keep the collection's order
        return [(self.ids[rows[i]], float(similarity[i])) for i in order]

    def mask(self, where: dict[str, Any]) -> np.ndarray:
        """Which entries pass a Chroma-style `where` filter (cached by the filter's text)."""
        key = json.dumps(where, sort_keys=True, default=str)
        found = self._masks.get(key)
        if found is None:
            found = self._evaluate(where)
            if len(self._masks) >= MASK_CACHE:
                self._masks.pop(next(iter(self._masks)))
            self._masks[key] = found
        return found

    def _evaluate(self, where: dict[str, Any]) -> np.ndarray:
        import numpy as np

        if not isinstance(where, dict) or not where:
            raise FilterError(f"a filter must be a non-empty mapping, not {where!r}")
        parts = []
        for key, condition in where.items():
            if key in LOGICAL:
                if not isinstance(condition, list) or not condition:
                    raise FilterError(f"{key} needs a non-empty list of filters")
                masks = [self._evaluate(part) for part in condition]
                combine = np.logical_and if key == "$and" else np.logical_or
                parts.append(combine.reduce(masks))
            elif key.startswith("$"):
                raise FilterError(f"unknown filter operator {key}")
            elif isinstance(condition, dict):
                for operator, value in condition.items():
                    parts.append(self._leaf(key, operator, value))
            else:
                parts.append(self._leaf(key, "$eq", condition))
        combined: np.ndarray = np.logical_and.reduce(parts) if len(parts) > 1 else parts[0]
        return combined

    def _leaf(self, key: str, operator: str, value: Any) -> np.ndarray:
        import numpy as np

        values = [m.get(key, _MISSING) for m in self.metadatas]
        if operator == "$eq":
            hits = [_same(v, value) for v in values]
        elif operator == "$ne":
            hits = [v is not _MISSING and not _same(v, value) for v in values]
        elif operator in ("$in", "$nin"):
            if not isinstance(value, list):
                raise FilterError(f"{operator} needs a list, not {value!r}")
            inside = [any(_same(v, option) for option in value) for v in values]
            present = [v is not _MISSING for v in values]
            hits = (
                inside
                if operator == "$in"
                else [p and not i for p, i in zip(present, inside, strict=True)]
            )
        elif operator in COMPARISONS:
            if not _number(value):
                raise FilterError(f"{operator} needs a number, not {value!r}")
            test = COMPARISONS[operator]
            hits = [_number(v) and test(v, value) for v in values]
        else:
            raise FilterError(f"unknown filter operator {operator}")
        return np.fromiter(hits, dtype=bool, count=len(values))


_MISSING = object()
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": gt,
    "$gte": ge,
    "$lt": lt,
    "$lte": le,
}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(stored: Any, wanted: Any) -> bool:
    """Chroma's equality: a boolean equals only a boolean, a number any number of equal value."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return type(stored) is type(wanted) and stored == wanted
    if _number(stored) and _number(wanted):
        return bool(stored == wanted)
    return type(stored) is type(wanted) and stored == wanted


# Snapshot files -------------------------------------------------------------------------------


def save_snapshot(path: Path, collections: dict[str, MemoryCollection], embedder: str) -> None:
    """Write the collections to one file, atomically (a reader sees the old file or the new)."""
    import numpy as np

    arrays: dict[str, Any] = {"embedder": np.array(embedder)}
    for name, collection in collections.items():
        arrays[f"{name}.ids"] = np.array(collection.ids, dtype=str)
        arrays[f"{name}.vectors"] = collection.vectors
        arrays[f"{name}.metadatas"] = np.array(json.dumps(collection.metadatas))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)


def load_snapshot(
    path: Path, names: Sequence[str], embedder: str
) -> dict[str, MemoryCollection] | None:
    """The collections saved in a snapshot file; None when it is absent, damaged or another model's."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["embedder"]) != embedder:
                return None
            found = {}
            for name in names:
                ids = [str(i) for i in data[f"{name}.ids"]]
                metadatas = json.loads(str(data[f"{name}.metadatas"]))
                vectors = data[f"{name}.vectors"]
                if len(metadatas) != len(ids) or vectors.shape[0] != len(ids):
                    return None
                found[name] = MemoryCollection(
                    tuple(ids), vectors.astype(np.float32), tuple(metadatas)
                )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    return found
