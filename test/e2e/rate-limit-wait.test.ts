import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDefinition } from '../../infra/definition';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { runDigestLocally } from '../../infra/local/runner';
import { loadConfigFile } from '../../shared/config/load';
import { WaitForRateLimitError } from '../../shared/errors';

/**
 * Long rate limits belong to Step Functions: a wait longer than a Lambda should
 * spend becomes the state machine's Wait state; a quota that resets hours later
 * ends the step, the run is partial, and a resume finishes it.
 */
const config = loadConfigFile('digest.config.json');
const pipeline = config.pipelines[0];
if (!pipeline) throw new Error('the sample config has no pipeline');
let environment: LocalEnvironment;
let definition: object;
// The Wait states wait a few milliseconds here instead of minutes.
const waitTimeOverrides = Object.fromEntries(
  ['Collect', 'Upload', 'Analyze', 'Publish', 'Deliver', 'Archive'].map((s) => [`${s}WaitsForRateLimit`, 5]),
);

beforeAll(async () => {
  environment = await startLocalEnvironment({ config, secretsEnv: {}, now: new Date() });
  definition = synthesizeDefinition(config).definition;
});
afterAll(async () => {
  await environment?.close();
});

describe('rate limits longer than a Lambda should wait', () => {
  it('are waited out by the state machine, and the step then runs again and succeeds', async () => {
    // Prepare: Discord asks for two minutes, far beyond the in-process limit.
    environment.sandboxes.discord?.faults.add({
      kind: 'rate-limit',
      method: 'GET',
      path: '/messages',
      retryAfterSeconds: 120,
    });
    const waits: string[] = [];

    // Act
    const result = await runDigestLocally({
      config,
      environment,
      definition,
      input: { pipelineId: pipeline.id, runId: 'wait-for-discord' },
      waitTimeOverrides,
      interceptTask: async (state, payload, invoke) => {
        try {
          return await invoke(payload);
        } catch (error) {
          if (error instanceof WaitForRateLimitError)
            waits.push(`${state}:${Math.round((error.resumeAt.getTime() - Date.now()) / 1000)}`);
          throw error;
        }
      },
    });

    // Assess
    // Discord's own figure, give or take the seconds it rounds to; then the step ran again.
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(/^Collect:1(19|20|21)$/);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.collect?.status).toBe('succeeded');
    environment.sandboxes.discord?.faults.clear();
  });

  it('end the step when the quota resets hours later: the run is partial, names the reset, and a resume finishes it', async () => {
    // Prepare: a quota that resets in three hours.
    environment.sandboxes.discord?.faults.add({
      kind: 'rate-limit',
      method: 'GET',
      path: '/messages',
      retryAfterSeconds: 3 * 3600,
    });
    const before = Date.now();

    // Act
    const first = await runDigestLocally({
      config,
      environment,
      definition,
      input: { pipelineId: pipeline.id, runId: 'quota-resets-later' },
      waitTimeOverrides,
    });
    environment.sandboxes.discord?.faults.clear();
    const resumed = await runDigestLocally({
      config,
      environment,
      definition,
      input: { pipelineId: pipeline.id, runId: 'quota-resets-later', resume: true },
      waitTimeOverrides,
    });

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(first.report?.status).toBe('partial');
    const collect = first.report?.steps.collect;
    expect(collect?.status).toBe('failed');
    expect(collect?.error?.name).toBe('RateLimitedError');
    const reset = first.report?.reason?.match(/\d{4}-\d\d-\d\dT[\d:.]+Z/)?.[0] ?? '';
    expect(Date.parse(reset) - before).toBeGreaterThan(2.9 * 3600_000);
    expect(resumed.report?.status).toBe('succeeded');
    expect(resumed.report?.steps.collect?.status).toBe('succeeded');
  });
});
