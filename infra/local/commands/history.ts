import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import { startLocalEnvironment } from '../environment';
import { historySummary } from '../report';
import { applyEnvironment } from '../runner';
import type { LocalCommand } from './command';

export const historyCommand: LocalCommand = {
  name: 'history',
  synopsis: "history             list the pipeline's runs, newest first",
  optionHelp: ['--limit <n>         how many runs history lists (default 20)'],
  options: { limit: { type: 'string', default: '20' } },
  async run({ config, dataDir, values, pipelineId }) {
    const id = pipelineId();
    const environment = await startLocalEnvironment({
      config,
      dataDir,
      secretsEnv: process.env,
      now: new Date(),
    });
    try {
      applyEnvironment(config, environment);
      const ledger = createRunLedger({
        client: createDynamoDocumentClient(),
        tableName: environment.aws.table,
      });
      const runs = await ledger.listRuns(id, Number(values.limit));
      for (const run of runs) {
        console.log(
          `${run.startedAt}  ${run.status.padEnd(9)} ${run.runId}${run.reason ? `  (${run.reason})` : ''}`,
        );
      }
      console.log(historySummary(runs));
      return 0;
    } finally {
      await environment.close();
    }
  },
};
