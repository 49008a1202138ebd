"""Evaluation on public Japanese benchmarks: one module per suite, shared scoring and a runner.

    from kogata.evals import SUITES, run
    result = run(SUITES["igakuqa"], kogata.load(), limit=50, seed=0)

`kogata eval SUITE` (kogata/cli/eval.py) is the command-line form; `kogata eval compare A.json B.json`
diffs two result files item by item. kogata.evals.karte (`kogata eval karte`) and kogata.evals.calls
(`kogata eval asdc`, `kogata eval calls`) score kogata's own tasks: charts and after-call records.
"""

from kogata.evals import igakuqa, jcqa, jmed, lawqa, medqa_ja, nursing_ner
from kogata.evals.runner import Suite, report, run

SUITES: dict[str, Suite] = {m.SUITE.name: m.SUITE for m in (igakuqa, medqa_ja, jmed, nursing_ner, jcqa, lawqa)}

__all__ = ["SUITES", "Suite", "report", "run"]
