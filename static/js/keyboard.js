/**
 * Page-wide keyboard shortcuts: one keydown listener for every feature of a page, and one rule for
 * when a key is a shortcut. A key belongs to the focused element only where that element uses it:
 * typing in a text field, a select or editable text, and Enter on a button or link (which presses it).
 * Toggles (checkboxes, radios) use neither, so shortcuts keep working after one is clicked.
 */

const NOT_TYPED_INTO = new Set(["checkbox", "radio", "button", "submit", "reset", "file", "image", "range", "color"]);
const PRESSED_BY_ENTER = "button, a[href], summary, input[type='file']";

const actions = new Map();

/** `bindings` maps a key name (lower case, e.g. "c", "escape", "enter", "4", "ctrl+z") to a function. */
export function addShortcuts(bindings) {
  for (const [name, action] of Object.entries(bindings)) {
    if (actions.has(name)) throw new Error(`The shortcut "${name}" is bound twice.`);
    actions.set(name, action);
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

function shortcutName(event) {
  const key = event.key.toLowerCase();
  return event.ctrlKey || event.metaKey ? `ctrl+${key}` : key;
}

function dispatch(event) {
  if (event.defaultPrevented || event.altKey || event.isComposing || keyBelongsToFocus(event)) return;
  const action = actions.get(shortcutName(event));
  if (!action) return;
  event.preventDefault();
  action();
}

document.addEventListener("keydown", dispatch);
