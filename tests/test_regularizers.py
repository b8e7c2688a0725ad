import numpy as np
import pytest
import tensorflow as tf

from kgan import regularizers

W = tf.constant([[3.0], [4.0]])  # ||w|| = 5


def linear_critic(x):
    return tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), W)


REAL = tf.constant([[1.0, 2.0], [0.0, -1.0], [2.0, 2.0]])
FAKE = tf.constant([[0.5, 0.0], [1.0, 1.0], [-1.0, 3.0]])
SEED = tf.random.stateless_uniform([3], seed=[1, 2])


def test_gradient_penalty_of_a_linear_critic():
    gp = regularizers.get("gradient_penalty", weight=10.0)
    np.testing.assert_allclose(gp(linear_critic, REAL, FAKE, SEED), [10 * (5 - 1) ** 2] * 3, rtol=1e-5)


def test_r1_and_r2_are_half_squared_gradient_norms():
    for name in ("r1", "r2"):
        reg = regularizers.get(name, weight=2.0)
        np.testing.assert_allclose(reg(linear_critic, REAL, FAKE, SEED), [2.0 * 0.5 * 25] * 3)


def test_r1_looks_only_at_real_and_r2_only_at_fake():
    def critic(x):  # gradient 2x: depends on where it is evaluated
        return tf.reduce_sum(tf.square(x), axis=1, keepdims=True)

    r1 = regularizers.get("r1", weight=1.0)(critic, REAL, FAKE, SEED)
    r2 = regularizers.get("r2", weight=1.0)(critic, REAL, FAKE, SEED)
    np.testing.assert_allclose(r1, 0.5 * np.sum((2 * REAL.numpy()) ** 2, axis=1), rtol=1e-6)
    np.testing.assert_allclose(r2, 0.5 * np.sum((2 * FAKE.numpy()) ** 2, axis=1), rtol=1e-6)


def test_gradient_penalty_interpolates_with_the_weight_of_each_example():
    def critic(x):  # gradient norm 2||x||: reveals where x_hat was taken
        return tf.reduce_sum(tf.square(x), axis=1, keepdims=True)

    real = tf.zeros((4, 2))
    fake = tf.ones((4, 2))
    uniform = tf.constant([0.4, 0.5, 0.9, 0.7])  # norms 2.83u > 1
    norms = np.sqrt(regularizers.get("gradient_penalty", weight=1.0)(critic, real, fake, uniform)) + 1
    np.testing.assert_allclose(norms / (2 * np.sqrt(2)), uniform, rtol=1e-5)  # x_hat = u * (1, 1)


def test_gradient_penalty_is_finite_where_the_gradient_is_zero():
    scale = tf.Variable(0.0)
    gp = regularizers.get("gradient_penalty", weight=1.0)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(gp(lambda x: scale * tf.reduce_sum(x, 1, keepdims=True), REAL, FAKE, SEED))
    grad = tape.gradient(value, scale)
    np.testing.assert_allclose(value, 3.0, rtol=1e-5)
    assert np.isfinite(grad.numpy())


def test_lazy_regularisation_every_n_steps():
    r1 = regularizers.get("r1", weight=1.0, every=4)
    np.testing.assert_allclose(r1(linear_critic, REAL, FAKE, SEED, step=3), [0.0] * 3)
    np.testing.assert_allclose(r1(linear_critic, REAL, FAKE, SEED, step=8), [4 * 12.5] * 3)


def test_loss_scale_of_the_inner_tape_cancels():
    gp = regularizers.get("gradient_penalty", weight=1.0)
    np.testing.assert_allclose(
        gp(linear_critic, REAL, FAKE, SEED, loss_scale=1024.0),
        gp(linear_critic, REAL, FAKE, SEED),
        rtol=1e-6,
    )


def test_bad_arguments_and_names():
    with pytest.raises(ValueError, match="every must be >= 1"):
        regularizers.get("r1", every=0)
    with pytest.raises(ValueError, match="gradient_penalty, r1, r1r2, r2"):
        regularizers.get("r3")
    gp = regularizers.get("gradient_penalty", weight=5.0, every=2)
    again = regularizers.get({"name": "gradient_penalty", **gp.get_config()})
    assert (again.weight, again.every, again.epsilon) == (5.0, 2, gp.epsilon)


def test_r1r2_is_r1_plus_r2_with_one_weight():
    def critic(x):  # gradient 2x: different on real and fake
        return tf.reduce_sum(tf.square(x), axis=1, keepdims=True)

    both = regularizers.get("r1r2", weight=3.0)(critic, REAL, FAKE, SEED)
    r1 = regularizers.get("r1", weight=3.0)(critic, REAL, FAKE, SEED)
    r2 = regularizers.get("r2", weight=3.0)(critic, REAL, FAKE, SEED)
    np.testing.assert_allclose(both, r1 + r2, rtol=1e-6)
    np.testing.assert_allclose(both, 3.0 * 0.5 * 4 * (np.sum(REAL.numpy() ** 2, 1)
                                                      + np.sum(FAKE.numpy() ** 2, 1)), rtol=1e-5)
    lazy = regularizers.get("r1r2", weight=3.0, every=2)
    np.testing.assert_allclose(lazy(critic, REAL, FAKE, SEED, step=0), 2 * both, rtol=1e-6)
    np.testing.assert_allclose(lazy(critic, REAL, FAKE, SEED, step=1), [0.0] * 3)


def test_r1r2_gradient_with_respect_to_the_critic_matches_finite_differences():
    """What the discriminator's optimizer sees: d penalty / d weights (a second derivative)."""
    weights = np.array([[0.7], [-0.4]], np.float32)

    def penalty(w):
        def critic(x):
            return tf.tanh(tf.matmul(x, w))

        return tf.reduce_sum(regularizers.get("r1r2", weight=1.0)(critic, REAL, FAKE, SEED))

    w = tf.Variable(weights)
    with tf.GradientTape() as tape:
        value = penalty(w)
    analytic = tape.gradient(value, w).numpy()
    numeric = np.zeros_like(weights)
    for i in np.ndindex(weights.shape):
        up, down = weights.copy(), weights.copy()
        up[i] += 1e-3
        down[i] -= 1e-3
        numeric[i] = (float(penalty(tf.constant(up))) - float(penalty(tf.constant(down)))) / 2e-3
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=1e-3)
