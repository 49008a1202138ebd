"""What a task tells the verifier about its words; the verifier knows no task's vocabulary of its own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    """A task's words as the verifier needs them.

    staff: speaker labels on the staff side (医師 in a consultation, オペレーター in a call, 窓口 at a counter),
        matched anywhere in a speaker's label, case aside; everyone else is the side whose words are reported.
    """

    staff: tuple[str, ...] = ()

    def is_staff(self, speaker: str) -> bool:
        """True for the staff side, whose words are plans and promises rather than what is reported to them."""
        return any(label.lower() in speaker.lower() for label in self.staff)
