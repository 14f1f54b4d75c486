"""Where the real PowerMTA test files are: a copy in this repo (testsupport/fixtures/pmta, see its
README for their public sources), or $PMTA_FIXTURES to test against another set."""

import os
from pathlib import Path

PMTA_FIXTURES = Path(os.environ.get("PMTA_FIXTURES") or Path(__file__).resolve().parent / "fixtures" / "pmta")
