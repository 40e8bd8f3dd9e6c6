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
 * Grid cells a move of `rows` rows of `columns` cells adds: the rows beyond
 * the tab's grid (a new tab starts at Google's 1000 × 26).
 */
export function cellsAdded(
  layout: SheetLayout,
  tab: string,
  filledRows: number,
  rows: number,
  columns: number,
): number {
  const existing = layout.tabs.find((t) => t.title === tab);
  const width = Math.max(existing?.columnCount ?? 26, columns);
  const height = existing?.rowCount ?? 1000;
  const grown = Math.max(0, filledRows + rows - height);
  return (existing ? 0 : 1000 * width) + grown * width;
}
