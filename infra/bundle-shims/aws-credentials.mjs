// @aws-sdk/credential-provider-node for the bundles: the environment's credentials only. Lambda puts the
// execution role's keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the default
// chain's first link, fromEnv, is what answers there; its other links (SSO, ini files, process, web identity,
// container and instance metadata, with the STS and SSO clients they bring) are code a cold start parses
// for nothing (docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime;
// @aws-sdk/credential-provider-node dist-es/defaultProvider.js).
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => {
  const fromEnvironment = fromEnv(init);
  return async () => {
    try {
      return await fromEnvironment();
    } catch (error) {
      throw new Error(
        'no AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: a bundled function reads them nowhere else (infra/bundling.ts)',
        { cause: error },
      );
    }
  };
};
