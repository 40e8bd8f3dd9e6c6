import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEnvironment } from '../../infra/local/environment';
import type { FaultKind, FaultRule } from '../../infra/local/sandbox/faults';
import {
  assertNothingLostOrDoubled,
  RUN_ID,
  runOnce,
  runToCompletion,
  stateMachine,
  tally,
  withEnvironment,
} from './harness';

/**
 * Every external call of a full run, and every AWS call, failed once in each
 * way it can fail; then the run is retried by the state machine or resumed,
 * and nothing may be lost or done twice.
 */
type Target = {
  label: string;
  faults: (env: LocalEnvironment) => { add(rule: FaultRule): unknown } | undefined;
  rule: Omit<FaultRule, 'kind'>;
};

const EXTERNAL: Target[] = [
  {
    label: 'discord messages',
    faults: (e) => e.sandboxes.discord?.faults,
    rule: { method: 'GET', path: '/messages' },
  },
  {
    label: 'sheets metadata',
    faults: (e) => e.sandboxes.sheets?.faults,
    rule: { method: 'GET', path: /^\/v4\/spreadsheets\/[^/]+$/ },
  },
  {
    label: 'sheets batchGet',
    faults: (e) => e.sandboxes.sheets?.faults,
    rule: { method: 'GET', path: 'values:batchGet' },
  },
  // No 'sheets read tab' (values.get): the steps read whole tabs inside their one values:batchGet now.
  {
    label: 'sheets append',
    faults: (e) => e.sandboxes.sheets?.faults,
    rule: { method: 'POST', path: ':append' },
  },
  {
    label: 'sheets values batchUpdate',
    faults: (e) => e.sandboxes.sheets?.faults,
    rule: { method: 'POST', path: 'values:batchUpdate' },
  },
  {
    label: 'sheets archive batchUpdate',
    faults: (e) => e.sandboxes.sheets?.faults,
    rule: { method: 'POST', path: /[^s]:batchUpdate$/ },
  },
  {
    label: 'gemini analyse',
    faults: (e) => e.sandboxes.gemini?.faults,
    rule: { method: 'POST', path: ':generateContent', nth: 1 },
  },
  {
    label: 'gemini draft',
    faults: (e) => e.sandboxes.gemini?.faults,
    rule: { method: 'POST', path: ':generateContent', nth: 2 },
  },
  {
    label: 'x first part',
    faults: (e) => e.sandboxes.x?.faults,
    rule: { method: 'POST', path: '/2/tweets', nth: 1 },
  },
  {
    label: 'x second part',
    faults: (e) => e.sandboxes.x?.faults,
    rule: { method: 'POST', path: '/2/tweets', nth: 2 },
  },
  { label: 's3 put', faults: (e) => e.awsProxies?.s3.faults, rule: { method: 'PUT' } },
  { label: 'dynamodb put', faults: (e) => e.awsProxies?.dynamodb.faults, rule: { path: 'PutItem' } },
  { label: 'dynamodb update', faults: (e) => e.awsProxies?.dynamodb.faults, rule: { path: 'UpdateItem' } },
];
const KINDS: FaultKind[] = ['rate-limit', 'server-error', 'timeout', 'drop-after-effect'];

beforeAll(() => {
  stateMachine();
});
afterAll(() => {
  console.log(`fault-injection figures: ${JSON.stringify(tally)}`);
});

describe('one fault at every external call', () => {
  const cases = EXTERNAL.flatMap((target) => KINDS.map((kind) => [target.label, kind, target] as const));
  it.each(cases)('%s: %s', async (_label, kind, target) => {
    await withEnvironment(async (env) => {
      // Prepare
      target.faults(env)?.add({ ...target.rule, kind, retryAfterSeconds: 0 });
      tally.faultsInjected += 1;
      tally.scenarios += 1;

      // Act
      const results = await runToCompletion(env);

      // Assess
      expect(results.at(-1)?.report?.status).toBe('succeeded');
      await assertNothingLostOrDoubled(env);
    });
  });
});

describe('an outage longer than the retries', () => {
  it.each(EXTERNAL.filter((t) => !t.label.startsWith('dynamodb')).map((t) => [t.label, t] as const))(
    '%s down for a run: partial, then resumed',
    { timeout: 120_000 },
    async (_label, target) => {
      await withEnvironment(async (env) => {
        // Prepare
        target.faults(env)?.add({ ...target.rule, kind: 'server-error', times: 30 });
        tally.faultsInjected += 30;
        tally.scenarios += 1;

        // Act
        const first = await runOnce(env);
        clearAll(env);
        const resumed = await runOnce(env, { resume: true });

        // Assess
        expect(first.status).toBe('SUCCEEDED');
        expect(['partial', 'failed', 'succeeded']).toContain(first.report?.status);
        expect(resumed.report?.status).toBe('succeeded');
        await assertNothingLostOrDoubled(env);
      });
    },
  );
});

function clearAll(env: LocalEnvironment) {
  for (const sandbox of Object.values(env.sandboxes)) sandbox?.faults.clear();
  env.awsProxies?.s3.faults.clear();
  env.awsProxies?.dynamodb.faults.clear();
}

describe('a crash at every step boundary', () => {
  const STATES = ['BeginRun', 'Collect', 'Upload', 'Analyze', 'Publish', 'Deliver', 'Archive', 'FinishRun'];
  it.each(STATES)('%s does its work, then its answer is lost', async (state) => {
    await withEnvironment(async (env) => {
      // Prepare: the first invocation of the state runs fully, then "the Lambda dies".
      let crashed = false;
      const interceptTask = async (
        name: string,
        payload: unknown,
        invoke: (p: unknown) => Promise<unknown>,
      ) => {
        const result = await invoke(payload);
        if (name === state && !crashed) {
          crashed = true;
          tally.faultsInjected += 1;
          const error = new Error('the function died after its side effects');
          error.name = 'Lambda.ServiceException';
          throw error;
        }
        return result;
      };
      tally.scenarios += 1;

      // Act
      const result = await runOnce(env, { interceptTask });

      // Assess
      expect(crashed).toBe(true);
      expect(result.report?.status).toBe('succeeded');
      await assertNothingLostOrDoubled(env, RUN_ID);
    });
  });
});
