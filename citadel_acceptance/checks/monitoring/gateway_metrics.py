"""The gateway's own metrics: scraped, parsed with prometheus_client's parser, compared before and after."""
from __future__ import annotations

from typing import Mapping

from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, tuple[tuple[str, str], ...]]  # (sample name, sorted labels)


def parse(text: str) -> dict[Sample, float]:
    """Every sample of a Prometheus text exposition."""
    values: dict[Sample, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return values


def total(values: Mapping[Sample, float], name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, lbls), v in values.items() if n == name and wanted <= set(lbls))


def delta(before: Mapping[Sample, float], after: Mapping[Sample, float], name: str, **labels: str) -> float:
    """How much a counter grew between two scrapes."""
    return total(after, name, **labels) - total(before, name, **labels)
