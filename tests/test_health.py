"""The health checks as pure functions: each pattern's threshold and its message."""

import numpy as np
import pytest

from kgan import callbacks, health


def test_non_finite_names_the_logs_then_the_weights():
    assert health.non_finite_keys({"d_loss": float("nan"), "g_loss": 1.0, "note": "x"}) == [
        "d_loss"
    ]
    assert health.non_finite_logs({"d_loss": 0.5}) is None
    message = health.non_finite_logs({"d_loss": float("inf"), "g_loss": 1.0})
    assert message.startswith("non-finite values (d_loss=inf): training diverged")
    assert health.non_finite_weights([]) is None
    assert health.non_finite_weights(["generator/dense/kernel", "b"]).startswith(
        "non-finite weights (generator/dense/kernel): training diverged"
    )


def test_d_overpowering_fires_above_the_gap_only():
    assert health.d_overpowering({"d_real": 6.0, "d_fake": -4.0}, max_gap=10.0) is None
    message = health.d_overpowering({"d_real": 7.0, "d_fake": -4.5}, max_gap=10.0)
    assert message.startswith("D(real) - D(fake) = 11.5 logits")
    assert health.d_overpowering({}, max_gap=10.0) is None


def test_divergence_needs_patience_epochs_of_low_d_and_climbing_g():
    climbing = [(0.01, 1.0), (0.02, 2.0), (0.03, 4.0)]
    message = health.divergence(climbing, patience=3, d_loss_floor=0.05)
    assert "for 3 epochs" in message and "from 1 to 4" in message
    assert health.divergence(climbing[:2], patience=3, d_loss_floor=0.05) is None  # too few
    assert health.divergence(climbing, patience=3, d_loss_floor=0.02) is None  # D not low
    flat = [(0.01, 1.0), (0.01, 3.0), (0.01, 3.0)]
    assert health.divergence(flat, patience=3, d_loss_floor=0.05) is None
    assert health.divergence([(0.0, 1.0), *climbing], patience=3, d_loss_floor=0.05) == message
    assert health.divergence(climbing, patience=1, d_loss_floor=0.05) is None


def test_diversity_and_mode_collapse():
    x = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]])
    found = health.diversity(x)
    assert found == {"spread": pytest.approx(1.5), "neighbour": pytest.approx(2.0)}
    ratios = health.relative_diversity(x / 10, found)
    assert ratios == {"spread": pytest.approx(0.1), "neighbour": pytest.approx(0.1)}
    assert health.relative_diversity(np.full((4, 2), np.nan), found) == {
        "spread": 0.0, "neighbour": 0.0
    }
    assert health.mode_collapse({"spread": 0.5, "neighbour": 0.5}, 0.2, 0.1) is None
    assert health.mode_collapse({"spread": 0.1, "neighbour": 0.5}, 0.2, 0.1).startswith(
        "generated samples vary 10% as much as the real data: mode collapse"
    )
    assert "near-duplicates" in health.mode_collapse({"spread": 0.5, "neighbour": 0.05}, 0.2, 0.1)


def test_class_spreads_and_class_collapse():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(39, 3))
    labels = np.repeat([0, 1, 2, 3], [12, 12, 12, 3])  # class 3: too few rows for an estimate
    spreads = health.class_spreads(real, labels)
    assert sorted(spreads) == [0, 1, 2]
    with pytest.raises(ValueError, match="5 entries for 39 rows"):
        health.class_spreads(real, labels[:5])
    fake = real.copy()
    fake[labels == 1] *= 0.1  # class 1 varies a tenth as much
    fake[labels == 2] *= 0.15
    ratios = health.class_spread_ratios(fake, labels, spreads)
    assert ratios[0] == pytest.approx(1.0)
    assert ratios[1] < ratios[2] < 0.2
    low = health.collapsed_classes(ratios, health.MIN_CLASS_SPREAD)
    assert low == [1, 2]
    message = health.class_collapse(ratios, low)
    assert message.startswith("class 1: generated samples vary") and "(classes 2 too)" in message
    assert health.collapsed_classes(ratios, 0.05) == []


def test_the_callbacks_module_keeps_its_names():
    assert callbacks.HEALTH_ACTIONS is health.HEALTH_ACTIONS == ("warn", "stop", "rollback")
    assert callbacks.MIN_CLASS_SPREAD == health.MIN_CLASS_SPREAD == 0.2


def test_collapse_warnings_wait_for_warmup_or_a_diverse_generator():
    assert health.warming_up(epoch=2, warmup=3, varied=False)
    assert not health.warming_up(epoch=3, warmup=3, varied=False)
    assert not health.warming_up(epoch=1, warmup=3, varied=True)
    assert health.as_rows(np.zeros((4, 2, 3), np.float32)).shape == (4, 6)


def test_stop_reason_says_what_the_monitor_did():
    what = "health monitor: divergence at epoch 5 (D won)"
    assert health.stop_reason("divergence", 5, "D won", "stop") == (
        f"{what}; stopped (on_warning='stop')"
    )
    assert health.stop_reason("divergence", 5, "D won", "rollback").endswith(
        "no earlier epoch was free of warnings to roll back to"
    )
    assert health.stop_reason("divergence", 5, "D won", "rollback", 3).startswith(
        f"{what}; rolled back to epoch 3, the last epoch without warnings"
    )


def test_kgan_train_flags_plain_minimax_on_grid25_and_not_the_grid25_preset(tmp_path):
    """The monitor inside a real run: `kgan train --dataset grid25 --loss minimax` (no
    regulariser, default rates) collapses onto a few modes within 3 epochs and is flagged;
    the grid25 preset's recipe over the same number of steps is not (not yet all 25 modes
    then; all 25 by the preset's end) and sees at least 5 modes more."""
    from kgan import presets, runs, training
    from kgan.config import RunConfig

    plain = RunConfig(dataset="grid25", loss="minimax", epochs=4, eval_every=4, eval_num=2500)
    preset = presets.get("grid25").replace(epochs=1, steps_per_epoch=plain.epochs * 156,
                                           lr_decay=0.0, eval_every=1, jit_compile=False)
    found = {}
    for name, config in (("plain", plain), ("preset", preset)):
        training.train(config, tmp_path, name=name, export=False, verbose=0)
        card = runs.open_run(tmp_path, name).metadata()
        found[name] = ({w["kind"] for w in card.get("warnings") or []},
                       card["metrics"]["modes"]["value"])
    assert "mode_collapse" in found["plain"][0] and found["plain"][1] <= 15, found
    assert found["preset"][0] == set() and found["preset"][1] >= found["plain"][1] + 5, found
