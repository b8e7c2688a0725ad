"""`kgan.evaluation`: the Evaluator on real data, recording into a run, `evaluate` and
`kgan evaluate`, and the metrics and health monitor inside `train`."""

import json

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from kgan import callbacks, cli, evaluation, features, runs, toy, training
from kgan.config import RunConfig
from kgan.errors import KganError

from generators import real_draws_generator


def digits_labels() -> tuple[np.ndarray, np.ndarray]:
    """(train, test) labels of kgan's `digits` splits."""
    from kgan.data.builders.digits.digits_dataset_builder import split_indices

    y = load_digits().target.astype(np.int32)
    return tuple(y[index] for index in split_indices(y))


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory):
    """scikit-learn's digits split as kgan's `digits` dataset splits them (297 test images
    stratified by class, the other 1,500 train), as an .npz array source in [-1, 1]."""
    from kgan.data.builders.digits.digits_dataset_builder import split_indices

    data = load_digits()
    x = (data.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    y = data.target.astype(np.int32)
    train, test = split_indices(y)
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])
    return f"npz:{path}", x[train], x[test]


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_digits_real_vs_real_through_the_evaluator(digits_npz, cache):
    source, train, test = digits_npz
    evaluator = evaluation.Evaluator(source, extractor="digits")
    assert (evaluator.kind, evaluator.shape, evaluator.reference_num) == ("image", (8, 8, 1), 1500)
    classes = ["class_diversity", "class_balance"]
    assert evaluator.available() == sorted(
        [*classes, "classifier_score", "dc", "fid", "kid", "memorisation", "pr"])
    assert evaluator.default_metrics() == ["fid", "kid", "pr", "dc", "memorisation", *classes]
    assert evaluator.default_metrics(training=True) == ["fid", "kid", "pr", "dc", *classes]
    results = evaluator.measure(
        test, ["fid", "kid", "pr", "dc", "memorisation", "classifier_score"],
        options={"kid": {"num_subsets": 20}},
    )
    # The real-vs-real values of kgan/assets/README.md (train 1,500 vs test 297).
    assert results["fid"]["fid"] == pytest.approx(0.4722, abs=2e-3)
    assert (results["fid"]["num_real"], results["fid"]["num_fake"]) == (1500, 297)
    assert results["kid"]["kid"] == pytest.approx(-0.0142, abs=2e-3)  # unbiased: ~0 for real
    assert results["kid"]["num_subsets"] == 20 and results["kid"]["subset_size"] == 297
    pr = results["pr"]
    assert pr["num_real"] == pr["num_fake"] == 297  # equal-size sets for the k-NN manifolds
    assert 0.6 < pr["precision"] < 0.9 and 0.6 < pr["recall"] < 0.95
    dc = results["dc"]
    assert dc["num_real"] == dc["num_fake"] == 297 and dc["k"] == 5  # equal N, as pr
    # Real data: density near 1 and coverage near 1 - 2^-5 (pinned in pixels below).
    assert 0.9 < dc["density"] < 1.2 and 0.9 < dc["coverage"] <= 1.0
    assert results["memorisation"]["near_copy_share"] == 0.0
    assert results["memorisation"]["median_ratio"] == pytest.approx(1.06, abs=0.05)
    assert results["classifier_score"]["classifier_score"] == pytest.approx(8.9, abs=0.3)
    for result in results.values():
        assert result["extractor"] == "digits" and len(result["extractor_fingerprint"]) == 12
    many = evaluator.measure(np.concatenate([test] * 7)[:2000], ["pr", "dc"])
    for result in many.values():
        assert result["num_real"] == result["num_fake"] == 1500  # the larger side subsampled
    # Training images are near-copies of themselves.
    copies = evaluator.measure(train[:50], ["memorisation"])["memorisation"]
    assert copies["near_copy_share"] == 1.0 and copies["num_train"] == 1500
    # The floor: the test split against the same reference at the same N (here the test split
    # itself, so the ratio is exactly 1); its features are cached beside the reference's.
    fid = results["fid"]
    assert fid["fid_floor"] == fid["fid_at_floor_num"] == fid["fid"]
    assert (fid["fid_floor_num"], fid["fid_floor_split"], fid["fid_ratio"]) == (297, "test", 1.0)
    assert fid["below_floor"] is False
    names = sorted(p.name for p in cache.iterdir())
    assert evaluator.reference().path.name in names and len(names) == 2
    assert any("-test-digits-" in name and name.endswith("-297.npz") for name in names)


def test_digits_headline_space_is_pixels_with_an_equal_n_floor(digits_npz, cache):
    """The default digits space (`digits_pixels`, see tests/test_metric_sensitivity.py): the
    real-vs-real floor at N = 297, and a larger generated set measured at the floor's N."""
    source, train, test = digits_npz
    evaluator = evaluation.Evaluator(source, extractor=features.default_for("digits"))
    assert evaluator.extractor.name == "digits_pixels"
    assert evaluator.available() == ["class_balance", "class_diversity", "classifier_score", "dc",
                                     "fid", "kid", "memorisation", "pr"]
    results = evaluator.measure(test, ["fid", "dc", "classifier_score"])
    assert results["fid"]["fid"] == pytest.approx(0.4427, abs=2e-3)
    # Density and coverage of the test digits against 297 of the training ones (k = 5).
    dc = results["dc"]
    assert (dc["num_real"], dc["num_fake"], dc["extractor"]) == (297, 297, "digits_pixels")
    assert dc["density"] == pytest.approx(1653 / (5 * 297)) and dc["coverage"] == 293 / 297
    assert results["fid"]["extractor"] == "digits_pixels"
    assert results["fid"]["extractor_fingerprint"] == evaluator.extractor.fingerprint
    assert results["fid"]["fid_ratio"] == 1.0
    # The classifier score comes from the classifier, recorded as such.
    assert results["classifier_score"]["extractor"] == "digits_classifier"
    assert results["classifier_score"]["classifier_score"] == pytest.approx(8.9, abs=0.3)
    # 1,000 fakes that replay training images: FID at N = 1000 is flattered by the larger N,
    # so the ratio uses 297 of them, and replay scores below real data (flagged).
    replay = evaluator.measure(train[:1000], ["fid"])["fid"]
    assert (replay["num_fake"], replay["fid_floor_num"]) == (1000, 297)
    assert replay["fid_at_floor_num"] != replay["fid"]
    assert replay["fid_ratio"] == pytest.approx(replay["fid_at_floor_num"] / replay["fid_floor"])
    assert replay["below_floor"] is (replay["fid_ratio"] < 1.0)


def test_images_are_resized_for_the_extractor_and_cached_per_size(tmp_path, cache, monkeypatch):
    rng = np.random.default_rng(0)
    path = tmp_path / "big.npy"
    np.save(path, rng.integers(0, 256, size=(40, 16, 16), dtype=np.uint8))
    evaluator = evaluation.Evaluator(f"npy:{path}", image_size=12, extractor="digits")
    reference = evaluator.reference()
    assert reference.features.shape == (40, 64) and reference.count == 40
    assert "12px" in reference.path.name and reference.path.parent == cache
    assert evaluator.features(rng.uniform(-1, 1, (5, 12, 12, 1))).shape == (5, 64)
    monkeypatch.setattr(
        evaluation.Evaluator, "real", lambda self, n, split=None: pytest.fail("re-read")
    )
    again = evaluation.Evaluator(f"npy:{path}", image_size=12, extractor="digits").reference()
    np.testing.assert_array_equal(again.features, reference.features)  # from the cache


def test_a_folder_whose_files_change_gets_fresh_statistics(tmp_path, cache):
    from PIL import Image

    folder = tmp_path / "faces"
    folder.mkdir()

    def write(seed: int, count: int) -> None:
        pixels = np.random.default_rng(seed).integers(0, 256, size=(count, 8, 8), dtype=np.uint8)
        for i, image in enumerate(pixels):
            Image.fromarray(image, "L").save(folder / f"{i:02d}.png")

    write(0, 12)
    first = evaluation.Evaluator(f"folder:{folder}", extractor="digits")
    reference = first.reference()
    same = evaluation.Evaluator(f"folder:{folder}", extractor="digits")
    # Unchanged files: the cached statistics.
    assert same.real_data.cache_key() == first.real_data.cache_key()
    write(1, 14)  # other pixels and two more images
    changed = evaluation.Evaluator(f"folder:{folder}", extractor="digits")
    assert changed.real_data.cache_key() != first.real_data.cache_key()
    fresh = changed.reference()
    assert (reference.count, fresh.count) == (12, 14) and fresh.path != reference.path
    assert not np.allclose(fresh.mean, reference.mean)


def test_toy_mixtures_get_mode_coverage_in_their_own_coordinates():
    evaluator = evaluation.Evaluator("grid25")
    assert evaluator.feature_space == "raw" and evaluator.extractor is None
    assert evaluator.default_metrics() == evaluator.default_metrics(training=True)
    assert evaluator.default_metrics() == ["mode_coverage"]
    results = evaluator.measure(toy.sample("grid25", 2500, seed=1), ["mode_coverage", "fid"])
    assert results["mode_coverage"]["modes"] == 25
    assert results["fid"]["fid"] < 0.05 and results["fid"]["extractor"] == "raw"
    assert evaluation.scalars(results)["modes"] == 25.0
    with pytest.raises(KganError, match="available: dc, fid, kid, memorisation, mode_coverage, pr"):
        evaluator.check(["classifier_score"])


def test_images_without_an_extractor_say_how_to_get_one(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((20, 4, 4), np.uint8))
    evaluator = evaluation.Evaluator(f"npy:{path}")
    assert evaluator.available() == [] and evaluator.default_metrics() == []
    with pytest.raises(KganError, match="inception.*KGAN_INCEPTION_WEIGHTS"):
        evaluator.check(["fid"])
    with pytest.raises(KganError, match="unknown metric 'fidd'; valid metrics: class_balance, "
                       "class_diversity, classifier_score"):
        evaluator.check("fidd")
    with pytest.raises(KganError, match="valid names: digits, digits_classifier, digits_pixels, inception, mnist"):
        evaluation.Evaluator(f"npy:{path}", extractor="vgg")


def test_record_writes_one_line_per_number(tmp_path):
    run = runs.new_run(tmp_path, "r")
    run.update_metadata(status="complete")
    results = {
        "fid": {"fid": 3.5, "num_real": 1500, "num_fake": 1000, "extractor": "digits"},
        "pr": {"precision": 0.8, "recall": 0.6, "k": 3, "num_real": 1000, "num_fake": 1000,
               "extractor": "digits"},
        "memorisation": {"near_copy_share": 0.01, "median_ratio": 1.1, "num_train": 1500,
                         "num_fake": 1000, "extractor": "digits"},
    }
    evaluation.record(run, results, epoch=4, step=92)
    records = run.metric_records()
    assert [r["metric"] for r in records] == ["fid", "precision", "recall", "memorisation"]
    assert records[1] | {"time": None} == {
        "metric": "precision", "value": 0.8, "epoch": 4, "step": 92, "num_samples": 1000,
        "feature_extractor": "digits", "k": 3, "num_real": 1000, "time": None,
    }
    card = run.metadata()["metrics"]
    assert card["memorisation"]["value"] == 0.01 and card["memorisation"]["median_ratio"] == 1.1
    assert card["fid"]["num_real"] == 1500 and card["fid"]["num_samples"] == 1000


def fake_run(root, source, name="g", status="complete"):
    """A finished run folder by hand: its config and a tiny saved generator (z -> 8x8x1)."""
    run = runs.new_run(root, name)
    config = RunConfig(dataset=source, arch="dcgan", latent_dim=4, epochs=3)
    run.write_config({"run": config.to_dict(), "model": {}, "compile": {}})
    z = keras.Input((4,), name="z")
    x = keras.layers.Dense(64, activation="tanh")(z)
    generator = keras.Model(z, keras.layers.Reshape((8, 8, 1))(x))
    callbacks.save(generator, run.generator_path)
    run.update_metadata(status=status, conditional=False, num_classes=None, epochs_done=3,
                        steps_done=30, pid=None)
    return run


def test_evaluate_a_run_records_its_results(tmp_path, digits_npz, cache, capsys):
    run = fake_run(tmp_path, digits_npz[0])
    results = evaluation.evaluate(run, "fid,memorisation", num=200, extractor="digits")
    assert results["fid"]["num_fake"] == 200 and results["fid"]["fid"] > 10  # an untrained G
    assert "fid:" in capsys.readouterr().out  # the progress bar
    records = run.metric_records()
    assert [(r["metric"], r["epoch"], r["step"], r["num_samples"]) for r in records] == [
        ("fid", 3, 30, 200), ("memorisation", 3, 30, 200)]
    assert run.metadata()["metrics"]["fid"]["value"] == results["fid"]["fid"]
    # Same seed, same samples, same number.
    again = evaluation.evaluate(run, ["fid"], num=200, extractor="digits", progress=False,
                                write=False)
    assert again["fid"]["fid"] == results["fid"]["fid"] and len(run.metric_records()) == 2
    busy = fake_run(tmp_path, digits_npz[0], name="busy", status="running")
    busy.update_metadata(pid=__import__("os").getpid(), host=__import__("socket").gethostname())
    with pytest.raises(KganError, match="being trained right now"):
        evaluation.evaluate(busy, num=100)


def test_kgan_evaluate_command(tmp_path, digits_npz, cache, capsys):
    fake_run(tmp_path, digits_npz[0])
    argv = ["evaluate", "g", "--metrics", "fid,pr,dc", "--num", "100", "--extractor", "digits",
            "--runs-dir", str(tmp_path), "--quiet"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "run 'g': 100 samples (seed 2) vs real training data, features: digits" in out
    assert "precision" in out and "recall" in out and "metrics.jsonl" in out
    assert "  density " in out and "  coverage " in out
    assert "fid_floor" in out and "N=100" in out and "WARNING" not in out  # untrained G
    assert [r["metric"] for r in runs.open_run(tmp_path, "g").metric_records()] == [
        "fid", "precision", "recall", "density", "coverage"]
    assert cli.main(["evaluate", "g", "--metrics", "fid", "--runs-dir", str(tmp_path)]) == 2
    assert "no feature extractor applies" in capsys.readouterr().err  # npz: no default


def test_kgan_evaluate_warns_below_the_real_floor(tmp_path, digits_npz, monkeypatch, capsys):
    fake_run(tmp_path, digits_npz[0])
    below = {"fid": {"fid": 0.9, "num_real": 1500, "num_fake": 1000, "extractor": "digits_pixels",
                     "fid_floor": 1.35, "fid_floor_num": 297, "fid_floor_split": "test",
                     "fid_at_floor_num": 1.2, "fid_ratio": 0.89, "below_floor": True}}
    monkeypatch.setattr(evaluation, "evaluate", lambda *a, **k: below)
    assert cli.main(["evaluate", "g", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "ratio 0.89" in out
    assert "WARNING: fid 1.2 is under the real-vs-real floor 1.35 at N=297: below real data: " \
        "check memorisation and sample size" in out


# ----------------------------------------------------------------------------- during training


def tiny_digits(source, **changes):
    return RunConfig(
        dataset=source, arch="dcgan", arch_kwargs={"width": 4}, latent_dim=8, epochs=2,
        steps_per_epoch=3, batch_size=32, ema=0.9, eval_every=1, eval_num=100,
    ).replace(**changes)


def test_train_measures_every_epoch_and_audits_memorisation(tmp_path, digits_npz, cache,
                                                           monkeypatch, capsys):
    monkeypatch.setattr("kgan.features.default_for", lambda dataset: "digits")
    run = training.train(tiny_digits(digits_npz[0], tensorboard=True), tmp_path, name="d",
                         export=False, verbose=2)
    history = run.history()
    logged = {"fid", "kid", "precision", "recall", "density", "coverage"}
    assert all(logged <= set(r) for r in history)
    meta = run.metadata()
    classes = {"spread_ratio", "min_spread_ratio", "class_recall", "min_share", "max_share"}
    assert set(meta["metrics"]) == logged | classes | {"memorisation"}
    assert meta["metrics"]["coverage"]["num_real"] == 100  # equal N: 100 generated samples
    audit = meta["metrics"]["memorisation"]
    assert (audit["epoch"], audit["num_samples"], audit["num_train"]) == (2, 100, 1500)
    assert audit["feature_extractor"] == "digits" and 0.0 <= audit["value"] <= 1.0
    assert [r["epoch"] for r in run.metric_records() if r["metric"] == "fid"] == [1, 2]
    assert any(run.tensorboard_dir.iterdir())
    out = capsys.readouterr().out
    assert "- fid: " in out  # in the epoch's progress line


def test_train_stops_a_collapsing_run_when_asked(tmp_path, capsys):
    """The saturating minimax loss on grid25 with the discriminator 1,000x faster than the
    generator: D wins at once, G gets no gradient and never spreads out."""
    collapsing = RunConfig(
        dataset="grid25", arch="mlp", arch_kwargs={"units": 32, "depth": 1}, latent_dim=8,
        loss="minimax", d_lr=1e-2, g_lr=1e-5, ema=None, batch_size=128, epochs=4,
        steps_per_epoch=10, steps_per_execution=10, on_warning="stop",
    )
    with pytest.raises(training.TrainingStopped, match="mode_collapse at epoch 3"):
        training.train(collapsing, tmp_path, name="bad", export=False, verbose=0)
    run = runs.open_run(tmp_path, "bad")
    assert [(w["epoch"], w["kind"]) for w in run.metadata()["warnings"]] == [(3, "mode_collapse")]
    assert run.status == "failed" and "stopped (on_warning='stop')" in run.reason
    assert [e for e, _ in run.checkpoints()] == [2, 3]  # stopped after epoch 3 of 4
    assert "memorisation" not in run.metadata()["metrics"]  # vector data: no image audit
    assert "kgan: warning: epoch 3: mode_collapse" in capsys.readouterr().out


# ----------------------------------------------------------------------------- inside each class


def test_labels_of_reference_and_floor_are_cached_beside_their_features(digits_npz, cache,
                                                                        monkeypatch):
    source = digits_npz[0]
    y_train, y_test = digits_labels()
    evaluator = evaluation.Evaluator(source, extractor="digits_pixels")
    np.testing.assert_array_equal(evaluator.reference_labels(), y_train)
    np.testing.assert_array_equal(evaluator.floor_labels(), y_test)
    stats = evaluator.reference().path
    labels_file = stats.with_name(stats.stem + ".labels.npy")
    assert labels_file.is_file() and len(list(cache.glob("*.labels.npy"))) == 2
    # A new evaluator reads both from the cache, not from the data.
    with monkeypatch.context() as patched:
        patched.setattr(evaluation.Evaluator, "real_labelled",
                        lambda *a, **k: pytest.fail("re-read"))
        again = evaluation.Evaluator(source, extractor="digits_pixels")
        np.testing.assert_array_equal(again.reference_labels(), y_train)
    # A damaged labels file (wrong length) is not trusted: re-read and rewritten.
    np.save(labels_file, np.zeros(10, np.int32))
    fresh = evaluation.Evaluator(source, extractor="digits_pixels")
    np.testing.assert_array_equal(fresh.reference_labels(), y_train)
    assert np.load(labels_file).shape == (1500,)


def test_class_metrics_use_the_labels_given_else_the_classifiers(digits_npz, cache):
    source, _, test = digits_npz
    y_test = digits_labels()[1]
    evaluator = evaluation.Evaluator(source, extractor="digits_pixels")
    names = ["pr", "class_diversity", "class_balance"]
    given = evaluator.measure(test, names, labels=y_test)
    diversity = given["class_diversity"]
    assert diversity["labels_from"] == "generator" and diversity["classes"] == list(range(10))
    assert diversity["extractor"] == "digits_pixels" and diversity["num_fake"] == 297
    assert 0.9 <= diversity["spread_ratio"] <= 1.1  # real held-out digits
    # The held-out split is the floor itself: every value sits on its floor, at N = 297.
    assert diversity["spread_ratio_floor"] == diversity["spread_ratio"]
    assert diversity["recall_floor_by_class"] == diversity["recall_by_class"]
    assert (diversity["class_floor_num"], diversity["class_floor_split"]) == (297, "test")
    pr = given["pr"]
    assert pr["recall_floor"] == pr["recall"] and pr["recall_ratio"] == 1.0
    assert (pr["pr_floor_num"], pr["pr_floor_split"]) == (297, "test")
    balance = given["class_balance"]
    assert balance["extractor"] == "digits_classifier" and len(balance["share_by_class"]) == 10
    assert 0.08 < balance["min_share"] <= balance["max_share"] < 0.12
    assert evaluation.scalars(given)["spread_ratio"] == diversity["spread_ratio"]
    # Wrong labels mix the classes: each "class" then spreads far more than a real one.
    shuffled = np.random.default_rng(0).permutation(y_test)
    mixed = evaluator.measure(test, ["class_diversity"], labels=shuffled)["class_diversity"]
    assert mixed["spread_ratio"] > 1.3
    # No labels: the classifier's top class (98% right on these digits) stands in.
    classified = evaluator.measure(test, ["class_diversity"])["class_diversity"]
    assert classified["labels_from"] == "digits_classifier"
    assert classified["spread_ratio"] == pytest.approx(diversity["spread_ratio"], abs=0.03)
    with pytest.raises(KganError, match="fake_labels must hold integer classes"):
        evaluator.measure(test, ["class_diversity"], labels=y_test.astype(np.float32))
    with pytest.raises(KganError, match="fake_labels must be a 1-D array of 297 classes"):
        evaluator.measure(test, ["class_diversity"], labels=y_test[:-1])


def test_class_metrics_need_labelled_data_and_known_classes(tmp_path):
    rng = np.random.default_rng(0)
    y = (np.arange(400) % 4).astype(np.int32)
    x = (rng.normal(size=(400, 2)) * 0.1 + np.array([[0, 0], [1, 0], [0, 1], [1, 1]])[y])
    path = tmp_path / "four.npz"
    np.savez(path, x_train=x[:300].astype(np.float32), y_train=y[:300],
             x_test=x[300:].astype(np.float32), y_test=y[300:])
    evaluator = evaluation.Evaluator(f"npz:{path}")  # vectors: raw features, no classifier
    assert "class_diversity" in evaluator.available()
    assert "class_balance" not in evaluator.available()
    assert "class_diversity" not in evaluator.default_metrics()  # unconditional: no classes
    assert evaluator.default_metrics(conditional=True)[-1] == "class_diversity"
    assert evaluator.default_metrics(conditional=True, num=39) == evaluator.default_metrics()
    with pytest.raises(KganError, match="samples' classes are unknown"):
        evaluator.measure(x[300:], ["class_diversity"])
    with pytest.raises(KganError, match="no classifier of the data's 4 classes"):
        evaluator.check(["class_balance"])
    result = evaluator.measure(x[300:], ["class_diversity"], labels=y[300:])["class_diversity"]
    assert result["extractor"] == "raw" and result["classes"] == [0, 1, 2, 3]
    assert result["spread_ratio_floor"] == result["spread_ratio"]  # the floor is x[300:]
    unlabelled = tmp_path / "plain.npy"
    np.save(unlabelled, x[:100].astype(np.float32))
    with pytest.raises(KganError, match="has no class labels"):
        evaluation.Evaluator(f"npy:{unlabelled}").check(["class_diversity"])


def conditional_fake_run(root, source, rows, labels, name="cg", per_class=25):
    """A finished conditional run by hand whose generator draws, for label c, one of
    `per_class` given images of class c picked by z (a near one-hot softmax)."""
    run = runs.new_run(root, name)
    config = RunConfig(dataset=source, arch="dcgan", latent_dim=4, epochs=3, conditional=True)
    run.write_config({"run": config.to_dict(), "model": {}, "compile": {}})
    generator = real_draws_generator(rows, labels, per_class, latent_dim=4)
    callbacks.save(generator, run.generator_path)
    run.update_metadata(status="complete", conditional=True, num_classes=10, epochs_done=3,
                        steps_done=30, pid=None)
    return run


def test_evaluate_a_conditional_run_with_the_labels_it_generated_with(tmp_path, digits_npz,
                                                                      cache, monkeypatch):
    source, _, test = digits_npz
    y_test = digits_labels()[1]
    run = conditional_fake_run(tmp_path, source, test.reshape(len(test), -1), y_test)
    seen = []
    measure = evaluation.Evaluator.measure
    monkeypatch.setattr(evaluation.Evaluator, "measure",
                        lambda self, samples, *a, **k: seen.append((samples, k["labels"]))
                        or measure(self, samples, *a, **k))
    results = evaluation.evaluate(run, num=200, extractor="digits_pixels", progress=False)
    (samples, labels), = seen
    np.testing.assert_array_equal(labels, kgan_labels(200, 10))  # the classes drawn for
    expected = evaluation.Evaluator(source, extractor="digits_pixels")
    drawn_as = expected.probabilities(samples).argmax(1)
    assert (drawn_as == labels).mean() > 0.95  # sample i really is of class labels[i]
    assert {"class_diversity", "class_balance"} <= set(results)
    diversity = results["class_diversity"]
    assert diversity["labels_from"] == "generator" and diversity["num_fake"] == 200
    assert 0.8 < diversity["spread_ratio"] < 1.2  # real test images of each class
    assert 0.05 <= results["class_balance"]["min_share"] <= 0.1  # 20 per class, 95% read right
    # The model card carries the per-class lists, and metrics.jsonl stays strict JSON.
    card = run.metadata()["metrics"]
    assert card["spread_ratio"]["value"] == diversity["spread_ratio"]
    assert card["spread_ratio"]["classes"] == list(range(10))
    assert len(card["class_recall"]["recall_by_class"]) == 10
    assert card["class_recall"]["recall_floor_by_class"] == diversity["recall_floor_by_class"]
    assert card["min_share"]["share_by_class"] == results["class_balance"]["share_by_class"]
    assert card["recall"]["recall_floor"] == results["pr"]["recall_floor"]
    for line in run.metrics_path.read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in metrics.jsonl"))


def kgan_labels(num, num_classes):
    from kgan.gan import default_labels

    return default_labels(num, num_classes)


def test_training_measures_conditional_runs_with_the_labels_it_drew(tmp_path, digits_npz, cache,
                                                                    monkeypatch):
    monkeypatch.setattr("kgan.features.default_for", lambda dataset: "digits_pixels")
    seen = []
    measure = evaluation.Evaluator.measure
    monkeypatch.setattr(evaluation.Evaluator, "measure",
                        lambda self, samples, metrics=None, **k: seen.append(
                            (list(metrics), k.get("labels"))) or measure(self, samples, metrics,
                                                                        **k))
    run = training.train(tiny_digits(digits_npz[0], conditional=True, epochs=1), tmp_path,
                         name="c", export=False, verbose=0)
    during = [labels for metrics, labels in seen if "class_diversity" in metrics]
    assert len(during) == 1  # one epoch, measured once
    np.testing.assert_array_equal(during[0], kgan_labels(100, 10))
    card = run.metadata()["metrics"]
    assert card["spread_ratio"]["labels_from"] == "generator"
    assert card["spread_ratio"]["num_samples"] == 100 and card["min_share"]["num_classes"] == 10
