import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { LEDGER_TABLE_KEYS } from '../config/resources';
import { PermanentError, TransientError } from '../errors';
import type {
  LockResult,
  PublicationJournal,
  PublicationRecord,
  PublishedPart,
  RunLedger,
  RunRecord,
} from '../ports';
import { awsErrorName, toDigestError } from './aws-clients';

/**
 * One table holds a pipeline's runs, its lock and its publication journal:
 *   pk = PIPELINE#<id>;  sk = RUN#<runId> | LOCK | PUBLICATION#<runId>
 */
export interface LedgerOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch ms; for the TTL attribute. */
  now?: () => number;
}

const { partitionKey: PK, sortKey: SK, ttl: TTL } = LEDGER_TABLE_KEYS;

/** Records expire 400 days after they were written (TTL attribute, epoch seconds). */
const RETENTION_S = 400 * 24 * 3600;

const partition = (pipelineId: string) => `PIPELINE#${pipelineId}`;
const runKey = (pipelineId: string, runId: string) => ({ [PK]: partition(pipelineId), [SK]: `RUN#${runId}` });
const lockKey = (pipelineId: string) => ({ [PK]: partition(pipelineId), [SK]: 'LOCK' });
const publicationKey = (pipelineId: string, runId: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `PUBLICATION#${runId}`,
});

export const isConditionFailure = (error: unknown) =>
  awsErrorName(error) === 'ConditionalCheckFailedException';

/** Run one request; a failed condition is the caller's business, anything else becomes a DigestError. */
async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (isConditionFailure(error)) throw error;
    throw toDigestError('dynamodb', operation, error);
  }
}

/** The stored item without its table bookkeeping. */
function fromItem<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { [PK]: _pk, [SK]: _sk, [TTL]: _ttl, ...record } = item;
  return record as T;
}

interface LockItem {
  holder?: string;
  leaseUntil?: number;
}

export function createRunLedger({ client, tableName, now = Date.now }: LedgerOptions): RunLedger {
  const expiresAt = () => Math.floor(now() / 1000) + RETENTION_S;

  async function getRun(pipelineId: string, runId: string): Promise<RunRecord | undefined> {
    const answer = await call('GetItem run', () =>
      client.send(
        new GetCommand({ TableName: tableName, Key: runKey(pipelineId, runId), ConsistentRead: true }),
      ),
    );
    return fromItem<RunRecord>(answer.Item);
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

  async function readLock(pipelineId: string): Promise<LockItem | undefined> {
    const answer = await call('GetItem lock', () =>
      client.send(new GetCommand({ TableName: tableName, Key: lockKey(pipelineId), ConsistentRead: true })),
    );
    return answer.Item as LockItem | undefined;
  }

  return {
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
        UpdateExpression:
          result.reason === undefined
            ? 'SET #status = :status, #endedAt = :endedAt'
            : 'SET #status = :status, #endedAt = :endedAt, #reason = :reason',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#endedAt': 'endedAt',
          ...(result.reason === undefined ? {} : { '#reason': 'reason' }),
        },
        ExpressionAttributeValues: {
          ':status': result.status,
          ':endedAt': result.endedAt,
          ...(result.reason === undefined ? {} : { ':reason': result.reason }),
        },
      });
    },

    async listRuns(pipelineId, limit) {
      // Run ids do not sort by time, so read the partition's runs and order them by startedAt.
      // A few runs a day for 400 days is a few pages at most.
      const runs: RunRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await call('Query runs', () =>
          client.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
              ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
              ExpressionAttributeValues: { ':pk': partition(pipelineId), ':prefix': 'RUN#' },
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          ),
        );
        for (const item of page.Items ?? []) {
          const run = fromItem<RunRecord>(item);
          if (run) runs.push(run);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, Math.max(0, limit));
    },

    async acquireLock(pipelineId, runId, nowMs, leaseMs): Promise<LockResult> {
      // A lock that vanishes between the refused put and the read is retried, a few times at most.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        try {
          const answer = await call('PutItem lock', () =>
            client.send(
              new PutCommand({
                TableName: tableName,
                Item: {
                  ...lockKey(pipelineId),
                  holder: runId,
                  leaseUntil: nowMs + leaseMs,
                  acquiredAt: nowMs,
                  [TTL]: expiresAt(),
                },
                // Free, expired, or already ours (a retried BeginRun): all mean "take it".
                ConditionExpression: 'attribute_not_exists(#pk) OR #leaseUntil < :now OR #holder = :runId',
                ExpressionAttributeNames: { '#pk': PK, '#leaseUntil': 'leaseUntil', '#holder': 'holder' },
                ExpressionAttributeValues: { ':now': nowMs, ':runId': runId },
                ReturnValues: 'ALL_OLD',
              }),
            ),
          );
          const old = answer.Attributes as LockItem | undefined;
          // Another holder's item was still there: its lease had run out, so it died or hung.
          if (old?.holder && old.holder !== runId) {
            return { acquired: true, takenOverFrom: { runId: old.holder, leaseUntil: old.leaseUntil ?? 0 } };
          }
          return { acquired: true };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          const held = await readLock(pipelineId);
          if (held?.holder !== undefined && held.leaseUntil !== undefined) {
            return { acquired: false, heldBy: held.holder, leaseUntil: held.leaseUntil };
          }
        }
      }
      throw new TransientError(`lock of ${pipelineId} kept changing while ${runId} tried to take it`);
    },

    async getLock(pipelineId) {
      const held = await readLock(pipelineId);
      return held?.holder !== undefined
        ? { holder: held.holder, leaseUntil: held.leaseUntil ?? 0 }
        : undefined;
    },

    async releaseLock(pipelineId, runId) {
      try {
        await call('DeleteItem lock', () =>
          client.send(
            new DeleteCommand({
              TableName: tableName,
              Key: lockKey(pipelineId),
              ConditionExpression: '#holder = :runId',
              ExpressionAttributeNames: { '#holder': 'holder' },
              ExpressionAttributeValues: { ':runId': runId },
            }),
          ),
        );
      } catch (error) {
        // Someone else holds it now (ours expired and was taken over), or it is gone: not ours to release.
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
}

export function createPublicationJournal({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): PublicationJournal {
  const expiresAt = () => Math.floor(now() / 1000) + RETENTION_S;

  async function get(pipelineId: string, runId: string): Promise<PublicationRecord | undefined> {
    const answer = await call('GetItem publication', () =>
      client.send(
        new GetCommand({
          TableName: tableName,
          Key: publicationKey(pipelineId, runId),
          ConsistentRead: true,
        }),
      ),
    );
    return fromItem<PublicationRecord>(answer.Item);
  }

  /** Update the existing record, on `condition` (always: the record exists). */
  const update = (
    operation: string,
    pipelineId: string,
    runId: string,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    condition?: string,
  ) =>
    call(operation, () =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: publicationKey(pipelineId, runId),
          UpdateExpression: expression,
          ExpressionAttributeNames: { ...names, '#pk': PK },
          ExpressionAttributeValues: values,
          ConditionExpression: condition
            ? `attribute_exists(#pk) AND (${condition})`
            : 'attribute_exists(#pk)',
        }),
      ),
    );

  const missing = (runId: string) => new PermanentError(`no publication record for run ${runId}`);

  return {
    get,

    async begin(pipelineId, runId, parts) {
      const record: PublicationRecord = {
        pipelineId,
        runId,
        parts: [...parts],
        published: [],
        status: 'in_progress',
      };
      try {
        await call('PutItem publication', () =>
          client.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...publicationKey(pipelineId, runId), ...record, [TTL]: expiresAt() },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
            }),
          ),
        );
        return record;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // A retry: what was published before wins over the parts passed now.
        const stored = await get(pipelineId, runId);
        if (!stored) throw new TransientError(`publication of ${runId} exists but could not be read`);
        return stored;
      }
    },

    async markAttempt(pipelineId, runId, index) {
      try {
        await update(
          'UpdateItem attempt',
          pipelineId,
          runId,
          'SET #attempting = :index',
          { '#attempting': 'attempting' },
          { ':index': index },
        );
      } catch (error) {
        throw isConditionFailure(error) ? missing(runId) : error;
      }
    },

    async confirmPart(pipelineId, runId, index, part: PublishedPart) {
      // Parts are confirmed in order: `published[index]` may replace the last entry (a repeat)
      // or extend the list by one, never leave a gap (DynamoDB would append at the end).
      const names = { '#published': 'published', '#attempting': 'attempting' };
      const values = { ':index': index, ':part': part };
      const inOrder = 'size(#published) >= :index';
      try {
        await update(
          'UpdateItem confirm',
          pipelineId,
          runId,
          `SET #published[${index}] = :part REMOVE #attempting`,
          names,
          values,
          `${inOrder} AND (attribute_not_exists(#attempting) OR #attempting = :index)`,
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // `attempting` names another part: record this one and leave that marker alone.
      try {
        await update(
          'UpdateItem confirm',
          pipelineId,
          runId,
          `SET #published[${index}] = :part`,
          { '#published': 'published' },
          values,
          inOrder,
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const stored = await get(pipelineId, runId);
        if (!stored) throw missing(runId);
        throw new PermanentError(
          `part ${index} of run ${runId} confirmed out of order (${stored.published.length} confirmed)`,
        );
      }
    },

    async complete(pipelineId, runId) {
      try {
        await update(
          'UpdateItem complete',
          pipelineId,
          runId,
          'SET #status = :completed',
          { '#status': 'status' },
          { ':completed': 'completed' },
        );
      } catch (error) {
        throw isConditionFailure(error) ? missing(runId) : error;
      }
    },
  };
}
