import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ReviewRecord, ReviewStore } from '../ports';
import {
  call,
  expiryFrom,
  fromItem,
  getItem,
  inconsistent,
  isConditionFailure,
  type LedgerOptions,
  PK,
  reviewKey,
  TTL,
} from './dynamo-table';

const STATUSES = new Set(['pending', 'approved', 'rejected']);

function parseReviewItem(tableName: string, item: Record<string, unknown>): ReviewRecord {
  for (const field of ['pipelineId', 'runId', 'taskToken', 'requestedAt', 'deadline'] as const) {
    if (typeof item[field] !== 'string' || item[field] === '')
      throw inconsistent(tableName, item, `review without ${field}`);
  }
  if (typeof item.status !== 'string' || !STATUSES.has(item.status))
    throw inconsistent(tableName, item, `review status ${JSON.stringify(item.status)}`);
  return fromItem<ReviewRecord>(item) as ReviewRecord;
}

/** Each run's review request and decision (sk = REVIEW#<runId>), beside its run record. */
export function createReviewStore(options: LedgerOptions): ReviewStore {
  const { client, tableName, now = Date.now } = options;
  const expiresAt = expiryFrom(now);
  return {
    async request(record) {
      // A retried invocation of the waiting task has a new token: the latest one is the one that resumes it.
      await call('PutItem review', () =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...reviewKey(record.pipelineId, record.runId),
              ...record,
              status: 'pending',
              [TTL]: expiresAt(),
            },
          }),
        ),
      );
    },

    async get(pipelineId, runId) {
      const item = await getItem({ client, tableName }, 'GetItem review', reviewKey(pipelineId, runId));
      return item ? parseReviewItem(tableName, item) : undefined;
    },

    async decide(pipelineId, runId, { decision, by, at, reason }) {
      try {
        // One conditional write decides: a second approve, or a reject racing an approve, finds it decided.
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
        const answer = await call('UpdateItem review', () =>
          client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: reviewKey(pipelineId, runId),
              UpdateExpression: `SET #status = :status, #by = :by, #at = :at${reason === undefined ? '' : ', #reason = :reason'}`,
              ConditionExpression: 'attribute_exists(#pk) AND #status = :pending AND #deadline > :at',
              ExpressionAttributeNames: {
                '#pk': PK,
                '#status': 'status',
                '#by': 'decidedBy',
                '#at': 'decidedAt',
                '#deadline': 'deadline',
                ...(reason === undefined ? {} : { '#reason': 'reason' }),
              },
              ExpressionAttributeValues: {
                ':status': decision === 'approve' ? 'approved' : 'rejected',
                ':pending': 'pending',
                ':by': by,
                ':at': at,
                ...(reason === undefined ? {} : { ':reason': reason }),
              },
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        return answer.Attributes ? parseReviewItem(tableName, answer.Attributes) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
