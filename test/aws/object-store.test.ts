import {
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { createS3Client } from '../../shared/adapters/aws-clients';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import { PermanentError, TransientError } from '../../shared/errors';
import type { ObjectStore } from '../../shared/ports';

describe('S3 object store on embedded s3rver', () => {
  let aws: EmbeddedAws;
  let store: ObjectStore;

  beforeAll(async () => {
    aws = await startEmbeddedAws({});
    store = createObjectStore({ client: createS3Client(aws.env), bucket: aws.bucket });
  });
  afterAll(async () => {
    await aws?.close();
  });

  it('writes pieces as one multipart object, parts of at least 5 MiB, once', async () => {
    // Prepare: 12 pieces of just under 1 MiB with multi-byte characters: two parts of six pieces each.
    const piece = `${'ü🚀,'.repeat(149_796)}\n`;
    async function* pieces() {
      for (let i = 0; i < 12; i += 1) yield piece;
    }

    // Act
    const written = await store.putPiecesIfAbsent(
      'runs/p/big/posts.csv',
      pieces(),
      'text/csv; charset=utf-8',
    );
    const again = await store.putPiecesIfAbsent('runs/p/big/posts.csv', pieces(), 'text/csv; charset=utf-8');
    const read = await store.getText('runs/p/big/posts.csv');

    // Assess
    expect(written).toBe(true);
    expect(again).toBe(false);
    expect(read).toBe(piece.repeat(12));
  });

  it('writes pieces smaller than a part as one PutObject, not a multipart upload', async () => {
    // Prepare: a store whose client counts what it sends.
    const client = createS3Client(aws.env);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const counted = createObjectStore({ client, bucket: aws.bucket });
    async function* pieces() {
      yield 'message_id,content\n';
      yield '"1","small"\n';
    }

    // Act
    const written = await counted.putPiecesIfAbsent('runs/p/small/posts.csv', pieces(), 'text/csv');

    // Assess
    expect(written).toBe(true);
    expect(sent).toEqual(['HeadObjectCommand', 'PutObjectCommand']);
    expect(await store.getText('runs/p/small/posts.csv')).toBe('message_id,content\n"1","small"\n');
  });

  it('round-trips UTF-8 text with commas, quotes and newlines byte for byte', async () => {
    // Prepare
    const csv = 'message_id,content\n"1","Grüße, 世界 🚀 ""quoted""\nsecond line"\n';

    // Act
    const written = await store.putIfAbsent('runs/p/r1/posts.csv', csv, 'text/csv; charset=utf-8');
    const read = await store.getText('runs/p/r1/posts.csv');

    // Assess
    expect(written).toBe(true);
    expect(read).toBe(csv);
  });

  it('putIfAbsent writes once: the second call returns false and leaves the content alone', async () => {
    // Prepare
    await store.putIfAbsent('runs/p/r2/draft.json', '{"v":1}', 'application/json');

    // Act
    const second = await store.putIfAbsent('runs/p/r2/draft.json', '{"v":2}', 'application/json');

    // Assess
    expect(second).toBe(false);
    expect(await store.getText('runs/p/r2/draft.json')).toBe('{"v":1}');
  });

  it('getText of a missing key is undefined', async () => {
    // Act
    const text = await store.getText('runs/p/none/missing.csv');

    // Assess
    expect(text).toBeUndefined();
  });

  it('move copies then deletes, and a repeated move is a no-op', async () => {
    // Prepare
    await store.putIfAbsent('runs/p/r3/posts.csv', 'a,b\n1,2\n', 'text/csv');

    // Act
    await store.move('runs/p/r3/posts.csv', 'processed/p/r3/posts.csv');
    await store.move('runs/p/r3/posts.csv', 'processed/p/r3/posts.csv');

    // Assess
    expect(await store.getText('runs/p/r3/posts.csv')).toBeUndefined();
    expect(await store.getText('processed/p/r3/posts.csv')).toBe('a,b\n1,2\n');
  });

  it('move of a key that exists nowhere is a permanent error', async () => {
    // Act
    const moving = store.move('runs/p/ghost/posts.csv', 'processed/p/ghost/posts.csv');

    // Assess
    await expect(moving).rejects.toBeInstanceOf(PermanentError);
  });

  it('keys with spaces and non-ASCII characters move too', async () => {
    // Prepare
    await store.putIfAbsent('runs/p/r4/raw messages ü.json', '[]', 'application/json');

    // Act
    await store.move('runs/p/r4/raw messages ü.json', 'processed/p/r4/raw messages ü.json');

    // Assess
    expect(await store.getText('processed/p/r4/raw messages ü.json')).toBe('[]');
  });
});

const mockS3 = () => mockClient(S3Client);

describe('S3 object store error mapping', () => {
  // Created in beforeAll: mockClient patches every S3Client, the embedded suite's too.
  let s3: ReturnType<typeof mockS3>;
  const store = createObjectStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'b' });
  const serviceError = (name: string, status: number) =>
    new S3ServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
    });

  beforeAll(() => {
    s3 = mockS3();
  });
  beforeEach(() => {
    s3.reset();
  });
  afterAll(() => {
    s3.restore();
  });

  it('a 412 from the conditional put (a concurrent writer won) means "already there"', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(PutObjectCommand).rejects(serviceError('PreconditionFailed', 412));

    // Act
    const written = await store.putIfAbsent('k', 'body', 'text/plain');

    // Assess
    expect(written).toBe(false);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBe('*');
  });

  it('puts the tags on the object as the URL-encoded x-amz-tagging set', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(PutObjectCommand).resolves({});

    // Act
    await store.putIfAbsent('runs/p/r/messages.json', '[]', 'application/json', {
      tags: { 'digest-content': 'raw-messages', other: 'a b&c' },
    });
    await store.putIfAbsent('runs/p/r/posts.csv', '', 'text/csv');

    // Assess
    const [tagged, plain] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(tagged?.Tagging).toBe('digest-content=raw-messages&other=a+b%26c');
    expect(plain).not.toHaveProperty('Tagging');
  });

  it('throttling and 5xx are transient, access denied is permanent', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: 'slow' }).rejects(serviceError('SlowDown', 503));
    s3.on(GetObjectCommand, { Key: 'broken' }).rejects(serviceError('InternalError', 500));
    s3.on(GetObjectCommand, { Key: 'forbidden' }).rejects(serviceError('AccessDenied', 403));

    // Act
    const results = await Promise.allSettled([
      store.getText('slow'),
      store.getText('broken'),
      store.getText('forbidden'),
    ]);

    // Assess
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : undefined));
    expect(reasons[0]).toBeInstanceOf(TransientError);
    expect(reasons[1]).toBeInstanceOf(TransientError);
    expect(reasons[2]).toBeInstanceOf(PermanentError);
    expect((reasons[2] as Error).message).toContain('AccessDenied');
  });

  it('a dropped connection is transient', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));

    // Act
    const reading = store.getText('k');

    // Assess
    await expect(reading).rejects.toBeInstanceOf(TransientError);
  });
});
