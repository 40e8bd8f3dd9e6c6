import { FIRST_WINDOW_ROWS, nextWindowRows, rowBytes } from '../domain/sheet-payload';
import type { SheetStore } from '../ports';

/**
 * The data rows of a tab a window of about 2 MB at a time: the first window
 * is the one openTabs read, each later one sized from the rows read so far.
 * `lastRow` is the tab's last row as its key column counted it; `rowsGoneAbove`
 * is how many rows above the next window the caller deleted meanwhile (Archive's
 * moves), so each window is read where its rows are now. Row numbers are those
 * of the first read.
 */
export async function* tabRows(
  sheet: SheetStore,
  tab: string,
  firstWindow: string[][],
  lastRow: number,
  rowsGoneAbove: () => number = () => 0,
): AsyncGenerator<{ rowNumber: number; cells: string[] }> {
  let window = firstWindow;
  let first = 2;
  let size = FIRST_WINDOW_ROWS;
  let rowsRead = 0;
  let bytesRead = 0;
  for (;;) {
    for (const [i, cells] of window.entries()) {
      rowsRead += 1;
      bytesRead += rowBytes(cells);
      yield { rowNumber: first + i, cells };
    }
    const next = first + size;
    if (next > lastRow) return;
    size = Math.min(nextWindowRows(rowsRead, bytesRead), lastRow - next + 1);
    window = await sheet.readRows(tab, next - rowsGoneAbove(), size);
    first = next;
  }
}
