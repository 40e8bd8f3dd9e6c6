import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { SecretService } from '../shared/config/env';
import type { FunctionNeeds } from '../shared/config/resources';
import type { DestinationConfig, DigestConfig } from '../shared/config/schema';
import type { DigestFunction } from './digest-function';

/** Every pipeline's secret for every service, as the stateful stack creates them. */
export type PipelineSecrets = Record<string, Record<SecretService, ISecret>>;

export interface GrantTargets {
  config: DigestConfig;
  /** The run-files bucket's ARN, as a stable import (infra/stateful-stack.ts RUN_FILES_ARN_EXPORT). */
  bucketArn: string;
  /** What `bucketArn` is an import of: names the nag acknowledgement of each prefix grant. */
  bucketArnExport: string;
  table: ITable;
  secrets: PipelineSecrets;
}

// The item actions each table level allows; no Scan, no batch or transactional writes (nothing uses them).
const TABLE_ACTIONS: Record<NonNullable<FunctionNeeds['table']>, string[]> = {
  record: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
};

/**
 * Grant a function exactly what its FUNCTION_NEEDS entry states: item actions on the ledger table, object
 * actions under its key prefixes only, and read access to the secrets of the services it uses.
 */
export function grantFunctionNeeds(fn: DigestFunction, needs: FunctionNeeds, targets: GrantTargets): void {
  if (needs.table) targets.table.grant(fn, ...TABLE_ACTIONS[needs.table]);

  // A file destination's digest goes under its own prefix (written once: a look first, then the put).
  const destinations = (needs.destinations ?? []).flatMap((list) =>
    targets.config.pipelines.flatMap((p) => p[list]),
  );
  const files = destinations.flatMap((d) => (d.kind === 'file' ? [`${d.prefix}/`] : []));
  const read = [...new Set([...(needs.objects?.read ?? []), ...files])];
  const write = [...new Set([...(needs.objects?.write ?? []), ...files])];
  const remove = needs.objects?.delete ?? [];
  grantEmailSending(fn, destinations);
  const objects = (prefixes: readonly string[]) => prefixes.map((p) => `${targets.bucketArn}/${p}*`);
  const statements = [
    // CopyObject (Archive's move) reads its source with s3:GetObject and writes with s3:PutObject; tags are
    // copied along (TaggingDirective COPY), which needs the tagging actions on both sides
    // (docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
    { actions: ['s3:GetObject', 's3:GetObjectTagging'], prefixes: read },
    { actions: ['s3:PutObject', 's3:PutObjectTagging'], prefixes: write },
    { actions: ['s3:DeleteObject'], prefixes: remove },
  ].filter((s) => s.prefixes.length > 0);
  for (const { actions, prefixes } of statements) {
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: objects(prefixes) }));
  }
  if (statements.length > 0) {
    // Without s3:ListBucket a missing key answers 403 instead of 404, and "not written yet" is how a step
    // finds its work to do (docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/client/s3/command/HeadObjectCommand/).
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [targets.bucketArn] }),
    );
  }
  // An object ARN can be narrowed to a key prefix only with a trailing `*`: acknowledge exactly those.
  for (const prefix of new Set([...read, ...write, ...remove])) {
    Validations.of(fn.role ?? fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${targets.bucketArnExport}/${prefix}*]`,
      reason: 'objects under one key prefix only: S3 object ARNs narrow to a prefix with a trailing wildcard',
    });
  }

  for (const pipeline of targets.config.pipelines) {
    for (const service of needs.secrets?.(pipeline) ?? []) {
      const secret = targets.secrets[pipeline.id]?.[service];
      if (!secret) throw new Error(`no ${service} secret for pipeline ${pipeline.id}`);
      secret.grantRead(fn);
    }
  }
}

/**
 * ses:SendEmail on each email destination's sender identity (address and domain) and configuration set, as
 * CDK's own EmailIdentity.grantSendEmail scopes it (aws-cdk-lib aws-ses grants.json;
 * docs.aws.amazon.com/ses/latest/dg/control-user-access.html).
 */
function grantEmailSending(fn: DigestFunction, destinations: readonly DestinationConfig[]): void {
  const emails = destinations.flatMap((d) => (d.kind === 'email' ? [d] : []));
  if (emails.length === 0) return;
  const stack = Stack.of(fn);
  const identities = new Set<string>();
  const sets = new Set<string>();
  for (const email of emails) {
    const address = (email.from.match(/<([^>]+)>\s*$/)?.[1] ?? email.from).trim();
    identities.add(address).add(address.slice(address.indexOf('@') + 1));
    if (email.configurationSetName) sets.add(email.configurationSetName);
  }
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: [
        ...[...identities].map((i) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: i }),
        ),
        ...[...sets].map((c) =>
          stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: c }),
        ),
      ],
    }),
  );
}
