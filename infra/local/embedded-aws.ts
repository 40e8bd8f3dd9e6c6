import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { LEDGER_TABLE_KEYS } from '../../shared/config/resources';

export interface EmbeddedAwsOptions {
  /** Where S3 objects and the table persist (`<dataDir>/s3`, `<dataDir>/dynamodb`); in memory when absent. */
  dataDir?: string;
  bucket?: string;
  table?: string;
}

export interface EmbeddedAws {
  /** What the handlers need to reach the embedded services; the caller applies it. */
  env: Record<string, string>;
  bucket: string;
  table: string;
  s3Endpoint: string;
  dynamoEndpoint: string;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
/** s3rver knows exactly one account, S3RVER; dynalite accepts anything. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

async function ensureBucket(endpoint: string, bucket: string): Promise<void> {
  const client = new S3Client({ endpoint, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

async function ensureTable(endpoint: string, table: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  try {
    const describe = () => client.send(new DescribeTableCommand({ TableName: table }));
    try {
      await describe();
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      await client.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: LEDGER_TABLE_KEYS.partitionKey, AttributeType: 'S' },
            { AttributeName: LEDGER_TABLE_KEYS.sortKey, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: LEDGER_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
            { AttributeName: LEDGER_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
          ],
        }),
      );
    }
    // dynalite, like DynamoDB, refuses item writes while the table is CREATING.
    for (let i = 0; i < 100; i += 1) {
      if ((await describe()).Table?.TableStatus === 'ACTIVE') return;
      await delay(20);
    }
    throw new Error(`embedded DynamoDB table ${table} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets of SDK clients would otherwise hold the server (and the process) open.
    server.closeAllConnections();
  });
}

/**
 * S3 (s3rver) and DynamoDB (dynalite) in this process on loopback: pure npm,
 * no Docker, no Java. Creates the bucket and the ledger table when absent.
 * Does not touch process.env: the caller applies `env`.
 */
export async function startEmbeddedAws(options: EmbeddedAwsOptions = {}): Promise<EmbeddedAws> {
  const bucket = options.bucket ?? 'discord-digest-local';
  const table = options.table ?? 'discord-digest-ledger';
  const temporary = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'digest-s3-'));
  const s3Dir = options.dataDir ? join(options.dataDir, 's3') : (temporary as string);
  mkdirSync(s3Dir, { recursive: true });
  const dynamoDir = options.dataDir ? join(options.dataDir, 'dynamodb') : undefined;
  if (dynamoDir) mkdirSync(dynamoDir, { recursive: true });

  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Dir,
    // The fault proxy rewrites Host, which would break the signature s3rver checks.
    allowMismatchedSignatures: true,
    vhostBuckets: false,
  });
  const dynamo: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    ...(dynamoDir ? { path: dynamoDir } : {}),
  });
  let s3Running = false;
  let dynamoRunning = false;
  const close = async () => {
    const results = await Promise.allSettled([
      s3Running ? s3.close() : Promise.resolve(),
      dynamoRunning ? closeServer(dynamo) : Promise.resolve(),
    ]);
    s3Running = false;
    dynamoRunning = false;
    if (temporary) rmSync(temporary, { recursive: true, force: true });
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  };

  try {
    const s3Address = await s3.run();
    s3Running = true;
    await new Promise<void>((resolve, reject) => {
      dynamo.once('error', reject);
      dynamo.listen(0, '127.0.0.1', () => {
        dynamo.off('error', reject);
        resolve();
      });
    });
    dynamoRunning = true;
    const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
    const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
    await Promise.all([ensureBucket(s3Endpoint, bucket), ensureTable(dynamoEndpoint, table)]);
    return {
      env: {
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
        BUCKET_NAME: bucket,
        LEDGER_TABLE: table,
      },
      bucket,
      table,
      s3Endpoint,
      dynamoEndpoint,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
