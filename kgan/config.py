"""`RunConfig`: what a training run was asked to do (data, recipe, schedule), and nothing more.

The models describe themselves: a run's `config.json` stores this dataclass beside the GAN's
own Keras config and compile config (see `kgan.runs`), and `check_model` verifies that the
two agree. Architecture hyper-parameters are not repeated here; they pass through
`arch_kwargs` to `kgan.architectures.get(arch, **arch_kwargs)`, which owns them.

Example:
    >>> config = RunConfig(dataset="ring8", arch="mlp", loss="hinge", regularizer="r1")
    >>> config = config.replace(epochs=5)
    >>> gan = config.build_gan(data_shape=(2,))
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from kgan.errors import KganError

#: Upper bounds of the schedule and model size: beyond them a run cannot finish (tf.data's
#: int64 counters overflow) or takes the whole machine; each error message names its bound.
MAX_LATENT_DIM = 4096
MAX_EPOCHS = 1_000_000
MAX_STEPS_PER_EPOCH = 1_000_000_000
MAX_EXAMPLES_DRAWN = 10**15
MAX_GRID_SIZE = 32


#: The architecture a run gets when it names none, by the kind of its data.
ARCH_FOR_KIND = {"vector": "mlp", "image": "dcgan"}

#: The dtype policies a run may ask for; `auto` is chosen by measurement (`kgan.autotune`).
PRECISION_CHOICES = ("float32", "mixed_bfloat16", "mixed_float16", "auto")

#: The `tf.distribute` strategies a run may train under (`kgan.distribute` makes them).
STRATEGY_CHOICES = ("auto", "one", "mirrored", "multiworker", "tpu")

#: What the health monitor may do when training diverges or collapses.
ON_WARNING = ("warn", "stop", "rollback")


def _option(default: Any, section: str, help: str, **cli: Any) -> Any:
    """A `RunConfig` field with its documentation: `help`, its `section` of `kgan train
    --help`, plus any of `flag`, `metavar`, `choices`, `names`, `negation` (see `kgan.cli`)."""
    return field(default=default, metadata={"help": help, "section": section, **cli})


def _is_real(value: Any) -> bool:
    """True for an int or float (not a bool), i.e. what a numeric option may hold."""
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite_above(value: Any, low: float, *, inclusive: bool) -> bool:
    """True when `value` is a finite real number > `low` (>= when `inclusive`)."""
    if not _is_real(value) or not math.isfinite(float(value)):
        return False
    return float(value) >= low if inclusive else float(value) > low


@dataclass(frozen=True)
class RunConfig:
    """The options of one training run: data, models, objective, optimisation (Adam for both
    networks), schedule and monitoring.

    Each field's metadata holds its help text (and, where the flag differs from the field
    name, its `flag`/`metavar`/`choices`): `kgan train` builds its flags from it, so the
    options are written down once, here. `names` names the registry module whose `names()`
    are the valid values; `section` the help group.
    """

    dataset: str = _option("digits", "data", "digits, mnist, ring8, grid25, folder:PATH, a "
                           "TFDS name, ...")
    split: str = _option("train", "data", "the dataset split to train on")
    image_size: int | None = _option(None, "data", "resize images to N x N (default: native "
                                     "size)", metavar="N")
    channels: int | None = _option(None, "data", "force 1 or 3 channels (default: native)",
                                   choices=(1, 3))
    conditional: bool = _option(False, "data", "class-conditional GAN on (images, labels)",
                                negation=("--unconditional", "ignore the labels"))
    data_dir: str | None = _option(None, "data", "TFDS data dir (default: TFDS' own)",
                                   metavar="DIR")
    arch: str | None = _option(None, "model and objective", "architecture family (default: "
                               "mlp for vector data, dcgan for images)",
                               names="kgan.architectures")
    arch_kwargs: dict = field(default_factory=dict, metadata={
        "help": "the architecture's constructor arguments (kgan train --arch-arg KEY=VALUE)"})
    latent_dim: int = _option(64, "model and objective", f"size of z, at most {MAX_LATENT_DIM}",
                              metavar="N")
    loss: str = _option("hinge", "model and objective", "loss pair", names="kgan.losses")
    regularizer: str | None = _option(None, "model and objective",
                                      "discriminator regulariser",
                                      names="kgan.regularizers")
    regularizer_weight: float | None = _option(
        None, "model and objective", "regulariser weight, finite and >= 0 (default: the "
        "regulariser's own)", metavar="W")
    regularizer_every: int = _option(1, "model and objective", "apply the regulariser every N "
                                     "steps", metavar="N")
    regularizer_final_weight: float | None = _option(
        None, "model and objective", "cosine-decay the regulariser weight to W over the run "
        "(R3GAN's gamma schedule; default: constant)", metavar="W")
    n_critic: int = _option(1, "model and objective", "discriminator steps per generator step",
                            metavar="N")
    reuse_fakes: bool = _option(
        False, "model and objective", "the generator step reuses the last discriminator step's "
        "fakes through the updated discriminator: one generator forward pass per step, not two")
    g_lr: float = _option(2e-4, "optimisation (Adam)", "generator learning rate (> 0)")
    d_lr: float = _option(2e-4, "optimisation (Adam)", "discriminator learning rate (> 0)")
    beta_1: float = _option(0.5, "optimisation (Adam)", "Adam beta_1 of both networks, in [0, 1)",
                            flag="--beta1")
    beta_2: float = _option(0.999, "optimisation (Adam)", "Adam beta_2 of both networks, in "
                            "[0, 1)", flag="--beta2")
    beta2_final: float | None = _option(
        None, "optimisation (Adam)", "cosine-change both networks' Adam beta_2 from --beta2 to "
        "this over the run (R3GAN: 0.9 to 0.99)", flag="--beta2-final", metavar="BETA2")
    lr_decay: float = _option(0.0, "optimisation (Adam)", "decay both rates linearly to 0 over "
                              "this final share of training (0: constant)", metavar="FRACTION")
    lr_final: float | None = _option(
        None, "optimisation (Adam)", "cosine-decay both rates to this fraction of their start "
        "over the run (R3GAN's schedule; not with --lr-decay)", metavar="FRACTION")
    ema: float | None = _option(0.999, "optimisation (Adam)", "generator weight EMA decay used "
                                "for samples and exports (0 turns it off)", metavar="DECAY")
    ema_half_life: float | None = _option(
        None, "optimisation (Adam)", "the EMA's half-life in images instead of --ema's decay: "
        "the same averaging window at any batch size", metavar="IMAGES")
    ema_rampup: float | None = _option(
        None, "optimisation (Adam)", "with --ema-half-life: ramp the half-life up as R x the "
        "images seen (e.g. 0.05), so early weights leave the average quickly", metavar="R")
    batch_size: int = _option(64, "schedule", "examples per training step")
    epochs: int = _option(20, "schedule", f"epochs in total, at most {MAX_EPOCHS:,} (with "
                          "--resume: extend to this)")
    minutes: float | None = _option(
        None, "schedule", "train for N minutes: stop at the first step boundary past them; the run "
        "ends complete with the epochs done, the last one shorter (--epochs stays the upper "
        "bound; kgan train --minutes without --epochs lifts it)", metavar="N")
    steps_per_epoch: int | None = _option(
        None, "schedule", f"at most {MAX_STEPS_PER_EPOCH:,}; epochs x steps x batch size at most "
        "10**15 (default: one pass over the data)")
    steps_per_execution: int = _option(
        1, "schedule", "training steps per compiled call (fewer Python round trips; the progress "
        "bar and the non-finite check then see every N steps); should divide the steps per "
        "epoch", metavar="N")
    jit_compile: bool | str = _option(
        False, "speed", "XLA-compile the train step: on, off, or auto (time a few steps of "
        "this model both ways on this machine and keep the faster; the answer is cached). "
        "Whether it pays depends on the processor and the networks (benchmarks/README.md)",
        auto=True)
    precision: str = _option(
        "float32", "speed", "dtype policy: float32, mixed_bfloat16, mixed_float16, or auto "
        "(time the ones this device runs natively and keep the fastest; cached); weights, "
        "samples and logits stay float32", choices=PRECISION_CHOICES)
    strategy: str = _option(
        "auto", "devices", "tf.distribute strategy: auto (all local GPUs when there are several, "
        "else one device), one, mirrored (all local devices, or --devices), multiworker "
        "(MultiWorkerMirroredStrategy over the workers TF_CONFIG names; run the same command on "
        "each), tpu (TPUStrategy); --batch-size stays the global batch",
        choices=STRATEGY_CHOICES)
    devices: str | None = _option(
        None, "devices", "the local devices to train on, comma-separated (e.g. gpu:0,gpu:1; "
        "cpu:0,cpu:1 splits the CPU into two logical devices)", metavar="LIST")
    deterministic: bool = _option(False, "schedule", "run TensorFlow's ops deterministically, one "
                                  "at a time and without oneDNN, so a resumed run matches an "
                                  "uninterrupted one bit for bit (slower)")
    seed: int = _option(0, "schedule", "seeds the weights, the data order and all training noise")
    grid_size: int = _option(8, "schedule", f"sample grid of N x N per epoch (N <= "
                             f"{MAX_GRID_SIZE}; conditional image runs: one column per class)",
                             metavar="N")
    eval_every: int = _option(
        0, "monitoring", "FID, KID, precision/recall, density/coverage (toy data: mode "
        "coverage) of the EMA generator every N epochs and after the last; 0 turns it off",
        metavar="N")
    eval_num: int = _option(1000, "monitoring", "generated samples per measurement and for the "
                            "final memorisation audit, at least 10", metavar="N")
    eval_extractor: str | None = _option(
        None, "monitoring", "feature space of those metrics: digits_pixels, mnist_pooled, "
        "digits_classifier, mnist or inception (the FID network published numbers use, after "
        "`kgan features install inception`); default: the dataset's headline space",
        metavar="NAME")
    on_warning: str = _option(
        "warn", "monitoring", "when the health monitor sees divergence or mode collapse: warn, "
        "stop training, or roll back to the last epoch without warnings and stop",
        choices=ON_WARNING)
    tensorboard: bool = _option(False, "monitoring", "also write TensorBoard scalars and sample "
                                "images to RUNS_DIR/NAME/tensorboard/")

    def __post_init__(self) -> None:
        problems = []

        def positive(name):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                problems.append(f"{name} must be a positive integer, got {value!r}")

        for name in ("latent_dim", "n_critic", "batch_size", "epochs", "regularizer_every",
                     "grid_size", "steps_per_epoch", "image_size", "steps_per_execution"):
            positive(name)
        problems += self._bound_problems() if not problems else []
        for name in ("g_lr", "d_lr"):
            if not _finite_above(getattr(self, name), 0.0, inclusive=False):
                problems.append(f"{name} must be a finite number > 0, got {getattr(self, name)!r}")
        for name in ("beta_1", "beta_2"):
            if not 0.0 <= float(getattr(self, name)) < 1.0:
                problems.append(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not 0.0 <= float(self.lr_decay) <= 1.0:
            problems.append(f"lr_decay must be in [0, 1], got {self.lr_decay!r}")
        if self.ema is not None and not 0.0 < float(self.ema) < 1.0:
            problems.append(f"ema must be in (0, 1) or None (off), got {self.ema!r}")
        problems += self._schedule_problems()
        if self.channels not in (None, 1, 3):
            problems.append(f"channels must be 1, 3 or None, got {self.channels!r}")
        if self.regularizer_weight is not None and not _finite_above(
            self.regularizer_weight, 0.0, inclusive=True
        ):
            problems.append(
                f"regularizer_weight must be a finite number >= 0 (or None: the regulariser's "
                f"default), got {self.regularizer_weight!r}"
            )
        if not isinstance(self.arch_kwargs, dict):
            problems.append(f"arch_kwargs must be a dict, got {self.arch_kwargs!r}")
        if not isinstance(self.seed, int):
            problems.append(f"seed must be an integer, got {self.seed!r}")
        if self.minutes is not None and not _finite_above(self.minutes, 0.0, inclusive=False):
            problems.append(f"minutes must be a finite number > 0, got {self.minutes!r}")
        elif self.minutes is not None and self.lr_decay:
            problems.append(
                "minutes and lr_decay do not go together: a decay to 0 needs a known length "
                "(pass --lr-decay 0 with --minutes, or --epochs instead of --minutes)"
            )
        if not isinstance(self.eval_every, int) or self.eval_every < 0:
            problems.append(f"eval_every must be an integer >= 0 (0: off), got {self.eval_every!r}")
        if not isinstance(self.eval_num, int) or self.eval_num < 10:
            problems.append(f"eval_num must be an integer >= 10, got {self.eval_num!r}")
        if self.eval_extractor is not None and not isinstance(self.eval_extractor, str):
            problems.append(f"eval_extractor must be an extractor name, got {self.eval_extractor!r}")
        if self.on_warning not in ON_WARNING:
            problems.append(
                f"on_warning must be warn, stop or rollback, got {self.on_warning!r}"
            )
        if not isinstance(self.jit_compile, bool) and self.jit_compile != "auto":
            problems.append(f"jit_compile must be true, false or 'auto', got {self.jit_compile!r}")
        if self.precision not in PRECISION_CHOICES:
            problems.append(
                f"precision must be one of {', '.join(PRECISION_CHOICES)}, got {self.precision!r}"
            )
        if self.strategy not in STRATEGY_CHOICES:
            problems.append(
                f"strategy must be one of {', '.join(STRATEGY_CHOICES)}, got {self.strategy!r}"
            )
        if self.devices is not None and (not isinstance(self.devices, str) or not self.devices):
            problems.append(f"devices must be a list like 'gpu:0,gpu:1', got {self.devices!r}")
        if not isinstance(self.deterministic, bool):
            problems.append(f"deterministic must be true or false, got {self.deterministic!r}")
        if not isinstance(self.tensorboard, bool):
            problems.append(f"tensorboard must be true or false, got {self.tensorboard!r}")
        if problems:
            raise KganError("; ".join(problems))

    def _schedule_problems(self) -> list[str]:
        """What is wrong with the cosine schedules and the EMA half-life."""
        problems = []
        if self.lr_final is not None and not (
            _finite_above(self.lr_final, 0.0, inclusive=True) and float(self.lr_final) <= 1.0
        ):
            problems.append(f"lr_final must be a fraction in [0, 1], got {self.lr_final!r}")
        elif self.lr_final is not None and self.lr_decay:
            problems.append("lr_final and lr_decay are two schedules of the rates; give one "
                            "(--lr-decay 0 with --lr-final)")
        if self.regularizer_final_weight is not None and not _finite_above(
            self.regularizer_final_weight, 0.0, inclusive=True
        ):
            problems.append("regularizer_final_weight must be a finite number >= 0, got "
                            f"{self.regularizer_final_weight!r}")
        elif self.regularizer_final_weight is not None and not self.regularizer:
            problems.append("regularizer_final_weight needs a regulariser (--regularizer)")
        if self.beta2_final is not None and not (
            _finite_above(self.beta2_final, 0.0, inclusive=True) and float(self.beta2_final) < 1
        ):
            problems.append(f"beta2_final must be in [0, 1), got {self.beta2_final!r}")
        scheduled = any(getattr(self, name) is not None
                        for name in ("lr_final", "regularizer_final_weight", "beta2_final"))
        if scheduled and self.minutes is not None:
            problems.append("a cosine schedule (lr_final, regularizer_final_weight, beta2_final) "
                            "needs a known length; pass --epochs instead of --minutes")
        for name in ("ema_half_life", "ema_rampup"):
            value = getattr(self, name)
            if value is not None and not _finite_above(value, 0.0, inclusive=False):
                problems.append(f"{name} must be a finite number > 0, got {value!r}")
        if self.ema_rampup is not None and self.ema_half_life is None:
            problems.append("ema_rampup ramps up the EMA half-life: give --ema-half-life too")
        if self.ema_half_life is not None and self.ema is None:
            problems.append("ema_half_life sets the EMA that --ema 0 turns off; give one of them")
        return problems

    def _bound_problems(self) -> list[str]:
        """The upper bounds broken (of sizes already known to be positive integers)."""
        limits = {"latent_dim": MAX_LATENT_DIM, "epochs": MAX_EPOCHS,
                  "steps_per_epoch": MAX_STEPS_PER_EPOCH, "grid_size": MAX_GRID_SIZE}
        problems = [
            f"{name} must be at most {limit:,}, got {getattr(self, name):,}"
            for name, limit in limits.items()
            if getattr(self, name) is not None and getattr(self, name) > limit
        ]
        sizes = (self.epochs, self.steps_per_epoch, self.batch_size)
        if not problems and all(isinstance(v, int) for v in sizes):
            if self.epochs * self.steps_per_epoch * self.batch_size > MAX_EXAMPLES_DRAWN:
                problems.append(
                    "epochs x steps_per_epoch x batch_size (the examples drawn) must be at most "
                    f"10**15, got {self.epochs} x {self.steps_per_epoch} x {self.batch_size}"
                )
        return problems

    # ------------------------------------------------------------------ dict round trip

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        """The config of `data`; unknown keys are an error naming the valid ones."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise KganError(
                f"unknown run option(s) {', '.join(unknown)}; valid options: "
                f"{', '.join(sorted(names))}"
            )
        return cls(**data)

    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with `changes`, validated."""
        return RunConfig.from_dict({**self.to_dict(), **changes})

    # ------------------------------------------------------------------ models

    def for_data(self, kind: str) -> RunConfig:
        """This config with the defaults that follow the data filled in: without an `arch`,
        the one for data of `kind` ("vector" or "image", `ARCH_FOR_KIND`)."""
        return self if self.arch is not None else self.replace(arch=ARCH_FOR_KIND[kind])

    def architecture(self):
        """The architecture family object (`kgan.architectures.get(arch, **arch_kwargs)`);
        `for_data` must have named it when `arch` is None."""
        from kgan import architectures

        if self.arch is None:
            raise KganError("no architecture yet: RunConfig.for_data(kind) picks it from the data")
        try:
            return architectures.get(self.arch, **self.arch_kwargs)
        except TypeError as e:
            raise KganError(f"bad arch_kwargs for architecture {self.arch!r}: {e}") from None
        except ValueError as e:
            raise KganError(str(e)) from None

    def regularizers(self, discriminator_updates: int = 1) -> list:
        """The run's regulariser (a list of none or one); `discriminator_updates` is the run's
        length in discriminator updates, where a decaying weight ends."""
        from kgan import regularizers

        if not self.regularizer:
            return []
        kwargs: dict[str, Any] = {"every": self.regularizer_every}
        if self.regularizer_weight is not None:
            kwargs["weight"] = float(self.regularizer_weight)
        if self.regularizer_final_weight is not None:
            # The weight's schedule runs over the discriminator's updates of the whole run.
            kwargs.update(final_weight=float(self.regularizer_final_weight),
                          steps=max(1, discriminator_updates))
        try:
            return [regularizers.get(self.regularizer, **kwargs)]
        except ValueError as e:
            raise KganError(str(e)) from None

    def check_names(self) -> None:
        """Raises `KganError` for an unknown loss, regulariser or architecture."""
        from kgan import losses

        try:
            losses.get(self.loss)
        except ValueError as e:
            raise KganError(str(e)) from None
        self.regularizers()
        if self.arch is not None:  # else it follows the data (`for_data`)
            self.architecture()

    def build_gan(
        self, data_shape: Sequence[int], num_classes: int | None = None, steps_per_epoch: int = 1
    ):
        """A compiled `kgan.GAN` for data of `data_shape` (and `num_classes` when conditional).

        `steps_per_epoch` sets where a decaying learning rate (`lr_decay`) reaches 0. Call
        `keras.utils.set_random_seed(self.seed)` first for reproducible weights.
        """
        import keras

        from kgan import autotune
        from kgan.gan import GAN
        from kgan.schedules import CosineBeta2Adam, HoldThenDecay

        if self.conditional and not num_classes:
            raise KganError(
                f"conditional=True but dataset {self.dataset!r} has no class labels; "
                "train it unconditionally (drop --conditional)"
            )
        if self.arch is None:
            kind = "vector" if len(data_shape) == 1 else "image"
            return self.for_data(kind).build_gan(data_shape, num_classes, steps_per_epoch)
        if "auto" in (self.precision, self.jit_compile):
            resolved = autotune.resolve(self, data_shape, num_classes)
            keras.utils.set_random_seed(self.seed)  # the trials drew from the global seed
            return resolved.build_gan(data_shape, num_classes, steps_per_epoch)
        classes = num_classes if self.conditional else None
        self.check_names()
        with autotune.dtype_policy(self.precision):
            generator, discriminator = self.architecture().build(
                tuple(data_shape), self.latent_dim, classes
            )
        half_life = self.ema_half_life
        gan = GAN(
            generator,
            discriminator,
            latent_dim=self.latent_dim,
            num_classes=classes,
            n_critic=self.n_critic,
            reuse_fakes=self.reuse_fakes,
            ema_decay=self.ema if half_life is None else None,
            ema_half_life=half_life,
            ema_rampup=self.ema_rampup,
            seed=self.seed,
        )
        steps = self.epochs * int(steps_per_epoch)

        def adam(lr, updates_per_step):
            if self.lr_decay:
                lr = HoldThenDecay(lr, steps * updates_per_step, self.lr_decay)
            elif self.lr_final is not None:
                lr = keras.optimizers.schedules.CosineDecay(
                    lr, decay_steps=max(1, steps * updates_per_step), alpha=self.lr_final
                )
            if self.beta2_final is not None:
                return CosineBeta2Adam(lr, beta_1=self.beta_1, beta_2=self.beta_2,
                                       beta_2_final=self.beta2_final,
                                       beta_2_steps=steps * updates_per_step)
            return keras.optimizers.Adam(lr, beta_1=self.beta_1, beta_2=self.beta_2)

        gan.compile(
            d_optimizer=adam(self.d_lr, self.n_critic),
            g_optimizer=adam(self.g_lr, 1),
            loss=self.loss,
            regularizers=self.regularizers(steps * self.n_critic),
            steps_per_execution=self._steps_per_execution(int(steps_per_epoch)),
            jit_compile=self.jit_compile,
        )
        return gan

    def _steps_per_execution(self, steps_per_epoch: int) -> int:
        """`steps_per_execution`, lowered to the largest divisor of the epoch's steps that it
        shares (an execution never crosses an epoch's end), with a warning when lowered."""
        steps = math.gcd(steps_per_epoch, self.steps_per_execution)
        if steps != self.steps_per_execution:
            print(
                f"kgan: warning: steps_per_execution {self.steps_per_execution} does not divide "
                f"the {steps_per_epoch} steps per epoch; using {steps} (pass a divisor of "
                f"{steps_per_epoch} to --steps-per-execution)",
                flush=True,
            )
        return steps

    def check_model(self, gan) -> None:
        """Raises `KganError` when `gan` (e.g. loaded from a checkpoint) was not built from
        this configuration: the model's own `get_config` is the reference."""
        config = gan.get_config()
        compile_config = gan.get_compile_config() or {}
        expected = {
            "latent_dim": self.latent_dim,
            "n_critic": self.n_critic,
            "ema_decay": None if self.ema is None or self.ema_half_life else float(self.ema),
            "ema_half_life": self.ema_half_life,
            "ema_rampup": self.ema_rampup,
            "seed": self.seed,
            "reuse_fakes": self.reuse_fakes,
        }
        found = {key: config.get(key) for key in expected}
        found["reuse_fakes"] = bool(found["reuse_fakes"])  # models saved before the option
        if self.conditional != bool(config.get("num_classes")):
            expected["conditional"], found["conditional"] = self.conditional, not self.conditional
        loss = (compile_config.get("loss") or {}).get("name")
        if loss is not None:
            expected["loss"], found["loss"] = self.loss, loss
        regs = [r.get("name") for r in compile_config.get("regularizers", [])]
        expected["regularizers"] = [self.regularizer] if self.regularizer else []
        found["regularizers"] = regs
        diff = {k: (found[k], v) for k, v in expected.items() if found[k] != v}
        if diff:
            details = ", ".join(
                f"{k}: model has {f!r}, config says {e!r}" for k, (f, e) in diff.items()
            )
            raise KganError(f"the model does not match the run configuration ({details})")

    def summary(self) -> str:
        """The configuration as aligned `key: value` lines (what `--dry-run` prints)."""
        data = self.to_dict()
        width = max(len(k) for k in data)
        notes = {"arch": "  (follows the data: mlp for vectors, dcgan for images)"}
        return "\n".join(
            f"{k:<{width}}  {v!r}{notes.get(k, '') if v is None else ''}" for k, v in data.items()
        )


__all__ = ["RunConfig"]
