// A callback URL is checked when it is submitted (POST /v1/predictions, and any other route that
// accepts one): the tenant must have a signing secret, and the URL must pass the SSRF guard (its
// host's addresses, resolved now, all public). Refusals are 400 callback_url_not_allowed.
import { CallbackRefusedError, type CallbackGuard, type WebhookSigner } from '@predictq/core';

export type CallbackCheck = (tenant: string, url: string) => Promise<void>;

export function createCallbackCheck(deps: { guard: CallbackGuard; signer: WebhookSigner }): CallbackCheck {
  return async (tenant, url) => {
    if (!deps.signer.signsCallbacks(tenant)) {
      throw new CallbackRefusedError(
        'no_secret',
        'callbacks are not enabled: no webhook secret is configured for this tenant (webhooks.secret_env, PREDICTQ_WEBHOOK_SECRET by default)',
      );
    }
    await deps.guard.check(url);
  };
}
