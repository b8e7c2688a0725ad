"""The evaluation's fixed choices: seeds, sample counts, which metrics run when, the floor split.

Kept apart so the callbacks, the CLI and the dashboard can read them without the measuring code.
"""

#: Seed of the latents every evaluation draws (the sample grid uses 0, the monitor 1).
EVAL_SEED = 2
#: Real training examples the metrics compare with (the first ones of the split).
REFERENCE_NUM = 10_000
#: What `kgan evaluate` computes by default.
DEFAULT_METRICS = (
    "fid", "kid", "pr", "dc", "memorisation", "class_diversity", "class_balance", "stacked_modes",
)
#: What the metric callback computes during training (memorisation comes once, at the end).
TRAINING_METRICS = (
    "fid", "kid", "pr", "dc", "mode_coverage", "class_diversity", "class_balance", "stacked_modes",
)
#: Metric options during training: KID on 10 subsets of 500 (unbiased; ~0.1 s for digits).
TRAINING_OPTIONS = {"kid": {"num_subsets": 10, "subset_size": 500}}
#: The metrics that compare features of generated and real data.
FEATURE_METRICS = ("fid", "kid", "pr", "dc", "memorisation")
#: The metrics over the modes a mode classifier reads off images (StackedMNIST's 1,000).
MODE_METRICS = ("stacked_modes",)
#: The metrics inside each class: they need labelled data (class_balance also a classifier).
CLASS_METRICS = ("class_diversity", "class_balance")
#: Generated samples per class below which the defaults leave the class metrics out.
MIN_PER_CLASS = 10
#: The held-out real split FID is measured against as the real-vs-real floor (when it exists).
FLOOR_SPLIT = "test"
#: The warning shown beside a FID below the equal-N real-vs-real floor.
BELOW_FLOOR_WARNING = "below real data: check memorisation and sample size"
