/**
 * Asks for predictions while the person draws: at most one request per `interval` ms during a stroke
 * and one right away when the stroke ends. Every request gets a sequence number; an answer is only
 * shown if no newer answer has been shown already, so slow responses never overwrite fresh ones.
 * `onBusy(true)` while the newest request is still unanswered, `onBusy(false)` once it is on screen.
 */
export class LivePredictor {
  constructor({ request, onResult, onError, onBusy = () => {}, interval = 150 }) {
    this.request = request;
    this.onResult = onResult;
    this.onError = onError;
    this.onBusy = onBusy;
    this.interval = interval;
    this.sent = 0;
    this.shown = 0;
    this.lastSentAt = -Infinity;
    this.timer = null;
  }

  /** While drawing: send now if the last request is old enough, otherwise once the interval has passed. */
  soon() {
    if (this.timer !== null) return;
    const wait = this.lastSentAt + this.interval - performance.now();
    if (wait <= 0) this.send();
    else this.timer = setTimeout(() => this.send(), wait);
  }

  /** After a stroke, undo, upload or a change of model or mode: send at once. */
  now() {
    this.send();
  }

  /** Forget everything in flight (after Clear): answers to older requests will be dropped. */
  cancel() {
    this.stopTimer();
    this.shown = this.sent;
    this.onBusy(false);
  }

  stopTimer() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async send() {
    this.stopTimer();
    this.lastSentAt = performance.now();
    const sequence = ++this.sent;
    this.onBusy(true);
    try {
      const answer = await this.request();
      if (this.isStale(sequence)) return;
      this.onResult(answer);
    } catch (error) {
      if (this.isStale(sequence)) return;
      this.onError(error);
    }
  }

  /** True if a newer answer is already on screen; otherwise marks this one as the newest shown. */
  isStale(sequence) {
    if (sequence <= this.shown) return true;
    this.shown = sequence;
    this.onBusy(this.sent > this.shown);
    return false;
  }
}
