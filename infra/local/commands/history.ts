import { createDynamoDocumentClient } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import { startLocalEnvironment } from '../environment';
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
      const done = runs.filter((r) => r.status !== 'running');
      const ok = done.filter((r) => r.status === 'succeeded').length;
      console.log(
        `${runs.length} run(s); success rate ${done.length ? Math.round((100 * ok) / done.length) : 0}%`,
      );
      return 0;
    } finally {
      await environment.close();
    }
  },
};
