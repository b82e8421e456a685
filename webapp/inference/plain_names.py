"""Plain words for what the pages show students: each layer of a network, named by its kind and its place in
the network, and each model by its name. The pages show the technical name next to them, smaller; the API
gives both (`layers[].plain` of /api/explain, `title` of /api/models), so every page says the same.
"""

from __future__ import annotations

from webapp.sentences import N_

MODEL_TITLES = {
    "cnn": "The convolutional network",
    "mlp": "The classic network from the notebooks",
    "mlp-wide": "The wider classic network",
}

# A layer of these kinds (training/explain_export.kind_of) does the same wherever it sits.
KIND_WORDS = {
    "reshape": N_("Getting the picture ready"),
    "batch normalisation": N_("Evening out the signals"),
    "activation": N_("Keeping only what matched"),
    "max pooling": N_("Squeezing the picture smaller"),
    "average pooling": N_("Squeezing the picture smaller"),
    "dropout": N_("Switching off some units while learning"),
}
ANOTHER_STEP = N_("Another step inside the network")
# Each later convolution, by its place (a whole sentence each, so every language can say its ordinal).
LATER_LOOKS = (N_("Third look: finding bigger shapes"), N_("Fourth look: finding bigger shapes"),
               N_("Fifth look: finding bigger shapes"), N_("Sixth look: finding bigger shapes"),
               N_("Seventh look: finding bigger shapes"), N_("Eighth look: finding bigger shapes"),
               N_("Ninth look: finding bigger shapes"), N_("Tenth look: finding bigger shapes"))

# A plain name as its sentence template (marked for the catalogs) and the values of its variable parts:
# webapp/http translates the template in the request's language, layer_names() gives the English.
Words = tuple[str, dict]


def model_title(name: str) -> str:
    return MODEL_TITLES.get(name, f"The network called {name}")


def layer_names(layers: list[dict]) -> list[str]:
    """The plain name of each layer in English (layer_words() gives them as templates to translate)."""
    return [template % values if values else template for template, values in layer_words(layers)]


def layer_words(layers: list[dict]) -> list[Words]:
    """The plain name of each layer ({"kind", "shape", ...} in the order the data flows, as the explain file
    lists them). Convolutions are named by their place, dense layers by what they weigh, the last layer is
    the answer."""
    names, convolutions, before = [], 0, None
    for index, layer in enumerate(layers):
        kind = layer["kind"]
        if index == len(layers) - 1:
            names.append((N_("The answer: a score for each digit"), {}))
        elif kind == "convolution":
            convolutions += 1
            names.append(convolution_name(convolutions))
        elif kind == "dense":
            names.append(dense_name(layer["shape"][-1], before, convolutions))
        elif kind == "flatten":
            names.append((N_("Putting everything found in one long row") if convolutions
                          else N_("Putting the pixels in one long row"), {}))
        else:
            names.append((KIND_WORDS.get(kind, ANOTHER_STEP), {}))
        if kind == "dense":
            before = layer["shape"][-1]
    return names


def convolution_name(place: int) -> Words:
    """The first convolution finds strokes; each later one sees a larger part of the digit."""
    if place == 1:
        return N_("First look at strokes"), {}
    if place == 2:
        return N_("Second look: strokes joined into corners and curves"), {}
    if place - 3 < len(LATER_LOOKS):
        return LATER_LOOKS[place - 3], {}
    return N_("Look number %(place)s: finding bigger shapes"), {"place": place}


def dense_name(units: int, units_before: int | None, convolutions: int) -> Words:
    """A dense layer's units each weigh everything the layer before gives them."""
    if units_before is not None:
        return N_("%(units)s units, each weighing the %(before)s before"), {"units": units, "before": units_before}
    if convolutions:
        return N_("%(units)s units, each weighing everything found so far"), {"units": units}
    return N_("%(units)s units, each weighing every pixel"), {"units": units}
