import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../errors';
import type { LockHolderProcess, LockInfo, LockResult, RunLedger } from '../ports';
import {
  call,
  expiryFrom,
  inconsistent,
  isConditionFailure,
  type LedgerOptions,
  lockKey,
  PK,
  TTL,
} from './dynamo-table';

/** The stored lock, checked: a lock that cannot be understood is never read as free. */
export function parseLockItem(tableName: string, item: Record<string, unknown>): LockInfo {
  const { holder, leaseUntil, holderHost, holderPid } = item;
  if (typeof holder !== 'string' || holder === '') throw inconsistent(tableName, item, 'lock without holder');
  if (typeof leaseUntil !== 'number' || !Number.isFinite(leaseUntil)) {
    throw inconsistent(tableName, item, `lock leaseUntil is ${JSON.stringify(leaseUntil)}, not a number`);
  }
  if (holderPid === undefined && holderHost === undefined) return { holder, leaseUntil };
  if (typeof holderHost !== 'string' || typeof holderPid !== 'number' || !Number.isInteger(holderPid)) {
    throw inconsistent(tableName, item, 'lock holder process without a host and an integer pid');
  }
  return { holder, leaseUntil, process: { host: holderHost, pid: holderPid } };
}

/** One run per pipeline at a time: a lease-based lock item (sk = LOCK). */
export function createRunLock({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): Pick<RunLedger, 'acquireLock' | 'getLock' | 'releaseLock'> {
  const expiresAt = expiryFrom(now);

  async function readLock(pipelineId: string): Promise<LockInfo | undefined> {
    const answer = await call('GetItem lock', () =>
      client.send(new GetCommand({ TableName: tableName, Key: lockKey(pipelineId), ConsistentRead: true })),
    );
    return answer.Item ? parseLockItem(tableName, answer.Item) : undefined;
  }

  return {
    async acquireLock(
      pipelineId,
      runId,
      nowMs,
      leaseMs,
      holderProcess?: LockHolderProcess,
    ): Promise<LockResult> {
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
                  ...(holderProcess ? { holderHost: holderProcess.host, holderPid: holderProcess.pid } : {}),
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
          const old = answer.Attributes as { holder?: unknown; leaseUntil?: unknown } | undefined;
          // Another holder's item was still there: its lease had run out, so it died or hung.
          if (typeof old?.holder === 'string' && old.holder !== runId) {
            const leaseUntil = typeof old.leaseUntil === 'number' ? old.leaseUntil : 0;
            return { acquired: true, takenOverFrom: { runId: old.holder, leaseUntil } };
          }
          return { acquired: true };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          const held = await readLock(pipelineId);
          if (held) {
            return {
              acquired: false,
              heldBy: held.holder,
              leaseUntil: held.leaseUntil,
              ...(held.process ? { process: held.process } : {}),
            };
          }
        }
      }
      throw new TransientError(`lock of ${pipelineId} kept changing while ${runId} tried to take it`);
    },

    getLock: readLock,

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
