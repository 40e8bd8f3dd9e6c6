import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireDaemonLock,
  LOCK_FILE,
  PROGRESS_FILE,
  progressFile,
} from '../../infra/local/daemon/daemon-files';
import { type DaemonClock, runDaemonLoop } from '../../infra/local/daemon/daemon-loop';
import { daemonSchedules } from '../../infra/local/daemon/daemon-schedules';
import { parseConfig } from '../../shared/config/load';

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'daemon-files-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the daemon's files", () => {
  it('keeps progress across a restart, written by rename so no temp file is left', async () => {
    // Prepare
    const dir = fresh();
    const before = progressFile(dir);

    // Act
    await before.save({ 'demo/morning': Date.parse('2026-11-24T08:00:00Z') });
    const after = await progressFile(dir).load();

    // Assess
    expect(after).toEqual({ 'demo/morning': Date.parse('2026-11-24T08:00:00Z') });
    expect(readdirSync(dir)).toEqual([PROGRESS_FILE]);
    expect(JSON.parse(readFileSync(join(dir, PROGRESS_FILE), 'utf8'))).toEqual({
      'demo/morning': '2026-11-24T08:00:00.000Z',
    });
  });

  it('lets one daemon per directory hold the lock, and takes over one left by a dead process', () => {
    // Prepare
    const dir = fresh();
    const release = acquireDaemonLock(dir);
    const stale = fresh();
    // A pid far above any pid_max is never alive.
    writeFileSync(join(stale, LOCK_FILE), '99999999');

    // Act
    const second = () => acquireDaemonLock(dir, process.pid + 1);
    const takeover = acquireDaemonLock(stale);

    // Assess
    expect(second).toThrow(`a daemon (process ${process.pid}) already runs on ${dir}; stop it first`);
    expect(readFileSync(join(stale, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    release();
    takeover();
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(stale)).toEqual([]);
  });

  it('fires only enabled schedules, with a 60-minute grace and DST shift unless told otherwise', () => {
    // Prepare
    const config = parseConfig(
      {
        pipelines: [
          {
            id: 'demo',
            discord: { channelId: '1200000000000000000' },
            sheet: { spreadsheetId: 'sheet-0000000001' },
            schedules: [
              { name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' },
              { name: 'off', dailyAt: '10:00', timeZone: 'UTC', enabled: false },
            ],
          },
        ],
      },
      'test',
    );

    // Act
    const schedules = daemonSchedules(config, Date.parse('2026-11-24T00:00:00Z'));

    // Assess
    expect(schedules.map((s) => [s.key, s.graceMs, s.dst])).toEqual([['demo/morning', 3_600_000, 'shift']]);
  });
});

describe('the daemon loop and other due work', () => {
  it('wakes for what tick asks, not only for the next slot', async () => {
    // Prepare
    const stop = new AbortController();
    let now = Date.parse('2026-11-24T06:00:00Z');
    const clock: DaemonClock = {
      now: () => now,
      async sleep(ms) {
        now += Math.max(ms, 1);
        if (now >= Date.parse('2026-11-24T06:10:00Z')) stop.abort();
      },
    };
    const ticks: string[] = [];
    const postAt = Date.parse('2026-11-24T06:03:30Z');

    // Act
    await runDaemonLoop({
      schedules: [],
      progress: { load: async () => ({}), save: async () => {} },
      clock,
      hooks: {
        fire: async () => {},
        missed: async () => {},
        tick: async (nowMs) => {
          ticks.push(new Date(nowMs).toISOString());
          return nowMs < postAt ? postAt : undefined;
        },
      },
      signal: stop.signal,
    });

    // Assess: it woke at the post's time, besides every minute (its longest sleep).
    expect(ticks.slice(0, 6)).toEqual([
      '2026-11-24T06:00:00.000Z',
      '2026-11-24T06:01:00.000Z',
      '2026-11-24T06:02:00.000Z',
      '2026-11-24T06:03:00.000Z',
      '2026-11-24T06:03:30.000Z',
      '2026-11-24T06:04:30.000Z',
    ]);
  });
});
