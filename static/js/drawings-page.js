/**
 * /drawings: the grid follows the collection as drawings arrive (drawings/live.js); the signed-in teacher also
 * sees a drawing as it was drawn and deletes it, with an Undo (drawings/moderation.js). Nothing moves under the
 * pointer: tiles come in and go out when it is off the drawings (drawings/pointer-hold.js).
 */

import { followDrawings } from "./drawings/live.js";
import { moderate } from "./drawings/moderation.js";
import { holdWhilePointerIn } from "./drawings/pointer-hold.js";

const grid = document.querySelector(".drawing-grid");
const hold = holdWhilePointerIn(grid.closest("section"));

followDrawings(grid, hold);
if (grid.dataset.deleteUrl) moderate(grid, hold);
