import { describe, expect, it } from 'vitest';
import { configSchema } from '../../shared/config/schema';
import { archiveTabFor, archiveTabsIn, grownLayout } from '../../shared/domain/archive-tab';
import { FakeChannel, testPipeline } from '../support/fakes';
import { runPipeline, runRef, World } from '../support/harness';
import { linkMessages } from '../support/messages';

const NOV = '2026-11-30T08:00:00.000Z';
const DEC = '2026-12-01T08:00:00.000Z';

describe('the archive tab', () => {
  it('is a tab per month with monthly rotation, and the archive tab itself without', () => {
    // Act
    const monthly = archiveTabFor({ archiveTab: 'Archive', archiveRotation: 'monthly' }, new Date(DEC));
    const none = archiveTabFor({ archiveTab: 'Archive', archiveRotation: 'none' }, new Date(DEC));

    // Assess
    expect(monthly).toBe('Archive 2026-12');
    expect(none).toBe('Archive');
  });

  it('finds the plain and the rotated archive tabs, and no look-alike', () => {
    // Prepare
    const tab = (title: string) => ({ title, sheetId: 1, rowCount: 1000, columnCount: 26 });
    const layout = {
      tabs: ['Posts', 'Archive 2026-12', 'Archive', 'Archive 2026-11', 'Archive old', 'Archive 2026-1'].map(
        tab,
      ),
      cellsUsed: 0,
    };

    // Act
    const tabs = archiveTabsIn(layout, 'Archive');

    // Assess
    expect(tabs).toEqual(['Archive', 'Archive 2026-11', 'Archive 2026-12']);
  });

  it('grows the grid only by the rows past its row count, and a new tab by Google’s 1000 × 26', () => {
    // Prepare
    const layout = {
      tabs: [{ title: 'Posts', sheetId: 0, rowCount: 1000, columnCount: 14 }],
      cellsUsed: 14_000,
    };

    // Act
    const within = grownLayout(layout, 'Posts', 500, 400, 14);
    const beyond = grownLayout(layout, 'Posts', 900, 300, 14);
    const fresh = grownLayout(layout, 'Archive 2026-12', 1, 10, 17);

    // Assess
    expect(within.cellsUsed).toBe(14_000);
    expect(beyond.cellsUsed).toBe(1200 * 14);
    expect(fresh.cellsUsed).toBe(14_000 + 1000 * 26);
  });
});

/** Five posts in November, monthly tabs, room for 110,000 cells and an archive spreadsheet to move months to. */
const rotatingWorld = () =>
  new World(
    testPipeline({
      sheet: {
        spreadsheetId: 'sheet-0000000001',
        archiveRotation: 'monthly',
        maxCells: 110_000,
        archiveSpreadsheetId: 'sheet-archive-0001',
      },
    }),
    new FakeChannel(linkMessages(NOV, 5)),
  );

describe('archive rotation over consecutive runs', () => {
  it('archives each month into its own tab and never appends a post archived last month again', async () => {
    // Prepare
    const w = new World(
      testPipeline({ sheet: { spreadsheetId: 'sheet-0000000001', archiveRotation: 'monthly' } }),
      new FakeChannel(linkMessages(NOV, 6)),
    );
    await runPipeline(w, runRef('nov', NOV));
    // December's run sees November's posts again (a window that reaches back) and three new ones.
    w.channel = new FakeChannel([...linkMessages(NOV, 6), ...linkMessages(DEC, 3, 1)]);

    // Act
    const december = await runPipeline(w, runRef('dec', DEC, { referenceTime: DEC }));

    // Assess
    expect(w.sheet.records('Archive 2026-11')).toHaveLength(6);
    expect(w.sheet.records('Archive 2026-12').length).toBeGreaterThan(0);
    const all = [...w.sheet.records('Archive 2026-11'), ...w.sheet.records('Archive 2026-12')];
    expect(new Set(all.map((r) => r.message_id)).size).toBe(all.length);
    expect(w.sheet.tabs.has('Archive')).toBe(false);
    expect(december.steps.archive?.notes?.archiveTab).toBe('Archive 2026-12');
    expect(december.steps.archive?.counts.sheetCellsUsed).toBeGreaterThan(0);
  });

  it('refuses to take the spreadsheet past sheet.maxCells, leaving every row in the main tab', async () => {
    // Prepare: four tabs of 1000 × 26 are 104,000 cells; the limit leaves no room for a new month's tab.
    const w = new World(
      testPipeline({
        sheet: { spreadsheetId: 'sheet-0000000001', archiveRotation: 'monthly', maxCells: 100_000 },
      }),
      new FakeChannel(linkMessages(NOV, 5)),
    );
    w.sheet.tabs.set('Filler', [['a']]);

    // Act
    const report = await runPipeline(w, runRef('full', NOV));

    // Assess
    expect(report.steps.archive?.status).toBe('failed');
    expect(report.steps.archive?.error?.name).toBe('SheetFullError');
    expect(report.steps.archive?.error?.message).toMatch(/over sheet.maxCells 100000/);
    expect(w.sheet.records('Posts')).toHaveLength(5);
    expect(w.sheet.tabs.has('Archive 2026-11')).toBe(false);
  });

  it('moves the oldest month tabs to sheet.archiveSpreadsheetId when the spreadsheet would pass maxCells', async () => {
    // Prepare: Posts, Drafts, September, October and November's new tab are 5 × 26,000 cells.
    const w = rotatingWorld();
    w.sheet.tabs.set('Archive 2026-09', [['message_id'], ['old-1'], ['old-2']]);
    w.sheet.tabs.set('Archive 2026-10', [['message_id'], ['old-3']]);
    w.sheet.others.set('sheet-archive-0001', new Map());

    // Act
    const report = await runPipeline(w, runRef('nov', NOV));

    // Assess: September left whole; October, the newest archive tab, stays for Upload's dedup.
    expect(report.steps.archive?.status).toBe('succeeded');
    expect(w.sheet.others.get('sheet-archive-0001')?.get('Archive 2026-09')?.slice(1)).toEqual([
      ['old-1'],
      ['old-2'],
    ]);
    expect(w.sheet.tabs.has('Archive 2026-09')).toBe(false);
    expect(w.sheet.tabs.has('Archive 2026-10')).toBe(true);
    expect(w.sheet.records('Archive 2026-11')).toHaveLength(5);
    expect(report.steps.archive?.counts.archiveTabsMovedOut).toBe(1);
    expect(report.steps.archive?.counts.sheetCellsUsed).toBeLessThanOrEqual(110_000);
    expect(report.steps.archive?.notes?.movedOut).toBe('Archive 2026-09 → sheet-archive-0001');
  });

  it('moves nothing and refuses when the archive spreadsheet has no room either', async () => {
    // Prepare: the archive spreadsheet already holds four full-size tabs.
    const w = rotatingWorld();
    w.sheet.tabs.set('Archive 2026-09', [['message_id'], ['old-1']]);
    w.sheet.tabs.set('Archive 2026-10', [['message_id'], ['old-3']]);
    w.sheet.others.set(
      'sheet-archive-0001',
      new Map(['A', 'B', 'C', 'D'].map((t) => [t, [['x']]] as [string, string[][]])),
    );

    // Act
    const report = await runPipeline(w, runRef('nov', NOV));

    // Assess
    expect(report.steps.archive?.error?.name).toBe('SheetFullError');
    expect(report.steps.archive?.error?.message).toMatch(
      /archive spreadsheet sheet-archive-0001 has no room/,
    );
    expect(w.sheet.tabs.has('Archive 2026-09')).toBe(true);
    expect(w.sheet.records('Posts')).toHaveLength(5);
  });
});

const MINIMAL = {
  id: 'demo',
  discord: { channelId: '1200000000000000000' },
  schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
};

describe('sheet.archiveSpreadsheetId', () => {
  const parse = (sheet: Record<string, unknown>, more: Record<string, unknown>[] = []) =>
    configSchema.safeParse({
      pipelines: [{ ...MINIMAL, sheet: { spreadsheetId: 'sheet-0000000001', ...sheet } }, ...more],
    });

  it('needs monthly rotation and a spreadsheet of its own', () => {
    // Act
    const withoutMonths = parse({ archiveSpreadsheetId: 'sheet-archive-0001' });
    const itself = parse({ archiveRotation: 'monthly', archiveSpreadsheetId: 'sheet-0000000001' });
    const fine = parse({ archiveRotation: 'monthly', archiveSpreadsheetId: 'sheet-archive-0001' });

    // Assess
    expect(withoutMonths.error?.issues[0]?.path).toEqual(['pipelines', 0, 'sheet', 'archiveSpreadsheetId']);
    expect(withoutMonths.error?.issues[0]?.message).toMatch(/archiveRotation "monthly"/);
    expect(itself.error?.issues[0]?.message).toMatch(/must differ from sheet.spreadsheetId/);
    expect(fine.success).toBe(true);
  });

  it('refuses two pipelines sending month tabs of one name to one archive spreadsheet', () => {
    // Prepare
    const second = {
      ...MINIMAL,
      id: 'second',
      discord: { channelId: '1200000000000000001' },
      sheet: {
        spreadsheetId: 'sheet-0000000002',
        archiveRotation: 'monthly',
        archiveSpreadsheetId: 'sheet-archive-0001',
      },
    };

    // Act
    const result = parse({ archiveRotation: 'monthly', archiveSpreadsheetId: 'sheet-archive-0001' }, [
      second,
    ]);

    // Assess
    expect(result.error?.issues[0]?.path).toEqual(['pipelines', 1, 'sheet', 'archiveTab']);
  });
});
