import type { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLE_OPTIONS } from './bundling';

export interface DigestFunctionProps {
  /** Folder under functions/ holding handler.ts. */
  dir: string;
  environment: Record<string, string>;
  timeout: Duration;
}

/** The one project-default function: Node 22 on ARM, one minified ESM bundle, a month of logs. */
export class DigestFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: DigestFunctionProps) {
    super(scope, id, {
      entry: `functions/${props.dir}/handler.ts`,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: props.timeout,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      logGroup: new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH }),
      bundling: {
        minify: BUNDLE_OPTIONS.minify,
        sourceMap: BUNDLE_OPTIONS.sourcemap,
        format: OutputFormat.ESM,
        target: BUNDLE_OPTIONS.target,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        banner: BUNDLE_OPTIONS.banner.js,
        externalModules: [...BUNDLE_OPTIONS.external],
      },
    });
  }
}
