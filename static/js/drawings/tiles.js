/** A tile of the /drawings grid built from one drawing of GET /api/drawings, as templates/drawings.html draws it. */

import { element } from "../dom.js";
import { withArticle } from "../words.js";

function answerOf(drawing) {
  if (drawing.prediction === null) return "no answer kept";
  return `${drawing.model || "the model"} said ${drawing.prediction}`;
}

/** The signed-in teacher's buttons on a tile. */
function toolsFor(id) {
  return element("span", { class: "drawing-tools" },
    element("button", { type: "button", class: "button small", "data-action": "original",
      "aria-label": `See drawing #${id} as it was drawn`, text: "As drawn" }),
    element("button", { type: "button", class: "button small button-danger", "data-action": "delete",
      "aria-label": `Delete drawing #${id}`, text: "Delete" }));
}

export function tileFor(drawing, { withTools }) {
  const wrong = drawing.prediction !== null && drawing.prediction !== drawing.label;
  const tile = element("li", { class: wrong ? "drawing is-wrong" : "drawing", "data-id": drawing.id },
    element("img", { src: drawing.input, width: 28, height: 28,
      alt: `Drawing #${drawing.id}, ${withArticle(drawing.label)}` }),
    element("span", { class: "drawing-label", text: `#${drawing.id}: ${withArticle(drawing.label)}` }),
    element("span", { class: "drawing-answer", text: answerOf(drawing) }));
  if (withTools) tile.append(toolsFor(drawing.id));
  return tile;
}
