import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { PermanentError, TransientError } from '../errors';
import type { ObjectStore } from '../ports';
import { awsErrorName, awsStatus, toDigestError } from './aws-clients';

export interface ObjectStoreOptions {
  client: S3Client;
  bucket: string;
}

/**
 * Every part but the last must be at least 5 MiB, at most 10,000 parts
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
 */
const MIN_PART_BYTES = 5 * 1024 * 1024;

const isMissing = (error: unknown) =>
  awsErrorName(error) === 'NoSuchKey' || awsErrorName(error) === 'NotFound' || awsStatus(error) === 404;

/** CopySource is `bucket/key`, URL-encoded except for the slashes. */
const copySource = (bucket: string, key: string) =>
  `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

export function createObjectStore({ client, bucket }: ObjectStoreOptions): ObjectStore {
  async function exists(key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      // Without s3:ListBucket a missing key answers 403, not 404: the role must grant it.
      if (isMissing(error)) return false;
      throw toDigestError('s3', `HeadObject ${key}`, error);
    }
  }

  /** A conditional PutObject: false when the key exists already (412), as If-None-Match promises. */
  async function put(
    key: string,
    body: string | Buffer,
    contentType: string,
    options?: { tags?: Readonly<Record<string, string>> },
  ): Promise<boolean> {
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: '*',
          // x-amz-tagging: "The tag-set must be encoded as URL Query parameters"; CopyObject copies it by default
          // (docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, API_CopyObject.html TaggingDirective).
          ...(options?.tags ? { Tagging: new URLSearchParams(options.tags).toString() } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (awsStatus(error) === 412 || awsErrorName(error) === 'PreconditionFailed') return false;
      // A concurrent conditional write to the same key: retrying will find it written.
      if (awsStatus(error) === 409 || awsErrorName(error) === 'ConditionalRequestConflict') {
        throw new TransientError(`s3 PutObject ${key} raced another conditional write`, { cause: error });
      }
      throw toDigestError('s3', `PutObject ${key}`, error);
    }
  }

  return {
    async putIfAbsent(key, body, contentType, options) {
      // s3rver ignores If-None-Match, so look first; on AWS the condition below is the guarantee.
      if (await exists(key)) return false;
      return put(key, body, contentType, options);
    },

    async putPiecesIfAbsent(key, pieces, contentType, options) {
      if (await exists(key)) return false;
      // Held until a part's worth: an object smaller than that is one PutObject, not the three requests
      // (each billed as a PUT) of a multipart upload, as @aws-sdk/lib-storage's Upload does too.
      const source = pieces[Symbol.asyncIterator]();
      let buffered: Buffer[] = [];
      let size = 0;
      let ended = false;
      const fill = async () => {
        while (size < MIN_PART_BYTES) {
          const next = await source.next();
          if (next.done) {
            ended = true;
            return;
          }
          const bytes = Buffer.from(next.value, 'utf8');
          buffered.push(bytes);
          size += bytes.length;
        }
      };
      const take = () => {
        const body = Buffer.concat(buffered);
        buffered = [];
        size = 0;
        return body;
      };
      await fill();
      if (ended) return put(key, take(), contentType, options);

      const started = await client
        .send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ContentType: contentType,
            // docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html: x-amz-tagging, as PutObject.
            ...(options?.tags ? { Tagging: new URLSearchParams(options.tags).toString() } : {}),
          }),
        )
        .catch((error: unknown) => {
          throw toDigestError('s3', `CreateMultipartUpload ${key}`, error);
        });
      const uploadId = started.UploadId;
      if (!uploadId) throw new TransientError(`s3 CreateMultipartUpload ${key} answered no UploadId`);
      const parts: { PartNumber: number; ETag: string }[] = [];
      const upload = async (body: Buffer) => {
        const PartNumber = parts.length + 1;
        const answer = await client.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }),
        );
        parts.push({ PartNumber, ETag: answer.ETag ?? '' });
      };
      try {
        // Every part but the last is at least 5 MiB; the last may be smaller.
        while (!ended) {
          await upload(take());
          await fill();
        }
        if (size > 0) await upload(take());
        // CompleteMultipartUpload takes If-None-Match: a concurrent writer of the key wins with 412
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html).
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (error) {
        // Parts of an upload never completed are stored (and billed) until aborted.
        await client
          .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
        if (awsStatus(error) === 412 || awsErrorName(error) === 'PreconditionFailed') return false;
        if (error instanceof TransientError || error instanceof PermanentError) throw error;
        throw toDigestError('s3', `multipart upload ${key}`, error);
      }
    },

    async getText(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await answer.Body?.transformToString('utf-8')) ?? '';
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw toDigestError('s3', `GetObject ${key}`, error);
      }
    },

    async move(from, to) {
      try {
        await client.send(
          new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource(bucket, from) }),
        );
      } catch (error) {
        if (!isMissing(error)) throw toDigestError('s3', `CopyObject ${from}`, error);
        // A re-run after the earlier attempt finished: nothing left to move.
        if (await exists(to)) return;
        throw new PermanentError(`s3 move ${from} → ${to}: neither object exists`, { cause: error });
      }
      try {
        // Deleting a key that is already gone succeeds, so a retried delete is harmless.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: from }));
      } catch (error) {
        throw toDigestError('s3', `DeleteObject ${from}`, error);
      }
    },
  };
}
