import { createGoogleAuth, createSheetStore, type GoogleAuth } from '../adapters/sheets';
import { checkedGoogleCredential } from '../config/google-key';
import { quotaObserverFor } from '../observability/metrics';
import type { SheetStore } from '../ports';
import type { StepContext } from './step-context';

/**
 * One auth client per credential per container: a service account's JWT
 * client keeps its access token (an hour) for the warm invocations after it,
 * instead of asking Google for a new one every invocation. The store itself is
 * new each invocation: its layout and header caches describe one step's view.
 */
const auths = new Map<string, GoogleAuth>();

export function googleAuthFor(credential: string): GoogleAuth {
  let auth = auths.get(credential);
  if (!auth) {
    auth = createGoogleAuth(credential);
    auths.set(credential, auth);
  }
  return auth;
}

export async function sheetStoreFor(context: StepContext): Promise<SheetStore> {
  const secrets = await context.secrets('google');
  return createSheetStore({
    spreadsheetId: context.pipeline.sheet.spreadsheetId,
    auth: googleAuthFor(checkedGoogleCredential(secrets.GOOGLE_SERVICE_ACCOUNT_JSON)),
    rootUrl: context.endpoints.SHEETS_API_URL,
    timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
    retry: context.retry,
    onQuota: quotaObserverFor(context.pipeline.id),
  });
}
