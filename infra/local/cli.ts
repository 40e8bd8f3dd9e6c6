/**
 * The local command line's entry (`npm start`, `npm run digest`): the commands themselves are in
 * cli-main.ts, imported only once a Ctrl-C during their loading has an answer (startup-interrupt.ts).
 */
import { answerInterruptsWhileStarting } from './startup-interrupt';

answerInterruptsWhileStarting();
await import('./cli-main');
