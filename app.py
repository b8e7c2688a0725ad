"""kgan's dashboard: `streamlit run app.py [-- --runs-dir DIR]` (or set KGAN_RUNS_DIR).

Browses the run folders under the runs root (default: saved_models/ beside this file), shows
their curves and sample grids, samples live from their generators and compares runs. It never
writes to the runs folder. The page itself lives in `kgan.dashboard`.
"""

import sys
from pathlib import Path

from kgan import quiet

quiet.quiet_tensorflow()  # TensorFlow's start-up log lines (live sampling imports it)

from kgan.dashboard import navigation, render  # noqa: E402

render(navigation.runs_root(sys.argv[1:], Path(__file__).resolve().parent))
