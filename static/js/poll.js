/**
 * Asking the server the same cheap question every few seconds while the page is in view. A class of phones
 * behind one school address shares its rate limits, so: nothing is asked while the tab is hidden (and it is asked
 * at once when the tab shows again), each wait is a little longer or shorter so the phones do not ask in step,
 * and after a failure (a phone on flaky wifi) each wait doubles, up to LONGEST_WAIT_MS, without a word to the
 * person: the next answer puts the page right.
 */

const JITTER = 0.15;               // each wait is up to 15 % longer or shorter
const LONGEST_WAIT_MS = 30000;

/**
 * Call `ask` every `everyMs` while the page is visible; `ask` resolves true when the server answered and false
 * when it could not be asked (then the next wait is longer). Returns `askNow`, to ask before the next turn.
 */
export function askEvery(everyMs, ask) {
  let timer = 0;
  let failures = 0;
  let asking = false;

  function nextWait() {
    const wait = Math.min(LONGEST_WAIT_MS, everyMs * 2 ** failures);
    return wait * (1 - JITTER + Math.random() * 2 * JITTER);
  }

  function scheduleNext() {
    clearTimeout(timer);
    if (document.visibilityState === "visible") timer = setTimeout(askNow, nextWait());
  }

  async function askNow() {
    clearTimeout(timer);
    if (asking) return;
    asking = true;
    try {
      failures = (await ask()) ? 0 : failures + 1;
    } finally {
      asking = false;
      scheduleNext();
    }
  }

  function followVisibility() {
    if (document.visibilityState === "visible") askNow();
    else clearTimeout(timer);
  }

  document.addEventListener("visibilitychange", followVisibility);
  window.addEventListener("online", askNow);
  scheduleNext();
  return askNow;
}
