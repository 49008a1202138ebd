"""LoRA fine-tuning on the CPU (`kogata tune`): chat-format JSONL → PEFT LoRA → GGUF LoRA for the engine.

kogata.tune.speech teaches Whisper's decoder a clinic's words (`kogata tune-speech`, a LoRA on the decoder).
kogata.tune.reader trains the chart's learned reader (`make reader`; numpy only).
Needs the `tune` extra (torch CPU build, transformers, peft, gguf); nothing here is imported by the engine.
"""

from kogata.tune.train import Estimate, TuneConfig, TuneResult, estimate, train

__all__ = ["Estimate", "TuneConfig", "TuneResult", "estimate", "train"]
