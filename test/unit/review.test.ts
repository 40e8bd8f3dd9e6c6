import { describe, expect, it } from 'vitest';
import { signReviewLink, verifyReviewLink } from '../../shared/domain/review-link';
import { ReviewLinkError } from '../../shared/errors';
import { answerReviewLink, requestReview } from '../../shared/pipeline/review';
import type { DeliveryReceipt, Destination, DigestMessage } from '../../shared/ports';
import { FakeLedger, FakeObjectStore, FakeReviewStore, silentLog } from '../support/fakes';

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

/** A destination that keeps what it was sent. */
class RecordingDestination implements Destination {
  readonly kind = 'webhook';
  readonly name = 'ops';
  readonly sent: DigestMessage[] = [];
  async deliver(message: DigestMessage): Promise<DeliveryReceipt> {
    this.sent.push(message);
    return { destination: this.name };
  }
}

async function waitingReview() {
  const reviews = new FakeReviewStore();
  const ledger = new FakeLedger();
  const store = new FakeObjectStore();
  const destination = new RecordingDestination();
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
  await ledger.createRun({ ...run, status: 'running', steps: {} });
  await ledger.acquireLock('demo', run.runId, now, 60_000);
  await store.putIfAbsent(
    `runs/demo/${run.runId}/draft.json`,
    JSON.stringify({ runId: run.runId, createdAt: '', draft: 'gm', parts: ['gm'], messageIds: ['1'] }),
  );
  const requested = await requestReview(
    {
      pipeline: {} as never,
      store,
      ledger,
      reviews,
      destinations: [destination],
      links: async () => ({ base: BASE, key: KEY }),
      now: () => new Date(now),
      log: silentLog,
    },
    { run, steps: {}, taskToken: 'token-1' },
  );
  return { reviews, ledger, destination, requested };
}

describe('asking for a review and answering a link', () => {
  it('stores the token, holds the lock over the wait and sends signed approve and reject links', async () => {
    // Act
    const { reviews, ledger, destination, requested } = await waitingReview();

    // Assess
    expect(requested).toMatchObject({ deadline: '2026-11-24T10:00:00.000Z', notified: 1 });
    expect((await reviews.get('demo', claims.runId))?.taskToken).toBe('token-1');
    expect(ledger.lock?.leaseUntil).toBeGreaterThan(now + 3600_000);
    expect(ledger.runs.get(claims.runId)?.steps.review?.status).toBe('partial');
    const [approve, reject] = destination.sent[0]?.links ?? [];
    expect(approve).toMatch(
      /^approve: https:\/\/abc123\.lambda-url\.eu-west-1\.on\.aws\/\?pipeline=demo&run=.*&decision=approve&expires=\d+&sig=/,
    );
    expect(reject).toContain('decision=reject');
    expect(destination.sent[0]?.parts).toEqual(['gm']);
  });

  it('decides only on POST: a GET (a mail scanner, a link preview) shows the question and changes nothing', async () => {
    // Prepare
    const { reviews, ledger, destination } = await waitingReview();
    const query = (destination.sent[0]?.links[0] ?? '').replace(/^approve: [^?]*\?/, '');
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
