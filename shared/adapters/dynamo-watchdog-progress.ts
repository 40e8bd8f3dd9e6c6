import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { WatchdogProgress } from '../pipeline/watchdog';
import {
  call,
  expiryFrom,
  getItem,
  inconsistent,
  type LedgerOptions,
  TTL,
  watchdogKey,
} from './dynamo-table';

/** How far the watchdog has checked each schedule (sk = WATCHDOG#<schedule>): the next check starts there. */
export function createWatchdogProgress({
  client,
  tableName,
  now = Date.now,
}: LedgerOptions): WatchdogProgress {
  const expiresAt = expiryFrom(now);
  return {
    async checkedUntil(pipelineId, scheduleName) {
      const item = await getItem(
        { client, tableName },
        'GetItem watchdog',
        watchdogKey(pipelineId, scheduleName),
      );
      if (!item) return undefined;
      if (typeof item.checkedUntil !== 'number') throw inconsistent(tableName, item, 'no checkedUntil');
      return item.checkedUntil;
    },
    async setCheckedUntil(pipelineId, scheduleName, ms) {
      // Only the one scheduled watchdog writes it: a plain put, the later check wins.
      await call('PutItem watchdog', () =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...watchdogKey(pipelineId, scheduleName), checkedUntil: ms, [TTL]: expiresAt() },
          }),
        ),
      );
    },
  };
}
