import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsErrorName, createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import { createReviewStore } from '../../../shared/adapters/dynamo-review-store';
import { holderIsGone } from '../../../shared/adapters/local-process';
import { createTaskCallback } from '../../../shared/adapters/sfn-task-callback';
import { PIPELINE_STACK_NAME } from '../../../shared/config/resources';
import { DigestError } from '../../../shared/errors';
import type { ReviewStore, RunLedger, TaskCallback } from '../../../shared/ports';
import { attachSharedAws } from '../shared-aws';
import type { CliContext } from './command';

export interface LedgerAccess {
  ledger: RunLedger;
  /** Review requests and decisions, in the same table. */
  reviews: ReviewStore;
  /** Against AWS: SendTaskSuccess/Failure resume a waiting review; locally the runner reads the store. */
  taskCallback?: TaskCallback;
  /** `local ledger in <dir>` or `DynamoDB table <name>`, for messages. */
  where: string;
  /** Locally a lock names its process, which can be checked; against AWS only the lease can. */
  isHolderGone?: typeof holderIsGone;
  /** Against AWS: the status of a run's execution, which says better than the lease whether it still works. */
  executionStatus?: (executionArn: string) => Promise<string | undefined>;
  close(): Promise<void>;
}

/** Options of the commands that may act on the deployed table instead of the local one. */
export const AWS_OPTIONS = {
  aws: { type: 'boolean', default: false },
  table: { type: 'string' },
} as const;
export const AWS_OPTION_HELP = [
  '--aws               act on the deployed ledger table (AWS credentials and region from the environment)',
  '--table <name>      the ledger table with --aws (default: $DIGEST_LEDGER_TABLE)',
];

/**
 * The deployed ledger table a command names with `--aws` (`--table` or
 * DIGEST_LEDGER_TABLE), reached through the SDK's default region and
 * credential chain:
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-region.html
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html
 */
export function deployedTable(context: Pick<CliContext, 'values'>): {
  table: string;
  client: DynamoDBDocumentClient;
} {
  const table =
    typeof context.values.table === 'string' ? context.values.table : process.env.DIGEST_LEDGER_TABLE;
  if (!table) throw new DigestError('--aws needs the ledger table: --table <name> or DIGEST_LEDGER_TABLE');
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { table, client };
}

/**
 * The deployed pipeline stack's outputs (infra/scheduled-targets.ts), by key, for what a command needs from
 * the stack and was not told in the environment. A stack that does not exist is a 400 whose code is
 * `ValidationError` with "Stack with id … does not exist" (not the AmazonCloudFormationException the
 * API reference names: boto/boto3#2807, aws/aws-sdk#44; SDK v3: aws-actions/aws-cloudformation-github-deploy#129).
 */
export async function deployedOutputs(
  keys: readonly string[],
  client: CloudFormationClient = new CloudFormationClient({}),
): Promise<Record<string, string>> {
  const region = await client.config.region().catch(() => 'the default region');
  const notDeployed = (why: string) =>
    new DigestError(
      `stack ${PIPELINE_STACK_NAME} ${why} in ${region}: deploy it (npx cdk deploy --all) or set the ARNs in the environment`,
    );
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: PIPELINE_STACK_NAME }));
    const outputs = Object.fromEntries(
      (answer.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
    const missing = keys.filter((key) => !outputs[key]);
    if (missing.length > 0)
      throw notDeployed(`has no output ${missing.join(', ')} (deployed before it had them?)`);
    return Object.fromEntries(keys.map((key) => [key, outputs[key] ?? '']));
  } catch (error) {
    if (error instanceof DigestError) throw error;
    if (
      awsErrorName(error) === 'ValidationError' &&
      /does not exist/.test(String((error as Error).message))
    ) {
      throw notDeployed('is not deployed');
    }
    throw new DigestError(
      `cannot read stack ${PIPELINE_STACK_NAME}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}

/**
 * The run ledger a command reads and repairs: the data directory's (through
 * its shared local service), or with `--aws` the deployed table through the
 * SDK's default credential and region chain.
 */
export async function openLedger(context: CliContext): Promise<LedgerAccess> {
  if (context.values.aws === true) {
    const { table, client } = deployedTable(context);
    const sfn = new SFNClient({});
    return {
      ledger: createRunLedger({ client, tableName: table }),
      reviews: createReviewStore({ client, tableName: table }),
      taskCallback: createTaskCallback(sfn),
      where: `DynamoDB table ${table}`,
      // Eventually consistent, and RUNNING until the execution has really stopped:
      // https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
      executionStatus: async (executionArn) =>
        (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status,
      close: async () => {
        client.destroy();
        sfn.destroy();
      },
    };
  }
  const aws = await attachSharedAws(context.dataDir);
  const client = createDynamoDocumentClient(aws.env);
  return {
    ledger: createRunLedger({ client, tableName: aws.table }),
    reviews: createReviewStore({ client, tableName: aws.table }),
    where: `local ledger in ${context.dataDir}`,
    isHolderGone: holderIsGone,
    close: aws.close,
  };
}
