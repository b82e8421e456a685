"""Every architecture train.py knows, each one entry: adding an architecture is adding a Recipe to RECIPES."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import keras

from training.networks import build_cnn, build_mlp
from training.speed import STEPS_PER_EXECUTION, FusedBatchNormalization


@dataclass(frozen=True)
class Recipe:
    """How one architecture is built and trained."""

    name: str
    description: str                                 # shown by /api/models and the evaluation page
    builder: Callable[[], keras.Model]               # the model that is saved, exported and served
    epochs: int
    batch_size: int
    optimizer: Callable[[int], keras.optimizers.Optimizer]   # total training steps -> a fresh optimiser
    augment: bool = False                            # random rotation, zoom and shift of each batch
    training_builder: Callable[[], keras.Model] | None = None  # a faster twin with the same weights
    steps_per_execution: int = 1
    mixed_precision: bool = False                    # bfloat16 allowed where the CPU runs it fast
    styles: int = 0                                  # drawings of each handwriting style trained on too
    label_smoothing: float = 0.0                     # labels softened by this (0.1: the right class 0.91)

    def build_for_training(self) -> keras.Model:
        return (self.training_builder or self.builder)()


def adam(steps: int) -> keras.optimizers.Optimizer:
    """Keras' Adam as it comes (learning rate 0.001), as the notebooks trained."""
    return keras.optimizers.Adam()


def adamw_one_cycle(steps: int, peak: float, weight_decay: float) -> keras.optimizers.Optimizer:
    """AdamW with a one-cycle learning rate: linear warm-up for 20 % of the steps, then cosine decay to zero.

    Each step also shrinks every weight by learning rate x weight_decay (decoupled weight decay, Loshchilov and
    Hutter); 0 is plain Adam."""
    warmup = max(1, int(0.2 * steps))
    return keras.optimizers.AdamW(weight_decay=weight_decay, learning_rate=keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10, decay_steps=steps - warmup,
        warmup_target=peak, warmup_steps=warmup, alpha=0.0))


RECIPES = {recipe.name: recipe for recipe in (
    # Conv layers with batch normalisation, light augmentation, dropout, a one-cycle learning rate with weight
    # decay, softened labels, and 200 drawings of each of the world's handwriting styles (README, Results).
    Recipe(name="cnn",
           description="Convolutional network: 5 conv layers with batch normalisation, dropout, augmentation",
           builder=build_cnn, training_builder=partial(build_cnn, batch_norm=FusedBatchNormalization),
           epochs=19, batch_size=128, optimizer=partial(adamw_one_cycle, peak=3e-3, weight_decay=0.05),
           augment=True, steps_per_execution=STEPS_PER_EXECUTION, mixed_precision=True,
           styles=200, label_smoothing=0.1),
    # The classic notebook model, exactly as it was, with the handwriting styles among its training digits.
    Recipe(name="mlp", description="The classic notebook model: dense 784-50-50-10 with sigmoid output",
           builder=partial(build_mlp, hidden=(50, 50), name="mlp"), epochs=10, batch_size=32, optimizer=adam,
           styles=200),
    Recipe(name="mlp-wide", description="The classic dense model, wider: 784-150-50-10 with sigmoid output",
           builder=partial(build_mlp, hidden=(150, 50), name="mlp-wide"), epochs=10, batch_size=32,
           optimizer=adam, styles=200),
)}
