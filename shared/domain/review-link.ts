/**
 * Signed approve/reject links: the run, the decision and an expiry, signed with HMAC-SHA256 under a
 * per-pipeline key (the `REVIEW_LINK_SECRET` of its secret), so a link can only say what it was made to
 * say, for one run, until it expires. Node's crypto: https://nodejs.org/api/crypto.html#class-hmac,
 * compared in constant time (crypto.timingSafeEqual).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ReviewLinkError } from '../errors';
import type { ReviewDecision } from '../ports';

export interface ReviewLinkClaims {
  pipelineId: string;
  runId: string;
  decision: ReviewDecision;
  /** Epoch seconds. */
  expires: number;
}

const payload = (c: ReviewLinkClaims) => [c.pipelineId, c.runId, c.decision, String(c.expires)].join('\n');

const signature = (claims: ReviewLinkClaims, key: string) =>
  createHmac('sha256', key).update(payload(claims)).digest('base64url');

/** `base` is the function URL (or, locally, any address that maps to `digest review-link`). */
export function signReviewLink(base: string, claims: ReviewLinkClaims, key: string): string {
  const url = new URL(base);
  url.searchParams.set('pipeline', claims.pipelineId);
  url.searchParams.set('run', claims.runId);
  url.searchParams.set('decision', claims.decision);
  url.searchParams.set('expires', String(claims.expires));
  url.searchParams.set('sig', signature(claims, key));
  return url.toString();
}

/** The link's claims if its signature holds and it has not expired at `nowMs`; a ReviewLinkError otherwise. */
export function verifyReviewLink(
  params: URLSearchParams | Record<string, string | undefined>,
  key: string,
  nowMs: number,
): ReviewLinkClaims {
  const get = (name: string) => (params instanceof URLSearchParams ? params.get(name) : params[name]) ?? '';
  const decision = get('decision');
  const expires = Number(get('expires'));
  if (decision !== 'approve' && decision !== 'reject')
    throw new ReviewLinkError('the link names no decision');
  if (!Number.isInteger(expires)) throw new ReviewLinkError('the link has no expiry');
  const claims: ReviewLinkClaims = { pipelineId: get('pipeline'), runId: get('run'), decision, expires };
  const given = Buffer.from(get('sig'), 'base64url');
  const expected = Buffer.from(signature(claims, key), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new ReviewLinkError('the link is not signed for this run and decision');
  if (expires * 1000 <= nowMs)
    throw new ReviewLinkError(`the link expired at ${new Date(expires * 1000).toISOString()}`);
  return claims;
}
