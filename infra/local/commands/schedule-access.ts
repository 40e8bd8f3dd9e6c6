import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import { createScheduledPostStore } from '../../../shared/adapters/dynamo-post-store';
import { createScheduleStateStore } from '../../../shared/adapters/dynamo-schedule-state';
import {
  createSchedulerGateway,
  type SchedulerGateway,
} from '../../../shared/adapters/eventbridge-scheduler';
import type { RunLedger, ScheduledPostStore, ScheduleStateStore } from '../../../shared/ports';
import { attachSharedAws } from '../shared-aws';
import type { CliContext } from './command';
import { deployedTable } from './ledger-access';

export interface ScheduleAccess {
  states: ScheduleStateStore;
  /** One-off posts, for the preview of what is coming. */
  posts: ScheduledPostStore;
  /** The runs, for the automatic resumes still waiting. */
  runs: RunLedger;
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
    const { table, client } = deployedTable(context);
    const scheduler = new SchedulerClient({});
    return {
      states: createScheduleStateStore({ client, tableName: table }),
      posts: createScheduledPostStore({ client, tableName: table }),
      runs: createRunLedger({ client, tableName: table }),
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
    runs: createRunLedger({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }),
    where: `local ledger in ${context.dataDir}`,
    close: aws.close,
  };
}
