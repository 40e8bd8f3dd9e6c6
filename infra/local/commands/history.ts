import { durationSummary, historySummary, runLine } from '../report';
import type { LocalCommand } from './command';
import { AWS_OPTIONS, openLedger } from './ledger-access';

export const historyCommand: LocalCommand = {
  name: 'history',
  synopsis:
    "history             the pipeline's runs, newest first, with p50/p90 durations and the success rate",
  optionHelp: ['--limit <n>         how many runs history and runs list read (default 20)'],
  // --aws and --table are described once, with `runs`.
  options: { limit: { type: 'string', default: '20' }, ...AWS_OPTIONS },
  async run(context) {
    const id = context.pipelineId();
    // Only the ledger: no sandboxes, and the data directory's one service, so it answers during a run.
    const access = await openLedger(context);
    try {
      const runs = await access.ledger.listRuns(id, Number(context.values.limit));
      for (const run of runs) console.log(runLine(run));
      console.log(historySummary(runs));
      for (const line of durationSummary(runs)) console.log(line);
      return 0;
    } finally {
      await access.close();
    }
  },
};
