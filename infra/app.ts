import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../shared/config/load';
import { PIPELINE_STACK_NAME } from '../shared/config/resources';
import type { DigestConfig } from '../shared/config/schema';
import { DigestError } from '../shared/errors';
import { DigestPipelineStack } from './pipeline-stack';
import { DigestStatefulStack } from './stateful-stack';

/**
 * Both stacks of the app; the CLI, the tests and the local runner build it in process. cdk-nag's AWS
 * Solutions rules check every synth (`Validations.of(app).addPlugins`, cdk-nag 3's README): an
 * unacknowledged finding fails `cdk synth` and `Template.fromStack` alike.
 */
export function buildApp(config: DigestConfig, app: App) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stateful = new DigestStatefulStack(app, 'DigestStateful', config, {
    description: 'discord-digest: run files, ledger, credentials',
  });
  const pipeline = new DigestPipelineStack(app, PIPELINE_STACK_NAME, {
    description: 'discord-digest: functions, state machine, schedules, dashboard',
    config,
    bucket: stateful.bucket,
    table: stateful.table,
    secrets: stateful.secrets,
  });
  return { stateful, pipeline };
}

// Run as the CDK app (cdk.json) unless imported.
if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const config = loadConfigFile(process.env.DIGEST_CONFIG_FILE ?? 'digest.config.json');
    buildApp(config, new App());
  } catch (error) {
    // `cdk synth` refuses exactly what `validate` refuses, in the same one line per problem.
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (!(error instanceof DigestError) && process.env.DIGEST_VERBOSE && error instanceof Error) {
      console.error(error.stack);
    }
    process.exit(1);
  }
}
