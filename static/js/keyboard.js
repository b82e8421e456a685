/**
 * Page-wide keyboard shortcuts: one keydown listener for every feature of a page, and one rule for when a key
 * is a shortcut. Every shortcut presses a control on the screen, so a key does only what a person could click:
 * a control that is hidden (presenter mode, collecting turned off), disabled, or behind an open dialog is not
 * pressed. A key belongs to the focused element where that element uses it: typing in a text field, a select
 * or editable text, and Enter on a button or link (which presses it). After a control is clicked with a
 * mouse, pen or finger, focus goes back to the page, so the next key is a shortcut again.
 */

const NOT_TYPED_INTO = new Set(["checkbox", "radio", "button", "submit", "reset", "file", "image", "range", "color"]);
const PRESSED_BY_ENTER = "button, a[href], summary, input[type='file']";
const CLICKABLE = "button, input[type='checkbox'], input[type='radio'], label, select, summary";

const controls = new Map();

/** `bindings` maps a key name (lower case, e.g. "c", "escape", "enter", "4", "ctrl+z") to the control it presses. */
export function addShortcuts(bindings) {
  for (const [name, control] of Object.entries(bindings)) {
    if (controls.has(name)) throw new Error(`The shortcut "${name}" is bound twice.`);
    if (!(control instanceof HTMLElement)) throw new Error(`The shortcut "${name}" has no control to press.`);
    controls.set(name, control);
  }
}

function isTypingIn(target) {
  if (target.isContentEditable || target.closest("textarea, select")) return true;
  return target instanceof HTMLInputElement && !NOT_TYPED_INTO.has(target.type);
}

/** True if the focused element itself uses this key, so it is no shortcut. */
function keyBelongsToFocus(event) {
  const target = event.target;
  if (!(target instanceof Element)) return false;
  return isTypingIn(target) || (event.key === "Enter" && target.closest(PRESSED_BY_ENTER) !== null);
}

/** Can a person see and press `control` now? */
export function isPressable(control) {
  if (control.disabled || control.closest("[inert]")) return false;
  const openModal = document.querySelector("dialog:modal");
  if (openModal && !openModal.contains(control)) return false;
  if (typeof control.checkVisibility === "function") {
    return control.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  }
  return control.getClientRects().length > 0;   // browsers before checkVisibility (Safari < 17.4)
}

function shortcutName(event) {
  const key = event.key.toLowerCase();
  return event.ctrlKey || event.metaKey ? `ctrl+${key}` : key;
}

function dispatch(event) {
  if (event.defaultPrevented || event.altKey || event.isComposing || keyBelongsToFocus(event)) return;
  const control = controls.get(shortcutName(event));
  if (!control || !isPressable(control)) return;
  event.preventDefault();
  control.click();
}

/** A click by a pointer (not Enter or Space: their click has detail 0) leaves no focus behind on the control. */
function returnFocusAfterPointerClick(event) {
  if (event.detail === 0 || !(event.target instanceof Element)) return;
  const clicked = event.target.closest(CLICKABLE);
  if (!clicked || clicked.matches("select") || clicked.closest("dialog")) return;
  const blurIfStillThere = () => {
    const focused = document.activeElement;
    if (focused instanceof HTMLElement && focused !== document.body && !isTypingIn(focused)
        && (clicked.contains(focused) || clicked.control === focused)) {
      focused.blur();
    }
  };
  blurIfStillThere();
  requestAnimationFrame(blurIfStillThere);   // a label hands the click (and focus) to its input afterwards
}

/** A select changed with a pointer gives focus back too (a keyboard user stays on it to keep choosing). */
let pointerOnSelect = null;
document.addEventListener("pointerdown", (event) => {
  pointerOnSelect = event.target instanceof Element ? event.target.closest("select") : null;
}, true);
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLSelectElement && event.target === pointerOnSelect) {
    pointerOnSelect = null;
    event.target.blur();
  }
});

document.addEventListener("keydown", dispatch);
document.addEventListener("click", returnFocusAfterPointerClick);
