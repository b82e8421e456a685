"""Whether one device supplied most of the drawings of a digit: then fine-tuning would learn that device's idea of
the digit (a prank, or a poison that leaves MNIST alone and so passes the MNIST guard). A run refuses such
drawings unless the teacher says the device is the whole class (every phone behind one school address)."""

from __future__ import annotations

from collections import Counter

from webapp.sentences import N_, Sentence

MOST = 0.5          # a device supplying more than this share of a digit's drawings supplied most of them
AT_LEAST = 10       # fewer drawings of a digit say nothing about who supplied them


def dominated_digits(senders) -> list[dict]:
    """Each digit one device supplied most of (at least AT_LEAST drawings), with the counts. `senders`:
    (label, writer, drawings) triples (Store.senders(), or counted from the drawings); no writer: unknown."""
    totals, most = Counter(), Counter()
    for label, writer, count in senders:
        totals[int(label)] += count
        if writer is not None:
            most[int(label)] = max(most[int(label)], count)
    return [{"digit": label, "drawings": totals[label], "from_one_device": most[label]}
            for label in sorted(totals) if totals[label] >= AT_LEAST and most[label] > MOST * totals[label]]


def senders_of(labels, writers) -> list[tuple[int, str | None, int]]:
    """The (label, writer, drawings) triples of drawings in memory."""
    return [(label, writer, count) for (label, writer), count in Counter(zip(map(int, labels), writers)).items()]


# The refusal, by how many other digits one device dominates too (a whole sentence each, for the catalogs).
REFUSALS = (
    N_("One device sent %(sent)s of the %(drawings)s drawings labelled %(digit)s: fine-tuning would learn that "
       "device's idea of it. Delete its drawings on the drawings page, or fine-tune anyway if every student's "
       "drawings come from one address (a school's router)."),
    N_("One device sent %(sent)s of the %(drawings)s drawings labelled %(digit)s (and 1 other digit): fine-tuning "
       "would learn that device's idea of it. Delete its drawings on the drawings page, or fine-tune anyway if "
       "every student's drawings come from one address (a school's router)."),
    N_("One device sent %(sent)s of the %(drawings)s drawings labelled %(digit)s (and %(others)s other digits): "
       "fine-tuning would learn that device's idea of it. Delete its drawings on the drawings page, or fine-tune "
       "anyway if every student's drawings come from one address (a school's router)."),
)


def refusal(found: list[dict]) -> Sentence | None:
    """The sentence a run refuses with (str() is the English), or None."""
    if not found:
        return None
    worst = max(found, key=lambda digit: digit["from_one_device"] / digit["drawings"])
    others = len(found) - 1
    return Sentence(REFUSALS[min(others, 2)], sent=worst["from_one_device"], drawings=worst["drawings"],
                    digit=worst["digit"], others=others)
