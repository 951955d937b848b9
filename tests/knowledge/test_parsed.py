"""The bundled YAML stored parsed: current, read the same as the YAML, never read stale."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from knowledge import parsed
from knowledge.base import KnowledgeError, load_knowledge
from knowledge.catalog import load_catalog, load_topics
from knowledge.checks import load_checks

STALE = "knowledge/data/parsed.json is stale: run `make parsed` after changing knowledge/data"


@pytest.fixture
def yaml_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every read parses the YAML file itself, as with no stored form."""
    monkeypatch.setattr(parsed, "_stored", lambda: {})
    yield


def test_the_stored_form_is_current() -> None:
    assert parsed.PARSED_FILE.read_text(encoding="utf-8") == parsed.stored_form(
        parsed.bundled_files()
    ), STALE
    assert parsed.main(["--check"]) == 0


def test_every_bundled_file_is_stored_and_read_from_the_stored_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = json.loads(parsed.PARSED_FILE.read_bytes())
    files = parsed.bundled_files()
    assert len(files) > 40 and set(stored) == {
        p.relative_to(parsed.DATA_DIR).as_posix() for p in files
    }

    def no_parsing(raw: bytes) -> None:
        raise AssertionError("a bundled file was parsed although its stored form is current")

    monkeypatch.setattr(parsed, "parse_yaml", no_parsing)
    for path in files:
        assert (
            parsed.read_yaml(path)
            == stored[path.relative_to(parsed.DATA_DIR).as_posix()]["content"]
        )


def validated_from(monkeypatch: pytest.MonkeyPatch, stored: bool) -> tuple[object, ...]:
    if not stored:
        monkeypatch.setattr(parsed, "_stored", lambda: {})
    kb = load_knowledge()
    return kb, load_catalog(kb), load_topics(kb), load_checks(kb)


def test_the_validated_knowledge_is_the_same_from_either_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # JSON keeps dates as ISO text; every stored file goes through a model that reads both.
    from_json = validated_from(monkeypatch, stored=True)
    from_yaml = validated_from(monkeypatch, stored=False)
    assert from_json == from_yaml
    kb = from_json[0]
    assert kb.demand_file.as_of == from_yaml[0].demand_file.as_of  # type: ignore[attr-defined]
    assert type(kb.demand_file.as_of).__name__ == "date"  # type: ignore[attr-defined]


@pytest.fixture
def copied_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the data folder with its own stored form, made current."""
    data = tmp_path / "data"
    shutil.copytree(parsed.DATA_DIR, data, ignore=shutil.ignore_patterns("*.npz", "*.json"))
    monkeypatch.setattr(parsed, "DATA_DIR", data)
    monkeypatch.setattr(parsed, "PARSED_FILE", data / "parsed.json")
    parsed._stored.cache_clear()
    assert parsed.main([]) == 0
    yield data
    parsed._stored.cache_clear()


def test_an_edited_file_is_read_from_its_yaml_until_stored_again(copied_data: Path) -> None:
    roles = copied_data / "roles.yaml"
    content = yaml.safe_load(roles.read_text(encoding="utf-8"))
    content["roles"][0]["name"] = "Edited role name"
    roles.write_text(yaml.safe_dump(content), encoding="utf-8")
    assert parsed.read_yaml(roles)["roles"][0]["name"] == "Edited role name"
    assert parsed.main(["--check"]) == 1
    assert parsed.main([]) == 0 and parsed.main(["--check"]) == 0
    parsed._stored.cache_clear()
    assert parsed.read_yaml(roles)["roles"][0]["name"] == "Edited role name"


def test_a_missing_or_damaged_stored_form_falls_back_to_the_yaml(copied_data: Path) -> None:
    skills = copied_data / "skills.yaml"
    expected = parsed.parse_yaml(skills.read_bytes())
    for damage in (b"{not json", b""):
        (copied_data / "parsed.json").write_bytes(damage)
        parsed._stored.cache_clear()
        assert parsed.read_yaml(skills) == expected
    (copied_data / "parsed.json").unlink()
    parsed._stored.cache_clear()
    assert parsed.read_yaml(skills) == expected


def test_a_file_outside_the_data_folder_is_parsed_and_its_errors_are_kept(
    tmp_path: Path, yaml_only: None
) -> None:
    mine = tmp_path / "skills.yaml"
    mine.write_text("pillars: [\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        parsed.read_yaml(mine)
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_knowledge(tmp_path / "missing")
