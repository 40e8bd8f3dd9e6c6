import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SECRET_KEYS } from '../shared/config/env';
import { LEDGER_TABLE_KEYS } from '../shared/config/resources';
import type { DigestConfig } from '../shared/config/schema';

export const SECRET_NAME_PREFIX = 'discord-digest/';

/** What outlives deployments: the run files, the ledger, the credentials. */
export class DigestStatefulStack extends Stack {
  readonly bucket: Bucket;
  readonly table: Table;
  readonly secrets: Secret[];

  constructor(scope: Construct, id: string, config: DigestConfig, props?: StackProps) {
    super(scope, id, props);
    this.bucket = new Bucket(this, 'RunFiles', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(90),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: LEDGER_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LEDGER_TABLE_KEYS.ttl,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // One secret per pipeline, created with placeholder keys for the operator to fill in.
    this.secrets = config.pipelines.map(
      (p) =>
        new Secret(this, `Secret-${p.id}`, {
          secretName: `${SECRET_NAME_PREFIX}${p.id}`,
          description: `discord-digest credentials of pipeline ${p.id}: ${SECRET_KEYS.join(', ')}`,
          generateSecretString: {
            secretStringTemplate: JSON.stringify(
              Object.fromEntries(SECRET_KEYS.map((k) => [k, 'REPLACE_ME'])),
            ),
            generateStringKey: 'placeholder',
          },
          removalPolicy: RemovalPolicy.RETAIN,
        }),
    );
  }
}
