"""The handover page a stakeholder opens: the verdict at the top, one row per criterion, details folded below.

One self-contained HTML file (no external file, no network: it works from file:// and prints on A4). Order on the
page: the verdict in a word; the matrix (criterion, verdict badge, passed / failed / not applicable / not run counts,
one short reason); the relaxed thresholds as a table (key, plan, applied, why); then, per criterion, the scenarios
and the measured gates in a fold that opens on a click and always opens for print. Messages are cleaned (no control
characters, no run-on text): a line of at most a sentence or two, the whole message being in the Allure report.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from citadel_acceptance.report.handover import INCOMPLETE, READY, CriterionRow, GateLine, Handover

ALLURE_REPORT = "../allure-report/index.html"  # the run's Allure report, beside reports/ (RunPaths)
BADGES = {"passed": "ok", "passed, targets relaxed": "relaxed", "failed": "bad", "not proven": "unproven",
          "incomplete": "unproven", "not ready": "bad"}

STYLE = """
*{box-sizing:border-box} body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:20px 28px;color:#1f2328;max-width:1240px}
header{display:flex;align-items:baseline;gap:18px;margin-bottom:12px}
#verdict{font-size:40px;margin:0;padding:4px 18px;border-radius:8px;color:#fff;letter-spacing:.5px}
#verdict.ready{background:#1a7f37} #verdict.notready{background:#cf222e} #verdict.incomplete{background:#9a6700}
header p{margin:0;color:#57606a}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #d0d7de;vertical-align:top}
th{font-size:13px;color:#57606a;font-weight:600} td.n{text-align:right;font-variant-numeric:tabular-nums;width:5.5em}
#matrix td.reason{color:#57606a}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:13px;font-weight:600;white-space:nowrap;color:#fff}
.badge.ok{background:#1a7f37} .badge.relaxed{background:#6e7781} .badge.bad{background:#cf222e} .badge.unproven{background:#9a6700}
h2{font-size:18px;margin:22px 0 6px} details{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:4px 10px}
summary{cursor:pointer;font-weight:600} ul{margin:4px 0;padding-left:1.2em} li.failed,li.broken{color:#cf222e}
li.skipped{color:#9a6700} .muted{color:#57606a}
@media print{@page{size:A4;margin:14mm} body{padding:0;font-size:11px} #verdict{font-size:26px}
 details{break-inside:avoid} details::details-content{content-visibility:visible;display:block} a{color:inherit}}
"""
OPEN_FOR_PRINT = "addEventListener('beforeprint',()=>document.querySelectorAll('details').forEach(d=>d.open=true));"


def clean(text: str, limit: int = 160) -> str:
    """One readable line: control characters and escaped bytes removed, whitespace collapsed, cut at `limit`."""
    text = re.sub(r"\\x[0-9a-fA-F]{2}|[\x00-\x08\x0b-\x1f\x7f]", " ", str(text))
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def short_reason(row: CriterionRow) -> str:
    """The one reason shown beside a criterion's badge."""
    failed = [s for s in row.scenarios if s.status in ("failed", "broken")]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return clean(f"{failed[0].name}{more}", 110)
    if row.criterion == "SC7":
        return "the verdict of the criteria above" if row.verdict != "passed" else "every criterion proven"
    if row.verdict == "incomplete":
        return "the run was interrupted"
    if row.not_run:
        return f"{row.not_run} scenario(s) did not run"
    skipped = [s for s in row.scenarios if s.status == "skipped"]
    if skipped:
        return clean(f"{len(skipped)} skipped: {skipped[0].message}", 110)
    relaxed = sorted({g.name for g in row.gates if g.relaxed})
    if relaxed:
        return f"passed against {len(relaxed)} relaxed threshold(s)"
    return f"all {len(row.scenarios)} scenario(s) passed against the plan"


def _badge(verdict: str) -> str:
    return f"<span class='badge {BADGES.get(verdict, 'unproven')}'>{html.escape(verdict)}</span>"


def _value(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    return (f"{value:.4g} {unit}" if isinstance(value, float) else f"{value} {unit}").strip()


def _gate_row(gate: GateLine) -> str:
    esc = html.escape
    plan = f"{gate.compare} {_value(gate.spec, gate.unit)}" if gate.spec is not None else "-"
    applied = f"{gate.compare} {_value(gate.applied, gate.unit)}" + (" (relaxed)" if gate.relaxed else "")
    return (f"<tr><td>{esc(clean(gate.scenario, 80))}</td><td>{esc(gate.name)}</td><td>{esc(_value(gate.measured, gate.unit))}"
            f"</td><td>{esc(plan)}</td><td>{esc(applied)}</td><td>{esc(gate.verdict)}</td></tr>")


def _details(row: CriterionRow) -> str:
    esc = html.escape
    scenarios = "".join(f"<li class='{esc(s.status)}'>{esc(s.status)}: {esc(s.name)}"
                        f"{' - ' + esc(clean(s.message)) if s.message and s.status != 'passed' else ''}</li>"
                        for s in row.scenarios) or "<li class='muted'>no scenario result</li>"
    gates = [g for g in row.gates if g.measured is not None]
    table = ("<table><tr><th>scenario</th><th>gate</th><th>measured</th><th>plan</th><th>applied</th><th>verdict</th></tr>"
             + "".join(_gate_row(g) for g in gates) + "</table>") if gates else ""
    notes = "".join(f"<li>{esc(clean(r, 240))}</li>" for r in row.reasons if not r.startswith("failed: "))
    return (f"<details id='details-{esc(row.criterion)}'><summary>{esc(row.criterion)} {esc(row.statement)} "
            f"{_badge(row.verdict)}</summary><ul>{scenarios}</ul>{'<ul class=muted>' + notes + '</ul>' if notes else ''}{table}"
            f"<p><a href='{ALLURE_REPORT}'>Open the Allure report</a> (every step, attachment and message)</p></details>")


def _matrix_row(row: CriterionRow) -> str:
    esc = html.escape
    counts = "".join(f"<td class='n'>{n}</td>" for n in (row.count("passed"), row.count("failed", "broken"),
                                                          row.not_applicable, row.not_run))
    return (f"<tr id='row-{esc(row.criterion)}'><td><b>{esc(row.criterion)}</b></td><td>{esc(row.statement)}</td>"
            f"<td>{_badge(row.verdict)}</td>{counts}<td class='reason'>{esc(short_reason(row))}</td></tr>")


def _relaxed_table(handover: Handover) -> str:
    esc = html.escape
    if not handover.relaxed:
        return "<p class='muted'>No threshold was relaxed: every gate was held to the plan's own number.</p>"
    rows = "".join(f"<tr><td>{esc(t.key)}</td><td>{esc(t.scope)}</td><td>{esc(t.compare)} {t.plan:g} {esc(t.unit)}</td>"
                   f"<td>{esc(t.compare)} {t.applied:g} {esc(t.unit)}</td><td>{esc(clean(t.why, 200))}</td></tr>"
                   for t in handover.relaxed)
    return ("<table id='relaxed'><tr><th>threshold</th><th>where</th><th>plan</th><th>applied</th><th>why</th></tr>"
            f"{rows}</table>")


def write_html(handover: Handover, path: Path) -> Path:
    """The handover page (see the module's docstring); returns its path."""
    esc = html.escape
    kind = "ready" if handover.verdict == READY else ("incomplete" if handover.verdict == INCOMPLETE else "notready")
    proven = sum(1 for r in handover.rows if r.criterion != "SC7" and r.verdict == "passed")
    total = sum(1 for r in handover.rows if r.criterion != "SC7")
    subtitle = ("for handover to MVP-3" if handover.verdict == READY else
                f"{proven} of {total} criteria proven against the plan's own thresholds")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Citadel MVP-2 handover: {esc(handover.headline)}</title>
<style>{STYLE}</style><script>{OPEN_FOR_PRINT}</script></head><body data-ready="true">
<header><h1 id="verdict" class="{kind}">{esc(handover.headline)}</h1>
<p>{esc(subtitle)}<br>Citadel MVP-2 acceptance · profile {esc(handover.profile or '-')}</p></header>
<table id="matrix"><tr><th>criterion</th><th>promise</th><th>verdict</th><th class="n">passed</th><th class="n">failed</th>
<th class="n">not applicable</th><th class="n">not run</th><th>reason</th></tr>
{''.join(_matrix_row(r) for r in handover.rows)}</table>
<h2>Relaxed thresholds</h2>{_relaxed_table(handover)}
<h2>Details by criterion</h2>{''.join(_details(r) for r in handover.rows if r.criterion != 'SC7')}
<h2>Why this verdict</h2><ul id="reasons">{''.join(f'<li>{esc(clean(r, 300))}</li>' for r in handover.reasons)
    or '<li>every criterion was proven by scenarios that all passed against the plan</li>'}</ul>
</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
