// What each row of the uploader says, in one place: the state words and which states end a row.

export const STATUS_TEXT = {
  queued: "Waiting", waiting: "Waiting", starting: "Preparing", uploading: "Uploading", paused: "Paused",
  completing: "Finishing", done: "Completed", failed: "Failed", refused: "Not accepted", changed: "File changed",
  duplicate: "Already uploaded", cancelled: "Cancelled",
};
// Rows that are over and can be cleared from the list by the customer.
export const DISMISSIBLE = ["cancelled", "failed", "refused"];
// Rows whose bytes no longer count in "All files".
export const OUT_OF_TOTAL = ["cancelled", "failed", "refused", "changed", "duplicate"];

/** The row's detail text, without repeating what its state word already says. */
export function detailText(status, message) {
  const word = (STATUS_TEXT[status] || status).toLowerCase();
  const said = (message || "").replace(/[.…]+$/, "").trim().toLowerCase();
  return said === word || said === "" ? "" : message;
}
