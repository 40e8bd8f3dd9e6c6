import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachSharedAws } from '../../infra/local/shared-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createPublicationJournal } from '../../shared/adapters/dynamo-publication-journal';
import type { PublicationRecord } from '../../shared/ports';

const CONFIG = {
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1187654321098765432' },
      sheet: { spreadsheetId: 'sandbox-spreadsheet-0001' },
      publisher: { kind: 'x', mode: 'thread' },
      schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
    },
  ],
};

/** A workspace with the config and a local data directory whose journal holds one run's publication. */
async function workspace(prepare: (journal: ReturnType<typeof createPublicationJournal>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'digest-publish-'));
  writeFileSync(join(dir, 'digest.config.json'), JSON.stringify(CONFIG));
  const dataDir = join(dir, '.local');
  await withJournal(dataDir, prepare);
  return { dir, dataDir };
}

async function withJournal<T>(
  dataDir: string,
  use: (journal: ReturnType<typeof createPublicationJournal>) => Promise<T>,
): Promise<T> {
  // The CLI's commands share one local service per data directory; the test attaches to it like they do.
  const aws = await attachSharedAws(dataDir);
  try {
    return await use(
      createPublicationJournal({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }),
    );
  } finally {
    await aws.close();
  }
}

const cli = (args: string[], dir: string, dataDir: string) =>
  spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), `${process.cwd()}/infra/local/cli.ts`, ...args],
    {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, DIGEST_LOCAL_DIR: dataDir },
      timeout: 60_000,
    },
  );

/** Part 2 of run r1 went out or not: nobody could tell. */
const unknownSecondPart = async (journal: ReturnType<typeof createPublicationJournal>) => {
  await journal.begin('demo', 'r1', ['a 1/3', 'b 2/3', 'c 3/3']);
  await journal.confirmPart('demo', 'r1', 0, { id: '1900000000000000001', url: 'u0' });
  await journal.markAttempt('demo', 'r1', 1);
  await journal.markUnknown('demo', 'r1', 1, 'timeline not readable');
};

describe('npm run digest -- publish', () => {
  it('confirm records the part as published in the local journal', async () => {
    // Prepare
    const { dir, dataDir } = await workspace(unknownSecondPart);

    // Act
    const result = cli(['publish', 'confirm', 'r1', '1900000000000000002'], dir, dataDir);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('part 2/3 recorded');
    const record = await withJournal(dataDir, (j) => j.get('demo', 'r1'));
    expect(record).toMatchObject<Partial<PublicationRecord>>({
      status: 'in_progress',
      published: [
        { id: '1900000000000000001', url: 'u0' },
        { id: '1900000000000000002', url: 'https://x.com/i/web/status/1900000000000000002' },
      ],
    });
  }, 120_000);

  it('retry clears the unknown part; bad input and a run without an unknown part are one-line refusals', async () => {
    // Prepare
    const { dir, dataDir } = await workspace(unknownSecondPart);

    // Act
    const badId = cli(['publish', 'confirm', 'r1', 'not-a-number'], dir, dataDir);
    const retry = cli(['publish', 'retry', 'r1'], dir, dataDir);
    const again = cli(['publish', 'retry', 'r1'], dir, dataDir);

    // Assess
    expect(badId.status).toBe(2);
    expect(badId.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: "not-a-number" is not a post id/),
    ]);
    expect(retry.status).toBe(0);
    expect(again.status).toBe(1);
    expect(again.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: run r1 has no publication of unknown outcome/),
    ]);
    const record = await withJournal(dataDir, (j) => j.get('demo', 'r1'));
    expect(record).toMatchObject({ status: 'in_progress', published: [{ id: '1900000000000000001' }] });
    expect(record).not.toHaveProperty('attempting');
  }, 120_000);
});
