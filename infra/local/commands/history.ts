import { historySummary } from '../report';
import type { LocalCommand } from './command';
import { openLedger } from './ledger-access';

export const historyCommand: LocalCommand = {
  name: 'history',
  synopsis: "history             list the pipeline's runs, newest first",
  optionHelp: ['--limit <n>         how many runs history lists (default 20)'],
  options: { limit: { type: 'string', default: '20' } },
  async run(context) {
    const id = context.pipelineId();
    // Only the ledger: no sandboxes, and the data directory's one service, so it answers during a run.
    const access = await openLedger(context);
    try {
      const runs = await access.ledger.listRuns(id, Number(context.values.limit));
      for (const run of runs) {
        console.log(
          `${run.startedAt}  ${run.status.padEnd(9)} ${run.runId}${run.reason ? `  (${run.reason})` : ''}`,
        );
      }
      console.log(historySummary(runs));
      return 0;
    } finally {
      await access.close();
    }
  },
};
