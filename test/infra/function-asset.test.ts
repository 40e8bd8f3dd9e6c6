import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DigestFunction } from '../../infra/digest-function';
import { CONFIG_FILE_NAME, loadConfigFile } from '../../shared/config/load';

describe('a function asset', () => {
  it('carries the validated config beside the bundle, where the handler reads it at the task root', () => {
    // Prepare: one real esbuild bundle (the other infra tests skip bundling).
    const config = loadConfigFile('digest.config.json');
    const configFile = join(mkdtempSync(join(tmpdir(), 'digest-config-')), CONFIG_FILE_NAME);
    // A value with shell metacharacters must reach the file unchanged.
    const text = JSON.stringify({ ...config, $schema: 'it\'s $HOME `and` "quotes"' });
    writeFileSync(configFile, text);
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-out-')) });
    const stack = new Stack(app, 'AssetTest');
    // Collect: it holds both trims the CDK must pass on to esbuild (infra/bundling.ts CDK_ESBUILD_ARGS).
    new DigestFunction(stack, 'CollectFunction', {
      dir: 'collect',
      environment: {},
      configFile,
      timeout: Duration.seconds(30),
    });

    // Act
    const assembly = app.synth();

    // Assess: the stack's one asset is the function's code.
    const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const dir = join(assembly.directory, assets[0] ?? '');
    expect(readdirSync(dir).sort()).toEqual([CONFIG_FILE_NAME, 'index.mjs', 'index.mjs.map']);
    expect(readFileSync(join(dir, CONFIG_FILE_NAME), 'utf8')).toBe(text);
    // The aliases arrived: no ESM import of node:http (its wrapper loads Node's undici), and @discordjs/rest's
    // web build, without the undici package (whose errors are coded UND_ERR_…).
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.match(/from\s*["'](node:)?http["']/)?.[0]).toBeUndefined();
    expect(code.match(/UND_ERR_\w+/)?.[0]).toBeUndefined();
    // The AWS clients' credentials come from the environment only (infra/bundle-shims/aws-credentials.mjs).
    expect(code).toContain('no AWS credentials in AWS_ACCESS_KEY_ID');
    expect(code).not.toContain('defaultProvider::fromSSO');
    // The map is beside the bundle, not linked from it: Node never parses it at a cold start.
    expect(code).not.toContain('sourceMappingURL');
  }, 120_000);
});
