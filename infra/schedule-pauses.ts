import { createHash } from 'node:crypto';
import { CustomResource, Duration } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { FUNCTION_NEEDS } from '../shared/config/resources';
import type { DigestConfig } from '../shared/config/schema';
import { DigestFunction } from './digest-function';
import { type GrantTargets, grantFunctionNeeds } from './function-grants';

export interface SchedulePausesProps {
  config: DigestConfig;
  grants: GrantTargets;
  environment: Record<string, string>;
  configFile: string;
  schedules: readonly Schedule[];
  /** The role the schedules' targets run as: UpdateSchedule passes it again. */
  targetRole: IRole;
}

/**
 * A pause lives in the ledger; the deployed schedule only shows it. A deploy
 * that changes a schedule writes it back enabled, so this custom resource —
 * whose properties hash the schedules, so CloudFormation updates it exactly
 * when it updates them, and after them — disables again every schedule the
 * ledger says is paused.
 */
export class SchedulePauses extends Construct {
  constructor(scope: Construct, id: string, props: SchedulePausesProps) {
    super(scope, id);
    const fn = new DigestFunction(this, 'ReapplyPausesFunction', {
      dir: 'reapply-pauses',
      environment: props.environment,
      configFile: props.configFile,
      timeout: Duration.minutes(2),
    });
    grantFunctionNeeds(fn, FUNCTION_NEEDS.ReapplyPauses, props.grants);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
        resources: props.schedules.map((s) => s.scheduleArn),
      }),
    );
    props.targetRole.grantPassRole(fn.grantPrincipal);
    const schedulesHash = createHash('sha256')
      .update(JSON.stringify(props.config.pipelines.map((p) => [p.id, p.schedules])))
      .digest('hex');
    const resource = new CustomResource(this, 'Resource', {
      // The function answers CloudFormation itself: no provider-framework function to deploy and secure.
      serviceToken: fn.functionArn,
      resourceType: 'Custom::SchedulePauses',
      properties: { SchedulesHash: schedulesHash },
    });
    for (const schedule of props.schedules) resource.node.addDependency(schedule);
  }
}
