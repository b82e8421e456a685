/**
 * The class round on a student's page: the page asks for the current round every second while it is in view
 * (GET /api/rounds/current; a phone that was offline or reloads gets the round as it is now), shows the prompt
 * large and one Send button (with the digit choice in a "Draw any digit" round), sends the pad's drawing to the
 * round and shows how the model read it and that it was sent. Paused by the teacher: Send waits. No round: the
 * panel goes and the page works as it always did; so it does on the signed-in teacher's page (the teacher runs
 * the round from the wall) and in presenter mode (the projector shows the wall, not a student's Send).
 * In a "fool the model" round the answer says at once whether the drawing fooled the model, with the heat map of
 * the ink that made the model read what it read.
 */

import { postForm, requestJson } from "../api.js";
import { percent } from "../dom.js";
import { t } from "../i18n.js";
import { roundPrompt, takesAn } from "../words.js";
import { askEvery } from "../poll.js";
import { clearHeatMap, drawHeatMap, heatMapLabel } from "../heat-map.js";

const FOLLOW_MS = 1000;

export class RoundPanel {
  /**
   * `snapshot()` resolves to {blob} of the pad's drawing, or null when nothing is drawn; `onSent` runs after a
   * drawing was sent (the page clears the pad for the next one).
   */
  constructor(root, { snapshot, onSent }) {
    this.root = root;
    this.snapshot = snapshot;
    this.onSent = onSent;
    this.round = null;
    this.sending = false;
    this.prompt = root.querySelector("#round-prompt");
    this.nickname = root.querySelector("#round-nickname");
    this.digits = root.querySelector("#round-digits");
    this.send = root.querySelector("#round-send");
    this.status = root.querySelector("#round-status");
    this.kicker = root.querySelector("#round-kicker");
    this.hint = root.querySelector("#round-hint");
    this.looked = root.querySelector("#round-looked");
    this.heat = root.querySelector("#round-heat");
    this.send.addEventListener("click", () => this.sendDrawing());
    this.digits.addEventListener("change", () => this.updateButton());
    this.hasDrawing = false;
    askEvery(FOLLOW_MS, () => this.follow());
    this.follow();
  }

  /** The pad changed: Send is possible once something is drawn. */
  setHasDrawing(hasDrawing) {
    this.hasDrawing = hasDrawing;
    this.updateButton();
  }

  async follow() {
    let round;
    try {
      round = await requestJson(this.root.dataset.currentUrl, { cache: "no-store" });
    } catch {
      return false;   // flaky wifi: the next turn puts it right
    }
    this.show(round);
    return true;
  }

  show(answer) {
    // The signed-in teacher's page gets the round without a nickname: the teacher runs it from the wall.
    const round = answer?.nickname ? answer : null;
    const changed = round?.id !== this.round?.id;
    this.round = round;
    this.root.hidden = !round;
    document.body.classList.toggle("in-round", Boolean(round));
    if (!round) return;
    this.prompt.textContent = roundPrompt(round);
    this.nickname.textContent = t("You are {nickname}", { nickname: round.nickname });
    this.digits.hidden = round.kind !== "any";
    this.kicker.textContent = round.fool ? t("Fool the model") : t("Class round");
    this.hint.hidden = !round.fool;
    this.root.classList.toggle("is-fool", Boolean(round.fool));
    if (changed) {
      for (const input of this.digits.querySelectorAll("input")) input.checked = false;
      this.say(t("Draw on the pad, then send it."));
      this.showLooked(null);
    }
    if (round.state === "paused") this.say(t("Your teacher has paused the round: wait a moment."));
    else if (this.status.dataset.paused === "true") this.say(t("The round goes on: draw, then send."));
    this.status.dataset.paused = String(round.state === "paused");
    this.updateButton();
  }

  /** The heat map of where the model looked for the digit it read (none when the server sent none). */
  showLooked(sent) {
    this.looked.hidden = !sent?.saliency;
    if (!sent?.saliency) {
      clearHeatMap(this.heat);
      return;
    }
    this.root.querySelector("#round-looked-digit").textContent = String(sent.digit);
    this.heat.setAttribute("aria-label", heatMapLabel(sent.digit, sent.saliency));
    drawHeatMap(this.heat, sent.input, sent.saliency);
  }

  chosenDigit() {
    return this.digits.querySelector("input:checked")?.value ?? null;
  }

  updateButton() {
    const round = this.round;
    const needsDigit = round?.kind === "any" && this.chosenDigit() === null;
    this.send.disabled = !round || round.state !== "open" || !this.hasDrawing || needsDigit || this.sending;
    this.send.title = needsDigit ? t("Choose which digit you drew first.") : "";
  }

  say(text, tone = "") {
    this.status.textContent = text;
    this.status.dataset.tone = tone;
  }

  async sendDrawing() {
    const round = this.round;
    const drawing = await this.snapshot();
    if (!round || !drawing) return;
    this.sending = true;
    this.updateButton();
    this.say(t("Sending…"));
    this.showLooked(null);
    try {
      const url = `${this.root.dataset.currentUrl.replace(/current$/, "")}${round.id}/drawings`;
      const sent = await postForm(url, { image: drawing.blob, label: round.kind === "any" ? this.chosenDigit() : null });
      if (round.fool) {
        this.say(sentSentence(sent, true), sent.right ? "" : "fooled");
        this.showLooked(sent);
      } else {
        this.say(sentSentence(sent, false), sent.right ? "right" : "wrong");
      }
      this.onSent(sent);
    } catch (error) {
      this.say(error.message, "error");
      if (error.status === 409 || error.status === 404) this.follow();
    } finally {
      this.sending = false;
      this.updateButton();
    }
  }
}

/** What the model read of a sent drawing, whether it was right, and in a "fool the model" round whether it was
 * fooled. `digit` (what it read) and `label` (what was drawn) differ when it was wrong, so at most one is an 8. */
function sentSentence({ digit, label, confidence, right }, fool) {
  const values = { digit, label, percent: percent(confidence, 0) };
  if (fool && right) {
    return takesAn(digit)
      ? t("Sent ✓ The model read an {digit} ({percent} sure): not fooled this time. Try a trickier {label}!", values)
      : t("Sent ✓ The model read a {digit} ({percent} sure): not fooled this time. Try a trickier {label}!", values);
  }
  if (fool) {
    return takesAn(digit) ? t("You fooled it! It read your {label} as an {digit} ({percent} sure).", values)
      : t("You fooled it! It read your {label} as a {digit} ({percent} sure).", values);
  }
  if (right) {
    return takesAn(digit) ? t("Sent ✓ The model read an {digit} ({percent} sure): right!", values)
      : t("Sent ✓ The model read a {digit} ({percent} sure): right!", values);
  }
  if (takesAn(digit)) return t("Sent ✓ The model read an {digit} ({percent} sure), but you drew a {label}.", values);
  if (takesAn(label)) return t("Sent ✓ The model read a {digit} ({percent} sure), but you drew an {label}.", values);
  return t("Sent ✓ The model read a {digit} ({percent} sure), but you drew a {label}.", values);
}
