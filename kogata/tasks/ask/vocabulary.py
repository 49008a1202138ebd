"""The words ask hands the verifier (kogata.verify.Vocabulary): the stock words of data/stock.tsv."""

from __future__ import annotations

from kogata.tasks.data import column
from kogata.verify import Vocabulary

VOCABULARY = Vocabulary(stock=column("kogata.tasks.ask", "stock.tsv", "word"))
