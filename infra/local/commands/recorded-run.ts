import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import type { RunRecord } from '../../../shared/ports';
import { attachSharedAws } from '../shared-aws';

/**
 * The ledger's record of one run in the local data folder, looked up before a replay or a resume starts
 * anything, through the data folder's shared local service as every command reaches it; undefined when
 * there is none.
 */
export async function findRecordedRun(
  dataDir: string,
  pipelineId: string,
  runId: string,
): Promise<RunRecord | undefined> {
  // No table folder yet: no run was ever recorded here, and nothing needs to start to know it.
  if (!existsSync(join(dataDir, 'dynamodb'))) return undefined;
  const aws = await attachSharedAws(dataDir);
  try {
    const ledger = createRunLedger({ client: createDynamoDocumentClient(aws.env), tableName: aws.table });
    return await ledger.getRun(pipelineId, runId);
  } finally {
    await aws.close();
  }
}
