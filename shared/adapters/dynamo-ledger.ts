import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentError, TransientError } from '../errors';
import type { RunLedger, RunRecord, RunStatus } from '../ports';
import { createRunLock } from './dynamo-run-lock';
import {
  call,
  expiryFrom,
  fromItem,
  inconsistent,
  isConditionFailure,
  type LedgerOptions,
  PK,
  queryPartition,
  runKey,
  TTL,
} from './dynamo-table';

const RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'running',
  'succeeded',
  'partial',
  'failed',
  'skipped',
  'duplicate',
  'missed',
]);
const STEP_STATUSES = new Set(['succeeded', 'partial', 'failed', 'skipped']);

/**
 * A run record read back, checked field by field: an item this code could not
 * have written (no status, a step without one, a count that is not a number)
 * stops the caller with the table and key, instead of passing for a run.
 */
export function parseRunItem(tableName: string, item: Record<string, unknown>): RunRecord {
  const bad = (problem: string) => inconsistent(tableName, item, problem);
  for (const field of ['pipelineId', 'runId', 'startedAt', 'trigger'] as const) {
    if (typeof item[field] !== 'string' || item[field] === '') throw bad(`run record without ${field}`);
  }
  if (typeof item.status !== 'string') throw bad('run record without status');
  if (!RUN_STATUSES.has(item.status as RunStatus)) throw bad(`unknown run status "${item.status}"`);
  if (Number.isNaN(Date.parse(item.startedAt as string)))
    throw bad(`startedAt "${item.startedAt}" is not a time`);
  for (const field of ['reason', 'endedAt', 'executionId', 'scheduledTime', 'scheduleName'] as const) {
    if (item[field] !== undefined && typeof item[field] !== 'string') throw bad(`${field} is not text`);
  }
  if (item.autoResume !== undefined) {
    const plan = item.autoResume as Record<string, unknown> | null;
    if (
      typeof plan !== 'object' ||
      plan === null ||
      typeof plan.attempt !== 'number' ||
      typeof plan.at !== 'string' ||
      (plan.state !== 'scheduled' && plan.state !== 'started')
    ) {
      throw bad('autoResume without attempt, at and state');
    }
  }
  const steps = item.steps ?? {};
  if (typeof steps !== 'object' || steps === null || Array.isArray(steps)) throw bad('steps is not a map');
  for (const [name, step] of Object.entries(steps as Record<string, unknown>)) {
    const record = step as { status?: unknown; counts?: unknown; durationMs?: unknown } | null;
    if (typeof record !== 'object' || record === null) throw bad(`step ${name} is not a record`);
    if (typeof record.status !== 'string' || !STEP_STATUSES.has(record.status)) {
      throw bad(`step ${name} has status ${JSON.stringify(record.status)}`);
    }
    if (record.durationMs !== undefined && typeof record.durationMs !== 'number') {
      throw bad(`step ${name} durationMs is not a number`);
    }
    const counts = record.counts ?? {};
    if (
      typeof counts !== 'object' ||
      counts === null ||
      Object.values(counts).some((v) => typeof v !== 'number')
    ) {
      throw bad(`step ${name} counts are not numbers`);
    }
  }
  return fromItem<RunRecord>(item) as RunRecord;
}

/** The run records of each pipeline (sk = RUN#<runId>), plus its lock (see dynamo-run-lock). */
export function createRunLedger(options: LedgerOptions): RunLedger {
  const { client, tableName, now = Date.now } = options;
  const expiresAt = expiryFrom(now);

  async function getRun(pipelineId: string, runId: string): Promise<RunRecord | undefined> {
    const answer = await call('GetItem run', () =>
      client.send(
        new GetCommand({ TableName: tableName, Key: runKey(pipelineId, runId), ConsistentRead: true }),
      ),
    );
    return answer.Item ? parseRunItem(tableName, answer.Item) : undefined;
  }

  /** Update an existing run; never creates a half record. */
  async function updateRun(
    operation: string,
    pipelineId: string,
    runId: string,
    update: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<void> {
    try {
      await call(operation, () =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: runKey(pipelineId, runId),
            ...update,
            ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#pk': PK },
            ConditionExpression: 'attribute_exists(#pk)',
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new PermanentError(`run ${runId} of ${pipelineId} does not exist`);
      throw error;
    }
  }

  return {
    ...createRunLock(options),
    getRun,

    async createRun(record) {
      try {
        await call('PutItem run', () =>
          client.send(
            new PutCommand({
              TableName: tableName,
              // `steps` must exist as a map for recordStep's `SET steps.<name>`.
              Item: {
                ...runKey(record.pipelineId, record.runId),
                ...record,
                steps: record.steps ?? {},
                [TTL]: expiresAt(),
              },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
            }),
          ),
        );
        return { created: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // dynalite lacks ReturnValuesOnConditionCheckFailure: read the winner instead.
        const existing = await getRun(record.pipelineId, record.runId);
        if (!existing) throw new TransientError(`run ${record.runId} exists but could not be read`);
        return { created: false, existing };
      }
    },

    async recordStep(pipelineId, runId, step, record) {
      await updateRun('UpdateItem step', pipelineId, runId, {
        UpdateExpression: 'SET #steps.#step = :record',
        ExpressionAttributeNames: { '#steps': 'steps', '#step': step },
        ExpressionAttributeValues: { ':record': record },
      });
    },

    async finishRun(pipelineId, runId, result) {
      await updateRun('UpdateItem finish', pipelineId, runId, {
        // No reason now: an earlier one (abandoned, the failure a resume repaired) is stale, so remove it.
        // SET and REMOVE clauses may share one update expression:
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
        UpdateExpression:
          result.reason === undefined
            ? 'SET #status = :status, #endedAt = :endedAt REMOVE #reason'
            : 'SET #status = :status, #endedAt = :endedAt, #reason = :reason',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#endedAt': 'endedAt',
          '#reason': 'reason',
        },
        ExpressionAttributeValues: {
          ':status': result.status,
          ':endedAt': result.endedAt,
          ...(result.reason === undefined ? {} : { ':reason': result.reason }),
        },
      });
    },

    async recordAutoResume(pipelineId, runId, plan) {
      await updateRun('UpdateItem autoResume', pipelineId, runId, {
        UpdateExpression: 'SET #autoResume = :plan',
        ExpressionAttributeNames: { '#autoResume': 'autoResume' },
        ExpressionAttributeValues: { ':plan': plan },
      });
    },

    async claimResume(pipelineId, runId, claim) {
      // One conditional update decides between two resumes at once: only a failed or partial run is taken.
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
      try {
        await call('UpdateItem claim resume', () =>
          client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: runKey(pipelineId, runId),
              UpdateExpression: claim.automatic
                ? 'SET #status = :running, #executionId = :executionId, #autoResume.#state = :started'
                : 'SET #status = :running, #executionId = :executionId',
              ConditionExpression: claim.automatic
                ? '#status IN (:failed, :partial) AND #autoResume.#state = :scheduled'
                : '#status IN (:failed, :partial)',
              ExpressionAttributeNames: {
                '#status': 'status',
                '#executionId': 'executionId',
                ...(claim.automatic ? { '#autoResume': 'autoResume', '#state': 'state' } : {}),
              },
              ExpressionAttributeValues: {
                ':running': 'running',
                ':failed': 'failed',
                ':partial': 'partial',
                ':executionId': claim.executionId,
                ...(claim.automatic ? { ':started': 'started', ':scheduled': 'scheduled' } : {}),
              },
            }),
          ),
        );
        return { claimed: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return { claimed: false, existing: await getRun(pipelineId, runId) };
      }
    },

    async listRuns(pipelineId, limit) {
      // Run ids do not sort by time, so read the partition's runs and order them by startedAt.
      // A few runs a day for 400 days is a few pages at most.
      const items = await queryPartition({ client, tableName }, 'Query runs', pipelineId, 'RUN#');
      const runs = items.map((item) => parseRunItem(tableName, item));
      return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, Math.max(0, limit));
    },
  };
}
