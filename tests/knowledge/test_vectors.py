"""The shipped catalog vectors: current with the catalog, equal to what the model computes,
and only new or changed passages embedded when the catalog moves on."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.bundled import bundled_model
from knowledge.catalog import Catalog, default_catalog
from knowledge.vectors import (
    VECTORS_FILE,
    ShippedVectors,
    default_vectors,
    entries,
    load,
    model_version,
    text_hash,
    write,
)

SAMPLE = 8
STALE = "knowledge/data/vectors.npz is stale: run `make vectors` after changing the catalog"


@pytest.fixture(scope="module")
def shipped() -> ShippedVectors:
    vectors = load()
    assert vectors is not None, f"{VECTORS_FILE} is missing or unreadable: run `make vectors`"
    return vectors


def changed_catalog() -> tuple[Catalog, str]:
    """The catalog with one resource's description changed: (catalog, that resource's id)."""
    catalog = default_catalog()
    resources = dict(catalog.resources)
    ident = sorted(resources)[0]
    resources[ident] = resources[ident].model_copy(
        update={"description": resources[ident].description + " Now with a capstone project."}
    )
    return Catalog(resources=resources, version="changed"), ident


def test_the_shipped_vectors_are_current_with_the_catalog(
    shipped: ShippedVectors, kb: KnowledgeBase
) -> None:
    current = entries(default_catalog(), kb)
    assert shipped.is_current(current), STALE
    assert shipped.model == model_version(), STALE
    assert default_vectors() == shipped
    assert sorted(zip(shipped.kinds, shipped.ids, strict=True)) == [(e.kind, e.id) for e in current]
    assert {text_hash(e.text) for e in current} == set(shipped.hashes)


def test_the_file_is_small(shipped: ShippedVectors) -> None:
    assert shipped.matrix.dtype == np.float16 and shipped.matrix.shape[1] == 384
    assert VECTORS_FILE.stat().st_size < 3 * 1024 * 1024


def test_a_sample_matches_what_the_model_computes_now(
    shipped: ShippedVectors, kb: KnowledgeBase
) -> None:
    """Resources and skills picked at random (seeded): the model's vector of today's text."""
    current = entries(default_catalog(), kb)
    rng = random.Random(20261128)
    sample = rng.sample([e for e in current if e.kind == "resource"], SAMPLE - 2)
    sample += rng.sample([e for e in current if e.kind == "skill"], 2)
    fresh = bundled_model().passage([e.text for e in sample])
    for entry, vector in zip(sample, fresh, strict=True):
        stored = shipped.vector(entry.hash)
        assert stored is not None, (entry.kind, entry.id, STALE)
        # float16 storage moves a cosine by about 1e-6; a different text or model by far more.
        assert float(stored @ vector) > 0.9999, (entry.kind, entry.id)


def test_writing_embeds_only_the_changed_entry(
    tmp_path: Path, shipped: ShippedVectors, kb: KnowledgeBase
) -> None:
    path = tmp_path / "vectors.npz"
    shutil.copyfile(VECTORS_FILE, path)
    catalog, ident = changed_catalog()
    stats = write(catalog, kb, path)
    assert (stats.entries, stats.embedded, stats.reused, stats.removed) == (
        len(shipped),
        1,
        len(shipped) - 1,
        1,
    )
    rewritten = load(path)
    assert rewritten is not None and rewritten.is_current(entries(catalog, kb))
    assert not rewritten.is_current(entries(default_catalog(), kb))
    text = next(e.text for e in entries(catalog, kb) if e.id == ident)
    new = rewritten.vector(text_hash(text))
    assert new is not None
    assert float(new @ bundled_model().passage(text)) > 0.9999
    unchanged = next(h for h in shipped.hashes if h in rewritten.rows)
    assert np.array_equal(
        rewritten.matrix[rewritten.rows[unchanged]], shipped.matrix[shipped.rows[unchanged]]
    )


@pytest.mark.parametrize("content", [b"", b"not a numpy file", b"PK\x03\x04broken zip"])
def test_an_unreadable_file_means_no_shipped_vectors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "vectors.npz"
    path.write_bytes(content)
    assert load(path) is None
    assert load(tmp_path / "absent.npz") is None
