import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedAws } from '../../infra/local/embedded-aws';
import {
  dynamoFault,
  dynamoOperation,
  s3Fault,
  startFaultProxy,
} from '../../infra/local/sandbox/fault-proxy';
import { createDynamoDocumentClient, createS3Client } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import type { RunRecord } from '../../shared/ports';

const record: RunRecord = {
  pipelineId: 'crypto',
  runId: 'persisted-1',
  trigger: 'manual',
  startedAt: '2026-11-24T08:00:00.000Z',
  status: 'succeeded',
  steps: {},
};

describe('embedded AWS', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'digest-embedded-test-'));
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('hands out loopback endpoints and the variables the handlers read, without touching process.env', async () => {
    // Prepare
    const before = { ...process.env };

    // Act
    const aws = await startEmbeddedAws({ bucket: 'my-bucket', table: 'my-table' });
    await aws.close();

    // Assess
    expect(aws.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.env).toMatchObject({
      AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      AWS_REGION: 'us-east-1',
      BUCKET_NAME: 'my-bucket',
      LEDGER_TABLE: 'my-table',
    });
    expect(aws.env.AWS_ACCESS_KEY_ID).toBeTruthy();
    expect(aws.env.AWS_SECRET_ACCESS_KEY).toBeTruthy();
    expect(process.env).toEqual(before);
  });

  it('with a data directory, objects and ledger records survive a restart', async () => {
    // Prepare
    const first = await startEmbeddedAws({ dataDir });
    await createObjectStore({ client: createS3Client(first.env), bucket: first.bucket }).putIfAbsent(
      'runs/crypto/persisted-1/posts.csv',
      'id\n1\n',
      'text/csv',
    );
    await createRunLedger({
      client: createDynamoDocumentClient(first.env),
      tableName: first.table,
    }).createRun(record);
    await first.close();

    // Act
    const second = await startEmbeddedAws({ dataDir });
    const text = await createObjectStore({
      client: createS3Client(second.env),
      bucket: second.bucket,
    }).getText('runs/crypto/persisted-1/posts.csv');
    const run = await createRunLedger({
      client: createDynamoDocumentClient(second.env),
      tableName: second.table,
    }).getRun('crypto', 'persisted-1');
    await second.close();

    // Assess
    expect(text).toBe('id\n1\n');
    expect(run).toEqual(record);
  });

  it('without a data directory, a new instance starts empty', async () => {
    // Prepare
    const first = await startEmbeddedAws({});
    await createObjectStore({ client: createS3Client(first.env), bucket: first.bucket }).putIfAbsent(
      'k',
      'v',
      'text/plain',
    );
    await first.close();

    // Act
    const second = await startEmbeddedAws({});
    const text = await createObjectStore({
      client: createS3Client(second.env),
      bucket: second.bucket,
    }).getText('k');
    await second.close();

    // Assess
    expect(text).toBeUndefined();
  });

  it('works behind the fault proxy, which rewrites the Host header', async () => {
    // Prepare
    const aws = await startEmbeddedAws({});
    const s3Proxy = await startFaultProxy({ target: aws.s3Endpoint, faultResponse: s3Fault });
    const dynamoProxy = await startFaultProxy({
      target: aws.dynamoEndpoint,
      faultResponse: dynamoFault,
      operationOf: dynamoOperation,
    });
    const env = { ...aws.env, AWS_ENDPOINT_URL_S3: s3Proxy.url, AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url };
    // One throttle each: the SDK's own retry absorbs it.
    s3Proxy.faults.add({ kind: 'rate-limit', method: 'PUT' });
    dynamoProxy.faults.add({ kind: 'rate-limit', path: 'PutItem' });

    try {
      // Act
      const store = createObjectStore({ client: createS3Client(env), bucket: aws.bucket });
      const written = await store.putIfAbsent('through/proxy.txt', 'ok', 'text/plain');
      const ledger = createRunLedger({ client: createDynamoDocumentClient(env), tableName: aws.table });
      const created = await ledger.createRun(record);

      // Assess
      expect(written).toBe(true);
      expect(await store.getText('through/proxy.txt')).toBe('ok');
      expect(created).toEqual({ created: true });
      expect(s3Proxy.faults.calls.filter((c) => c.fault === 'rate-limit')).toHaveLength(1);
    } finally {
      await s3Proxy.close();
      await dynamoProxy.close();
      await aws.close();
    }
  });

  it('close() lets the process exit on its own', () => {
    // Prepare: a script that uses both services through the real clients, closes, and does nothing else.
    // .mts: ESM with top-level await, whatever package.json is (not) near the temp folder.
    const script = join(dataDir, 'exit-probe.mts');
    const root = resolve('.');
    writeFileSync(
      script,
      [
        `import { startEmbeddedAws } from '${root}/infra/local/embedded-aws';`,
        `import { createDynamoDocumentClient, createS3Client } from '${root}/shared/adapters/aws-clients';`,
        `import { createRunLedger } from '${root}/shared/adapters/dynamo-ledger';`,
        `import { createObjectStore } from '${root}/shared/adapters/s3-object-store';`,
        'const aws = await startEmbeddedAws({});',
        'await createObjectStore({ client: createS3Client(aws.env), bucket: aws.bucket }).putIfAbsent("k", "v", "text/plain");',
        'await createRunLedger({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }).listRuns("p", 5);',
        'await aws.close();',
        'console.log("closed");',
      ].join('\n'),
    );

    // Act
    const child = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });

    // Assess
    expect(child.error).toBeUndefined();
    expect(child.stdout, child.stderr).toContain('closed');
    expect(child.status).toBe(0);
  });
});
