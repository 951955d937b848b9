"""The learning-resource catalog: every file under `knowledge/data/catalog/`, validated together."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from knowledge.base import KnowledgeBase, KnowledgeError, _read_yaml, default_knowledge
from knowledge.schema import CatalogFile, Resource, TopicsFile

CATALOG_DIR = Path(__file__).parent / "data" / "catalog"
TOPICS_FILE = Path(__file__).parent / "data" / "topics.yaml"


@dataclass(frozen=True)
class Catalog:
    resources: dict[str, Resource]
    version: str
    methods: tuple[str, ...] = field(default=())

    def covering(self, skill_id: str) -> list[Resource]:
        return [r for r in self.resources.values() if skill_id in r.skills]

    def verified_share(self) -> float:
        """Share of entries confirmed against a stored copy of their page."""
        return sum(r.verified for r in self.resources.values()) / max(1, len(self.resources))

    def __len__(self) -> int:
        return len(self.resources)


def load_catalog(kb: KnowledgeBase, folder: Path = CATALOG_DIR) -> Catalog:
    """Read every catalog file; refuse duplicate ids or URLs and unknown skills or prerequisites."""
    digest = hashlib.sha256()
    resources: dict[str, Resource] = {}
    methods: list[str] = []
    problems: list[str] = []
    urls: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        content = path.read_bytes()
        digest.update(content)
        try:
            part = CatalogFile.model_validate(_read_yaml(path, content))
        except ValidationError as exc:
            raise KnowledgeError(f"{path.name}: {exc}") from exc
        methods.append(part.method)
        for resource in part.resources:
            if resource.id in resources:
                problems.append(f"resource id {resource.id} appears twice")
            url = str(resource.url).rstrip("/")
            if url in urls:
                problems.append(f"{resource.id} and {urls[url]} share the URL {url}")
            urls[url] = resource.id
            resources[resource.id] = resource
    for resource in resources.values():
        problems += [
            f"{resource.id}: unknown skill {s}" for s in resource.skills if s not in kb.skills
        ]
        problems += [
            f"{resource.id}: unknown prerequisite {p}"
            for p in resource.prerequisites
            if p not in kb.skills and p not in resources
        ]
    if problems:
        raise KnowledgeError("; ".join(sorted(problems)))
    return Catalog(resources=resources, version=digest.hexdigest()[:12], methods=tuple(methods))


@cache
def default_catalog() -> Catalog:
    return load_catalog(default_knowledge())


def load_topics(kb: KnowledgeBase, path: Path = TOPICS_FILE) -> TopicsFile:
    """Read the topic phrases; refuse unknown skills and a phrase claimed by two topics."""
    try:
        data = TopicsFile.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc
    problems: list[str] = []
    seen: dict[str, str] = {}
    for topic in data.topics:
        problems += [
            f"topic {topic.name}: unknown skill {s}"
            for s in [*topic.skills, *topic.closest]
            if s not in kb.skills
        ]
        for phrase in topic.phrases:
            key = phrase.strip().lower()
            if key in seen and seen[key] != topic.name:
                problems.append(f"phrase {phrase!r} is used by topics {seen[key]} and {topic.name}")
            seen[key] = topic.name
    if problems:
        raise KnowledgeError("; ".join(sorted(problems)))
    return data


@cache
def default_topics() -> TopicsFile:
    return load_topics(default_knowledge())
