"""Two versions of a model compared on the class's drawings (teacher only: the drawings are the students').

    GET /api/rounds/<id>/replay?model=&old=&new=        every drawing of the round read by both versions, split
                                                        into held out / learnt from / not learnt from, with
                                                        what it cost: MNIST test and the earlier rounds
    GET /api/models/<name>/versions/diff?from=&to=      which drawings changed from right to wrong and from
                                                        wrong to right, per digit

Both let each version read at most a bounded number of drawings per request (webapp/store/version_answers.py)
and say how many are left (`complete`, `left`): the page asks again until none are; the diff compares (and
lists) only then. A store that cannot take the answers is a 503, never an endless "left".
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Flask, current_app, jsonify, request

from webapp.http.errors import ApiError
from webapp.http.model_words import title as model_title
from webapp.http.requests import models, whole_number
from webapp.http.teacher import teacher_required
from webapp.http.versions import in_store, known_model
from webapp.inference.version_classifiers import VersionClassifiers
from webapp.store import get_store, version_answers
from webapp.store.rounds import Rounds
from webapp.store.versions import ModelVersions, Version, VersionDamaged
from webapp.vision.images import png_data_url

bp = Blueprint("version_compare", __name__, url_prefix="/api")
LARGEST_ID = 2**63 - 1
SPLITS = ("held_out", "learnt", "not_learnt")


def init_app(app: Flask) -> None:
    app.extensions["version_classifiers"] = VersionClassifiers()
    app.register_blueprint(bp)


def key_of(version: Version) -> tuple[str, str]:
    return version.model, version.sha256[:12]   # as the answers are kept (Classifier.version)


def version_json(version: Version) -> dict:
    return {"id": version.id, "number": version.number, "current": version.current, "origin": version.origin,
            "test_accuracy": version.report.get("test_accuracy")}


def chosen_version(kept: ModelVersions, name: str, argument: str, default: Version | None) -> Version | None:
    given = request.args.get(argument)
    if given is None or given == "":
        return default
    version_id = whole_number(argument, 0, smallest=1, largest=LARGEST_ID)
    version = in_store(lambda: kept.get(version_id))
    if version is None or version.model != name:
        raise ApiError(404, f"{name} has no version with id {version_id}.")
    return version


def two_versions(name: str, old_argument: str, new_argument: str) -> tuple[ModelVersions, Version, Version]:
    """The versions to compare: by default the current one and the one it was made from."""
    known_model(name)
    kept = ModelVersions(get_store())
    in_store(lambda: kept.register_folder(current_app.config["MODEL_DIR"], [name]))
    new = chosen_version(kept, name, new_argument, in_store(kept.current).get(name))
    parent = in_store(lambda: kept.get(new.parent_id)) if new is not None and new.parent_id is not None else None
    old = chosen_version(kept, name, old_argument, parent)
    if new is None or old is None:
        raise ApiError(409, f"{model_title(name)} has one version only: teach it first, then compare.")
    if old.id == new.id:
        raise ApiError(400, "Choose two different versions to compare.")
    return kept, old, new


def read_by_both(kept: ModelVersions, old: Version, new: Version, rounds: list[int] | None) -> int:
    """Let each version read what it has not (within the budget); how many drawings are left unread."""
    served = models().classifiers.get(old.model)
    store = get_store()
    left = 0
    for version in (old, new):
        try:
            classifier = current_app.extensions["version_classifiers"].of(kept, version, served)
        except (VersionDamaged, ValueError, RuntimeError) as error:
            raise ApiError(409, f"{model_title(version.model)} version {version.number} cannot read drawings "
                                f"any more: {error}") from error
        key = key_of(version)
        in_store(partial(version_answers.catch_up, store, key, classifier, rounds))
        left += in_store(partial(version_answers.unread, store, key, rounds))
    return left


def tally(pairs) -> dict:
    return {"drawings": len(pairs), "old_right": sum(p.old == p.label for p in pairs),
            "new_right": sum(p.new == p.label for p in pairs)}


@bp.get(f"/rounds/<int(max={LARGEST_ID}):round_id>/replay")
@teacher_required("Replaying a round", changes_state=False)
def replay(round_id: int):
    rounds = Rounds(get_store())
    found = in_store(lambda: rounds.get(round_id))
    ordered = models().ordered()
    name = request.args.get("model") or (ordered[0].name if ordered else "")
    kept, old, new = two_versions(name, "old", "new")
    earlier = [other for other, sent in in_store(rounds.all) if other.id < round_id and sent]
    left = read_by_both(kept, old, new, [round_id] + [other.id for other in earlier])
    store = get_store()
    this_round = in_store(lambda: version_answers.pairs(store, key_of(old), key_of(new), round_id))
    tallies = in_store(lambda: version_answers.per_round(store, key_of(old), key_of(new),
                                                         [other.id for other in earlier]))
    learnt, held_out = in_store(lambda: kept.lineage(new))

    def split(pair) -> str:
        # A drawing kept before rounds fixed their fifth (held_out null) is held out when a run held it out.
        if pair.held_out or (pair.held_out is None and pair.id in held_out and pair.id not in learnt):
            return "held_out"
        return "learnt" if pair.id in learnt else "not_learnt"

    groups = {name: tally([p for p in this_round if split(p) == name]) for name in SPLITS}
    return jsonify(
        round=found.as_json(), model=name, model_title=model_title(name),
        old=version_json(old), new=version_json(new), complete=left == 0, left=left,
        all=tally(this_round), groups=groups,
        drawings=[{"id": p.id, "label": p.label, "old": p.old, "new": p.new, "split": split(p),
                   "changed": p.changed} for p in this_round],
        earlier_rounds=[{"id": other.id, "prompt": other.prompt, "kind": other.kind, "digit": other.digit,
                         "fool": bool(other.fool), **tallies[other.id]}
                        for other in earlier],
        mnist_test={"old": old.report.get("test_accuracy"), "new": new.report.get("test_accuracy")})


@bp.get("/models/<name>/versions/diff")
@teacher_required("Comparing versions", changes_state=False)
def diff(name: str):
    kept, old, new = two_versions(name, "from", "to")
    left = read_by_both(kept, old, new, None)
    head = {"model": name, "model_title": model_title(name), "from": version_json(old), "to": version_json(new),
            "complete": left == 0, "left": left, "listed_at_most": version_answers.LISTED}
    if left:   # the comparison is made once, when both versions have read every drawing
        return jsonify(**head, totals=None, per_digit=None, right_to_wrong=[], wrong_to_right=[])
    store = get_store()
    listed = {direction: [{"id": c.id, "label": c.label, "old": c.old, "new": c.new, "round": c.round_id,
                           "input": png_data_url(c.pixels)}
                          for c in in_store(partial(version_answers.changed, store, key_of(old), key_of(new),
                                                    direction))]
              for direction in ("right_to_wrong", "wrong_to_right")}
    digits = in_store(lambda: version_answers.per_digit(store, key_of(old), key_of(new)))
    totals = {key: sum(row[key] for row in digits)
              for key in ("read", "old_right", "new_right", "right_to_wrong", "wrong_to_right")}
    return jsonify(**head, totals=totals, per_digit=digits, **listed)
