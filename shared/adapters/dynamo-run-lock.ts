import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../errors';
import type { LockResult, RunLedger } from '../ports';
import { call, expiryFrom, isConditionFailure, type LedgerOptions, lockKey, PK, TTL } from './dynamo-table';

interface LockItem {
  holder?: string;
  leaseUntil?: number;
}

/** One run per pipeline at a time: a lease-based lock item (sk = LOCK). */
export function createRunLock({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): Pick<RunLedger, 'acquireLock' | 'getLock' | 'releaseLock'> {
  const expiresAt = expiryFrom(now);

  async function readLock(pipelineId: string): Promise<LockItem | undefined> {
    const answer = await call('GetItem lock', () =>
      client.send(new GetCommand({ TableName: tableName, Key: lockKey(pipelineId), ConsistentRead: true })),
    );
    return answer.Item as LockItem | undefined;
  }

  return {
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
