import { describe, expect, it } from 'vitest';
import { TransientError, UnknownOutcomeError } from '../../shared/errors';
import { runStatus } from '../../shared/pipeline/finish-run';
import { FakeChannel, testPipeline } from '../support/fakes';
import { runPipeline, runRef, World } from '../support/harness';
import { linkMessages, message } from '../support/messages';

const T = '2026-11-24T09:00:00.000Z';

function world(messages: { id: string }[], overrides: Record<string, unknown> = {}) {
  return new World(testPipeline(overrides), new FakeChannel(messages));
}

describe('a full run over fake ports', () => {
  it('collects, appends, analyses, publishes a thread and archives every kept post once', async () => {
    // Prepare
    const messages = [
      ...linkMessages(T, 12),
      message(T, 30, 'no link here'),
      message(T, 31, 'github https://github.com/a/b'),
      message(T, 32, 'again https://twitter.com/p0/status/9000'),
      { ...message(T, 33, 'broken'), author: undefined },
      message(T, -5, 'after the window https://x.com/late/status/1'),
    ];
    const w = world(messages);

    // Act
    const report = await runPipeline(w, runRef('morning-20261124T0900Z', T));

    // Assess
    expect(report.status).toBe('succeeded');
    expect(report.steps.collect?.counts).toMatchObject({
      messagesSeen: 16,
      postsKept: 12,
      malformed: 1,
      withoutLink: 2,
      duplicateLinks: 1,
    });
    expect(w.store.objects.has('processed/demo/morning-20261124T0900Z/posts.csv')).toBe(true);
    expect(w.store.objects.has('runs/demo/morning-20261124T0900Z/posts.csv')).toBe(false);
    // The chunks the posts were collected in (raw messages among them) leave runs/ with the CSV.
    const runFiles = [...w.store.objects.keys()].filter((k) =>
      k.startsWith('runs/demo/morning-20261124T0900Z/'),
    );
    expect(runFiles.filter((k) => k.includes('/chunks/'))).toEqual([]);
    expect(w.store.objects.has('processed/demo/morning-20261124T0900Z/chunks/manifest.json')).toBe(true);
    expect(w.store.objects.has('processed/demo/morning-20261124T0900Z/chunks/00001.json')).toBe(true);
    expect(w.sheet.records('Posts')).toEqual([]);
    const archived = w.sheet.records('Archive');
    expect(archived).toHaveLength(12);
    expect(new Set(archived.map((r) => r.message_id)).size).toBe(12);
    expect(
      archived.every((r) => r.processing_status === 'published' && r.x_post_url?.startsWith('https://')),
    ).toBe(true);
    expect(w.publisher.posts.length).toBeGreaterThan(1);
    // A thread: every part after the first replies to the one before it.
    for (const [i, post] of w.publisher.posts.entries()) {
      expect(post.replyTo).toBe(i === 0 ? undefined : w.publisher.posts[i - 1]?.id);
    }
    expect(w.sheet.records('Drafts')).toMatchObject([
      { run_id: 'morning-20261124T0900Z', status: 'published' },
    ]);
  });

  it('re-running the same run appends nothing and publishes nothing', async () => {
    // Prepare
    const w = world(linkMessages(T, 5));
    await runPipeline(w, runRef('r1', T));
    const posts = w.publisher.posts.length;

    // Act
    w.ledger.runs.delete('r1');
    const again = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(again.status).toBe('succeeded');
    expect(w.publisher.posts).toHaveLength(posts);
    expect(w.sheet.records('Archive')).toHaveLength(5);
    expect(w.sheet.records('Posts')).toHaveLength(0);
    expect(w.analyzer.drafts).toBe(1);
  });

  it('a later run with an overlapping window skips messages already archived', async () => {
    // Prepare
    const w = world(linkMessages(T, 5));
    await runPipeline(w, runRef('r1', T));

    // Act
    const later = await runPipeline(w, runRef('r2', '2026-11-24T10:00:00.000Z'));

    // Assess
    expect(later.steps.upload?.counts).toMatchObject({ rowsAppended: 0, duplicatesSkipped: 5 });
    expect(w.sheet.records('Archive')).toHaveLength(5);
  });
});

describe('collect', () => {
  it('pages forward 100 at a time and stops at the fetch limit', async () => {
    // Prepare
    const w = world(linkMessages(T, 250), {
      discord: { channelId: '1200000000000000000', window: { mode: 'daily', days: 1 }, fetchLimit: 230 },
    });

    // Act
    const report = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(w.channel.requests.map((r) => r.limit)).toEqual([100, 100, 30]);
    // Each page starts after the newest id of the page before.
    expect(new Set(w.channel.requests.map((r) => r.after)).size).toBe(3);
    expect(report.steps.collect?.counts.messagesSeen).toBe(230);
  });

  it('since_last starts after the newest message already in the sheet', async () => {
    // Prepare
    const w = world(linkMessages(T, 10), {
      discord: { channelId: '1200000000000000000', window: { mode: 'since_last' } },
    });
    await runPipeline(w, runRef('r1', '2026-11-24T08:55:00.000Z'));

    // Act
    const second = await runPipeline(w, runRef('r2', T));

    // Assess
    expect(second.steps.collect?.counts.postsKept).toBe(4);
    expect(second.steps.upload?.counts.duplicatesSkipped).toBe(0);
  });
});

describe('step isolation', () => {
  it('when Discord is down, rows already in the sheet are still analysed and published', async () => {
    // Prepare
    const w = world(linkMessages(T, 3));
    w.analyzer.failWith = new TransientError('gemini down');
    await runPipeline(w, runRef('r1', T));
    w.analyzer.failWith = undefined;
    w.channel.fetchPage = async () => {
      throw new TransientError('discord down');
    };

    // Act
    const report = await runPipeline(w, runRef('r2', '2026-11-24T10:00:00.000Z'));

    // Assess
    expect(report.status).toBe('partial');
    expect(report.steps.upload?.status).toBe('skipped');
    expect(report.steps.analyze?.counts.postsAnalysed).toBe(3);
    expect(w.sheet.records('Archive')).toHaveLength(3);
  });

  it('when analysis fails, nothing is published and nothing is archived', async () => {
    // Prepare
    const w = world(linkMessages(T, 3));
    w.analyzer.failWith = new TransientError('gemini down');

    // Act
    const report = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(report.status).toBe('partial');
    expect(report.reason).toContain('analyze: TransientError gemini down');
    expect(report.steps.publish?.status).toBe('skipped');
    expect(report.steps.archive?.status).toBe('skipped');
    expect(w.publisher.posts).toEqual([]);
    expect(w.sheet.records('Posts')).toHaveLength(3);
  });

  it('posts the model left unanswered stay in the main tab for the next run', async () => {
    // Prepare
    const messages = linkMessages(T, 4);
    const w = world(messages);
    w.analyzer.skip.add(messages[1]?.id ?? '');

    // Act
    await runPipeline(w, runRef('r1', T));

    // Assess
    expect(w.sheet.records('Posts').map((r) => r.message_id)).toEqual([messages[1]?.id]);
    expect(w.sheet.records('Archive')).toHaveLength(3);
  });

  it.each([
    [false, 3, 0],
    [true, 0, 3],
  ])(
    'publish failure with archiveUnpublished=%s leaves %i rows and archives %i',
    async (flag, left, archived) => {
      // Prepare
      const w = world(linkMessages(T, 3), { publisher: { kind: 'x', archiveUnpublished: flag } });
      w.publisher.faults.set(1, { error: new Error('forbidden'), afterEffect: false });

      // Act
      const report = await runPipeline(w, runRef('r1', T));

      // Assess
      expect(report.status).toBe('partial');
      expect(w.sheet.records('Posts')).toHaveLength(left);
      expect(w.sheet.records('Archive')).toHaveLength(archived);
      if (flag) expect(w.sheet.records('Archive')[0]?.processing_status).toBe('unpublished');
    },
  );

  it('a dry run shows what would happen and changes nothing the next real run reads', async () => {
    // Prepare
    const w = world(linkMessages(T, 2));

    // Act
    const dry = await runPipeline(w, runRef('dry', T, { dryRun: true }));
    const afterDryRun = {
      posts: w.sheet.records('Posts'),
      drafts: w.sheet.records('Drafts'),
      published: w.publisher.posts.length,
    };
    const real = await runPipeline(w, runRef('real', T));

    // Assess: the dry run appended, wrote back and archived nothing, but drafted from both posts.
    expect(dry.reason).toBeUndefined();
    expect(dry.status).toBe('succeeded');
    expect(dry.steps.upload).toMatchObject({ status: 'skipped', counts: { rowsWouldAppend: 2 } });
    expect(dry.steps.analyze).toMatchObject({ status: 'succeeded', counts: { postsAnalysed: 2 } });
    expect(dry.steps.archive).toMatchObject({ status: 'skipped', counts: { rowsWouldArchive: 2 } });
    expect(afterDryRun).toEqual({ posts: [], drafts: [], published: 0 });
    // The real run after it did the whole job, as if the dry run had never happened.
    expect(real.steps.upload?.counts.rowsAppended).toBe(2);
    expect(real.steps.archive?.counts.rowsArchived).toBe(2);
    expect(w.sheet.records('Archive')).toHaveLength(2);
    expect(w.publisher.posts.length).toBeGreaterThan(0);
  });
});

describe("the draft's date", () => {
  it("is the date in the time zone of the schedule that fired; a manual run takes the first schedule's", async () => {
    // Prepare: 23:30 UTC is already the 25th in Berlin, still the 24th in New York.
    const late = '2026-11-24T23:30:00.000Z';
    const schedules = [
      { name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' },
      { name: 'evening', dailyAt: '18:00', timeZone: 'America/New_York' },
    ];
    const labelOf = async (extra: Parameters<typeof runRef>[2]) => {
      const w = world(linkMessages(late, 2), { schedules });
      await runPipeline(w, runRef('r1', late, extra));
      return w.analyzer.lastDraftSettings?.dateLabel;
    };

    // Act
    const evening = await labelOf({ scheduleName: 'evening' });
    const manual = await labelOf({ trigger: 'manual' });

    // Assess
    expect(evening).toBe('Nov 24, 2026');
    expect(manual).toBe('Nov 25, 2026');
  });
});

describe('publishing exactly once', () => {
  it('an unknown outcome mid-thread is reconciled: the post is adopted and the thread resumes after it', async () => {
    // Prepare
    const w = world(linkMessages(T, 12));
    // Part 2 reaches X, but its answer is lost.
    w.publisher.faults.set(2, { error: new UnknownOutcomeError('socket hang up'), afterEffect: true });
    const first = await runPipeline(w, runRef('r1', T));
    expect(first.steps.publish?.status).toBe('failed');

    // Act: the state machine's retry is the same step run again.
    w.ledger.runs.delete('r1');
    const retry = await runPipeline(w, runRef('r1', T));

    // Assess
    const parts = w.journal.records.get('r1')?.parts ?? [];
    expect(retry.status).toBe('succeeded');
    expect(w.publisher.posts.map((p) => p.text)).toEqual(parts);
    for (const [i, post] of w.publisher.posts.entries()) {
      expect(post.replyTo).toBe(i === 0 ? undefined : w.publisher.posts[i - 1]?.id);
    }
  });

  it('a failure before sending is simply retried', async () => {
    // Prepare
    const w = world(linkMessages(T, 2));
    w.publisher.faults.set(1, { error: new UnknownOutcomeError('timeout'), afterEffect: false });
    await runPipeline(w, runRef('r1', T));

    // Act
    w.ledger.runs.delete('r1');
    await runPipeline(w, runRef('r1', T));

    // Assess
    expect(w.publisher.posts).toHaveLength(w.journal.records.get('r1')?.parts.length ?? -1);
  });
});

describe('runStatus', () => {
  const ok = { status: 'succeeded' as const, endedAt: T, counts: {} };
  const bad = {
    status: 'failed' as const,
    endedAt: T,
    counts: {},
    error: { name: 'AuthError', message: '401' },
  };
  const skip = { status: 'skipped' as const, endedAt: T, counts: {} };

  it.each([
    [{ collect: ok, upload: ok, analyze: ok, publish: ok, archive: ok }, 'succeeded'],
    [{ collect: ok, upload: ok, analyze: bad, publish: skip, archive: skip }, 'partial'],
    [{ collect: bad, upload: skip, analyze: bad, publish: skip, archive: skip }, 'failed'],
  ])('%o is %s', (steps, status) => {
    // Act + Assess
    expect(runStatus(steps).status).toBe(status);
  });
});

describe('replay', () => {
  it("processes an archived run's CSV again without duplicating rows or posts", async () => {
    // Prepare
    const w = world(linkMessages(T, 4));
    await runPipeline(w, runRef('r1', T));
    const posts = w.publisher.posts.length;

    // Act
    const replay = await runPipeline(w, runRef('replay-1', T, { trigger: 'replay', sourceRunId: 'r1' }));

    // Assess
    expect(replay.steps.collect?.status).toBe('skipped');
    expect(replay.steps.upload?.counts).toMatchObject({ rowsAppended: 0, duplicatesSkipped: 4 });
    expect(w.publisher.posts).toHaveLength(posts);
    expect(w.sheet.records('Archive')).toHaveLength(4);
  });

  it('re-appends rows lost from the sheet', async () => {
    // Prepare
    const w = world(linkMessages(T, 4));
    await runPipeline(w, runRef('r1', T));
    w.sheet.tabs.set('Archive', [w.sheet.tabs.get('Archive')?.[0] ?? []]);

    // Act
    const replay = await runPipeline(w, runRef('replay-2', T, { trigger: 'replay', sourceRunId: 'r1' }));

    // Assess
    expect(replay.steps.upload?.counts.rowsAppended).toBe(4);
    expect(w.sheet.records('Archive')).toHaveLength(4);
  });
});

describe('analyze', () => {
  it('sends many posts per Gemini request and writes every analysis back in one request', async () => {
    // Prepare
    const w = world(linkMessages(T, 250));

    // Act
    await runPipeline(w, runRef('r1', T));

    // Assess
    expect(w.analyzer.batches).toEqual([100, 100, 50]);
    expect(w.analyzer.drafts).toBe(1);
    // The analyses with the draft row; the row's status goes with Archive's move, not as a write of its own.
    expect(w.sheet.calls.filter((c) => c === 'updateTabs')).toHaveLength(1);
    expect(w.sheet.calls.filter((c) => c === 'moveRows')).toHaveLength(1);
    expect(w.sheet.records('Drafts')).toMatchObject([{ status: 'published' }]);
  });

  it('keeps the analyses of earlier batches when a later batch fails', async () => {
    // Prepare
    const w = world(linkMessages(T, 150));
    const analyzer = w.analyzer;
    const original = analyzer.analyzePosts.bind(analyzer);
    let calls = 0;
    analyzer.analyzePosts = async (posts) => {
      calls += 1;
      if (calls === 2) throw new TransientError('gemini down');
      return original(posts);
    };

    // Act
    const report = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(report.steps.analyze?.status).toBe('failed');
    expect(w.sheet.records('Posts').filter((r) => r.ai_processed === 'yes')).toHaveLength(100);
  });
});
