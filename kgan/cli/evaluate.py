"""`kgan evaluate`: measures a trained run and prints each number beside its real-vs-real
floor, the class metrics with their classes."""

from __future__ import annotations

import argparse

from kgan.cli.folders import _add_runs_dir, _runs_dir


def _add_evaluate(commands) -> None:
    """Adds `kgan evaluate` to the subcommands."""
    evaluate = commands.add_parser(
        "evaluate",
        help="measure a trained run: FID, KID, precision/recall, density/coverage, memorisation",
        description="Measure run NAME's sampling generator (EMA weights when on) against its "
        "real training data, in the dataset's feature space (kgan's digits or MNIST "
        "classifier; --extractor inception for other images), and record the results in the "
        "run's metrics.jsonl and model card. Toy 2-D mixtures get mode coverage.",
        epilog="example: kgan evaluate digits --metrics fid,kid,pr,dc,memorisation --num 5000",
    )
    evaluate.add_argument("name", help="run name")
    evaluate.add_argument(
        "--metrics", metavar="LIST",
        help="comma-separated: fid, kid, pr, dc, memorisation, class_diversity, "
        "class_balance, classifier_score, mode_coverage (default: fid,kid,pr,dc,memorisation, "
        "and the class metrics for labelled data; toy data: mode_coverage)",
    )
    evaluate.add_argument("--num", type=int, default=5000,
                          help="generated samples (default 5000)")
    evaluate.add_argument("--seed", type=int, default=2, help="latent seed (default 2)")
    evaluate.add_argument(
        "--extractor", metavar="NAME",
        help="feature space: digits_pixels, mnist_pooled, digits_classifier, mnist or inception "
        "(default: the dataset's headline space)",
    )
    evaluate.add_argument(
        "--reference-num", type=int, default=10_000, metavar="N",
        help="real training examples to compare with (default 10000, or all if fewer)",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_runs_dir(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`kgan evaluate NAME`: measures run NAME, prints the numbers and records them in the run."""
    from kgan import evaluation, runs

    run = runs.open_run(_runs_dir(args), args.name)
    extractor = args.extractor or "auto"
    results = evaluation.evaluate(
        run,
        args.metrics,
        args.num,
        extractor=extractor,
        seed=args.seed,
        reference_num=args.reference_num,
        progress=not args.quiet,
    )
    first = next(iter(results.values()))
    space = first.get("extractor") or "-"
    print(f"run {run.name!r}: {args.num} samples (seed {args.seed}) vs real training data, "
          f"features: {space}")
    for line in _evaluate_lines(results):
        print(line)
    fid = results.get("fid", {})
    if fid.get("fid_floor") is not None and fid.get("below_floor"):
        print(f"WARNING: fid {fid['fid_at_floor_num']:.5g} is under the real-vs-real floor "
              f"{fid['fid_floor']:.5g} at N={fid['fid_floor_num']}: "
              f"{evaluation.BELOW_FLOOR_WARNING}")
    print(f"recorded in {run.metrics_path} and the model card")
    return 0


#: `kgan evaluate`'s floor lines: number -> (metric, floor, N, split, value at N, ratio keys).
#: The floors compare real held-out data with real training data, but for the modes
#: (`_AGAINST_UNIFORM`): there real held-out images are measured as the samples are.
_FLOORS = {
    "fid": ("fid", "fid_floor", "fid_floor_num", "fid_floor_split", "fid_at_floor_num",
            "fid_ratio"),
    "precision": ("pr", "precision_floor", "pr_floor_num", "pr_floor_split",
                  "precision_at_floor_num", None),
    "recall": ("pr", "recall_floor", "pr_floor_num", "pr_floor_split", "recall_at_floor_num",
               "recall_ratio"),
    "spread_ratio": ("class_diversity", "spread_ratio_floor", "class_floor_num",
                     "class_floor_split", "spread_ratio_at_floor_num", None),
    "class_recall": ("class_diversity", "class_recall_floor", "class_floor_num",
                     "class_floor_split", "class_recall_at_floor_num", None),
    "modes": ("stacked_modes", "modes_floor", "mode_floor_num", "mode_floor_split",
              "modes_at_floor_num", None),
    "reverse_kl": ("stacked_modes", "reverse_kl_floor", "mode_floor_num", "mode_floor_split",
                   "reverse_kl_at_floor_num", None),
}
_AGAINST_UNIFORM = ("modes", "reverse_kl")


def _evaluate_lines(results: dict) -> list[str]:
    """`kgan evaluate`'s table: one line per number, each real-vs-real floor on the line after
    its number, the class metrics with their classes."""
    from kgan import evaluation

    lines = []
    for name, value in evaluation.scalars(results).items():
        aside = _aside(name, results)
        lines.append(f"  {name:<18} {value:.5g}" + (f"  ({aside})" if aside else ""))
        floor = _floor_line(name, results)
        if floor:
            lines.append(floor)
    return lines


def _floor_line(name: str, results: dict) -> str | None:
    """`recall_floor 0.71  (real test vs real train, N=297; generated at N=297: 0.6, ratio
    0.845)`: the floor of number `name`, None when its result has none."""
    if name not in _FLOORS:
        return None
    metric, floor_key, n_key, split_key, at_key, ratio_key = _FLOORS[name]
    result = results.get(metric, {})
    floor, n, at_n = result.get(floor_key), result.get(n_key), result.get(at_key)
    if not all(_is_number(v) for v in (floor, n, at_n)):
        return None
    ratio = result.get(ratio_key) if ratio_key else None
    tail = f", ratio {ratio:.3g}" if _is_number(ratio) else ""
    against = "" if name in _AGAINST_UNIFORM else " vs real train"
    return (f"  {floor_key:<18} {floor:.5g}  (real {result.get(split_key)}{against}, "
            f"N={n}; generated at N={n}: {at_n:.5g}{tail})")


def _aside(name: str, results: dict) -> str:
    """What a class number needs beside it: where the classes came from, the worst class and
    its own real floor, the rarest and most common class against a balanced share."""
    diversity, balance = results.get("class_diversity", {}), results.get("class_balance", {})
    if name == "spread_ratio" and diversity.get("labels_from"):
        source = diversity["labels_from"]
        return ("classes drawn by the generator" if source == "generator"
                else f"classes: {source}'s top class")
    if name == "min_spread_ratio" and "worst_class" in diversity:
        return _worst_class(diversity)
    if name in ("min_share", "max_share") and balance.get("share_by_class"):
        shares = balance["share_by_class"]
        pick = min if name == "min_share" else max
        c = pick(range(len(shares)), key=shares.__getitem__)
        return f"class {c}; balanced {1 / len(shares):.3g}"
    return ""


def _worst_class(diversity: dict) -> str:
    """`class 3; real floor 0.97 at N=297`: the least varied class and real data's spread ratio in
    that class (from `spread_ratio_floor_by_class`, when there is one)."""
    worst = diversity["worst_class"]
    floors = dict(zip(diversity.get("classes", []),
                      diversity.get("spread_ratio_floor_by_class") or []))
    if not _is_number(floors.get(worst)):
        return f"class {worst}"
    return f"class {worst}; real floor {floors[worst]:.5g} at N={diversity.get('class_floor_num')}"


def _is_number(value) -> bool:
    """True for an int or float that is not a bool (what the floor lines can format)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
