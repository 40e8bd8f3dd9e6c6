import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { loadServiceSecrets } from '../../shared/adapters/secrets';
import { runtimeEnvFromEnv } from '../../shared/config/env';
import { logger } from '../../shared/observability/logger';
import { answerReviewLink } from '../../shared/pipeline/review';
import { reviewStoreFor, taskCallbackFor } from '../../shared/runtime/review';

const ledger = createRunLedger({
  client: createDynamoDocumentClient(),
  tableName: runtimeEnvFromEnv().LEDGER_TABLE,
});
const reviews = reviewStoreFor();
const callback = taskCallbackFor();

/**
 * The signed approve/reject link, behind a Lambda function URL (auth NONE: the HMAC signature is the
 * authorisation). Its event is API Gateway's payload 2.0 (requestContext.http.method, rawQueryString):
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
export const handler = middy(
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const answer = await answerReviewLink(
      {
        reviews,
        ledger,
        ...(callback ? { callback } : {}),
        now: () => new Date(),
        linkKey: async (pipelineId) => {
          try {
            return (await loadServiceSecrets(pipelineId, 'review')).REVIEW_LINK_SECRET;
          } catch {
            // An unknown pipeline, or one whose review key is not set: the link is simply not valid.
            return undefined;
          }
        },
      },
      { method: event.requestContext.http.method, query: event.rawQueryString },
    );
    logger.info('review link answered', { statusCode: answer.statusCode });
    return {
      statusCode: answer.statusCode,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      body: answer.html,
    };
  },
).use(injectLambdaContext(logger, { resetKeys: true }));
