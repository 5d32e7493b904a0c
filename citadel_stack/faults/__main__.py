"""Print the fault catalog as Markdown: ``python -m citadel_stack.faults > docs/faults.md``."""
from __future__ import annotations

import sys

from citadel_stack.faults import catalog_page

if __name__ == "__main__":
    sys.stdout.write(catalog_page())
