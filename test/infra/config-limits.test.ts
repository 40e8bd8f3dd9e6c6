import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import {
  FINISH_RUN_VARIABLES,
  FUNCTION_VARIABLES,
  functionEnvironmentBytes,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
} from '../../shared/config/aws-names';
import { parseConfig } from '../../shared/config/load';
import type { DigestConfig } from '../../shared/config/schema';

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

/** Twenty pipelines at their longest ids, names and tabs, each with four schedules. */
function twentyPipelines(): DigestConfig {
  const raw = {
    pipelines: Array.from({ length: 20 }, (_, p) =>
      pipeline(longId(`p${p}-`), `spreadsheet-${String(p).padStart(10, '0')}`, [0, 1, 2, 3].map(schedule)),
    ),
  };
  return parseConfig(raw, 'twenty pipelines');
}

describe('a config of 20 pipelines', () => {
  it('validates and synthesizes, with every Scheduler name and every function’s environment within AWS limits', () => {
    // Prepare
    const config = twentyPipelines();
    expect(JSON.stringify(config).length).toBeGreaterThan(4 * LAMBDA_ENVIRONMENT_MAX_BYTES);
    const scheduleCount = config.pipelines.reduce((sum, p) => sum + p.schedules.length, 0);

    // Act
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildApp(config, app);
    const pipelineTemplate = Template.fromStack(stacks.pipeline);
    Template.fromStack(stacks.stateful);

    // Assess: every schedule deploys under a distinct name Scheduler accepts.
    const schedules = Object.values(pipelineTemplate.findResources('AWS::Scheduler::Schedule'));
    const names = schedules.map((s) => (s.Properties as { Name: string }).Name);
    expect(scheduleCount).toBe(80);
    // The configured schedules and the missed-run watchdog's own.
    expect(names).toHaveLength(scheduleCount + 1);
    expect(names).toContain('discord-digest-watchdog');
    expect(new Set(names).size).toBe(scheduleCount + 1);
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z._-]{1,64}$/);
    // Assess: each function's environment, with the deploy-time names at their longest, fits Lambda's 4 KB:
    // the config is not in it, and the estimate is not smaller than the real thing.
    const functions = Object.entries(pipelineTemplate.findResources('AWS::Lambda::Function'));
    const longest = { ...FUNCTION_VARIABLES, ...FINISH_RUN_VARIABLES };
    for (const [id, fn] of functions) {
      const variables = (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment
        .Variables;
      // FinishRun alone carries the resume variables; AwaitReview alone REVIEW_LINK_URL (counted for every function).
      const expected = Object.keys(id.startsWith('FinishRunFunction') ? longest : FUNCTION_VARIABLES).filter(
        (k) => k !== 'REVIEW_LINK_URL' || k in variables,
      );
      expect(Object.keys(variables).sort()).toEqual(expected.sort());
      const deployed = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : 'x'.repeat(longest[k] ?? 0),
        ]),
      );
      const bytes = Buffer.byteLength(JSON.stringify(deployed));
      expect(bytes).toBeLessThanOrEqual(functionEnvironmentBytes(longest));
      expect(bytes).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_MAX_BYTES);
    }
  }, 60_000);
});
