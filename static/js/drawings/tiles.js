/** A tile of the /drawings grid built from one drawing of GET /api/drawings, as templates/drawings.html draws it. */

import { element } from "../dom.js";
import { t } from "../i18n.js";
import { takesAn } from "../words.js";

function answerOf(drawing) {
  if (drawing.prediction === null) return t("no answer kept");
  const said = { model: drawing.model, digit: drawing.prediction };
  return drawing.model ? t("{model} said {digit}", said) : t("the model said {digit}", said);
}

/** "#12: a 7" for the tile and "Drawing #12, a 7" for its picture. */
function labelsOf({ id, label }) {
  const values = { id, digit: label };
  return takesAn(label)
    ? { text: t("#{id}: an {digit}", values), alt: t("Drawing #{id}, an {digit}", values) }
    : { text: t("#{id}: a {digit}", values), alt: t("Drawing #{id}, a {digit}", values) };
}

/** The signed-in teacher's buttons on a tile. */
function toolsFor(id) {
  return element("span", { class: "drawing-tools" },
    element("button", { type: "button", class: "button small", "data-action": "original",
      "aria-label": t("See drawing #{id} as it was drawn", { id }), text: t("As drawn") }),
    element("button", { type: "button", class: "button small button-danger", "data-action": "delete",
      "aria-label": t("Delete drawing #{id}", { id }), text: t("Delete") }));
}

export function tileFor(drawing, { withTools }) {
  const wrong = drawing.prediction !== null && drawing.prediction !== drawing.label;
  const labels = labelsOf(drawing);
  const tile = element("li", { class: wrong ? "drawing is-wrong" : "drawing", "data-id": drawing.id },
    element("img", { src: drawing.input, width: 28, height: 28, alt: labels.alt }),
    element("span", { class: "drawing-label", text: labels.text }),
    element("span", { class: "drawing-answer", text: answerOf(drawing) }));
  if (withTools) tile.append(toolsFor(drawing.id));
  return tile;
}
