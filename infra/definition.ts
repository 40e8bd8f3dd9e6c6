import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { DigestConfig } from '../shared/config/schema';
import { buildApp } from './app';

type Token = string | { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, Token[]] };

function resolveToken(token: Token): string {
  if (typeof token === 'string') return token;
  if (token['Fn::GetAtt']) return `arn:aws:lambda:us-east-1:123456789012:function:${token['Fn::GetAtt'][0]}`;
  if (token.Ref)
    return token.Ref === 'AWS::Partition' ? 'aws' : token.Ref.startsWith('AWS::') ? 'us-east-1' : token.Ref;
  if (token['Fn::Join']) return token['Fn::Join'][1].map(resolveToken).join(token['Fn::Join'][0]);
  throw new Error(`unsupported token in the state machine definition: ${JSON.stringify(token)}`);
}

/** The ASL of the template's state machine, its ARNs resolved to placeholders. */
export function definitionFromTemplate(template: unknown): object {
  const resources = (
    template as { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> }
  ).Resources;
  const machine = Object.values(resources ?? {}).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  const definition = machine?.Properties?.DefinitionString as Token | undefined;
  if (!definition) throw new Error('the template holds no state machine definition');
  return JSON.parse(resolveToken(definition)) as object;
}

/**
 * Synthesize the CDK app in process (bundling skipped: only the definition is
 * wanted) and return the state machine `cdk deploy` would ship.
 */
export function synthesizeDefinition(config: DigestConfig): { definition: object } {
  const outdir = mkdtempSync(join(tmpdir(), 'digest-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const { pipeline } = buildApp(config, app);
    const template = app.synth().getStackArtifact(pipeline.artifactId).template as unknown;
    return { definition: definitionFromTemplate(template) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
