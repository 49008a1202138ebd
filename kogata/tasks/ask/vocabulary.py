"""The words ask hands the verifier (kogata.verify.Vocabulary): the stock words of data/stock.tsv."""

from __future__ import annotations

from kogata.tasks import data

VOCABULARY = data.vocabulary("kogata.tasks.ask")
