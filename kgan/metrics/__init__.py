"""Sample-quality metrics as small registered functions over features (numpy/scipy only).

Feature extraction lives in `kgan.features`; every function here takes arrays and returns a
plain, JSON-serialisable dict of numbers that always includes the sample sizes it used.
Each metric declares the inputs it needs in `metric.inputs`, from this vocabulary:

| input                | meaning                                                          |
| -------------------- | ---------------------------------------------------------------- |
| `real_features`      | `(N, D)` features of real (reference) data                      |
| `fake_features`      | `(M, D)` features of generated samples                          |
| `train_features`     | `(N, D)` features of the generator's training set               |
| `fake_probabilities` | `(M, C)` class probabilities of generated samples               |
| `fake_samples`       | `(M, 2)` raw generated points (toy 2-D mixtures)                |
| `dataset`            | dataset name (toy 2-D mixtures)                                 |
| `real_labels`        | `(N,)` integer classes of the real rows                         |
| `fake_labels`        | `(M,)` classes of the generated rows (asked for, or classified) |
| `fake_modes`         | `(M,)` data mode of each generated row (StackedMNIST's triple)  |

so a caller holding some of these can run any metric by name:

    >>> from kgan import metrics
    >>> metrics.compute("fid", real_features=real, fake_features=fake, extractor="digits")
    {'fid': 1.23, 'num_real': 1000, 'num_fake': 1000, 'extractor': 'digits'}

Registered names, by module: `distances` holds `fid` and `kid`; `manifold` holds `pr`
(improved precision and recall) and `dc` (density and coverage); `classes` holds
`classifier_score`, `class_diversity` (spread and recall inside each class) and
`class_balance` (each class's share of the samples); `copies` holds `memorisation`;
`mixtures` holds `mode_coverage` (toy mixtures); `modes` holds `stacked_modes` (StackedMNIST).
`registry` looks them up; `neighbours` (k-NN geometry) and
`arrays` (input checks) are the shared helpers.
"""

from kgan.metrics.classes import class_balance, class_diversity, classifier_score, spread
from kgan.metrics.distances import feature_stats, fid, frechet_distance, kid
from kgan.metrics.copies import NEAR_COPY_THRESHOLD, memorisation
from kgan.metrics.manifold import density_coverage, precision_recall
from kgan.metrics.mixtures import mode_coverage
from kgan.metrics.modes import histogram_coverage, stacked_modes
from kgan.metrics.neighbours import knn_radii
from kgan.metrics.registry import INPUTS, compute, get, names, register

__all__ = [
    "INPUTS",
    "NEAR_COPY_THRESHOLD",
    "class_balance",
    "class_diversity",
    "classifier_score",
    "compute",
    "density_coverage",
    "feature_stats",
    "fid",
    "frechet_distance",
    "get",
    "histogram_coverage",
    "kid",
    "knn_radii",
    "memorisation",
    "mode_coverage",
    "names",
    "precision_recall",
    "register",
    "spread",
    "stacked_modes",
]
