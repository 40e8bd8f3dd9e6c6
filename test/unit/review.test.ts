import { describe, expect, it } from 'vitest';
import { signReviewLink, verifyReviewLink } from '../../shared/domain/review-link';
import { ReviewLinkError } from '../../shared/errors';
import { type Notice, sendNotice } from '../../shared/pipeline/notify';
import { answerReviewLink, requestReview } from '../../shared/pipeline/review';
import type { DeliveryReceipt, Destination, DigestMessage, TaskCallback } from '../../shared/ports';
import {
  FakeDeliveryJournal,
  FakeLedger,
  FakeObjectStore,
  FakeReviewStore,
  silentLog,
  testPipeline,
} from '../support/fakes';

const KEY = 'k'.repeat(40);
const BASE = 'https://abc123.lambda-url.eu-west-1.on.aws/';
const now = Date.parse('2026-11-24T09:00:00.000Z');
const claims = {
  pipelineId: 'demo',
  runId: 'morning-20261124T0800Z',
  decision: 'approve' as const,
  expires: now / 1000 + 3600,
};

describe('signed review links', () => {
  it('verifies a link it signed, until it expires', () => {
    // Act
    const link = new URL(signReviewLink(BASE, claims, KEY));

    // Assess
    expect(link.origin).toBe('https://abc123.lambda-url.eu-west-1.on.aws');
    expect(verifyReviewLink(link.searchParams, KEY, now)).toEqual(claims);
    expect(() => verifyReviewLink(link.searchParams, KEY, now + 3600_000)).toThrow('the link expired at');
  });

  it('refuses a link whose decision, run or expiry was changed, or signed with another key', () => {
    // Prepare
    const link = new URL(signReviewLink(BASE, claims, KEY));
    const altered = (name: string, value: string) => {
      const params = new URLSearchParams(link.searchParams);
      params.set(name, value);
      return params;
    };

    // Assess
    for (const params of [
      altered('decision', 'reject'),
      altered('run', 'evening-20261124T2300Z'),
      altered('expires', String(claims.expires + 86_400)),
      altered('sig', 'AAAA'),
    ]) {
      expect(() => verifyReviewLink(params, KEY, now)).toThrow(ReviewLinkError);
    }
    expect(() => verifyReviewLink(link.searchParams, 'x'.repeat(40), now)).toThrow('not signed');
  });
});

/** A destination that keeps what it was sent, and the journal key it was sent under. */
class RecordingDestination implements Destination {
  readonly kind = 'webhook';
  readonly sent: DigestMessage[] = [];
  readonly keys: string[] = [];
  constructor(readonly name: string) {}
  async deliver(message: DigestMessage, key: string): Promise<DeliveryReceipt> {
    this.sent.push(message);
    this.keys.push(key);
    return { destination: this.name };
  }
}

/** The task callbacks a decision sends (SendTaskSuccess / SendTaskFailure), in order. */
class RecordingCallback implements TaskCallback {
  readonly calls: { kind: 'succeed' | 'fail'; taskToken: string }[] = [];
  async succeed(taskToken: string) {
    this.calls.push({ kind: 'succeed', taskToken });
  }
  async fail(taskToken: string) {
    this.calls.push({ kind: 'fail', taskToken });
  }
}

const run = {
  pipelineId: 'demo',
  runId: claims.runId,
  trigger: 'schedule' as const,
  referenceTime: '2026-11-24T08:00:00.000Z',
  startedAt: '2026-11-24T08:00:00.000Z',
  dryRun: false,
  proceed: true,
  review: { timeoutSeconds: 3600 },
};

/** A run waiting in AwaitReview, its request sent through the journalled notices to two destinations. */
async function reviewWorld() {
  const reviews = new FakeReviewStore();
  const ledger = new FakeLedger();
  const store = new FakeObjectStore();
  const journal = new FakeDeliveryJournal();
  const callback = new RecordingCallback();
  const inboxes = { ops: new RecordingDestination('ops'), editors: new RecordingDestination('editors') };
  const pipeline = testPipeline({
    notify: [
      { kind: 'webhook', name: 'ops', urlSecret: 'OPS_URL', signingSecret: 'OPS_SIGNING' },
      { kind: 'webhook', name: 'editors', urlSecret: 'ED_URL', signingSecret: 'ED_SIGNING' },
    ],
  });
  await ledger.createRun({ ...run, status: 'running', steps: {} });
  await ledger.acquireLock('demo', run.runId, now, 60_000);
  await store.putIfAbsent(
    `runs/demo/${run.runId}/draft.json`,
    JSON.stringify({ runId: run.runId, createdAt: '', draft: 'gm', parts: ['gm'], messageIds: ['1'] }),
  );
  let clock = now;
  const deps = {
    pipeline,
    store,
    ledger,
    reviews,
    notify: (notice: Notice) =>
      sendNotice(
        {
          pipeline,
          journal,
          destinationFor: async (spec: { name: string }) => inboxes[spec.name as keyof typeof inboxes],
          log: silentLog,
        },
        notice,
      ),
    links: async () => ({ base: BASE, key: KEY }),
    callback,
    now: () => new Date(clock),
    log: silentLog,
  };
  const invoke = (taskToken: string, executionName = 'exec-1') =>
    requestReview(deps, { run, steps: {}, taskToken, executionName });
  const later = (ms: number) => {
    clock += ms;
  };
  return { reviews, ledger, journal, callback, inboxes, invoke, later };
}

async function waitingReview() {
  const world = await reviewWorld();
  const requested = await world.invoke('token-1');
  return { ...world, destination: world.inboxes.ops, requested };
}

const queryOf = (link: string | undefined) => (link ?? '').replace(/^(approve|reject): [^?]*\?/, '');

describe('asking for a review and answering a link', () => {
  it('stores the token, holds the lock over the wait and sends signed approve and reject links', async () => {
    // Act
    const { reviews, ledger, destination, requested } = await waitingReview();

    // Assess
    expect(requested).toMatchObject({ deadline: '2026-11-24T10:00:00.000Z', notified: 2 });
    expect((await reviews.get('demo', claims.runId))?.taskToken).toBe('token-1');
    expect(ledger.lock?.leaseUntil).toBeGreaterThan(now + 3600_000);
    expect(ledger.runs.get(claims.runId)?.steps.review?.status).toBe('partial');
    const [approve, reject] = destination.sent[0]?.links ?? [];
    expect(approve).toMatch(
      /^approve: https:\/\/abc123\.lambda-url\.eu-west-1\.on\.aws\/\?pipeline=demo&run=.*&decision=approve&expires=\d+&sig=/,
    );
    expect(reject).toContain('decision=reject');
    expect(destination.sent[0]?.parts).toContain('gm');
    expect(destination.keys).toEqual([`${claims.runId}#notify-review-requested-exec-1#ops`]);
  });

  it('sends the request once per destination when the task is retried, and the first link still approves', async () => {
    // Prepare: the first attempt sent the request, then failed (a Lambda error after the send)
    const { reviews, ledger, callback, inboxes, invoke, later } = await reviewWorld();
    const first = await invoke('token-1');
    const link = inboxes.ops.sent[0]?.links[0];
    later(30_000);

    // Act: Step Functions retries the task in the same execution, with a new token
    const retried = await invoke('token-2');
    const decided = await answerReviewLink(
      { reviews, ledger, callback, now: () => new Date(now + 60_000), linkKey: async () => KEY },
      { method: 'POST', query: queryOf(link) },
    );

    // Assess
    expect(inboxes.ops.sent).toHaveLength(1);
    expect(inboxes.editors.sent).toHaveLength(1);
    expect(retried).toEqual({ ...first, notified: 2 });
    expect((await reviews.get('demo', claims.runId))?.deadline).toBe(first.deadline);
    expect(decided.statusCode).toBe(200);
    expect(callback.calls).toEqual([{ kind: 'succeed', taskToken: 'token-2' }]);
  });

  it('asks again when a resumed run starts a new execution, under its own journal key', async () => {
    // Prepare: the first execution asked, then ended before anyone decided
    const { inboxes, invoke, later } = await reviewWorld();
    await invoke('token-1', 'exec-1');
    later(600_000);

    // Act
    const resumed = await invoke('token-9', 'exec-2');

    // Assess
    expect(resumed).toMatchObject({ notified: 2, deadline: '2026-11-24T10:10:00.000Z' });
    expect(inboxes.ops.keys).toEqual([
      `${claims.runId}#notify-review-requested-exec-1#ops`,
      `${claims.runId}#notify-review-requested-exec-2#ops`,
    ]);
    expect(inboxes.ops.sent[1]?.links[0]).not.toBe(inboxes.ops.sent[0]?.links[0]);
  });

  it('fails a retried task at once when the review was rejected between its attempts', async () => {
    // Prepare
    const { reviews, ledger, callback, inboxes, invoke } = await reviewWorld();
    await invoke('token-1');
    await answerReviewLink(
      { reviews, ledger, now: () => new Date(now + 60_000), linkKey: async () => KEY },
      { method: 'POST', query: queryOf(inboxes.ops.sent[0]?.links[1]) },
    );

    // Act
    const retried = await invoke('token-2');

    // Assess
    expect(retried).toMatchObject({ decided: 'rejected', notified: 0 });
    expect(callback.calls).toEqual([{ kind: 'fail', taskToken: 'token-2' }]);
    expect((await reviews.get('demo', claims.runId))?.status).toBe('rejected');
    expect(inboxes.ops.sent).toHaveLength(1);
  });

  it('decides only on POST: a GET (a mail scanner, a link preview) shows the question and changes nothing', async () => {
    // Prepare
    const { reviews, ledger, destination } = await waitingReview();
    const query = queryOf(destination.sent[0]?.links[0]);
    const deps = { reviews, ledger, now: () => new Date(now + 60_000), linkKey: async () => KEY };

    // Act
    const shown = await answerReviewLink(deps, { method: 'GET', query });
    const before = (await reviews.get('demo', claims.runId))?.status;
    const decided = await answerReviewLink(deps, { method: 'POST', query });
    const again = await answerReviewLink(deps, {
      method: 'POST',
      query: query.replace('decision=approve', 'decision=reject'),
    });

    // Assess
    expect(shown.statusCode).toBe(200);
    expect(shown.html).toContain('<form method="post"');
    expect(before).toBe('pending');
    expect(decided.statusCode).toBe(200);
    expect(decided.html).toContain('approved by signed link');
    expect((await reviews.get('demo', claims.runId))?.status).toBe('approved');
    expect(ledger.runs.get(claims.runId)?.steps.review?.status).toBe('succeeded');
    expect(again.statusCode).toBe(403);
  });
});
