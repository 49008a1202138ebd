"""What a task tells the verifier about its words; the verifier knows no task's vocabulary of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Vocabulary:
    """A task's words as the verifier needs them.

    staff: speaker labels on the staff side (医師 in a consultation, オペレーター in a call, 窓口 at a counter),
        matched anywhere in a speaker's label, case aside; everyone else is the side whose words are reported.
    stock: words (or regular-expression fragments) the task's style adds around facts (処方, 継続, 経過観察 in a
        chart): not content a line must find in the words it cites. Tried in order.
    synonyms: (the word the task writes, the plain words said for it): 咽頭 for 喉, so that a line in the task's
        style is matched against the plain words it was written from.
    """

    staff: tuple[str, ...] = ()
    stock: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def is_staff(self, speaker: str) -> bool:
        """True for the staff side, whose words are plans and promises rather than what is reported to them."""
        return any(label.lower() in speaker.lower() for label in self.staff)

    @cached_property
    def stock_pattern(self) -> re.Pattern[str] | None:
        return re.compile("|".join(self.stock)) if self.stock else None
