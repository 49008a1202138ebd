"""Rendering: a chart as Markdown for people and as a FHIR R4 document Bundle for systems."""
