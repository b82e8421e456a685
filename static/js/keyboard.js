/** Page-wide keyboard shortcuts; typing in a form field and the digit keys 0-9 are left alone. */

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);

/** `actions` maps a key name (lower case, e.g. "c", "escape", "ctrl+z") to a function. */
export function bindShortcuts(actions) {
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.defaultPrevented || event.altKey || event.isComposing) return;
    if (TYPING.has(target.tagName) || target.isContentEditable) return;
    const key = event.key.toLowerCase();
    const name = event.ctrlKey || event.metaKey ? `ctrl+${key}` : key;
    const action = actions[name];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
