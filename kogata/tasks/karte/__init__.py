"""カルテ: a consultation becomes an evidence-linked SOAP chart draft, with nothing invented."""

from kogata.tasks.karte.chart import Chart, Item, karte
from kogata.tasks.karte.schema import CHART_SCHEMA

__all__ = ["CHART_SCHEMA", "Chart", "Item", "karte"]
