import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import {
  functionEnvironmentBytes,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
  OTHER_FUNCTION_VARIABLES,
} from '../../shared/config/aws-names';
import { CONFIG_ENV, parseConfig } from '../../shared/config/load';
import type { DigestConfig } from '../../shared/config/schema';
import { ConfigError } from '../../shared/errors';

const longId = (prefix: string) => `${prefix}${'x'.repeat(40 - prefix.length)}`;
const pipeline = (id: string, spreadsheetId: string, schedules: unknown[]) => ({
  id,
  discord: { channelId: '123456789012345678901', window: { mode: 'since_last', initialHours: 720 } },
  sheet: {
    spreadsheetId,
    mainTab: `M${'m'.repeat(99)}`,
    archiveTab: `A${'a'.repeat(99)}`,
    draftsTab: `D${'d'.repeat(99)}`,
  },
  publisher: { kind: 'typefully', typefullySocialSetId: 'social-set-1' },
  schedules,
});
const schedule = (i: number) =>
  i % 2 === 0
    ? {
        name: `${i}-${'s'.repeat(40 - String(i).length - 1)}`,
        cron: '0/5 8-17 ? JAN-DEC MON-FRI 2026-2199',
        timeZone: 'America/Argentina/Buenos_Aires',
      }
    : {
        name: `${i}-${'s'.repeat(40 - String(i).length - 1)}`,
        dailyAt: '23:59',
        timeZone: 'Pacific/Chatham',
      };

/** The largest config `validate` accepts: longest ids, names and tabs, then schedules until 4 KB is full. */
function configAtTheLimits(): DigestConfig {
  let accepted: DigestConfig | undefined;
  for (let n = 1; ; n += 1) {
    const raw = {
      pipelines: [
        pipeline(longId('a-'), 'spreadsheet-0000000001', [schedule(0)]),
        pipeline(
          longId('b-'),
          'spreadsheet-0000000001-other',
          Array.from({ length: n }, (_, i) => schedule(i)),
        ),
      ],
    };
    try {
      accepted = parseConfig(raw, 'limits');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('too large to deploy');
      if (!accepted) throw error;
      return accepted;
    }
  }
}

describe('a config at the limits', () => {
  it('that validate accepts also synthesizes, with every Scheduler name and the functions’ environment within AWS limits', () => {
    // Prepare
    const config = configAtTheLimits();
    const scheduleCount = config.pipelines.reduce((sum, p) => sum + p.schedules.length, 0);

    // Act
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildApp(config, app);
    const pipelineTemplate = Template.fromStack(stacks.pipeline);
    Template.fromStack(stacks.stateful);

    // Assess: every schedule deploys under a distinct name Scheduler accepts.
    const schedules = Object.values(pipelineTemplate.findResources('AWS::Scheduler::Schedule'));
    const names = schedules.map((s) => (s.Properties as { Name: string }).Name);
    expect(scheduleCount).toBeGreaterThan(3);
    // The configured schedules and the missed-run watchdog's own.
    expect(names).toHaveLength(scheduleCount + 1);
    expect(names).toContain('discord-digest-watchdog');
    expect(new Set(names).size).toBe(scheduleCount + 1);
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z._-]{1,64}$/);
    // Assess: each function's environment, with the deploy-time names at their longest, fits Lambda's 4 KB,
    // and the config check's estimate is not smaller than the real thing.
    const functions = Object.values(pipelineTemplate.findResources('AWS::Lambda::Function'));
    for (const fn of functions) {
      const variables = (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment
        .Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [...Object.keys(OTHER_FUNCTION_VARIABLES), CONFIG_ENV].sort(),
      );
      const deployed = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : 'x'.repeat(OTHER_FUNCTION_VARIABLES[k] ?? 0),
        ]),
      );
      const bytes = Buffer.byteLength(JSON.stringify(deployed));
      expect(bytes).toBeLessThanOrEqual(functionEnvironmentBytes(JSON.stringify(config)));
      expect(bytes).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_MAX_BYTES);
    }
  }, 60_000);
});
