"""Constants and small builders shared by the web tests (conftest holds only fixtures)."""

from __future__ import annotations

import gzip

KEY = "web-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LAB = "web-lab"


def fastq(n: int = 4) -> bytes:
    text = "".join(f"@r{i}\nACGTACGTAC\n+\nIIIIIIIIII\n" for i in range(n))
    return gzip.compress(text.encode())
