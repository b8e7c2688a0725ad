"""`kgan.GAN`: a `keras.Model` whose `train_step` trains a discriminator and a generator.

Example:
    >>> generator, discriminator = kgan.architectures.get("mlp").build((2,), latent_dim=8)
    >>> gan = kgan.GAN(generator, discriminator)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4), g_optimizer=keras.optimizers.Adam(2e-4),
    ...             loss="hinge", regularizers=["r1"])
    >>> gan.fit(dataset, epochs=2)
    >>> samples = gan.generate(16, seed=0)
"""

from __future__ import annotations

import numpy as np
import keras
import tensorflow as tf

from kgan import losses as losses_lib
from kgan import regularizers as regularizers_lib
from kgan import networks, sampling, schedules
from kgan.sampling import default_labels, sample_latents  # public here too: kgan.sample_latents

# Stream ids folded into the noise key, so the draws of one step never share random numbers.
_G_STREAM = 0
_D_STREAM = 1
_REGULARIZER_STREAM = 1000


def _multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """True under a MultiWorkerMirroredStrategy that spans several workers."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()  # noqa: SLF001 - what Keras itself checks
    )


@keras.saving.register_keras_serializable(package="kgan")
class GAN(keras.Model):
    """A generator and a discriminator trained adversarially by `fit`.

    Args:
        generator: maps `z` (or `[z, label]`) to samples.
        discriminator: maps samples (or `[samples, label]`) to logits.
        latent_dim: size of `z`; inferred from the generator when omitted.
        num_classes: number of classes for a conditional GAN (the dataset then yields
            `(images, labels)`), or None.
        n_critic: discriminator updates per generator update. Each step makes `n_critic`
            discriminator updates on its batch, each with fresh latents, then one generator update.
        ema_decay: keep an exponential moving average of the generator's weights with this decay
            (e.g. 0.999), used by `generate` and by exports; None disables it. The decay warms
            up as `min(ema_decay, (1 + t) / (10 + t))` at generator step `t`, so that short runs
            are not dragged towards the initial weights (0.999^3000 still leaves them 5%).
        ema_half_life: instead of `ema_decay`, the EMA's half-life in images (StyleGAN2's and
            R3GAN's form): each step's decay is `0.5 ** (global_batch / half_life)`, the same
            averaging window whatever the batch size.
        ema_rampup: with `ema_half_life`, ramp the half-life up as `min(ema_half_life,
            ema_rampup * images_seen)`, so early, poor weights leave the average quickly.
        reuse_fakes: the generator update reuses the last discriminator update's fakes
            instead of generating new ones, through the updated discriminator: one generator
            forward pass per step instead of two (the generator's update then draws no noise
            of its own).
        seed: key of all training noise. Noise is stateless, keyed on the seed, the step (the
            generator optimizer's saved iteration count) and the replica, so a reloaded model
            continues with exactly the noise it would have drawn.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        num_classes: int | None = None,
        n_critic: int = 1,
        ema_decay: float | None = None,
        seed: int = 0,
        ema_half_life: float | None = None,
        ema_rampup: float | None = None,
        reuse_fakes: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.num_classes = int(num_classes) if num_classes else None
        self.latent_dim = networks.latent_dim_of(generator, self.num_classes, latent_dim)
        networks.check_pair(generator, discriminator, self.num_classes)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        self.n_critic = int(n_critic)
        if ema_decay is not None and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay}")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        if ema_half_life is not None and (ema_decay is not None or not float(ema_half_life) > 0):
            raise ValueError(
                f"ema_half_life must be > 0 and replaces ema_decay (give one), got "
                f"ema_half_life={ema_half_life}, ema_decay={ema_decay}"
            )
        if ema_rampup is not None and (ema_half_life is None or not float(ema_rampup) > 0):
            raise ValueError(f"ema_rampup must be > 0 and needs ema_half_life, got {ema_rampup}")
        self.ema_half_life = None if ema_half_life is None else float(ema_half_life)
        self.ema_rampup = None if ema_rampup is None else float(ema_rampup)
        self.seed = int(seed)
        self.reuse_fakes = bool(reuse_fakes)
        self.ema_generator = None
        if self.ema_decay is not None or self.ema_half_life is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self.built = True

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Shape of one sample, without the batch axis."""
        return tuple(self.generator.outputs[0].shape[1:])

    def _split_batch(self, data):
        """(samples, labels or None), checked against the model at trace time."""
        if isinstance(data, (tuple, list)):
            if len(data) == 1:
                data = data[0]
            elif len(data) == 2:
                samples, labels = data
                if not self.num_classes:
                    raise ValueError(
                        "the dataset yields (samples, labels) but the GAN is unconditional; "
                        "load the data without labels or build the GAN with num_classes"
                    )
                return self._check_samples(samples), tf.cast(tf.reshape(labels, [-1]), tf.int32)
            else:
                raise ValueError(
                    f"expected batches of samples or (samples, labels), got {len(data)} items"
                )
        if self.num_classes:
            raise ValueError(
                f"the GAN is conditional (num_classes={self.num_classes}) but the dataset "
                "yields no labels; load the data with labels=True"
            )
        return self._check_samples(data), None

    def _check_samples(self, samples):
        got = tuple(samples.shape[1:])
        if len(got) != len(self.data_shape) or any(
            g is not None and g != e for g, e in zip(got, self.data_shape)
        ):
            raise ValueError(
                f"the dataset yields samples of shape {got} but the GAN was built for "
                f"{self.data_shape}; resize the data or rebuild the networks"
            )
        return samples

    # ----------------------------------------------------------------- compile and save

    def compile(
        self,
        d_optimizer="adam",
        g_optimizer="adam",
        loss="nonsaturating",
        regularizers=(),
        jit_compile: bool = False,
        steps_per_execution: int = 1,
        run_eagerly: bool = False,
    ) -> None:
        """Sets both optimizers, the loss pair and the discriminator regularisers.

        `jit_compile` defaults to False: XLA costs 5-10 s to compile, then trains
        1.4-2x faster on CPU (benchmarks/README.md), so long runs should turn it on.
        Under the `mixed_float16` policy both optimizers are wrapped in a `LossScaleOptimizer`
        (Keras would only wrap `self.optimizer`).
        """
        d_opt = self._prepare_optimizer(d_optimizer)
        g_opt = self._prepare_optimizer(g_optimizer)
        if d_opt is g_opt:
            raise ValueError("d_optimizer and g_optimizer must be two different optimizers")
        super().compile(
            optimizer=d_opt,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
            auto_scale_loss=False,
        )
        self.d_optimizer = d_opt
        self.g_optimizer = g_opt
        self.gan_loss = losses_lib.get(loss)
        if isinstance(regularizers, (str, dict, regularizers_lib.Regularizer)):
            regularizers = [regularizers]
        self.gan_regularizers = [regularizers_lib.get(r) for r in regularizers]
        names = [r.name for r in self.gan_regularizers]
        if len(set(names)) != len(names):
            raise ValueError(f"each regulariser may be given once, got {names}")
        # Built now, not on the first step, so that a loaded model restores their state.
        d_opt.build(self.discriminator.trainable_variables)
        g_opt.build(self.generator.trainable_variables)
        self._trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ["d_loss", "g_loss", "d_real", "d_fake", *names]
        }
        self._compile_settings = {
            "jit_compile": jit_compile,
            "steps_per_execution": steps_per_execution,
        }
        object.__setattr__(self, "_finite_check", None)  # `non_finite` re-reads the state

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' build from a first batch, skipped when there is nothing to build (networks
        are built by `__init__`, optimizers by `compile`): under a strategy Keras first
        reduces that batch across replicas, which fails for `(images, labels)` under
        MultiWorkerMirroredStrategy, and draws it from an iterator of its own."""
        if not all(layer.built for layer in self._flatten_layers()):
            super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def _prepare_optimizer(self, optimizer) -> keras.optimizers.Optimizer:
        optimizer = keras.optimizers.get(optimizer)
        # The layers hold the policy: a loaded functional model itself takes the process's.
        float16 = any(
            layer.dtype_policy.name == "mixed_float16" for layer in self.generator.layers
        )
        if float16 and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def get_compile_config(self) -> dict | None:
        if not hasattr(self, "gan_loss"):
            return None

        def inner(opt):
            if isinstance(opt, keras.optimizers.LossScaleOptimizer):
                opt = opt.inner_optimizer
            return keras.optimizers.serialize(opt)

        return {
            "d_optimizer": inner(self.d_optimizer),
            "g_optimizer": inner(self.g_optimizer),
            "loss": {"name": self.gan_loss.name, **self.gan_loss.get_config()},
            "regularizers": [{"name": r.name, **r.get_config()} for r in self.gan_regularizers],
            **self._compile_settings,
        }

    def compile_from_config(self, config: dict) -> None:
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.optimizers.deserialize(config[key])
        self.compile(**config)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "n_critic": self.n_critic,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
            "ema_half_life": self.ema_half_life,
            "ema_rampup": self.ema_rampup,
            "reuse_fakes": self.reuse_fakes,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "GAN":
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)

    # ----------------------------------------------------------------- training

    @property
    def metrics(self):
        return list(getattr(self, "_trackers", {}).values())

    def call(self, inputs, training: bool = False):
        """The generator's forward pass: `z` (or `[z, label]`) to samples."""
        return self.generator(inputs, training=training)

    def _generator_inputs(self, z, labels):
        return z if labels is None else [z, labels]

    def _discriminate(self, samples, labels):
        inputs = samples if labels is None else [samples, labels]
        return self.discriminator(inputs, training=True)

    def _key(self, step, stream):
        base = tf.constant([self.seed, 0], tf.int64)
        key = tf.random.experimental.stateless_fold_in(base, step)
        return tf.random.experimental.stateless_fold_in(key, stream)

    def _noise(self, key, local_batch, replicas, replica):
        """This replica's slice of the global batch's latents: the same noise, however split."""
        z = tf.random.stateless_normal(tf.stack([local_batch * replicas, self.latent_dim]), key)
        return self._replica_slice(z, local_batch, replica)

    @staticmethod
    def _replica_slice(values, local_batch, replica):
        return values[replica * local_batch : (replica + 1) * local_batch]

    @staticmethod
    def _loss_scale(optimizer):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            return optimizer.scale_loss(tf.constant(1.0))
        return tf.constant(1.0)

    def train_step(self, data):
        real, labels = self._split_batch(data)
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync
        replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
        local_batch = tf.shape(real)[0]
        global_batch = tf.cast(local_batch * replicas, tf.float32)
        step = self.g_optimizer.iterations

        def average(per_example):
            # Sum over this replica / global batch: the optimizer sums over replicas.
            return tf.reduce_sum(per_example) / global_batch

        critic = lambda x: self._discriminate(x, labels)  # noqa: E731
        reg_values = {}
        d_vars = self.discriminator.trainable_variables

        def critic_update(i, fake):
            """One discriminator update against `fake`; its loss and logits, for the logs."""
            with tf.GradientTape() as tape:
                real_logits = critic(real)
                fake_logits = critic(fake)
                d_loss = average(self.gan_loss.discriminator_loss(real_logits, fake_logits))
                total = d_loss
                for j, reg in enumerate(self.gan_regularizers):
                    uniform = self._replica_slice(
                        tf.random.stateless_uniform(
                            tf.reshape(local_batch * replicas, [1]),
                            self._key(step, _REGULARIZER_STREAM + 100 * i + j),
                        ),
                        local_batch,
                        replica,
                    )
                    value = average(
                        reg(
                            critic,
                            real,
                            fake,
                            uniform,
                            step=self.d_optimizer.iterations,
                            loss_scale=self._loss_scale(self.d_optimizer),
                        )
                    )
                    reg_values[reg.name] = value
                    total = total + value
                scaled = self._scale(self.d_optimizer, total)
            grads = tape.gradient(scaled, d_vars)
            self.d_optimizer.apply_gradients(zip(grads, d_vars))
            return d_loss, real_logits, fake_logits

        def generator_loss(fake):
            # Relativistic losses compare with this batch's real logits (no gradient reaches
            # the generator through them); every other loss skips that pass.
            real_logits_g = critic(real) if self.gan_loss.needs_real_logits else None
            return average(self.gan_loss.generator_loss(critic(fake), real_logits_g))

        def generate(z):
            return self.generator(self._generator_inputs(z, labels), training=True)

        g_vars = self.generator.trainable_variables
        fresh_steps = self.n_critic - 1 if self.reuse_fakes else self.n_critic
        for i in range(fresh_steps):
            z = self._noise(self._key(step, _D_STREAM + 2 * i), local_batch, replicas, replica)
            d_loss, real_logits, fake_logits = critic_update(i, generate(z))
        if self.reuse_fakes:
            # One generator forward serves both updates: the discriminator learns from these
            # fakes (no gradient to G), then the generator's loss is taken through the updated
            # discriminator on the same fakes, as PyTorch's DCGAN example does.
            i = self.n_critic - 1
            z = self._noise(self._key(step, _D_STREAM + 2 * i), local_batch, replicas, replica)
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch([v.value for v in g_vars])
                fake = generate(z)
                d_loss, real_logits, fake_logits = critic_update(i, tf.stop_gradient(fake))
                g_loss = generator_loss(fake)
                scaled = self._scale(self.g_optimizer, g_loss)
        else:
            z = self._noise(self._key(step, _G_STREAM), local_batch, replicas, replica)
            with tf.GradientTape() as tape:
                g_loss = generator_loss(generate(z))
                scaled = self._scale(self.g_optimizer, g_loss)
        grads = tape.gradient(scaled, g_vars)
        self.g_optimizer.apply_gradients(zip(grads, g_vars))
        if self.ema_generator is not None:
            self._update_ema(context, global_batch)

        # The logs are global-batch values, the same on every replica: the losses and
        # penalties are already sums over this replica / global batch, so their sum over the
        # replicas is the global mean, and the logits' means average over equal replica batches.
        def across(value, mean=False):
            if replicas == 1:
                return value
            op = tf.distribute.ReduceOp.MEAN if mean else tf.distribute.ReduceOp.SUM
            return context.all_reduce(op, value)

        logs = {
            "d_loss": across(d_loss),
            "g_loss": across(g_loss),
            "d_real": across(tf.reduce_mean(tf.cast(real_logits, tf.float32)), mean=True),
            "d_fake": across(tf.reduce_mean(tf.cast(fake_logits, tf.float32)), mean=True),
            **{name: across(value) for name, value in reg_values.items()},
        }
        for name, value in logs.items():
            self._trackers[name].update_state(tf.cast(value, tf.float32))
        results = {name: tracker.result() for name, tracker in self._trackers.items()}
        if _multi_worker(tf.distribute.get_strategy()):
            # Keras reduces multi-worker logs along axis 0, which a 0-d value lacks
            # (tensorflow/tensorflow#72388): give each value that axis.
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    @staticmethod
    def _scale(optimizer, loss):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            return optimizer.scale_loss(loss)
        return loss

    def _update_ema(self, context, global_batch) -> None:
        step = tf.cast(self.g_optimizer.iterations, tf.float32)  # this step's update included
        if self.ema_half_life is not None:
            decay = schedules.half_life_decay(
                global_batch, step * global_batch, self.ema_half_life, self.ema_rampup
            )
        else:
            decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        pairs = [
            (ema.value, w.value)
            for ema, w in zip(self.ema_generator.weights, self.generator.weights)
        ]

        def update(strategy=None):
            for ema, w in pairs:
                if strategy is None:
                    ema.assign(decay * ema + (1.0 - decay) * tf.cast(w, ema.dtype))
                else:
                    strategy.extended.update(
                        ema,
                        lambda v, x: v.assign(decay * v + (1.0 - decay) * tf.cast(x, v.dtype)),
                        args=(w,),
                    )

        if context.num_replicas_in_sync == 1:
            update()
        else:
            # Mirrored EMA variables are updated once, in cross-replica context.
            context.merge_call(lambda strategy: update(strategy))

    def non_finite(self) -> list[str]:
        """What holds a NaN or an infinity (`kgan.finite.non_finite`): the variables of both
        networks, the EMA generator and both optimizers, and the generators' outputs on a fixed
        latent batch. Empty when the model is healthy.

        Example:
            >>> gan.non_finite()
            []
        """
        from kgan import finite

        return finite.non_finite(self)

    # ----------------------------------------------------------------- sampling

    @property
    def sampler(self) -> keras.Model:
        """The network used for samples and exports: the EMA generator when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def generate(
        self,
        num: int,
        seed: int = 0,
        labels=None,
        truncation: float | None = None,
        batch_size: int = 256,
        use_ema: bool = True,
    ) -> np.ndarray:
        """`num` samples as a float32 array (images in [-1, 1]); the same seed, the same samples.

        Conditional models take `labels` (an int or `num` ints); by default classes cycle
        0, 1, ..., K-1 so a grid shows every class.
        """
        return sampling.draw(
            self, num, seed, labels=labels, truncation=truncation, batch_size=batch_size,
            use_ema=use_ema,
        )

    def _labels_for(self, num: int, labels) -> np.ndarray | None:
        return sampling.labels_for(num, self.num_classes, labels)
