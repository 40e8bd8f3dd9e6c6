import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentError, TransientError } from '../errors';
import type { PublicationJournal, PublicationRecord, PublishedPart, UnknownResolution } from '../ports';
import {
  call,
  expiryFrom,
  fromItem,
  getItem,
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
    const item = await getItem(
      { client, tableName },
      'GetItem publication',
      publicationKey(pipelineId, runId),
    );
    return fromItem<PublicationRecord>(item);
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

    async clearAttempt(pipelineId, runId, index) {
      try {
        await update(
          'UpdateItem clear attempt',
          pipelineId,
          runId,
          'REMOVE #attempting',
          { '#attempting': 'attempting' },
          { ':index': index },
          '#attempting = :index',
        );
      } catch (error) {
        // Another part is marked (or none): that marker is not ours to clear.
        if (!isConditionFailure(error)) throw error;
      }
    },

    async markUnknown(pipelineId, runId, index, reason) {
      try {
        await update(
          'UpdateItem unknown',
          pipelineId,
          runId,
          'SET #status = :unknown, #reason = :reason, #attempting = :index',
          { '#status': 'status', '#reason': 'unknownReason', '#attempting': 'attempting' },
          { ':unknown': 'unknown', ':reason': reason, ':index': index },
        );
      } catch (error) {
        throw isConditionFailure(error) ? missing(runId) : error;
      }
    },

    async resolveUnknown(pipelineId, runId, resolution: UnknownResolution) {
      const stored = await get(pipelineId, runId);
      if (!stored) throw missing(runId);
      const index = stored.attempting;
      if (stored.status !== 'unknown' || index === undefined) {
        throw new PermanentError(
          `run ${runId} has no publication of unknown outcome (its publication is ${stored.status})`,
        );
      }
      const names = {
        '#status': 'status',
        '#reason': 'unknownReason',
        '#attempting': 'attempting',
        '#published': 'published',
      };
      const values: Record<string, unknown> = {
        ':unknown': 'unknown',
        ':index': index,
        ':open': 'in_progress',
      };
      let expression = 'SET #status = :open REMOVE #reason, #attempting';
      if (resolution.published) {
        values[':part'] = resolution.published;
        expression = `SET #status = :open, #published[${index}] = :part REMOVE #reason, #attempting`;
      }
      try {
        // Only the state the operator looked at may be resolved (no concurrent resume in between).
        await update(
          'UpdateItem resolve',
          pipelineId,
          runId,
          expression,
          names,
          values,
          '#status = :unknown AND #attempting = :index AND size(#published) >= :index',
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        throw new PermanentError(`publication of run ${runId} changed meanwhile; look again`);
      }
      return (await get(pipelineId, runId)) ?? stored;
    },
  };
}
