import numpy as np
import pytest
import tensorflow as tf

from kgan import losses

REAL = tf.constant([[2.0], [-1.0]])
FAKE = tf.constant([[0.5], [-3.0]])


def softplus(x):
    return np.log1p(np.exp(x))


# Hand-computed per-example values on the fixed logits above.
EXPECTED = {
    # D: softplus(-r) + softplus(f); G (saturating): -softplus(f)
    "minimax": (
        [softplus(-2.0) + softplus(0.5), softplus(1.0) + softplus(-3.0)],
        [-softplus(0.5), -softplus(-3.0)],
    ),
    "nonsaturating": (
        [softplus(-2.0) + softplus(0.5), softplus(1.0) + softplus(-3.0)],
        [softplus(-0.5), softplus(3.0)],
    ),
    "wasserstein": ([0.5 - 2.0, -3.0 + 1.0], [-0.5, 3.0]),
    "hinge": ([0.0 + 1.5, 2.0 + 0.0], [-0.5, 3.0]),
    "least_squares": ([0.5 * (1.0 + 0.25), 0.5 * (4.0 + 9.0)], [0.5 * 0.25, 0.5 * 16.0]),
    # Pairs (real_i, fake_i): D softplus(-(r - f)), G softplus(-(f - r)).
    "relativistic": ([softplus(0.5 - 2.0), softplus(-3.0 + 1.0)],
                     [softplus(2.0 - 0.5), softplus(-1.0 + 3.0)]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_values_on_fixed_logits(name):
    loss = losses.get(name)
    d_expected, g_expected = EXPECTED[name]
    np.testing.assert_allclose(loss.discriminator_loss(REAL, FAKE), d_expected, rtol=1e-6)
    np.testing.assert_allclose(loss.generator_loss(FAKE, REAL), g_expected, rtol=1e-6)
    if not loss.needs_real_logits:  # the others ignore the real logits
        np.testing.assert_allclose(loss.generator_loss(FAKE), g_expected, rtol=1e-6)


def test_minimax_is_the_seed_objective():
    """D's loss is -(log D(x) + log(1 - D(G(z)))) and G minimises log(1 - D(G(z)))."""
    d = tf.sigmoid(REAL).numpy()
    dg = tf.sigmoid(FAKE).numpy()
    loss = losses.get("minimax")
    np.testing.assert_allclose(
        loss.discriminator_loss(REAL, FAKE), -(np.log(d) + np.log(1 - dg)).ravel(), rtol=1e-5
    )
    np.testing.assert_allclose(loss.generator_loss(FAKE), np.log(1 - dg).ravel(), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_patch_outputs_average_over_the_patch(name):
    loss = losses.get(name)
    real = tf.reshape(tf.constant([2.0, -1.0, 0.0, 1.0] * 2), (2, 2, 2, 1))
    fake = tf.reshape(tf.constant([0.5, -3.0, 1.0, 0.0] * 2), (2, 2, 2, 1))
    per_patch = [
        loss.discriminator_loss(tf.reshape(r, (1, 1)), tf.reshape(f, (1, 1)))[0]
        for r, f in zip(tf.reshape(real, [-1]), tf.reshape(fake, [-1]))
    ]
    got = loss.discriminator_loss(real, fake)
    assert got.shape == (2,)
    if loss.needs_real_logits:
        assert loss.generator_loss(fake, real).shape == (2,)
    np.testing.assert_allclose(got, [np.mean(per_patch[:4]), np.mean(per_patch[4:])], rtol=1e-5)


@pytest.mark.parametrize("name", ["minimax", "nonsaturating"])
def test_softplus_forms_are_stable_for_huge_logits(name):
    loss = losses.get(name)
    big = tf.constant([[1e4], [-1e4]])
    assert np.all(np.isfinite(loss.discriminator_loss(big, -big)))
    assert np.all(np.isfinite(loss.generator_loss(big)))
    np.testing.assert_allclose(loss.discriminator_loss(big, -big)[0], 0.0, atol=1e-6)


def test_nonsaturating_gradient_does_not_vanish_where_minimax_does():
    """When D confidently rejects fakes, only the non-saturating G loss still has a gradient."""
    fake = tf.constant([[-10.0]])
    grads = {}
    for name in ("minimax", "nonsaturating"):
        with tf.GradientTape() as tape:
            tape.watch(fake)
            value = losses.get(name).generator_loss(fake)
        grads[name] = abs(float(tape.gradient(value, fake)[0, 0]))
    assert grads["minimax"] < 1e-4 < 0.99 < grads["nonsaturating"]


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="hinge.*least_squares.*minimax"):
        losses.get("hinje")


def test_registry_roundtrip_and_instances():
    for name in losses.names():
        loss = losses.get(name)
        assert loss.name == name
        assert losses.get({"name": name, **loss.get_config()}).name == name
        assert losses.get(loss) is loss


def test_relativistic_needs_the_real_logits_in_the_generator_step():
    loss = losses.get("relativistic")
    assert loss.needs_real_logits and not losses.get("nonsaturating").needs_real_logits
    with pytest.raises(ValueError, match="needs the real logits"):
        loss.generator_loss(FAKE)


def _finite_difference(f, x: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Central differences of the scalar sum of `f` with respect to every entry of `x`."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (float(tf.reduce_sum(f(tf.constant(up)))) -
                   float(tf.reduce_sum(f(tf.constant(down))))) / (2 * eps)
    return grad


@pytest.mark.parametrize("side", ["discriminator", "generator"])
def test_relativistic_gradients_match_finite_differences(side):
    loss = losses.get("relativistic")
    real = np.array([[2.0], [-1.0], [0.3]], np.float64)
    fake = np.array([[0.5], [-3.0], [0.3]], np.float64)
    if side == "discriminator":
        def f_real(r):
            return loss.discriminator_loss(r, tf.constant(fake))

        def f_fake(f):
            return loss.discriminator_loss(tf.constant(real), f)
    else:
        def f_real(r):
            return loss.generator_loss(tf.constant(fake), r)

        def f_fake(f):
            return loss.generator_loss(f, tf.constant(real))
    for f, x in ((f_real, real), (f_fake, fake)):
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = tf.reduce_sum(f(tensor))
        np.testing.assert_allclose(tape.gradient(value, tensor), _finite_difference(f, x),
                                   rtol=1e-3, atol=1e-4)
