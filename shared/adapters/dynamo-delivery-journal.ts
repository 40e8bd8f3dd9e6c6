import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../errors';
import type { DeliveryJournal, DeliveryReceipt, DeliveryRecord } from '../ports';
import {
  call,
  deliveryKey,
  expiryFrom,
  fromItem,
  getItem,
  inconsistent,
  isConditionFailure,
  type LedgerOptions,
  PK,
  TTL,
} from './dynamo-table';

const STATUSES = new Set(['attempting', 'delivered', 'unknown', 'failed']);

/**
 * Each delivery of a run (sk = DELIVERY#<runId>#<purpose>#<name>), written before the
 * call and confirmed after it, as the publication journal does for X: the
 * conditional put is what makes a second attempt see the first.
 */
export function createDeliveryJournal({ client, tableName, now = Date.now }: LedgerOptions): DeliveryJournal {
  const expiresAt = expiryFrom(now);

  async function get(pipelineId: string, key: string): Promise<DeliveryRecord | undefined> {
    const item = await getItem({ client, tableName }, 'GetItem delivery', deliveryKey(pipelineId, key));
    if (!item) return undefined;
    // A record this code could not have written must stop the delivery, never read as "not sent".
    if (!STATUSES.has(String(item.status)) || !Array.isArray(item.confirmed))
      throw inconsistent(tableName, item, 'a delivery without a status or its confirmed pieces');
    return fromItem<DeliveryRecord>(item);
  }

  const update = (
    operation: string,
    pipelineId: string,
    key: string,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    condition = 'attribute_exists(#pk)',
  ) =>
    call(operation, () =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: deliveryKey(pipelineId, key),
          UpdateExpression: expression,
          ExpressionAttributeNames: { ...names, '#pk': PK },
          ExpressionAttributeValues: values,
          ConditionExpression: condition,
        }),
      ),
    );

  return {
    get,

    async beginAttempt(pipelineId, key, destination) {
      const record: DeliveryRecord = {
        pipelineId,
        key,
        destination,
        status: 'attempting',
        confirmed: [],
        attempts: 1,
      };
      try {
        await call('PutItem delivery', () =>
          client.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...deliveryKey(pipelineId, key), ...record, [TTL]: expiresAt() },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
            }),
          ),
        );
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const stored = await get(pipelineId, key);
      if (!stored) throw new TransientError(`delivery ${key} exists but could not be read`);
      if (stored.status === 'failed') {
        // The receiver refused it last time (nothing arrived): this attempt may send it again.
        try {
          await update(
            'UpdateItem delivery attempt',
            pipelineId,
            key,
            'SET #status = :attempting, #attempts = #attempts + :one REMOVE #error',
            { '#status': 'status', '#attempts': 'attempts', '#error': 'error' },
            { ':attempting': 'attempting', ':one': 1, ':failed': 'failed' },
            'attribute_exists(#pk) AND #status = :failed',
          );
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          // Another attempt moved it first: report what it holds now.
          return (await get(pipelineId, key)) ?? stored;
        }
      }
      return stored;
    },

    async confirmPiece(pipelineId, key, index, id) {
      // Pieces are confirmed in order: index k is written only once k pieces are there (or it repeats the last).
      await update(
        'UpdateItem delivery piece',
        pipelineId,
        key,
        `SET #confirmed[${index}] = :id`,
        { '#confirmed': 'confirmed' },
        { ':id': id, ':index': index },
        'attribute_exists(#pk) AND size(#confirmed) >= :index',
      );
    },

    async complete(pipelineId, key, receipt: DeliveryReceipt) {
      await update(
        'UpdateItem delivery complete',
        pipelineId,
        key,
        'SET #status = :delivered, #receipt = :receipt',
        { '#status': 'status', '#receipt': 'receipt' },
        { ':delivered': 'delivered', ':receipt': receipt },
      );
    },

    async fail(pipelineId, key, error) {
      await update(
        'UpdateItem delivery failed',
        pipelineId,
        key,
        'SET #status = :failed, #error = :error',
        { '#status': 'status', '#error': 'error' },
        { ':failed': 'failed', ':error': error.slice(0, 1000) },
      );
    },

    async markUnknown(pipelineId, key, reason) {
      await update(
        'UpdateItem delivery unknown',
        pipelineId,
        key,
        'SET #status = :unknown, #error = :reason',
        { '#status': 'status', '#error': 'error' },
        { ':unknown': 'unknown', ':reason': reason.slice(0, 1000) },
      );
    },

    async releaseUnknown(pipelineId, key) {
      try {
        await update(
          'UpdateItem delivery release',
          pipelineId,
          key,
          'SET #status = :failed, #error = :why',
          { '#status': 'status', '#error': 'error' },
          { ':failed': 'failed', ':unknown': 'unknown', ':why': 'the operator said it did not arrive' },
          'attribute_exists(#pk) AND #status = :unknown',
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}
