"""Speech recognition, offline: Japanese audio → numbered utterances with times and turn-based speaker labels.

asr = load_asr()                                    # Whisper base + medical adapter, int8 on the CPU; load once
transcript = transcribe("visit.m4a", asr=asr)       # kogata.transcript.Transcript
stream = StreamingTranscriber(asr)                  # live: feed() → utterances as speakers pause
"""

from kogata.speech.audio import AudioError, load_audio
from kogata.speech.decode import ASR, load_asr
from kogata.speech.glossary import Glossary, Term
from kogata.speech.stream import StreamingTranscriber
from kogata.speech.transcribe import transcribe

__all__ = ["ASR", "AudioError", "Glossary", "StreamingTranscriber", "Term", "load_asr", "load_audio", "transcribe"]
