/**
 * "Look inside": for the drawing on the pad, what /api/explain says about the selected model: each step from the
 * drawing to the model input, where the model looked (a heat map over its input), what each layer made of it,
 * and the training digits it thinks of. It asks once a stroke has ended (the page tells it), never while the
 * pointer moves; a newer question makes the older answer void. `explain(digit)` explains another digit.
 */

import { postForm } from "../api.js";
import { element, percent } from "../dom.js";
import { clearHeatMap, drawHeatMap, heatMapLabel } from "../heat-map.js";
import { count, t, tn } from "../i18n.js";
import { inSentence, takesAn } from "../words.js";

const LOOKING = t("Looking inside…");

export class InsideView {
  /** `titleOf(name)`: a model's plain title ("The convolutional network" for cnn). */
  constructor(root, { url, titleOf, onToggle }) {
    this.root = root;
    this.url = url;
    this.titleOf = titleOf;
    this.onToggle = onToggle;
    this.asked = 0;
    this.last = null;           // {blob, model}: the drawing to explain again for another digit
    this.parts = Object.fromEntries(["title", "status", "stages", "heat", "heat-caption", "layers", "filters",
      "neighbours", "targets"].map((name) => [name, root.querySelector(`[data-part="${name}"]`)]));
    this.targetButtons = Array.from({ length: 10 }, (_, digit) => {
      const button = element("button", { type: "button", class: "button small inside-target", "data-digit": digit,
        "aria-pressed": "false", "aria-label": t("Explain {digit}", { digit }), text: String(digit) });
      button.addEventListener("click", () => this.explain(digit));
      return button;
    });
    this.parts.targets.append(...this.targetButtons);
  }

  isOpen() {
    return !this.root.hidden;
  }

  setOpen(open) {
    this.root.hidden = !open;
    this.onToggle?.(open);
  }

  /** The page's newest drawing (after a stroke ended, an undo, an upload, a change of model); `blob` null:
   * nothing to explain, `reason` says why. */
  show(blob, model, reason = t("Draw a digit to see inside the model.")) {
    this.last = blob ? { blob, model } : null;
    if (!this.isOpen()) return;
    if (!blob) {
      this.clear(reason);
      return;
    }
    this.explain(null);
  }

  clear(message) {
    this.asked += 1;
    for (const name of ["stages", "layers", "neighbours"]) this.parts[name].replaceChildren();
    this.parts.filters.replaceChildren();
    clearHeatMap(this.parts.heat);
    this.parts["heat-caption"].textContent = "";
    this.parts.title.textContent = t("Inside the model");
    this.parts.status.textContent = message;
    this.markTarget(null);
  }

  /** Explain `target` (a digit, or null: the model's own answer) for the last drawing. */
  async explain(target) {
    if (!this.last) return;
    const ticket = ++this.asked;
    this.root.setAttribute("aria-busy", "true");
    if (this.parts.status.textContent !== LOOKING) this.parts.status.textContent = LOOKING;
    try {
      const answer = await postForm(this.url, { image: this.last.blob, model: this.last.model, target });
      if (ticket !== this.asked) return;
      this.render(answer);
    } catch (error) {
      if (ticket === this.asked) {
        this.parts.status.textContent = t("Could not look inside: {error}", { error: error.message });
      }
    } finally {
      if (ticket === this.asked) this.root.setAttribute("aria-busy", "false");
    }
  }

  render(answer) {
    if (answer.digit === null) {
      this.clear(t("I see no ink yet: draw a digit to see inside the model."));
      return;
    }
    const model = inSentence(this.titleOf(answer.model));
    const { digit, target } = answer;
    this.parts.title.textContent = target === digit ? t("Inside {model}: why {digit}?", { model, digit })
      : t("Inside {model}: why not {digit}?", { model, digit: target });
    this.parts.status.textContent = target === digit
      ? t("It reads {digit} ({percent}). Choose another digit to ask why not that one.",
        { digit, percent: percent(answer.confidence) })
      : t("It reads {digit}; the heat map shows what speaks for {target} ({percent}).",
        { digit, target, percent: percent(answer.probabilities[target]) });
    this.markTarget(answer.target);
    this.parts.stages.replaceChildren(...answer.stages.map(stageItem));
    this.drawHeat(answer.input, answer.saliency, answer.target, answer.evidence);
    this.parts.layers.replaceChildren(...answer.layers.map(layerItem));
    this.parts.filters.replaceChildren(...(answer.filters ? filterFigure(answer.filters) : []));
    this.parts.neighbours.replaceChildren(...answer.neighbours.map((neighbour) => neighbourItem(neighbour, digit)));
  }

  drawHeat(inputUrl, saliency, target, evidence) {
    drawHeatMap(this.parts.heat, inputUrl, saliency);
    this.parts.heat.setAttribute("aria-label", heatMapLabel(target, evidence > 0 ? saliency : null));
    this.parts["heat-caption"].textContent = evidence > 0
      ? t("Where the model looked for {digit}: removing the ink in the warm spots lowers its belief the most.",
        { digit: target })
      : t("No ink speaks for {digit}: removing any of it does not make the model believe in {digit} less.",
        { digit: target });
  }

  markTarget(target) {
    this.targetButtons.forEach((button, digit) => button.setAttribute("aria-pressed", String(digit === target)));
  }
}

/** A training digit the model thinks of, marked when it is not the digit the model read. */
function neighbourItem({ image, label: digit, similarity }, read) {
  return element("li", { class: digit === read ? "inside-neighbour" : "inside-neighbour is-other" },
    element("img", { src: image, class: "pixelated",
      alt: t("A training {digit}, similarity {similarity}", { digit, similarity: count(similarity, 2) }) }),
    element("span", { text: takesAn(digit) ? t("an {digit}", { digit }) : t("a {digit}", { digit }) }));
}

/** One step from the drawing to the model input: its picture and its caption, numbered. */
function stageItem(stage, index) {
  const number = count(index + 1);
  return element("li", { class: "inside-stage" },
    element("img", { src: stage.image, alt: t("Step {number}: {caption}", { number, caption: stage.caption }),
      class: "pixelated" }),
    element("span", { text: t("{number}. {text}", { number, text: stage.caption }) }));
}

/** The first convolution's filters: a picture of them, and what they are in plain words. */
function filterFigure(filters) {
  const values = { layer: filters.layer };
  return [
    element("img", { src: filters.image, class: "pixelated",
      alt: tn("The {n} filter the first convolution ({layer}) learned: light where a filter wants ink, dark where "
        + "it wants none", "The {n} filters the first convolution ({layer}) learned: light where a filter wants ink, "
        + "dark where it wants none", filters.count, values) }),
    element("figcaption", {},
      tn("The {n} stroke pattern its first look searches for", "The {n} stroke patterns its first look searches for",
        filters.count),
      " ",
      element("small", { class: "technical", text: t("(filters of {layer})", values) }))];
}

/** A layer's shape read aloud: "26 by 26 by 32", "128". */
function shapeInWords(shape) {
  const [rows, columns, depth] = shape.map((size) => count(size));
  if (shape.length === 3) return t("{rows} by {columns} by {depth}", { rows, columns, depth });
  if (shape.length === 2) return t("{rows} by {columns}", { rows, columns });
  return rows;
}

/** One layer: its plain name first, the technical name, kind and shape smaller, and what it made of the drawing. */
function layerItem(layer, index) {
  const what = layer.shape.length === 3
    ? tn("{n} feature map, bright where it responds", "{n} feature maps, bright where they respond", layer.shape[2])
    : tn("{n} unit, bright where it responds", "{n} units, bright where they respond",
      layer.shape.reduce((a, b) => a * b, 1));
  const number = count(index + 1);
  return element("li", { class: "inside-layer" },
    element("span", { class: "inside-layer-name" },
      element("strong", { text: t("{number}. {text}", { number, text: layer.plain }) }),
      element("small", { class: "technical", text: `${layer.name} · ${layer.kind} · ${layer.shape.join("×")}` })),
    element("img", { src: layer.image, class: "pixelated",
      alt: t("What layer {number}, {name} ({technical}, {kind}, {shape}), made of the drawing: {what}", {
        number, name: layer.plain, technical: layer.name, kind: layer.kind, shape: shapeInWords(layer.shape), what,
      }) }));
}
