from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "hla"


@pytest.fixture(scope="session")
def hla_data() -> Path:
    return DATA
