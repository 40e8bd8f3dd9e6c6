import { ConditionalCheckFailedException, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createPublicationJournal } from '../../shared/adapters/dynamo-publication-journal';
import { PermanentError, TransientError } from '../../shared/errors';
import type { PublicationJournal, RunLedger, RunRecord } from '../../shared/ports';

const NOW = Date.parse('2026-11-24T08:00:00.000Z');

const run = (runId: string, overrides: Partial<RunRecord> = {}): RunRecord => ({
  pipelineId: 'crypto',
  runId,
  trigger: 'schedule',
  startedAt: '2026-11-24T08:00:00.000Z',
  status: 'running',
  steps: {},
  executionId: `exec-${runId}`,
  ...overrides,
});

describe('run ledger and publication journal on embedded dynalite', () => {
  let aws: EmbeddedAws;
  let client: DynamoDBDocumentClient;
  let ledger: RunLedger;
  let journal: PublicationJournal;

  beforeAll(async () => {
    aws = await startEmbeddedAws({});
    client = createDynamoDocumentClient(aws.env);
    ledger = createRunLedger({ client, tableName: aws.table, now: () => NOW });
    journal = createPublicationJournal({ client, tableName: aws.table, now: () => NOW });
  });
  afterAll(async () => {
    await aws?.close();
  });

  describe('automatic resume', () => {
    const plan = {
      attempt: 1,
      at: '2026-11-24T08:10:00.000Z',
      reason: 'collect failed on a transient error; retry 1 of 3 after 5 min',
      state: 'scheduled' as const,
      scheduleName: 'digest-resume-crypto-auto-1-1',
    };

    it('of two resumes at once, one claims the run and the other gets the record the winner left', async () => {
      // Prepare
      await ledger.createRun(run('auto-1', { status: 'partial', endedAt: '2026-11-24T08:05:00.000Z' }));
      await ledger.recordAutoResume('crypto', 'auto-1', plan);

      // Act
      const [a, b] = await Promise.all([
        ledger.claimResume('crypto', 'auto-1', { executionId: 'exec-a', automatic: true }),
        ledger.claimResume('crypto', 'auto-1', { executionId: 'exec-b', automatic: true }),
      ]);

      // Assess
      expect([a.claimed, b.claimed].sort()).toEqual([false, true]);
      const stored = await ledger.getRun('crypto', 'auto-1');
      expect(stored).toMatchObject({ status: 'running', autoResume: { ...plan, state: 'started' } });
      const loser = a.claimed ? b : a;
      expect(loser.claimed ? undefined : loser.existing?.executionId).toBe(stored?.executionId);
    });

    it('an automatic resume whose plan was already taken, or of a run that is not failed or partial, claims nothing', async () => {
      // Prepare
      await ledger.createRun(run('auto-2', { status: 'failed' }));
      await ledger.recordAutoResume('crypto', 'auto-2', { ...plan, state: 'started' });
      await ledger.createRun(run('auto-3', { status: 'succeeded' }));

      // Act
      const taken = await ledger.claimResume('crypto', 'auto-2', { executionId: 'exec-c', automatic: true });
      const done = await ledger.claimResume('crypto', 'auto-3', { executionId: 'exec-d', automatic: false });
      const manual = await ledger.claimResume('crypto', 'auto-2', {
        executionId: 'exec-e',
        automatic: false,
      });

      // Assess
      expect(taken.claimed).toBe(false);
      expect(done).toEqual({ claimed: false, existing: expect.objectContaining({ status: 'succeeded' }) });
      expect(manual.claimed).toBe(true);
    });
  });

  describe('runs', () => {
    it('createRun twice: the second returns the first record untouched', async () => {
      // Prepare
      await ledger.createRun(run('morning-1'));

      // Act
      const second = await ledger.createRun(
        run('morning-1', { executionId: 'exec-other', trigger: 'manual' }),
      );

      // Assess
      expect(second.created).toBe(false);
      expect(second.created ? undefined : second.existing).toEqual(run('morning-1'));
    });

    it('records carry a TTL 400 days out, in epoch seconds, and getRun hides the keys', async () => {
      // Prepare
      await ledger.createRun(run('ttl-1'));

      // Act
      const item = (
        await client.send(
          new GetCommand({ TableName: aws.table, Key: { pk: 'PIPELINE#crypto', sk: 'RUN#ttl-1' } }),
        )
      ).Item;
      const record = await ledger.getRun('crypto', 'ttl-1');

      // Assess
      expect(item?.expiresAt).toBe(NOW / 1000 + 400 * 24 * 3600);
      expect(record).toEqual(run('ttl-1'));
    });

    it('recordStep and finishRun update the run in place', async () => {
      // Prepare
      await ledger.createRun(run('steps-1'));
      const collect = {
        status: 'succeeded' as const,
        endedAt: '2026-11-24T08:00:05.000Z',
        durationMs: 5000,
        counts: { collected: 12, kept: 9 },
        notes: { csvKey: 'runs/crypto/steps-1/posts.csv' },
      };

      // Act
      await ledger.recordStep('crypto', 'steps-1', 'collect', collect);
      await ledger.recordStep('crypto', 'steps-1', 'upload', {
        status: 'failed',
        endedAt: '2026-11-24T08:00:06.000Z',
        counts: {},
        error: { name: 'AuthError', message: 'sheets answered 403' },
      });
      await ledger.finishRun('crypto', 'steps-1', {
        status: 'partial',
        endedAt: '2026-11-24T08:00:07.000Z',
        reason: 'upload failed',
      });

      // Assess
      const stored = await ledger.getRun('crypto', 'steps-1');
      expect(stored?.steps.collect).toEqual(collect);
      expect(stored?.steps.upload?.error?.name).toBe('AuthError');
      expect(stored?.status).toBe('partial');
      expect(stored?.endedAt).toBe('2026-11-24T08:00:07.000Z');
      expect(stored?.reason).toBe('upload failed');
    });

    it('recordStep on a run that does not exist fails instead of inventing one', async () => {
      // Act
      const recording = ledger.recordStep('crypto', 'never-created', 'collect', {
        status: 'succeeded',
        endedAt: '2026-11-24T08:00:00.000Z',
        counts: {},
      });

      // Assess
      await expect(recording).rejects.toBeInstanceOf(PermanentError);
      expect(await ledger.getRun('crypto', 'never-created')).toBeUndefined();
    });

    it('listRuns gives the newest first, limited, and only runs of that pipeline', async () => {
      // Prepare
      const starts = ['2026-01-03T08:00:00.000Z', '2026-01-01T08:00:00.000Z', '2026-01-02T08:00:00.000Z'];
      for (const [i, startedAt] of starts.entries()) {
        await ledger.createRun(run(`list-${i}`, { pipelineId: 'listing', startedAt }));
      }
      await ledger.createRun(run('other', { pipelineId: 'listing-other' }));
      await ledger.acquireLock('listing', 'list-0', NOW, 60_000);
      await journal.begin('listing', 'list-0', ['part']);

      // Act
      const runs = await ledger.listRuns('listing', 2);
      const all = await ledger.listRuns('listing', 50);

      // Assess
      expect(runs.map((r) => r.runId)).toEqual(['list-0', 'list-2']);
      expect(all.map((r) => r.runId)).toEqual(['list-0', 'list-2', 'list-1']);
    });
  });

  describe('lock', () => {
    it('getLock tells the holder and its lease, and nothing once released', async () => {
      // Prepare
      await ledger.acquireLock('lock-get', 'run-1', NOW, 60_000);

      // Act
      const held = await ledger.getLock('lock-get');
      await ledger.releaseLock('lock-get', 'run-1');
      const released = await ledger.getLock('lock-get');

      // Assess
      expect(held).toEqual({ holder: 'run-1', leaseUntil: NOW + 60_000 });
      expect(released).toBeUndefined();
    });

    it('a second holder is refused while the lease runs, and told who holds it until when', async () => {
      // Prepare
      await ledger.acquireLock('lock-a', 'run-1', NOW, 60_000);

      // Act
      const second = await ledger.acquireLock('lock-a', 'run-2', NOW + 1000, 60_000);

      // Assess
      expect(second).toEqual({ acquired: false, heldBy: 'run-1', leaseUntil: NOW + 60_000 });
    });

    it('the holder may take it again (a retried BeginRun) without it counting as a takeover', async () => {
      // Prepare
      await ledger.acquireLock('lock-b', 'run-1', NOW, 60_000);

      // Act
      const again = await ledger.acquireLock('lock-b', 'run-1', NOW + 1000, 60_000);

      // Assess
      expect(again).toEqual({ acquired: true });
    });

    it('after the lease, another run takes it over and learns from whom', async () => {
      // Prepare
      await ledger.acquireLock('lock-c', 'run-1', NOW, 60_000);

      // Act
      const takeover = await ledger.acquireLock('lock-c', 'run-2', NOW + 60_001, 60_000);
      const late = await ledger.acquireLock('lock-c', 'run-1', NOW + 60_002, 60_000);

      // Assess
      expect(takeover).toEqual({
        acquired: true,
        takenOverFrom: { runId: 'run-1', leaseUntil: NOW + 60_000 },
      });
      expect(late).toEqual({ acquired: false, heldBy: 'run-2', leaseUntil: NOW + 120_001 });
    });

    it('only the holder releases it', async () => {
      // Prepare
      await ledger.acquireLock('lock-d', 'run-1', NOW, 60_000);

      // Act
      await ledger.releaseLock('lock-d', 'run-2');
      const whileHeld = await ledger.acquireLock('lock-d', 'run-3', NOW + 1, 60_000);
      await ledger.releaseLock('lock-d', 'run-1');
      const afterRelease = await ledger.acquireLock('lock-d', 'run-3', NOW + 2, 60_000);

      // Assess
      expect(whileHeld).toMatchObject({ acquired: false, heldBy: 'run-1' });
      expect(afterRelease).toEqual({ acquired: true });
    });

    it('releasing a lock nobody holds is harmless', async () => {
      // Act
      const releasing = ledger.releaseLock('lock-never', 'run-1');

      // Assess
      await expect(releasing).resolves.toBeUndefined();
    });

    it('10 concurrent acquisitions: exactly one wins, the rest name the winner', async () => {
      // Act
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => ledger.acquireLock('lock-race', `racer-${i}`, NOW, 60_000)),
      );

      // Assess
      const winners = results.flatMap((r, i) => (r.acquired ? [`racer-${i}`] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (!result.acquired) expect(result.heldBy).toBe(winners[0]);
      }
    });
  });

  describe('publication journal', () => {
    it('begin, attempt, confirm in order, complete', async () => {
      // Prepare
      const parts = ['first part', 'second part'];

      // Act
      const begun = await journal.begin('crypto', 'pub-1', parts);
      await journal.markAttempt('crypto', 'pub-1', 0);
      const inFlight = await journal.get('crypto', 'pub-1');
      await journal.confirmPart('crypto', 'pub-1', 0, { id: '100', url: 'https://x.com/i/status/100' });
      await journal.markAttempt('crypto', 'pub-1', 1);
      await journal.confirmPart('crypto', 'pub-1', 1, { id: '101', url: 'https://x.com/i/status/101' });
      await journal.complete('crypto', 'pub-1');

      // Assess
      expect(begun).toEqual({
        pipelineId: 'crypto',
        runId: 'pub-1',
        parts,
        published: [],
        status: 'in_progress',
      });
      expect(inFlight?.attempting).toBe(0);
      expect(await journal.get('crypto', 'pub-1')).toEqual({
        pipelineId: 'crypto',
        runId: 'pub-1',
        parts,
        published: [
          { id: '100', url: 'https://x.com/i/status/100' },
          { id: '101', url: 'https://x.com/i/status/101' },
        ],
        status: 'completed',
      });
    });

    it('begin again returns what is stored, not the parts passed now', async () => {
      // Prepare
      await journal.begin('crypto', 'pub-2', ['original']);
      await journal.confirmPart('crypto', 'pub-2', 0, { id: '200', url: 'u' });

      // Act
      const again = await journal.begin('crypto', 'pub-2', ['rewritten draft']);

      // Assess
      expect(again.parts).toEqual(['original']);
      expect(again.published).toEqual([{ id: '200', url: 'u' }]);
    });

    it('confirming a part leaves an attempt marker of another part alone', async () => {
      // Prepare
      await journal.begin('crypto', 'pub-3', ['a', 'b']);
      await journal.confirmPart('crypto', 'pub-3', 0, { id: '300', url: 'u0' });
      await journal.markAttempt('crypto', 'pub-3', 1);

      // Act
      await journal.confirmPart('crypto', 'pub-3', 0, { id: '300', url: 'u0' });

      // Assess
      const stored = await journal.get('crypto', 'pub-3');
      expect(stored?.attempting).toBe(1);
      expect(stored?.published).toEqual([{ id: '300', url: 'u0' }]);
    });

    it('a part confirmed before the one ahead of it is refused', async () => {
      // Prepare
      await journal.begin('crypto', 'pub-4', ['a', 'b', 'c']);

      // Act
      const confirming = journal.confirmPart('crypto', 'pub-4', 2, { id: '402', url: 'u2' });

      // Assess
      await expect(confirming).rejects.toBeInstanceOf(PermanentError);
      expect((await journal.get('crypto', 'pub-4'))?.published).toEqual([]);
    });

    it('updates of a journal that was never begun fail', async () => {
      // Act
      const marking = journal.markAttempt('crypto', 'pub-none', 0);

      // Assess
      await expect(marking).rejects.toBeInstanceOf(PermanentError);
      expect(await journal.get('crypto', 'pub-none')).toBeUndefined();
    });

    it('an unknown outcome waits for the operator: confirm records the part where it was attempted', async () => {
      // Prepare
      await journal.begin('crypto', 'pub-5', ['a', 'b', 'c']);
      await journal.confirmPart('crypto', 'pub-5', 0, { id: '500', url: 'u0' });
      await journal.markAttempt('crypto', 'pub-5', 1);
      await journal.markUnknown('crypto', 'pub-5', 1, 'timeline not readable');
      const parked = await journal.get('crypto', 'pub-5');

      // Act
      const resolved = await journal.resolveUnknown('crypto', 'pub-5', {
        published: { id: '501', url: 'u1' },
      });
      const twice = journal.resolveUnknown('crypto', 'pub-5', { published: false });

      // Assess
      expect(parked).toMatchObject({
        status: 'unknown',
        attempting: 1,
        unknownReason: 'timeline not readable',
      });
      expect(resolved).toMatchObject({ status: 'in_progress', published: [{ id: '500' }, { id: '501' }] });
      expect(resolved).not.toHaveProperty('attempting');
      expect(resolved).not.toHaveProperty('unknownReason');
      await expect(twice).rejects.toBeInstanceOf(PermanentError);
    });

    it("retry clears the unknown part without recording it; clearAttempt leaves another part's marker", async () => {
      // Prepare
      await journal.begin('crypto', 'pub-6', ['a', 'b']);
      await journal.markAttempt('crypto', 'pub-6', 0);
      await journal.clearAttempt('crypto', 'pub-6', 1);
      const stillMarked = await journal.get('crypto', 'pub-6');
      await journal.markUnknown('crypto', 'pub-6', 0, 'cannot read');

      // Act
      const resolved = await journal.resolveUnknown('crypto', 'pub-6', { published: false });
      await journal.markAttempt('crypto', 'pub-6', 0);
      await journal.clearAttempt('crypto', 'pub-6', 0);

      // Assess
      expect(stillMarked?.attempting).toBe(0);
      expect(resolved).toMatchObject({ status: 'in_progress', published: [] });
      expect(await journal.get('crypto', 'pub-6')).not.toHaveProperty('attempting');
    });
  });
});

const mockDynamo = () => mockClient(DynamoDBDocumentClient);

describe('ledger error mapping', () => {
  // Created in beforeAll: mockClient patches every DynamoDBDocumentClient, the embedded suite's too.
  let dynamo: ReturnType<typeof mockDynamo>;
  let ledger: RunLedger;
  const serviceError = (name: string, status: number) =>
    new DynamoDBServiceException({
      name,
      message: name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
    });

  beforeAll(() => {
    dynamo = mockDynamo();
    ledger = createRunLedger({
      client: createDynamoDocumentClient({ AWS_REGION: 'us-east-1' }),
      tableName: 'ledger',
    });
  });
  beforeEach(() => {
    dynamo.reset();
  });
  afterAll(() => {
    dynamo.restore();
  });

  it.each([
    ['ProvisionedThroughputExceededException', 400],
    ['ThrottlingException', 400],
    ['RequestLimitExceeded', 400],
    ['InternalServerError', 500],
    ['ServiceUnavailable', 503],
  ])('%s is transient', async (name, status) => {
    // Prepare
    dynamo.on(PutCommand).rejects(serviceError(name, status));

    // Act
    const creating = ledger.createRun(run('mapped'));

    // Assess
    await expect(creating).rejects.toBeInstanceOf(TransientError);
  });

  it('a validation error is permanent', async () => {
    // Prepare
    dynamo.on(UpdateCommand).rejects(serviceError('ValidationException', 400));

    // Act
    const finishing = ledger.finishRun('crypto', 'r', { status: 'succeeded', endedAt: 'now' });

    // Assess
    await expect(finishing).rejects.toBeInstanceOf(PermanentError);
  });

  it('a refused lock read back as gone and then taken is retried, not reported as held by nobody', async () => {
    // Prepare
    dynamo
      .on(PutCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'held', $metadata: {} }))
      .resolves({});
    dynamo.on(GetCommand).resolves({});

    // Act
    const result = await ledger.acquireLock('crypto', 'run-1', NOW, 1000);

    // Assess
    expect(result).toEqual({ acquired: true });
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(2);
  });
});
