import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, CONFIG_FILE_NAME, loadConfigFile, loadRuntimeConfig } from '../../shared/config/load';
import { ConfigError } from '../../shared/errors';

const config = loadConfigFile('digest.config.json');
const taskRootWith = (text: string) => {
  const root = mkdtempSync(join(tmpdir(), 'task-root-'));
  writeFileSync(join(root, CONFIG_FILE_NAME), text);
  return root;
};

describe('the config a step runs with', () => {
  it('in Lambda is the file bundled at the task root, read once per container', () => {
    // Prepare
    const root = taskRootWith(JSON.stringify(config));

    // Act
    const first = loadRuntimeConfig({ LAMBDA_TASK_ROOT: root, [CONFIG_ENV]: '{"pipelines":[]}' });
    writeFileSync(join(root, CONFIG_FILE_NAME), 'changed under a running container');
    const second = loadRuntimeConfig({ LAMBDA_TASK_ROOT: root });

    // Assess: the file wins over the variable, and a warm container does not read it again.
    expect(first).toEqual(config);
    expect(second).toBe(first);
  });

  it('locally is the JSON the runner puts in DIGEST_CONFIG', () => {
    // Prepare
    const other = { ...config, pipelines: [{ ...config.pipelines[0], id: 'other' }] };

    // Act
    const local = loadRuntimeConfig({ [CONFIG_ENV]: JSON.stringify(other) });

    // Assess
    expect(local.pipelines.map((p) => p.id)).toEqual(['other']);
  });

  it('names what is missing or broken in one ConfigError', () => {
    // Prepare
    const broken = taskRootWith('{ not json');
    const empty = mkdtempSync(join(tmpdir(), 'task-root-'));

    // Act
    const errors = [
      () => loadRuntimeConfig({}),
      () => loadRuntimeConfig({ LAMBDA_TASK_ROOT: broken }),
      () => loadRuntimeConfig({ LAMBDA_TASK_ROOT: empty }),
      () => loadRuntimeConfig({ [CONFIG_ENV]: '{"pipelines":[{"id":"Bad Id"}]}' }),
    ].map((load) => {
      try {
        load();
        return undefined;
      } catch (error) {
        return error as Error;
      }
    });

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(ConfigError);
    expect(errors.map((e) => e?.message.split('\n')[0])).toEqual([
      'DIGEST_CONFIG is not set',
      `${join(broken, CONFIG_FILE_NAME)} is not valid JSON`,
      `cannot read the bundled config ${join(empty, CONFIG_FILE_NAME)}: ENOENT`,
      'invalid config in DIGEST_CONFIG:',
    ]);
    expect(errors[3]?.message).toContain('pipelines[0].id');
  });
});
