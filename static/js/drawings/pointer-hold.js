/**
 * Changes that would move the tiles (a new tile at the top, a deleted one taken out) wait while the pointer is
 * over the drawings, so the next click lands on what the teacher is pointing at; they are made when it leaves.
 * A finger "leaves" as it is lifted, so on a touch screen nothing waits for long.
 */
export function holdWhilePointerIn(zone) {
  const waiting = [];
  let inside = false;

  zone.addEventListener("pointerenter", () => {
    inside = true;
  });
  zone.addEventListener("pointerleave", () => {
    inside = false;
    for (const change of waiting.splice(0)) change();
  });

  return {
    /** Make `change` now, or as soon as the pointer leaves. */
    whenFree(change) {
      if (inside) waiting.push(change);
      else change();
    },
    get busy() {
      return inside;
    },
  };
}
