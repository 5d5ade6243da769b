"""Write the report: report.html with its PNGs and thumbnails beside it, and summary.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from scripts.monitor.aggregate import Aggregate, Thumbnail
from scripts.monitor.errors import MalformedRecordError
from scripts.monitor.joins import OutcomeStats
from scripts.monitor.records import CLASSES, decode_input

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img.figure { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
.thumbs { display: flex; flex-wrap: wrap; gap: 1em; }
.thumbs figure { margin: 0; width: 12em; font-size: 0.85em; }
.thumbs img { width: 96px; height: 96px; image-rendering: pixelated; border: 1px solid #ccc; }
.warn { color: #a40000; }
code { font-size: 0.9em; }
"""


def write_report(
    out: Path,
    aggregate: Aggregate,
    figures: dict[str, str],
    outcomes: list[OutcomeStats],
    context: dict[str, Any],
) -> tuple[Path, Path]:
    """(report.html, summary.json) under `out`; thumbnails go to out/thumbnails/."""
    out.mkdir(parents=True, exist_ok=True)
    thumbnails = write_thumbnails(out, aggregate.lowest())
    summary = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **context,
        **aggregate.summary(),
        "outcomes": [stats.summary() for stats in outcomes],
        "lowest_confidence": [_thumbnail_summary(t, f) for t, f in thumbnails],
        "figures": figures,
    }
    summary_path = out / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    html_path = out / "report.html"
    html_path.write_text(render_html(summary, thumbnails))
    return html_path, summary_path


def write_thumbnails(out: Path, lowest: list[Thumbnail]) -> list[tuple[Thumbnail, str | None]]:
    """Each kept image as a file; None where the captured input is not a PNG or JPEG."""
    folder = out / "thumbnails"
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("lowest-*"):
        stale.unlink()  # a previous run may have kept more images
    written: list[tuple[Thumbnail, str | None]] = []
    for rank, item in enumerate(lowest, start=1):
        name = None
        try:
            data = decode_input(item.input_base64) if item.input_base64 else b""
        except MalformedRecordError:
            data = b""
        suffix = ".png" if data.startswith(PNG_MAGIC) else ".jpg" if data[:3] == JPEG_MAGIC else ""
        if suffix:
            name = f"thumbnails/lowest-{rank:02d}{suffix}"
            (out / name).write_bytes(data)
        written.append((item, name))
    return written


def render_html(summary: dict[str, Any], thumbnails: list[tuple[Thumbnail, str | None]]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Vehicle classifier monitoring report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Vehicle classifier monitoring report</h1>",
        _overview(summary),
        _malformed(summary["malformed"]),
    ]
    if summary["records"]:
        parts += [_figures(summary), _hours(summary), _outcomes(summary), _joined(summary)]
        parts.append(_thumbnails(thumbnails, summary["threshold"]))
    elif summary.get("source") == "results":
        parts.append(
            f"<p class=warn><strong>No inference results</strong> were found in "
            f"<code>{_e(summary['capture_source'])}</code>. Classify images first "
            "(<code>make classify</code>, or upload them to the bucket).</p>"
        )
        parts.append(_outcomes(summary))
    else:
        parts.append(
            f"<p class=warn><strong>No data capture records</strong> were found under "
            f"<code>{_e(summary['capture_source'])}</code>. Check that data capture is enabled "
            "on the endpoint and that images have been classified since (capture files appear "
            "a few minutes after the requests).</p>"
        )
        parts.append(_outcomes(summary))
    parts.append("</body></html>\n")
    return "\n".join(part for part in parts if part)


def _overview(summary: dict[str, Any]) -> str:
    if summary.get("source") == "results":  # a table: no capture files to count
        rows = [("Results source", summary["capture_source"])]
    else:
        rows = [
            ("Capture source", summary["capture_source"]),
            ("Capture files", f"{summary['capture_files']:,}"),
        ]
    rows += [
        ("Inference records", f"{summary['records']:,}"),
        ("Threshold", f"{summary['threshold']:g} ({summary['threshold_source']})"),
        ("Below threshold", _count_share(summary["below_threshold"], summary["records"])),
        ("Mean confidence", _number(summary["mean_confidence"])),
        ("First inference (UTC)", summary["first_inference"] or "-"),
        ("Last inference (UTC)", summary["last_inference"] or "-"),
        ("Generated (UTC)", summary["generated"]),
    ]
    if summary.get("environment"):
        rows.insert(0, ("Environment", summary["environment"]))
    for name in CLASSES:
        rows.append(
            (f"Class {name}", _count_share(summary["class_balance"][name], summary["records"]))
        )
    return "<h2>Overview</h2>" + _table(["", ""], rows, header=False)


def _malformed(malformed: dict[str, Any]) -> str:
    if not malformed["count"]:
        return ""
    rows = [(item["location"], item["reason"]) for item in malformed["first"]]
    reasons = ", ".join(f"{_e(k)}: {n}" for k, n in malformed["reasons"].items())
    return (
        f"<h2 class=warn>Malformed lines: {malformed['count']:,} skipped</h2>"
        f"<p>By reason: {reasons}. The first {len(rows)}:</p>"
        + _table(["Location", "Reason"], rows)
    )


def _figures(summary: dict[str, Any]) -> str:
    captions = {
        "confidence": "Confidence score distribution; red bars are below the threshold.",
        "timeline": "Top-class confidence per inference over time, by class; red rings mark "
        "inferences below the threshold.",
        "hours": "Count, mean confidence and share below the threshold by hour of day (UTC).",
        "classes": "Class balance of the top class.",
    }
    parts = ["<h2>Figures</h2>"]
    for name, file_name in summary["figures"].items():
        parts.append(f"<p>{_e(captions.get(name, name))}</p>")
        parts.append(f'<img class=figure src="{_e(file_name)}" alt="{_e(name)}">')
    return "\n".join(parts)


def _hours(summary: dict[str, Any]) -> str:
    rows = [
        (
            f"{hour['hour']:02d}:00",
            f"{hour['count']:,}",
            _number(hour["mean_confidence"]),
            _percent(hour["share_below_threshold"]),
        )
        for hour in summary["by_hour_utc"]
        if hour["count"]
    ]
    headers = ["Hour (UTC)", "Inferences", "Mean confidence", "Below threshold"]
    return "<h2>By hour of day</h2>" + _table(headers, rows, numeric_from=1)


def _outcomes(summary: dict[str, Any]) -> str:
    if not summary["outcomes"]:
        return (
            "<h2>Workflow outcomes</h2><p>Neither a results file nor Step Functions executions "
            "were read.</p>"
        )
    parts = ["<h2>Workflow outcomes</h2>"]
    for stats in summary["outcomes"]:
        statuses = ", ".join(f"{_e(k)}: {n:,}" for k, n in sorted(stats["statuses"].items()))
        note = " (newest executions only: --max-executions reached)" if stats["truncated"] else ""
        parts.append(
            f"<h3>{_e(stats['source'])}</h3><p>{statuses or 'nothing'}{_e(note)}. Failed: "
            f"{_count_share(stats['failed'], stats['finished'])} of finished executions.</p>"
        )
        rows = [(e["error"], f"{e['count']:,}", e["example_cause"] or "") for e in stats["errors"]]
        if rows:
            parts.append(_table(["Error", "Count", "Example cause"], rows))
    return "\n".join(parts)


def _joined(summary: dict[str, Any]) -> str:
    if summary.get("source") == "results":
        return ""  # each record is its own workflow outcome: nothing to join
    joined = summary["joined"]
    statuses = ", ".join(f"{_e(k)}: {n:,}" for k, n in sorted(joined["by_status"].items()))
    agreement = joined["label_agreement"]
    text = (
        f"<h2>Joined with the workflow</h2><p>{_count_share(joined['records'], summary['records'])}"
        f" capture records matched an execution or a results line ({_e(summary['join_method'])})."
    )
    if statuses:
        text += f" Their executions: {statuses}."
    if agreement:
        text += (
            f" Label agreement with the workflow: {agreement.get('agree', 0):,} agree, "
            f"{agreement.get('disagree', 0):,} disagree."
        )
    return text + "</p>"


def _thumbnails(thumbnails: list[tuple[Thumbnail, str | None]], threshold: float) -> str:
    parts = [f"<h2>Lowest-confidence images ({len(thumbnails)})</h2><div class=thumbs>"]
    for item, file_name in thumbnails:
        flag = " class=warn" if item.confidence < threshold else ""
        image = (
            f'<img src="{_e(file_name)}" alt="input image">' if file_name else "<p>(no image)</p>"
        )
        caption = [
            f"<strong{flag}>{_e(item.label)} {item.confidence:.3f}</strong>",
            _e(item.time.strftime("%Y-%m-%d %H:%M:%S UTC")),
            f"<code>{_e(item.location.rsplit('/', 1)[-1])}</code>",
        ]
        if item.outcome is not None:
            caption.append(f"{_e(item.outcome.key or '?')}: {_e(item.outcome.status)}")
            if item.outcome.error:
                caption.append(_e(item.outcome.error))
        parts.append(f"<figure>{image}<figcaption>{'<br>'.join(caption)}</figcaption></figure>")
    parts.append("</div>")
    return "\n".join(parts)


def _thumbnail_summary(item: Thumbnail, file_name: str | None) -> dict[str, Any]:
    outcome = item.outcome
    return {
        "confidence": item.confidence,
        "label": item.label,
        "time": item.time.isoformat().replace("+00:00", "Z"),
        "location": item.location,
        "file": file_name,
        "key": outcome.key if outcome else None,
        "status": outcome.status if outcome else None,
        "error": outcome.error if outcome else None,
    }


def _table(
    headers: list[str],
    rows: Sequence[Sequence[object]],
    header: bool = True,
    numeric_from: int = 99,
) -> str:
    head = "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr>" if header else ""
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if i >= numeric_from else ''}>{_e(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{head}{body}</table>"


def _count_share(part: int, whole: int) -> str:
    return f"{part:,} ({part / whole:.1%})" if whole else f"{part:,}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _e(text: object) -> str:
    return escape(str(text), quote=True)
