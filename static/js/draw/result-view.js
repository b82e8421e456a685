/** The answer panel: big digit (or number), confidence, a plain sentence, what the model sees, the bars. */

import { BarChart } from "./bar-chart.js";
import { element, percent } from "../dom.js";
import { count, t, tn } from "../i18n.js";
import { takesAn } from "../words.js";

const EMPTY_MESSAGE = t("Draw a digit in the box and I will read it as you draw.");

export class ResultView {
  constructor(root, { unsureThreshold }) {
    this.root = root;
    this.unsureThreshold = unsureThreshold;
    this.digit = root.querySelector("#answer-digit");
    this.confidence = root.querySelector("#answer-confidence");
    this.status = root.querySelector("#status");
    this.input = root.querySelector("#model-input");
    this.error = root.querySelector("#error");
    this.numberDigits = root.querySelector("#number-digits");
    this.chips = root.querySelector("#digit-chips");
    this.bars = new BarChart(root.querySelector("#bars"), { label: t("Probability of each digit") });
    this.result = null;
  }

  setState(state) {
    this.root.dataset.state = state;
  }

  showEmpty(message = EMPTY_MESSAGE) {
    this.result = null;
    this.setState("empty");
    this.digit.textContent = "?";
    this.digit.classList.remove("is-number");
    this.confidence.textContent = "";
    this.setStatus(message);
    this.showInput(null);
    this.numberDigits.hidden = true;
    this.chips.replaceChildren();
    this.error.textContent = "";
    this.bars.update(null);
  }

  showError(message) {
    this.error.textContent = message;
  }

  /** A prediction from /api/predict; in number mode every digit found gets a chip. */
  show(result, mode) {
    this.error.textContent = "";
    if (result.digit === null) {
      this.showEmpty(t("I see no ink yet. Draw a digit, a bit bigger or darker."));
      return;
    }
    this.result = result;
    const isNumber = mode === "number";
    this.digit.classList.toggle("is-number", isNumber);
    this.numberDigits.hidden = !isNumber;
    if (isNumber) {
      this.digit.textContent = result.number;
      this.digit.style.setProperty("--chars", String(result.number.length));
      this.showChips(result);
    }
    this.selectDigit(0, isNumber);
  }

  /** Bars, input image and sentence for one digit of the answer (the only one in digit mode). */
  selectDigit(index, isNumber) {
    const found = this.result.digits[index];
    const unsure = found.confidence < this.unsureThreshold;
    this.setState(unsure ? "unsure" : "sure");
    if (!isNumber) this.digit.textContent = String(found.digit);
    this.confidence.textContent = isNumber ? "" : percent(found.confidence);
    this.setStatus(isNumber ? numberSentence(this.result, this.unsureThreshold) : digitSentence(found, unsure));
    this.showInput(this.result.inputs?.[index] ?? this.result.input, found.digit);
    this.bars.update(found.probabilities);
    for (const [position, chip] of [...this.chips.children].entries()) {
      chip.setAttribute("aria-pressed", String(position === index));
    }
  }

  showChips(result) {
    this.chips.replaceChildren(...result.digits.map((found, index) => {
      const chip = element("button", { type: "button", class: "digit-chip", "aria-pressed": "false",
        "aria-label": t("Digit {position}: {digit}, {percent} sure",
          { position: count(index + 1), digit: found.digit, percent: percent(found.confidence) }) },
      element("img", { class: "pixelated", src: result.inputs?.[index] ?? "", alt: "", width: 28, height: 28 }),
      element("strong", { text: String(found.digit) }),
      element("small", { text: percent(found.confidence, 0) }));
      chip.addEventListener("click", () => this.selectDigit(index, true));
      return chip;
    }));
  }

  showInput(source, digit) {
    this.input.hidden = !source;
    if (source) {
      this.input.src = source;
      this.input.alt = t("The 28 by 28 pixel image the model reads as {digit}", { digit });
    } else {
      this.input.removeAttribute("src");
      this.input.alt = "";
    }
  }

  setStatus(message) {
    if (this.status.textContent !== message) this.status.textContent = message;
  }
}

function runnerUp(probabilities) {
  const ranked = probabilities.map((p, digit) => [p, digit]).sort((a, b) => b[0] - a[0]);
  return ranked[1][1];
}

/** "It's a 7." or, unsure, "Not sure. Maybe an 8, maybe a 3?" (the two digits differ, so only one is an 8). */
function digitSentence(found, unsure) {
  const digit = found.digit;
  if (!unsure) return takesAn(digit) ? t("It's an {digit}.", { digit }) : t("It's a {digit}.", { digit });
  const values = { first: digit, second: runnerUp(found.probabilities) };
  if (takesAn(values.first)) return t("Not sure. Maybe an {first}, maybe a {second}?", values);
  if (takesAn(values.second)) return t("Not sure. Maybe a {first}, maybe an {second}?", values);
  return t("Not sure. Maybe a {first}, maybe a {second}?", values);
}

function numberSentence(result, unsureThreshold) {
  const unclear = result.digits.findIndex((found) => found.confidence < unsureThreshold);
  if (unclear < 0) {
    return tn("{n} digit, read left to right.", "{n} digits, read left to right.", result.digits.length);
  }
  const found = result.digits[unclear];
  const values = { position: count(unclear + 1), first: found.digit, second: runnerUp(found.probabilities) };
  if (takesAn(values.first)) return t("Digit {position} is unclear: an {first} or a {second}?", values);
  if (takesAn(values.second)) return t("Digit {position} is unclear: a {first} or an {second}?", values);
  return t("Digit {position} is unclear: a {first} or a {second}?", values);
}
