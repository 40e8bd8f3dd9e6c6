import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentError, TransientError } from '../errors';
import type { PublicationJournal, PublicationRecord, PublishedPart } from '../ports';
import {
  call,
  expiryFrom,
  fromItem,
  isConditionFailure,
  type LedgerOptions,
  PK,
  publicationKey,
  TTL,
} from './dynamo-table';

/** What was published for each run's draft (sk = PUBLICATION#<runId>), so a retry never posts twice. */
export function createPublicationJournal({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): PublicationJournal {
  const expiresAt = expiryFrom(now);

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
