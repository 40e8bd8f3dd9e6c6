import * as z from 'zod';
import type { SheetLayout } from '../ports';

/** Google's own cap on one spreadsheet (developers.google.com/sheets/api/limits, "Files you can store in Google Drive"). */
export const GOOGLE_CELL_LIMIT = 10_000_000;

export interface ArchiveRotation {
  archiveTab: string;
  archiveRotation: 'none' | 'monthly';
}

/** The tab this run archives into: the archive tab, or its month's tab ("Archive 2026-12", UTC). */
export function archiveTabFor(sheet: ArchiveRotation, now: Date): string {
  if (sheet.archiveRotation === 'none') return sheet.archiveTab;
  return `${sheet.archiveTab} ${now.toISOString().slice(0, 7)}`;
}

/** Every archive tab the spreadsheet holds: the plain one and the rotated months, oldest first. */
export function archiveTabsIn(layout: SheetLayout, archiveTab: string): string[] {
  const month = new RegExp(`^${archiveTab.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\d{4}-\\d{2}$`);
  return layout.tabs
    .map((t) => t.title)
    .filter((title) => title === archiveTab || month.test(title))
    .sort();
}

/**
 * The layout after `rows` rows of `columns` cells are added below `filledRows`
 * rows of `tab`: the grid grows by the rows beyond its rowCount, and a new tab
 * starts at Google's 1000 × 26. Deleted rows are not subtracted, so the cells
 * reported are an upper bound.
 */
export function grownLayout(
  layout: SheetLayout,
  tab: string,
  filledRows: number,
  rows: number,
  columns: number,
): SheetLayout {
  const existing = layout.tabs.find((t) => t.title === tab) ?? {
    title: tab,
    sheetId: -1,
    rowCount: 1000,
    columnCount: 26,
  };
  const grown = {
    ...existing,
    rowCount: Math.max(existing.rowCount, filledRows + rows),
    columnCount: Math.max(existing.columnCount, columns),
  };
  const tabs = [...layout.tabs.filter((t) => t.title !== tab), grown];
  return { tabs, cellsUsed: tabs.reduce((sum, t) => sum + t.rowCount * t.columnCount, 0) };
}

const layoutSchema = z.object({
  tabs: z.array(
    z.object({ title: z.string(), sheetId: z.number(), rowCount: z.number(), columnCount: z.number() }),
  ),
  cellsUsed: z.number(),
});

/** The layout an earlier step of the run handed over in its notes, or undefined if it is not one. */
export function layoutFromNotes(text: string | undefined): SheetLayout | undefined {
  if (!text) return undefined;
  try {
    const parsed = layoutSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
