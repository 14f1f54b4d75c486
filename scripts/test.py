"""`make test`: the whole pytest suite, on the embedded Postgres when DATABASE_URL is unset."""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedded_db import ensure_database_url

NO_TESTS_COLLECTED = 5


def main() -> int:
    ensure_database_url()
    root = Path(__file__).resolve().parent.parent
    code = subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], cwd=root, env=os.environ.copy())
    if code == NO_TESTS_COLLECTED:
        # The suite always has tests; "none ran" means a broken selection, never a pass.
        print("pytest ran no tests: treating that as a failure", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
