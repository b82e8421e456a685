"""Plain words for what the pages show students: each layer of a network, named by its kind and its place in
the network, and each model by its name. The pages show the technical name next to them, smaller; the API
gives both (`layers[].plain` of /api/explain, `title` of /api/models), so every page says the same.
"""

from __future__ import annotations

MODEL_TITLES = {
    "cnn": "The convolutional network",
    "mlp": "The classic network from the notebooks",
    "mlp-wide": "The wider classic network",
}

# A layer of these kinds (training/explain_export.kind_of) does the same wherever it sits.
KIND_WORDS = {
    "reshape": "Getting the picture ready",
    "batch normalisation": "Evening out the signals",
    "activation": "Keeping only what matched",
    "max pooling": "Squeezing the picture smaller",
    "average pooling": "Squeezing the picture smaller",
    "dropout": "Switching off some units while learning",
}
ANOTHER_STEP = "Another step inside the network"
ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth")


def model_title(name: str) -> str:
    return MODEL_TITLES.get(name, f"The network called {name}")


def layer_names(layers: list[dict]) -> list[str]:
    """The plain name of each layer ({"kind", "shape", ...} in the order the data flows, as the explain file
    lists them). Convolutions are named by their place, dense layers by what they weigh, the last layer is
    the answer."""
    names, convolutions, before = [], 0, None
    for index, layer in enumerate(layers):
        kind = layer["kind"]
        if index == len(layers) - 1:
            names.append("The answer: a score for each digit")
        elif kind == "convolution":
            convolutions += 1
            names.append(convolution_name(convolutions))
        elif kind == "dense":
            names.append(dense_name(layer["shape"][-1], before, convolutions))
        elif kind == "flatten":
            names.append("Putting everything found in one long row" if convolutions
                         else "Putting the pixels in one long row")
        else:
            names.append(KIND_WORDS.get(kind, ANOTHER_STEP))
        if kind == "dense":
            before = layer["shape"][-1]
    return names


def convolution_name(place: int) -> str:
    """The first convolution finds strokes; each later one sees a larger part of the digit."""
    if place == 1:
        return "First look at strokes"
    look = f"{ORDINALS[place - 1]} look" if place <= len(ORDINALS) else f"Look number {place}"
    if place == 2:
        return f"{look}: strokes joined into corners and curves"
    return f"{look}: finding bigger shapes"


def dense_name(units: int, units_before: int | None, convolutions: int) -> str:
    """A dense layer's units each weigh everything the layer before gives them."""
    if units_before is not None:
        return f"{units} units, each weighing the {units_before} before"
    if convolutions:
        return f"{units} units, each weighing everything found so far"
    return f"{units} units, each weighing every pixel"
