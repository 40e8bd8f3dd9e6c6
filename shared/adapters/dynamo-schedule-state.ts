import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduleEvent, ScheduleState, ScheduleStateStore } from '../ports';
import {
  call,
  expiryFrom,
  fromItem,
  getItem,
  isConditionFailure,
  type LedgerOptions,
  PK,
  partition,
  SK,
  TTL,
} from './dynamo-table';

/**
 * Each schedule's state in the ledger table: sk = SCHEDULE#<name> holds the
 * current state and failure count (kept for good: no TTL), and one
 * SCHEDULE_EVENT#<name>#<time> item per pause or resume records who and why.
 */
const stateKey = (pipelineId: string, name: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `SCHEDULE#${name}`,
});
const eventKey = (pipelineId: string, name: string, at: string) => ({
  [PK]: partition(pipelineId),
  [SK]: `SCHEDULE_EVENT#${name}#${at}`,
});

export function createScheduleStateStore({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): ScheduleStateStore {
  const expiresAt = expiryFrom(now);

  async function get(pipelineId: string, scheduleName: string): Promise<ScheduleState> {
    const item = await getItem({ client, tableName }, 'GetItem schedule', stateKey(pipelineId, scheduleName));
    return (
      fromItem<ScheduleState>(item) ?? {
        pipelineId,
        scheduleName,
        state: 'enabled',
        consecutiveFailures: 0,
      }
    );
  }

  async function logEvent(pipelineId: string, scheduleName: string, event: ScheduleEvent): Promise<void> {
    await call('PutItem schedule event', () =>
      client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...eventKey(pipelineId, scheduleName, event.at), ...event, [TTL]: expiresAt() },
        }),
      ),
    );
  }

  /** Write the state with `changes`, creating it on first use. */
  async function setState(
    pipelineId: string,
    scheduleName: string,
    changes: Record<string, unknown>,
    remove: string[] = [],
  ): Promise<ScheduleState> {
    const names: Record<string, string> = { '#pipelineId': 'pipelineId', '#scheduleName': 'scheduleName' };
    const values: Record<string, unknown> = { ':pipelineId': pipelineId, ':scheduleName': scheduleName };
    const sets = ['#pipelineId = :pipelineId', '#scheduleName = :scheduleName'];
    if (!('consecutiveFailures' in changes)) {
      names['#failures'] = 'consecutiveFailures';
      values[':zero'] = 0;
      sets.push('#failures = if_not_exists(#failures, :zero)');
    }
    for (const [field, value] of Object.entries(changes)) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    for (const field of remove) names[`#${field}`] = field;
    const answer = await call('UpdateItem schedule', () =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: stateKey(pipelineId, scheduleName),
          UpdateExpression: `SET ${sets.join(', ')}${remove.length ? ` REMOVE ${remove.map((f) => `#${f}`).join(', ')}` : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return fromItem<ScheduleState>(answer.Attributes) as ScheduleState;
  }

  return {
    get,

    async pause(pipelineId, scheduleName, change) {
      const state = await setState(
        pipelineId,
        scheduleName,
        {
          state: 'paused',
          changedBy: change.by,
          changedAt: change.at,
          ...(change.reason ? { reason: change.reason } : {}),
          ...(change.until ? { pausedUntil: change.until } : {}),
        },
        [...(change.reason ? [] : ['reason']), ...(change.until ? [] : ['pausedUntil'])],
      );
      await logEvent(pipelineId, scheduleName, {
        at: change.at,
        action: 'paused',
        by: change.by,
        ...(change.reason ? { reason: change.reason } : {}),
        ...(change.until ? { until: change.until } : {}),
      });
      return state;
    },

    async resume(pipelineId, scheduleName, change) {
      // A resume also forgives past failures: the operator has looked.
      const state = await setState(
        pipelineId,
        scheduleName,
        {
          state: 'enabled',
          changedBy: change.by,
          changedAt: change.at,
          consecutiveFailures: 0,
          ...(change.reason ? { reason: change.reason } : {}),
        },
        ['pausedUntil', ...(change.reason ? [] : ['reason'])],
      );
      await logEvent(pipelineId, scheduleName, {
        at: change.at,
        action: 'resumed',
        by: change.by,
        ...(change.reason ? { reason: change.reason } : {}),
      });
      return state;
    },

    async recordRunOutcome(pipelineId, scheduleName, outcome, maxConsecutiveFailures) {
      const lastRun = { runId: outcome.runId, status: outcome.status, at: outcome.at };
      if (outcome.status !== 'failed') {
        const counted = outcome.status === 'succeeded' || outcome.status === 'partial';
        const state = await setState(pipelineId, scheduleName, {
          lastRun,
          ...(counted ? { consecutiveFailures: 0 } : {}),
        });
        return { state, autoPaused: false };
      }
      const answer = await call('UpdateItem schedule failure', () =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: stateKey(pipelineId, scheduleName),
            UpdateExpression:
              'SET #pipelineId = :pipelineId, #scheduleName = :scheduleName, #lastRun = :lastRun, #state = if_not_exists(#state, :enabled) ADD #failures :one',
            ExpressionAttributeNames: {
              '#pipelineId': 'pipelineId',
              '#scheduleName': 'scheduleName',
              '#lastRun': 'lastRun',
              '#state': 'state',
              '#failures': 'consecutiveFailures',
            },
            ExpressionAttributeValues: {
              ':pipelineId': pipelineId,
              ':scheduleName': scheduleName,
              ':lastRun': lastRun,
              ':enabled': 'enabled',
              ':one': 1,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      const state = fromItem<ScheduleState>(answer.Attributes) as ScheduleState;
      if (state.state !== 'enabled' || state.consecutiveFailures < maxConsecutiveFailures) {
        return { state, autoPaused: false };
      }
      const reason = `paused after ${state.consecutiveFailures} failed runs in a row (last: ${outcome.runId})`;
      try {
        // Only the run that tips it pauses it: the condition makes a concurrent second attempt a no-op.
        const paused = await call('UpdateItem schedule auto-pause', () =>
          client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: stateKey(pipelineId, scheduleName),
              UpdateExpression: 'SET #state = :paused, #reason = :reason, #by = :by, #at = :at',
              ConditionExpression: '#state = :enabled',
              ExpressionAttributeNames: {
                '#state': 'state',
                '#reason': 'reason',
                '#by': 'changedBy',
                '#at': 'changedAt',
              },
              ExpressionAttributeValues: {
                ':paused': 'paused',
                ':enabled': 'enabled',
                ':reason': reason,
                ':by': 'digest',
                ':at': outcome.at,
              },
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        await logEvent(pipelineId, scheduleName, {
          at: outcome.at,
          action: 'auto-paused',
          by: 'digest',
          reason,
        });
        return { state: fromItem<ScheduleState>(paused.Attributes) as ScheduleState, autoPaused: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return { state: await get(pipelineId, scheduleName), autoPaused: false };
      }
    },

    async history(pipelineId, scheduleName, limit) {
      const answer = await call('Query schedule events', () =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
            ExpressionAttributeValues: {
              ':pk': partition(pipelineId),
              ':prefix': `SCHEDULE_EVENT#${scheduleName}#`,
            },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      );
      return (answer.Items ?? []).map((item) => fromItem<ScheduleEvent>(item) as ScheduleEvent);
    },
  };
}
