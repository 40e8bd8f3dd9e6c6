/**
 * One embedded S3 + DynamoDB per data directory, shared by every command on it.
 *
 * dynalite's LevelDB and s3rver's files may be opened by one process only, so
 * the first command starts a detached service process that owns them and
 * records its endpoints and pid in `<dataDir>/aws-service.json`; later commands
 * attach to it. Each attached command registers a file named after its pid in
 * `<dataDir>/aws-service.clients/`; the service stops by itself once no
 * registered process has been alive for `DIGEST_LOCAL_SERVICE_IDLE_MS`
 * (default 60 s). Starting, attaching and stopping all happen under one
 * exclusive-create lock file (`aws-service.lock`), so two commands racing to
 * start end with one service, and a service never stops under a command that
 * is attaching. A record or lock left by a dead process (kill -9) is detected
 * by its pid and replaced.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { processExists } from '../../shared/adapters/local-process';
import { DigestError } from '../../shared/errors';
import { type EmbeddedAws, startEmbeddedAws } from './embedded-aws';

export const SERVICE_FILE = 'aws-service.json';
const LOCK_FILE = 'aws-service.lock';
const CLIENTS_DIR = 'aws-service.clients';
const LOG_FILE = 'aws-service.log';
const DEFAULT_IDLE_MS = 60_000;
const START_TIMEOUT_MS = 30_000;

export interface ServiceRecord {
  pid: number;
  host: string;
  s3Endpoint: string;
  dynamoEndpoint: string;
  bucket: string;
  table: string;
  env: Record<string, string>;
  startedAt: string;
}

const readJson = <T>(file: string): T | undefined => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
};

/** Exclusive create of the lock file; a lock whose holder is dead is removed and taken. */
async function withLock<T>(dataDir: string, fn: () => Promise<T>, timeoutMs = START_TIMEOUT_MS): Promise<T> {
  const file = join(dataDir, LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(file, 'utf8') || Number.NaN);
      } catch {
        continue; // released meanwhile
      }
      // An empty file is a holder between create and write: only stale if it stays so.
      if (Number.isInteger(owner) && !processExists(owner)) {
        // Move it aside first, so two stealers never both delete a fresh lock.
        const aside = `${file}.${process.pid}.stale`;
        try {
          renameSync(file, aside);
          if (Number(readFileSync(aside, 'utf8')) !== owner) renameSync(aside, file);
          else unlinkSync(aside);
        } catch {
          // someone else moved it first
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new DigestError(`local AWS service: ${file} stayed locked by process ${owner}`);
      }
      await delay(20);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      // gone already
    }
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** The running service of this directory, or undefined (a stale record is removed). */
async function liveService(dataDir: string): Promise<ServiceRecord | undefined> {
  const file = join(dataDir, SERVICE_FILE);
  const record = readJson<ServiceRecord>(file);
  if (!record) return undefined;
  if (record.host === hostname() && processExists(record.pid) && (await answers(record.dynamoEndpoint))) {
    return record;
  }
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
  return undefined;
}

function lastLogLine(dataDir: string): string {
  const lines = existsSync(join(dataDir, LOG_FILE))
    ? readFileSync(join(dataDir, LOG_FILE), 'utf8').trim().split('\n')
    : [];
  return lines.at(-1) ?? 'no message';
}

async function startService(dataDir: string): Promise<ServiceRecord> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const log = openSync(join(dataDir, LOG_FILE), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dataDir], {
    cwd: root,
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const record = readJson<ServiceRecord>(join(dataDir, SERVICE_FILE));
    if (record && record.pid === child.pid) return record;
    if (exited) throw new DigestError(lastLogLine(dataDir));
    await delay(25);
  }
  child.kill();
  throw new DigestError(`local AWS service for ${dataDir} did not start within ${START_TIMEOUT_MS / 1000} s`);
}

/**
 * Attach this process to the data directory's service, starting it if none
 * runs. `close()` detaches (the service outlives the command for a while).
 */
export async function attachSharedAws(dataDir: string): Promise<EmbeddedAws> {
  mkdirSync(join(dataDir, CLIENTS_DIR), { recursive: true });
  const registration = join(dataDir, CLIENTS_DIR, `${process.pid}-${Math.random().toString(36).slice(2)}`);
  const record = await withLock(dataDir, async () => {
    const service = (await liveService(dataDir)) ?? (await startService(dataDir));
    writeFileSync(registration, '');
    return service;
  });
  return {
    env: record.env,
    bucket: record.bucket,
    table: record.table,
    s3Endpoint: record.s3Endpoint,
    dynamoEndpoint: record.dynamoEndpoint,
    close: async () => {
      try {
        unlinkSync(registration);
      } catch {
        // gone already
      }
    },
  };
}

/** The pids of attached commands still alive; registrations of dead ones are removed. */
function liveClients(dataDir: string): number {
  const dir = join(dataDir, CLIENTS_DIR);
  let alive = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (processExists(Number(name.split('-')[0]))) alive += 1;
    else {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // gone already
      }
    }
  }
  return alive;
}

/**
 * Open and read the whole LevelDB store before serving it: a damaged file
 * must stop the command with LevelDB's own words, whereas dynalite would throw
 * later inside a request and take the service down mid-run. The ledger is
 * small (a few runs a day, kept 400 days), so reading it all is cheap.
 */
async function checkLedgerFiles(dynamoDir: string): Promise<void> {
  const require = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = require('level') as {
    Level: new (
      path: string,
    ) => {
      open(): Promise<void>;
      close(): Promise<void>;
      keys(): AsyncIterable<unknown>;
      get(key: unknown): Promise<unknown>;
    };
  };
  const db = new Level(dynamoDir);
  try {
    await db.open();
    for await (const key of db.keys()) await db.get(key);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new Error(`local DynamoDB ledger ${dynamoDir} cannot be read: ${cause}`);
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** The service process itself. */
async function serve(dataDir: string): Promise<void> {
  // dynalite throws LevelDB errors from callbacks: say it in one line, and leave no record that looks alive.
  const fail = (error: unknown) => {
    console.error(
      `local AWS service for ${dataDir} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    const file = join(dataDir, SERVICE_FILE);
    if (readJson<ServiceRecord>(file)?.pid === process.pid) unlinkSync(file);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  const configured = Number(process.env.DIGEST_LOCAL_SERVICE_IDLE_MS);
  const idleMs = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_IDLE_MS;
  mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
  await checkLedgerFiles(join(dataDir, 'dynamodb'));
  const aws = await startEmbeddedAws({ dataDir });
  const record: ServiceRecord = {
    pid: process.pid,
    host: hostname(),
    s3Endpoint: aws.s3Endpoint,
    dynamoEndpoint: aws.dynamoEndpoint,
    bucket: aws.bucket,
    table: aws.table,
    env: aws.env,
    startedAt: new Date().toISOString(),
  };
  const file = join(dataDir, SERVICE_FILE);
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(record));
  renameSync(`${file}.${process.pid}`, file);
  console.log(`local AWS service ${process.pid}: S3 ${aws.s3Endpoint}, DynamoDB ${aws.dynamoEndpoint}`);

  const stop = async () => {
    await withLock(dataDir, async () => {
      if (readJson<ServiceRecord>(file)?.pid === process.pid) unlinkSync(file);
    });
    await aws.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  let idleSince = Date.now();
  for (;;) {
    await delay(Math.min(500, idleMs));
    if (liveClients(dataDir) > 0) {
      idleSince = Date.now();
      continue;
    }
    if (Date.now() - idleSince < idleMs) continue;
    // Under the lock no command can attach between this check and the record's removal.
    const idle = await withLock(dataDir, async () => {
      if (liveClients(dataDir) > 0) return false;
      if (readJson<ServiceRecord>(file)?.pid === process.pid) unlinkSync(file);
      return true;
    });
    if (!idle) continue;
    await aws.close();
    process.exit(0);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: shared-aws.ts <dataDir>');
  serve(resolve(dataDir)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
