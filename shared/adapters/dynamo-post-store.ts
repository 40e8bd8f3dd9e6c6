import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentError } from '../errors';
import type { ScheduledPost, ScheduledPostStore } from '../ports';
import {
  call,
  expiryFrom,
  fromItem,
  getItem,
  isConditionFailure,
  type LedgerOptions,
  PK,
  partition,
  queryPartition,
  SK,
  TTL,
} from './dynamo-table';

/** One-off posts in the ledger table: sk = POST#<postId>; the status moves only along its lifecycle. */
const postKey = (pipelineId: string, postId: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `POST#${postId}`,
});

export function createScheduledPostStore({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): ScheduledPostStore {
  const expiresAt = expiryFrom(now);

  const get = async (pipelineId: string, postId: string) =>
    fromItem<ScheduledPost>(
      await getItem({ client, tableName }, 'GetItem post', postKey(pipelineId, postId)),
    );

  return {
    get,

    async create(post) {
      try {
        await call('PutItem post', () =>
          client.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...postKey(post.pipelineId, post.postId), ...post, [TTL]: expiresAt() },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
            }),
          ),
        );
      } catch (error) {
        if (isConditionFailure(error)) throw new PermanentError(`post ${post.postId} already exists`);
        throw error;
      }
    },

    async list(pipelineId, statuses) {
      const items = await queryPartition({ client, tableName }, 'Query posts', pipelineId, 'POST#');
      return items
        .map((item) => fromItem<ScheduledPost>(item) as ScheduledPost)
        .filter((post) => !statuses || statuses.includes(post.status))
        .sort((a, b) => a.at.localeCompare(b.at));
    },

    async transition(pipelineId, postId, from, to, facts = {}) {
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = { ':from': from, ':to': to };
      const sets = ['#status = :to'];
      for (const [field, value] of Object.entries(facts)) {
        if (value === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      try {
        const answer = await call('UpdateItem post', () =>
          client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: postKey(pipelineId, postId),
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: '#status = :from',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        return fromItem<ScheduledPost>(answer.Attributes);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
