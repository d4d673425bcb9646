"""Only reads reach the engines: one SELECT (or WITH ... SELECT) statement, nothing else.

The keyword check needs no engine (the web app uses it before Athena); the DuckDB engine also
asks DuckDB's own parser what the statement is, so `SELECT 1; DROP ...` or a COPY hidden behind
comments is refused too, and it runs with file access disabled.
"""

from __future__ import annotations

import re

from gems.errors import ValidationError

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_FIRST = re.compile(r"^\s*\(*\s*([A-Za-z]+)")


def check_read_only(sql: str) -> str:
    """Return the SQL without trailing semicolons, or raise ValidationError saying why it is refused."""
    if not isinstance(sql, str) or not sql.strip():
        raise ValidationError("empty query", field="sql")
    body = _COMMENTS.sub(" ", sql).strip().rstrip(";").strip()
    m = _FIRST.match(body)
    keyword = m.group(1).upper() if m else ""
    if keyword not in ("SELECT", "WITH"):
        shown = keyword or body[:20]
        raise ValidationError(f"only SELECT/WITH queries are allowed here (got {shown})", field="sql")
    if ";" in _strip_strings(body):
        raise ValidationError("one statement per query (found ';' between statements)", field="sql")
    return sql.strip().rstrip(";").strip()


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", sql)
