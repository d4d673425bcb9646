"""Printing query results: an aligned table for people, CSV and JSON for programs.

Values come from users' files (gene names from their annotations), so the table shows control
characters as visible escapes and CSV cells cannot start a spreadsheet formula (gems.safetext);
JSON carries the values as they are, escaped by JSON itself."""

from __future__ import annotations

import csv
import io
import json
import math

from gems.safetext import for_spreadsheet, for_terminal

FORMATS = ("table", "csv", "json")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def render(columns: list[str], rows: list[tuple], fmt: str = "table", snapshot: dict | None = None) -> str:
    if fmt == "json":
        body = {"columns": columns, "rows": [dict(zip(columns, r, strict=True)) for r in rows]}
        if snapshot:
            body["snapshot"] = snapshot
        return json.dumps(body, indent=1, default=str)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([for_spreadsheet(c) for c in columns])
        writer.writerows([[for_spreadsheet(_cell(v)) for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    columns = [for_terminal(c) for c in columns]
    cells = [[for_terminal(_cell(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
