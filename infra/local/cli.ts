/**
 * The local command line's entry (`npm start`, `npm run digest`): the commands themselves are in
 * cli-main.ts, imported only once a Ctrl-C during their loading has an answer (startup-interrupt.ts).
 */
import { answerInterruptsWhileStarting } from './startup-interrupt';

answerInterruptsWhileStarting();
// The functions' logger and metrics read these as their modules load (once per container, as in
// Lambda): set before cli-main imports them, the report stays alone on stdout unless --verbose.
if (!process.argv.includes('--verbose')) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}
await import('./cli-main');
