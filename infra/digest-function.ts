import { type Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CONFIG_FILE_NAME } from '../shared/config/load';
import { BUNDLE_OPTIONS, CDK_ESBUILD_ARGS } from './bundling';

/** The light functions (the watchdog, the closer, the review link, one-off posts): about 100 MiB at peak. */
export const DEFAULT_MEMORY_MB = 256;

export interface DigestFunctionProps {
  /** Folder under functions/ holding handler.ts. */
  dir: string;
  environment: Record<string, string>;
  timeout: Duration;
  /** The function's memory (and so its CPU share); 256 MB unless a step's measured peak asks for more. */
  memoryMB?: number;
  /** A file holding the validated config, copied into the asset as `digest.config.json` (shared/config/load.ts). */
  configFile: string;
  /** Where Lambda sends an asynchronous event it failed to process after its retries. */
  deadLetterQueue?: IQueue;
}

/**
 * The one project-default function: Node 22 on ARM, one minified ESM bundle with the config beside it, a
 * month of logs, X-Ray tracing, and a role of its own that may write only to its own log group (instead of
 * AWSLambdaBasicExecutionRole, which may write to any); what else it may do is granted from
 * FUNCTION_NEEDS (infra/function-grants.ts).
 */
export class DigestFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: DigestFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH });
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: `functions/${props.dir}/handler.ts`,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMB ?? DEFAULT_MEMORY_MB,
      timeout: props.timeout,
      // No --enable-source-maps: the map beside the bundle is unlinked (infra/bundling.ts says why).
      environment: props.environment,
      logGroup,
      role,
      tracing: Tracing.ACTIVE,
      // docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      bundling: {
        minify: BUNDLE_OPTIONS.minify,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL,
        sourcesContent: BUNDLE_OPTIONS.sourcesContent,
        format: OutputFormat.ESM,
        target: BUNDLE_OPTIONS.target,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        banner: BUNDLE_OPTIONS.banner.js,
        externalModules: [...BUNDLE_OPTIONS.external],
        esbuildArgs: CDK_ESBUILD_ARGS,
        // The config travels in the asset, not the 4 KB environment: the asset hash follows the output,
        // so a changed config deploys new code. (ICommandHooks: "copies a file … to include it in the
        // bundled asset", docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_nodejs.ICommandHooks.html)
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => [
            `cp ${shellQuote(props.configFile)} ${shellQuote(`${outputDir}/${CONFIG_FILE_NAME}`)}`,
          ],
        },
      },
    });
    // X-Ray's PutTraceSegments and PutTelemetryRecords take no resource
    // (docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html): the policy CDK adds for
    // Tracing.ACTIVE has to say `*`. test/infra checks that nothing else in a function's policy does.
    // L1 wants the newest Node runtime; the bundles, the dependencies (some need Node 22) and the tests all
    // target nodejs22.x (infra/bundling.ts, /work/shared/design.md): a runtime move is a change of its own.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'pinned to nodejs22.x, the runtime the bundles and tests target; upgraded deliberately, not by synth',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray trace writes (xray:PutTraceSegments, xray:PutTelemetryRecords) support no resource-level permissions',
    });
  }
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
