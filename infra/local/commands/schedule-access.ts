import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createScheduledPostStore } from '../../../shared/adapters/dynamo-post-store';
import { createScheduleStateStore } from '../../../shared/adapters/dynamo-schedule-state';
import {
  createSchedulerGateway,
  type SchedulerGateway,
} from '../../../shared/adapters/eventbridge-scheduler';
import { DigestError } from '../../../shared/errors';
import type { ScheduledPostStore, ScheduleStateStore } from '../../../shared/ports';
import { attachSharedAws } from '../shared-aws';
import type { CliContext } from './command';

export interface ScheduleAccess {
  states: ScheduleStateStore;
  /** One-off posts, for the preview of what is coming. */
  posts: ScheduledPostStore;
  /** Against AWS: the deployed schedules, disabled and enabled with the ledger's pause. */
  scheduler?: SchedulerGateway;
  /** `local ledger in <dir>` or `DynamoDB table <name>`, for messages. */
  where: string;
  close(): Promise<void>;
}

/**
 * Each schedule's state as the commands read and change it: the data
 * directory's ledger (through its shared local service, as ledger-access.ts
 * does), or with `--aws` the deployed table and EventBridge Scheduler through
 * the SDK's default credential and region chain.
 */
export async function openSchedules(context: CliContext): Promise<ScheduleAccess> {
  if (context.values.aws === true) {
    const table =
      typeof context.values.table === 'string' ? context.values.table : process.env.DIGEST_LEDGER_TABLE;
    if (!table) throw new DigestError('--aws needs the ledger table: --table <name> or DIGEST_LEDGER_TABLE');
    // Region and credentials from the SDK's default chain:
    // https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-region.html
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const scheduler = new SchedulerClient({});
    return {
      states: createScheduleStateStore({ client, tableName: table }),
      posts: createScheduledPostStore({ client, tableName: table }),
      scheduler: createSchedulerGateway(scheduler),
      where: `DynamoDB table ${table} and EventBridge Scheduler`,
      close: async () => {
        client.destroy();
        scheduler.destroy();
      },
    };
  }
  const aws = await attachSharedAws(context.dataDir);
  return {
    states: createScheduleStateStore({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }),
    posts: createScheduledPostStore({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }),
    where: `local ledger in ${context.dataDir}`,
    close: aws.close,
  };
}
