import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LEDGER_TABLE_KEYS } from '../config/resources';
import { PermanentError } from '../errors';
import { awsErrorName, toDigestError } from './aws-clients';

/**
 * One table holds a pipeline's runs, its lock and its publication journal:
 *   pk = PIPELINE#<id>;  sk = RUN#<runId> | LOCK | PUBLICATION#<runId> | DELIVERY#<runId>#<purpose>#<name>
 *        | WATCHDOG#<schedule>
 * This module holds what the three share: keys, retention, error translation.
 */
export interface LedgerOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch ms; for the TTL attribute. */
  now?: () => number;
}

export const { partitionKey: PK, sortKey: SK, ttl: TTL } = LEDGER_TABLE_KEYS;

/** Records expire 400 days after they were written (TTL attribute, epoch seconds). */
const RETENTION_S = 400 * 24 * 3600;

export const expiryFrom = (now: () => number) => () => Math.floor(now() / 1000) + RETENTION_S;

export const partition = (pipelineId: string) => `PIPELINE#${pipelineId}`;
export const runKey = (pipelineId: string, runId: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `RUN#${runId}`,
});
export const lockKey = (pipelineId: string) => ({ [PK]: partition(pipelineId), [SK]: 'LOCK' });
export const publicationKey = (pipelineId: string, runId: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `PUBLICATION#${runId}`,
});

export const reviewKey = (pipelineId: string, runId: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `REVIEW#${runId}`,
});

export const deliveryKey = (pipelineId: string, key: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `DELIVERY#${key}`,
});

export const watchdogKey = (pipelineId: string, scheduleName: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `WATCHDOG#${scheduleName}`,
});

export const isConditionFailure = (error: unknown) =>
  awsErrorName(error) === 'ConditionalCheckFailedException';

/** Run one request; a failed condition is the caller's business, anything else becomes a DigestError. */
export async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (isConditionFailure(error)) throw error;
    throw toDigestError('dynamodb', operation, error);
  }
}

/** The stored item without its table bookkeeping. */
export function fromItem<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { [PK]: _pk, [SK]: _sk, [TTL]: _ttl, ...record } = item;
  return record as T;
}

/**
 * A stored item that does not have the shape this code wrote is damaged
 * state: stop and say where, never read it as absent (that would re-publish).
 */
export function inconsistent(
  tableName: string,
  item: Record<string, unknown>,
  problem: string,
): PermanentError {
  return new PermanentError(
    `ledger table ${tableName}: item ${String(item[PK])} ${String(item[SK])} is inconsistent: ${problem}`,
  );
}

type TableAccess = Pick<LedgerOptions, 'client' | 'tableName'>;

/** One item by key, read consistently (a write a moment ago must be seen), as stored. */
export async function getItem(
  { client, tableName }: TableAccess,
  operation: string,
  key: Record<string, string>,
): Promise<Record<string, unknown> | undefined> {
  const answer = await call(operation, () =>
    client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
  );
  return answer.Item;
}

/** Every item of a pipeline's partition whose sort key starts with `prefix`, all pages. */
export async function queryPartition(
  { client, tableName }: TableAccess,
  operation: string,
  pipelineId: string,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await call(operation, () =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': partition(pipelineId), ':prefix': prefix },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
