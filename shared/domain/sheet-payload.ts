/**
 * "To speed up requests, we recommend a 2 MB maximum payload"
 * (https://developers.google.com/sheets/api/limits, Quota limits): a write
 * bigger than this is split, and a long tab is read in windows of about this
 * size, so at 100,000 rows one logical write or read may be several requests
 * (the documentation wins over a fixed request count), and a step holds one
 * request's rows, not the tab's.
 */
export const MAX_PAYLOAD_BYTES = 2_000_000;

/** What a row of cells weighs in a request or an answer: its JSON, near enough (quotes and commas). */
export function rowBytes(cells: readonly string[]): number {
  let bytes = 2;
  for (const cell of cells) bytes += Buffer.byteLength(cell) + 3;
  return bytes;
}

/** Data rows read in a tab's first window: a 1,000-message day's main tab fits in it whole. */
export const FIRST_WINDOW_ROWS = 2_000;

/** Rows of the next window: as many as fill about MAX_PAYLOAD_BYTES at the size of the rows read so far. */
export function nextWindowRows(rowsRead: number, bytesRead: number): number {
  if (rowsRead === 0 || bytesRead === 0) return FIRST_WINDOW_ROWS;
  return Math.max(100, Math.floor((MAX_PAYLOAD_BYTES * rowsRead) / bytesRead));
}
