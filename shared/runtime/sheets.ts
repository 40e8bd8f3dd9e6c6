import { createGoogleAuth, createSheetStore } from '../adapters/sheets';
import { checkedGoogleCredential } from '../config/google-key';
import type { SheetStore } from '../ports';
import type { StepContext } from './step-context';

export async function sheetStoreFor(context: StepContext): Promise<SheetStore> {
  const secrets = await context.secrets('google');
  return createSheetStore({
    spreadsheetId: context.pipeline.sheet.spreadsheetId,
    auth: createGoogleAuth(checkedGoogleCredential(secrets.GOOGLE_SERVICE_ACCOUNT_JSON)),
    rootUrl: context.endpoints.SHEETS_API_URL,
    timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
    retry: context.retry,
  });
}
