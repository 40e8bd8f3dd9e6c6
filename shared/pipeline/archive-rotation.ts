import type { PipelineConfig } from '../config/schema';
import { archiveTabsIn, GOOGLE_CELL_LIMIT } from '../domain/archive-tab';
import { SheetFullError } from '../errors';
import type { SheetLayout, SheetStore } from '../ports';

export interface ArchiveRoom {
  /** Cells the spreadsheet holds after this run's move, once the tabs below have left it. */
  cellsAfter: number;
  /** Month tabs moved to the archive spreadsheet, oldest first. */
  moved: string[];
}

/**
 * Make room before the spreadsheet passes `sheet.maxCells`: whole month tabs,
 * oldest first, move to `sheet.archiveSpreadsheetId` until this run's
 * archive fits. The tab this run archives into and the newest archive tab stay:
 * Upload dedups against the archive tabs here, and the newest holds the last
 * posts a window reaching back could collect again. Without an archive
 * spreadsheet, or when it is full too, the move is refused as before:
 * every row stays in the main tab.
 */
export async function makeArchiveRoom(
  sheet: SheetStore,
  config: PipelineConfig['sheet'],
  layout: SheetLayout,
  archiveTab: string,
  cellsAfter: number,
): Promise<ArchiveRoom> {
  const { maxCells, archiveSpreadsheetId, spreadsheetId } = config;
  const room: ArchiveRoom = { cellsAfter, moved: [] };
  if (cellsAfter <= maxCells) return room;
  const tabs = archiveTabsIn(layout, config.archiveTab);
  const newest = tabs.at(-1);
  const movable = tabs.filter((tab) => tab !== archiveTab && tab !== newest);
  const refuse = (why: string) =>
    new SheetFullError(
      `archiving would take spreadsheet ${spreadsheetId} to ${room.cellsAfter} cells, over sheet.maxCells ${maxCells} (Google's limit: ${GOOGLE_CELL_LIMIT}): ${why}`,
    );
  if (!archiveSpreadsheetId)
    throw refuse(
      'set sheet.archiveSpreadsheetId (with archiveRotation "monthly") so old months move out, or point sheet.spreadsheetId at a new spreadsheet',
    );
  let destinationCells = (await sheet.layoutOf(archiveSpreadsheetId)).cellsUsed;
  for (const tab of movable) {
    if (room.cellsAfter <= maxCells) break;
    const grid = layout.tabs.find((t) => t.title === tab);
    const cells = grid ? grid.rowCount * grid.columnCount : 0;
    if (destinationCells + cells > maxCells)
      throw refuse(
        `archive spreadsheet ${archiveSpreadsheetId} has no room for "${tab}" either (${destinationCells} cells): point sheet.archiveSpreadsheetId at a new spreadsheet`,
      );
    await sheet.transferTab(tab, archiveSpreadsheetId);
    destinationCells += cells;
    room.cellsAfter -= cells;
    room.moved.push(tab);
  }
  if (room.cellsAfter > maxCells)
    throw refuse(
      `only this month's and the newest archive tabs are left to move out (${room.moved.length} moved): raise sheet.maxCells, or empty the main tab`,
    );
  return room;
}
