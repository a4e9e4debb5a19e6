from __future__ import annotations

import os
import sys

# Native libraries read these when first imported: ask every thread pool for one thread, so that
# "single-thread" means one thread and the all-cores numbers come from processes only.
for _key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_key, "1")

from benchmarks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
