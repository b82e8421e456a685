/**
 * Teach the model from the wall, then test it again. One press fine-tunes a model on the class's drawings
 * (POST /api/rounds/<id>/teach; the round's fixed fifth is held out), the run's progress lines show while the
 * class keeps drawing (GET /api/finetune, every second), and when the new version is published the round is
 * replayed (GET /api/rounds/<id>/replay): every drawing read by the old version beside the new one, the
 * held-out drawings apart from the ones it learnt from, and what it cost (MNIST test, the earlier rounds).
 * The teacher can go back to the old version (POST /api/models/<name>/versions/<id>/serve) and forward again.
 */

import { requestJson } from "../api.js";
import { element, percent } from "../dom.js";
import { count, t, tn } from "../i18n.js";
import { roundPrompt } from "../words.js";
import { plainProgress } from "../finetune-words.js";
import { teacherRequest } from "../teacher.js";

const PROGRESS_EVERY_MS = 1000;
const REPLAY_AGAIN_MS = 300;     // a replay with drawings left to read asks again this soon
const REPLAY_TRIES = 4;          // a failed replay request is tried again this often, each wait doubled

const pause = (ms) => new Promise((done) => setTimeout(done, ms));

/** A refusal that may pass: no answer (flaky wifi), too many requests, or the server busy. */
function passing(error) {
  return !error.status || error.status === 429 || error.status >= 500;
}

const SPLIT_WORDS = {
  held_out: [t("Kept aside (never learnt from)"), t("the honest test: drawings it has never seen")],
  learnt: [t("Learnt from"), t("a test on these flatters the model: it has seen them")],
  not_learnt: [t("Sent after teaching began"), t("new to both versions")],
};

/** "3 of 5", the locale's way. */
const ofTotal = (right, total) => t("{right} of {total}", { right: count(right), total: count(total) });

export class TeachPanel {
  /**
   * `root`: the panel (templates/wall.html #wall-teach); `roundsUrl`: /api/rounds; `models`: [{name, title}];
   * `onReplay(replay|null)`: the wall marks its tiles with the replay's readings (null: unmark).
   */
  constructor(root, { roundsUrl, models, onReplay }) {
    this.root = root;
    this.roundsUrl = roundsUrl;
    this.models = models;
    this.onReplay = onReplay;
    this.round = null;
    this.timer = 0;
    this.replayed = null;
    this.watching = false;   // a run started from this wall, or running when the wall saw it first
    this.turn = 0;           // the replay asked for last: an older one's answers are dropped
    this.$ = (selector) => root.querySelector(selector);
    this.modelChoice = this.$("#teach-model");
    this.modelChoice.replaceChildren(...models.map((model) => element("option", { value: model.name, text: model.title })));
    this.$("#teach-start").addEventListener("click", () => this.teach());
    this.$("#teach-replay").addEventListener("click", () => this.replay());
    this.$("#teach-serve").addEventListener("click", () => this.serveOther());
  }

  /** The wall shows `round` (or none) with `sent` drawings so far. */
  show(round, sent) {
    const changed = round?.id !== this.round?.id;
    const more = sent !== this.sent;
    this.round = round;
    this.sent = sent;
    this.root.hidden = !round || !sent;
    if (changed) {
      this.turn += 1;   // a replay under way for the round before stops
      this.replayed = null;
      this.watching = false;
      this.$("#teach-replay-view").hidden = true;
      this.$("#teach-replay").hidden = true;
      this.$("#teach-progress").hidden = true;
      this.say("");
      this.onReplay(null);
      this.followRun();   // a run started before the wall was opened (or by another wall) shows too
    }
    if (round && sent && (changed || more) && !this.watching) this.checkReady();
  }

  say(text, tone = "") {
    const line = this.$("#teach-message");
    line.textContent = text;
    line.dataset.tone = tone;
  }

  async checkReady() {
    let readiness;
    try {
      readiness = await requestJson(this.$("#teach-start").dataset.readinessUrl, { cache: "no-store" });
    } catch {
      return;
    }
    this.$("#teach-one-device").hidden = !readiness.one_device_reason;
    this.$("#teach-one-device-reason").textContent = readiness.one_device_reason ?? "";
    if (this.watching) return;   // a run's own words win
    if (!readiness.tools_ready) this.say(readiness.reason, "error");
    else if (readiness.needed) {
      this.say(tn("The class needs {n} more drawing before the model can learn from them.",
        "The class needs {n} more drawings before the model can learn from them.", readiness.needed));
    }
    else this.say("");
  }

  async teach() {
    if (!this.round) return;
    const button = this.$("#teach-start");
    button.disabled = true;
    this.say(t("Starting…"));
    try {
      await teacherRequest("POST", `${this.roundsUrl}/${this.round.id}/teach`, {
        model: this.modelChoice.value, allow_one_device: this.$("#teach-allow-one-device").checked });
      this.replayed = null;
      this.watching = true;
      this.$("#teach-replay-view").hidden = true;
      this.onReplay(null);
      this.followRun();
    } catch (error) {
      this.say(error.message, "error");
      button.disabled = false;
      this.checkReady();
      if (!error.status) {   // the answer was lost, the run may have started: follow it if it did
        this.watching = true;
        this.followRun();
      }
    }
  }

  /** Show the latest run's progress every second while it runs; replay the round when it published. */
  async followRun() {
    clearTimeout(this.timer);
    let run;
    try {
      run = await requestJson(this.$("#teach-start").dataset.runUrl, { cache: "no-store" });
    } catch {
      this.timer = setTimeout(() => this.followRun(), PROGRESS_EVERY_MS * 3);
      return;
    }
    const running = run?.state === "running";
    this.$("#teach-start").disabled = running || !this.round;
    this.watching ||= running;
    const progress = this.$("#teach-progress");
    progress.hidden = !run || !this.watching;
    if (!run || !this.watching) return;   // an earlier lesson's run is the teacher page's business
    progress.replaceChildren(...run.progress.map((line) => element("li", { text: plainProgress(line) })));
    progress.scrollTop = progress.scrollHeight;
    this.root.dataset.run = run.state;
    if (running) {
      this.say(t("Teaching {model}… the class can keep drawing.", { model: this.titleOf(run.model) }));
      this.timer = setTimeout(() => this.followRun(), PROGRESS_EVERY_MS);
      return;
    }
    const result = run.result ?? {};
    if (run.state === "published") {
      this.say(t("Version {version} of {model} is ready and served. MNIST test: {before} → {after}.", {
        version: result.version, model: this.titleOf(run.model),
        before: percent(result.before.mnist_test, 2), after: percent(result.after.mnist_test, 2) }), "good");
      if (!this.replayed || this.replayed.new.id !== result.version_id) this.replay(run.model, result.version_id);
    } else if (run.state === "refused") {
      this.say(t("Not used: {reason} Version {version} stays.",
        { reason: result.reason, version: result.parent_version }), "error");
    } else if (run.state === "failed") {
      this.say(result.reason == null ? t("Teaching failed: the run stopped.")
        : t("Teaching failed: {reason}", { reason: result.reason }), "error");
    }
  }

  titleOf(name) {
    return this.models.find((model) => model.name === name)?.title ?? name;
  }

  /** Read every drawing of the round with both versions (default: the served one and the one it came from),
   * asking again while drawings are left and after a failure that may pass; a newer replay or another round
   * drops this one. */
  async replay(model = this.replayed?.model ?? this.modelChoice.value, newId = null, oldId = null) {
    if (!this.round) return;
    this.turn += 1;
    const mine = this.turn;
    const roundId = this.round.id;
    const query = new URLSearchParams({ model });
    if (newId) query.set("new", newId);
    if (oldId) query.set("old", oldId);
    this.$("#teach-replay").hidden = false;
    let failures = 0;
    for (;;) {
      let replay;
      try {
        replay = await teacherRequest("GET", `${this.roundsUrl}/${roundId}/replay?${query}`);
      } catch (error) {
        if (mine !== this.turn) return;
        if (!passing(error) || failures === REPLAY_TRIES) {
          this.say(t("{error} Press \"Replay again\" to try once more.", { error: error.message }), "error");
          return;
        }
        failures += 1;
        this.say(t("{error} Trying again…", { error: error.message }));
        await pause(REPLAY_AGAIN_MS * 2 ** (failures + 1));
        if (mine !== this.turn) return;
        continue;
      }
      if (mine !== this.turn) return;
      failures = 0;
      if (replay.complete) {
        this.replayed = replay;
        this.showReplay(replay);
        this.onReplay(replay);
        return;
      }
      this.say(t("Reading the drawings again… {left} left.", { left: count(replay.left) }));
      await pause(REPLAY_AGAIN_MS);
      if (mine !== this.turn) return;
    }
  }

  showReplay(replay) {
    const { old, new: now } = replay;
    const view = this.$("#teach-replay-view");
    view.hidden = false;
    this.$("#teach-headline").textContent = t("Version {old} read {old_right} of {drawings}, version {new} reads "
      + "{new_right} of {drawings}.", { old: old.number, new: now.number, old_right: count(replay.all.old_right),
      new_right: count(replay.all.new_right), drawings: count(replay.all.drawings) });
    const rows = Object.entries(replay.groups).filter(([, group]) => group.drawings).map(([split, group]) => {
      const [title, note] = SPLIT_WORDS[split];
      return element("tr", { "data-split": split },
        element("th", { scope: "row" }, element("span", { text: title }), element("small", { text: note })),
        element("td", { text: ofTotal(group.old_right, group.drawings) }),
        element("td", { text: ofTotal(group.new_right, group.drawings) }));
    });
    const head = element("tr", {}, element("th", { scope: "col", text: t("drawings") }),
      element("th", { scope: "col", text: t("version {number}", { number: old.number }) }),
      element("th", { scope: "col", text: t("version {number}", { number: now.number }) }));
    this.$("#teach-groups").replaceChildren(element("thead", {}, head), element("tbody", {}, ...rows));

    const mnist = replay.mnist_test;
    const score = (value) => (value == null ? "–" : percent(value, 2));
    const costs = [element("li", { text: t("MNIST test (10,000 digits): {before} → {after}",
      { before: score(mnist.old), after: score(mnist.new) }) })];
    for (const earlier of replay.earlier_rounds) {
      costs.push(element("li", { text: t("Round {round} ({prompt}): {before} → {after}", { round: earlier.id,
        prompt: roundPrompt(earlier), before: ofTotal(earlier.old_right, earlier.drawings),
        after: ofTotal(earlier.new_right, earlier.drawings) }) }));
    }
    this.$("#teach-costs").replaceChildren(...costs);
    const serve = this.$("#teach-serve");
    const other = now.current ? old : now;
    serve.textContent = now.current ? t("Go back to version {number}", { number: old.number })
      : t("Serve version {number} again", { number: now.number });
    serve.dataset.versionId = String(other.id);
    serve.disabled = !old.current && !now.current;   // a third version is served: choose on the teacher's page
  }

  async serveOther() {
    const replay = this.replayed;
    const serve = this.$("#teach-serve");
    if (!replay || !serve.dataset.versionId) return;
    serve.disabled = true;
    try {
      const served = await teacherRequest("POST",
        `${this.$("#teach-serve").dataset.modelsUrl}/${replay.model}/versions/${serve.dataset.versionId}/serve`);
      this.say(t("Version {version} of {model} is served again.",
        { version: served.number, model: this.titleOf(replay.model) }), "good");
    } catch (error) {
      this.say(error.message, "error");
    }
    await this.replay(replay.model, replay.new.id, replay.old.id);
  }
}
