import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SECRET_SERVICES, type SecretService, secretKeysOf, secretNameOf } from '../shared/config/env';
import { LEDGER_TABLE_KEYS, RAW_MESSAGES_TAG } from '../shared/config/resources';
import type { DigestConfig } from '../shared/config/schema';
import type { PipelineSecrets } from './function-grants';

export const SECRET_NAME_PREFIX = 'discord-digest/';
/**
 * The run-files bucket's ARN under a name of our own, so the pipeline stack's prefix grants read the same
 * from one synth to the next and each can be acknowledged by name (infra/function-grants.ts).
 */
export const RUN_FILES_ARN_EXPORT = 'discord-digest-run-files-arn';

/** What outlives deployments: the run files, the ledger, the credentials. */
export class DigestStatefulStack extends Stack {
  readonly bucket: Bucket;
  readonly table: Table;
  readonly secrets: PipelineSecrets;

  constructor(scope: Construct, id: string, config: DigestConfig, props?: StackProps) {
    super(scope, id, props);
    const { runFilesDays, rawMessagesDays } = config.retention;
    // Who read or wrote which run file, kept as long as the files themselves.
    const accessLogs = new Bucket(this, 'RunFilesAccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // SSE-S3 like the run files: SSE-KMS would also work but needs a key policy for the log delivery
      // (aws/aws-cdk#25350).
      encryption: BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ expiration: Duration.days(runFilesDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'RunFiles', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'run-files/',
      // Expiring a current version leaves it noncurrent (the bucket is versioned); the noncurrent
      // expiration then deletes it for good (docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html).
      lifecycleRules: [
        {
          id: 'run-files',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          expiration: Duration.days(runFilesDays),
          noncurrentVersionExpiration: Duration.days(30),
        },
        {
          // Collect tags the raw messages, wherever they are (runs/ or, once archived, processed/).
          id: 'raw-messages',
          tagFilters: { [RAW_MESSAGES_TAG.key]: RAW_MESSAGES_TAG.value },
          expiration: Duration.days(rawMessagesDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The pipeline stack builds its prefix grants on this name. The ARN CDK exported under its own name
    // before stays exported, so a pipeline stack deployed before this one keeps its import while it updates.
    new CfnOutput(this, 'RunFilesArn', { value: this.bucket.bucketArn, exportName: RUN_FILES_ARN_EXPORT });
    this.exportValue(this.bucket.bucketArn);

    this.table = new Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: LEDGER_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LEDGER_TABLE_KEYS.ttl,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // One secret per pipeline and service, so each function can be let read only what it calls. The value is
    // generated once with fixed options and never from the key list: CloudFormation re-creates a secret whose
    // GenerateSecretString changes (the footgun @matthewbonig/secret's README describes), which would wipe
    // the credentials the operator put in. The expected keys are in the description, which can change freely.
    const secretOf = (pipelineId: string, service: SecretService) =>
      new Secret(this, `Secret-${pipelineId}-${service}`, {
        secretName: secretNameOf(SECRET_NAME_PREFIX, pipelineId, service),
        description: `discord-digest ${service} credentials of pipeline ${pipelineId}: a JSON object with ${secretKeysOf(service).join(', ')}`,
        generateSecretString: { excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.secrets = Object.fromEntries(
      config.pipelines.map((p) => [
        p.id,
        Object.fromEntries(SECRET_SERVICES.map((service) => [service, secretOf(p.id, service)])) as Record<
          SecretService,
          Secret
        >,
      ]),
    );
    // Discord, Google, Gemini, X and Typefully credentials are issued by those services; Secrets Manager has
    // no rotation function for them.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'third-party API credentials, rotated at their issuer; no Secrets Manager rotation exists for them',
    });
  }
}
