import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentError } from '../errors';
import type { ScheduledPost, ScheduledPostStore } from '../ports';
import {
  call,
  expiryFrom,
  fromItem,
  isConditionFailure,
  type LedgerOptions,
  PK,
  partition,
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

  async function get(pipelineId: string, postId: string): Promise<ScheduledPost | undefined> {
    const answer = await call('GetItem post', () =>
      client.send(
        new GetCommand({ TableName: tableName, Key: postKey(pipelineId, postId), ConsistentRead: true }),
      ),
    );
    return fromItem<ScheduledPost>(answer.Item);
  }

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
      const posts: ScheduledPost[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await call('Query posts', () =>
          client.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
              ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
              ExpressionAttributeValues: { ':pk': partition(pipelineId), ':prefix': 'POST#' },
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          ),
        );
        for (const item of page.Items ?? []) {
          const post = fromItem<ScheduledPost>(item);
          if (post && (!statuses || statuses.includes(post.status))) posts.push(post);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return posts.sort((a, b) => a.at.localeCompare(b.at));
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
