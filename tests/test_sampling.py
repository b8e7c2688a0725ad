"""The one sampling path: `kgan sample`, `GAN.generate`, the SavedModel's `sample` signature,
the dashboard, the evaluator and the sample-grid callback give the same pixels for one seed;
latents, labels and grid columns follow one rule."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import kgan
from kgan import callbacks, cli, evaluation, export, images, runs, sampling
from kgan.dashboard import sampling as dashboard_sampling

CLASSES, LATENT, NUM, SEED = 3, 6, 7, 11


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """A tiny conditional image GAN saved as run `c` (generator.keras and model card, as the
    Checkpoint callback and training write them), with its SavedModel export."""
    keras.utils.set_random_seed(0)
    generator, discriminator = kgan.architectures.get("dcgan", width=4).build(
        (8, 8, 1), latent_dim=LATENT, num_classes=CLASSES
    )
    gan = kgan.GAN(generator, discriminator, num_classes=CLASSES, ema_decay=0.99)
    # EMA weights unlike the generator's, so a path sampling the wrong network shows.
    gan.ema_generator.set_weights([w * 0.5 for w in gan.generator.get_weights()])
    root = tmp_path_factory.mktemp("runs")
    run = runs.new_run(root, "c")
    callbacks.save(gan.sampler, run.generator_path)
    run.update_metadata(kind="image", data_shape=[8, 8, 1], latent_dim=LATENT,
                        conditional=True, num_classes=CLASSES)
    exported = export.export_generator(gan.sampler, root / "export", num_classes=CLASSES)
    return gan, root, run, exported


def test_every_path_gives_the_same_pixels_for_one_seed(conditional_run, tmp_path, capsys):
    gan, root, run, exported = conditional_run
    expected = images.to_uint8(gan.generate(NUM, seed=SEED))
    assert expected.shape == (NUM, 8, 8, 1)
    assert not np.array_equal(expected, images.to_uint8(gan.generate(NUM, seed=SEED + 1)))
    assert not np.array_equal(
        expected, images.to_uint8(gan.generate(NUM, seed=SEED, use_ema=False))
    )

    out = tmp_path / "s.npz"
    assert cli.main(["sample", "c", "--num", str(NUM), "--seed", str(SEED), "--out", str(out),
                     "--runs-dir", str(root)]) == 0
    arrays = np.load(out)
    np.testing.assert_array_equal(arrays["x"], expected)
    np.testing.assert_array_equal(arrays["labels"], [0, 1, 2, 0, 1, 2, 0])

    signature = tf.saved_model.load(str(exported)).signatures["sample"]
    served = signature(num=tf.constant(NUM), seed=tf.constant(SEED),
                       label=tf.constant(arrays["labels"]))["images"].numpy()
    np.testing.assert_array_equal(served, expected)

    info = dashboard_sampling.ModelInfo.from_metadata(run.metadata())
    sampler = dashboard_sampling.Sampler(run.load_generator(), info)
    drawn = dashboard_sampling.draw(sampler, NUM, SEED)
    np.testing.assert_array_equal(images.to_uint8(drawn), expected)

    chunks = evaluation.generate_chunks(run.load_generator(), NUM, SEED, CLASSES, batch_size=3)
    np.testing.assert_array_equal(images.to_uint8(np.concatenate(list(chunks))), expected)

    png = tmp_path / "s.png"
    assert cli.main(["sample", "c", "--num", str(NUM), "--seed", str(SEED), "--out", str(png),
                     "--runs-dir", str(root)]) == 0
    capsys.readouterr()
    grid = callbacks.SampleGrid(run, num=NUM, seed=SEED)
    np.testing.assert_array_equal(np.asarray(Image.open(png)), grid.picture(gan)[..., 0])
    np.testing.assert_array_equal(
        grid.picture(gan), images.grid(expected, cols=CLASSES)
    )  # one column per class


def test_a_fixed_label_is_the_same_everywhere(conditional_run, tmp_path, capsys):
    gan, root, run, _ = conditional_run
    expected = sampling.draw(run.load_generator(), 4, 2, labels=1, num_classes=CLASSES,
                             uint8=True)
    np.testing.assert_array_equal(expected, images.to_uint8(gan.generate(4, seed=2, labels=1)))
    out = tmp_path / "one.npz"
    assert cli.main(["sample", "c", "--num", "4", "--seed", "2", "--label", "1", "--out",
                     str(out), "--runs-dir", str(root)]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(np.load(out)["x"], expected)
    info = dashboard_sampling.ModelInfo.from_metadata(run.metadata())
    sampler = dashboard_sampling.Sampler(run.load_generator(), info)
    np.testing.assert_array_equal(
        images.to_uint8(dashboard_sampling.draw(sampler, 4, 2, label=1)), expected
    )


def test_batches_do_not_change_the_samples(conditional_run):
    gan = conditional_run[0]
    whole = sampling.draw(gan, 9, seed=3)
    np.testing.assert_allclose(sampling.draw(gan, 9, seed=3, batch_size=2), whole, atol=1e-6)
    assert [len(b) for b in sampling.draw_batches(gan, 9, 3, batch_size=4)] == [4, 4, 1]
    assert sampling.draw(gan, 0, seed=3).shape == (0, 8, 8, 1)


def test_latents_and_labels():
    z = sampling.sample_latents(5, 7, 4).numpy()
    assert z.shape == (5, 4) and z.dtype == np.float32
    np.testing.assert_array_equal(z, kgan.sample_latents(5, 7, 4).numpy())  # the public name
    assert not np.allclose(z, sampling.sample_latents(5, 8, 4).numpy())
    assert np.abs(sampling.sample_latents(500, 7, 4, truncation=0.5).numpy()).max() <= 0.5
    assert sampling.labels_for(5, 3).tolist() == [0, 1, 2, 0, 1]
    assert sampling.labels_for(3, 3, labels=2).tolist() == [2, 2, 2]
    assert sampling.labels_for(4, None) is None
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\], got \[3\]"):
        sampling.labels_for(2, 3, labels=3)
    with pytest.raises(ValueError, match="unconditional"):
        sampling.labels_for(2, None, labels=0)


@pytest.mark.parametrize(
    "num, num_classes, label, cols",
    [
        (64, None, None, 8),     # about square
        (30, None, None, 6),
        (30, 10, None, 10),      # one column per class
        (80, 10, None, 10),
        (5, 10, None, 3),        # fewer samples than classes: no full row, about square
        (30, 10, 4, 6),          # a single class: about square
        (64, 20, None, 8),       # too many classes for one column each
        (16, 16, None, 16),
        (1, None, None, 1),
    ],
)
def test_grid_columns_follow_one_rule(num, num_classes, label, cols):
    assert sampling.grid_columns(num, num_classes, label) == cols
    info = dashboard_sampling.ModelInfo("image", (8, 8, 1), 4, num_classes)
    assert dashboard_sampling.grid_columns(info, num, label) == cols
