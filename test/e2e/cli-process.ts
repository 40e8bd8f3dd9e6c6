import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { attachSharedAws } from '../../infra/local/shared-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import type { RunLedger } from '../../shared/ports';

/** One CLI command as its own process, the way a person starts it (`npm run digest -- …`). */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** A fresh data directory; its shared service stops soon after the last command. */
export function dataDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'digest-proc-'));
}

export function cli(args: string[], dataDir: string, env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/cli.ts', ...args], {
    env: {
      ...process.env,
      DIGEST_LOCAL_DIR: dataDir,
      DIGEST_LOCAL_SERVICE_IDLE_MS: '1500',
      NODE_NO_WARNINGS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const done = new Promise<Awaited<CliProcess['done']>>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

/** The test attaches to the directory's service like any command (and is counted as one while attached). */
export async function attachLedger(dataDir: string): Promise<{ ledger: RunLedger; close(): Promise<void> }> {
  // A service this test starts stops soon after the test, like those the commands start.
  process.env.DIGEST_LOCAL_SERVICE_IDLE_MS ??= '1500';
  const aws = await attachSharedAws(dataDir);
  return {
    ledger: createRunLedger({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }),
    close: aws.close,
  };
}
