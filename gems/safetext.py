"""Text that leaves gems for a spreadsheet or a terminal, made harmless there.

Sample names are checked, but other values in our tables come from users' files: a gene `Name`
from a GFF3 (whose `%`-escapes are decoded), an allele name from a custom HLA reference, a
patient id. A cell that starts with `=`, `+`, `-` or `@` is a formula to Excel and LibreOffice
(`=HYPERLINK(...)` sends the reader's data elsewhere), and an escape character in a table
printed to a terminal moves its cursor, retitles it or hides lines. So:

* `for_terminal`: every control character (C0, DEL, C1, and the bidirectional overrides that
  reorder what is shown) is written as a visible escape (`\\x1b`, `\\u202e`).
* `for_spreadsheet`: the same, then a leading `'` on text a spreadsheet would read as a formula
  (plain numbers such as `-1.5` stay numbers), as OWASP's CSV injection advice says.
* `without_local_paths`: a failure's reason as a job view shows it: a worker's absolute file
  paths (its folders, a library's error message) are cut to their last part.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@")
# An absolute path (two parts or more) that is not part of a URL (s3://b/k, http://h/p).
_LOCAL_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s/'\"]+/)+([^\s/'\",;:)]+)")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def for_terminal(text: str) -> str:
    return _CONTROL.sub(_escape, text)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def for_spreadsheet(text: str) -> str:
    text = for_terminal(text)
    bare = text.strip()
    if len(bare) > 1 and bare[0] in _FORMULA_START and not _number(bare):  # a lone "-" means none
        return "'" + text
    return text


def without_local_paths(text: str) -> str:
    return _LOCAL_PATH.sub(lambda m: f"…/{m.group(1)}", text)
