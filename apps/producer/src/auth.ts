// API key to tenant, and the admin key. Keys are compared as SHA-256 digests in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { PredictqError, type Config } from '@predictq/core';

export const DEFAULT_TENANT = 'default';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1]?.trim();
}

function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    tenant?: string;
  }
}

/**
 * The tenant of a request, from its API key. Without configured tenants the API is open and
 * everything belongs to tenant "default". Throws unauthorized.
 */
export function tenantResolver(config: Config, secrets: Record<string, string | undefined>): (req: IncomingMessage) => string {
  const keys = config.tenants
    .map((t) => ({ tenant: t.name, key: secrets[t.api_key_env] }))
    .filter((t): t is { tenant: string; key: string } => Boolean(t.key))
    .map((t) => ({ tenant: t.tenant, digest: digest(t.key) }));
  const open = config.tenants.length === 0;
  return (req) => {
    if (open) return DEFAULT_TENANT;
    const key = bearer(req.headers.authorization);
    if (!key) throw new PredictqError('unauthorized', 'send your API key as "Authorization: Bearer <key>"');
    const given = digest(key);
    const match = keys.find((k) => timingSafeEqual(k.digest, given));
    if (!match) throw new PredictqError('unauthorized', 'the API key is not valid');
    return match.tenant;
  };
}

/** The same as express middleware: sets req.tenant. */
export function tenantAuth(config: Config, secrets: Record<string, string | undefined>): RequestHandler {
  const tenantOf = tenantResolver(config, secrets);
  return (req, _res, next) => {
    try {
      req.tenant = tenantOf(req);
    } catch (err) {
      return next(err);
    }
    next();
  };
}

/** Admin pages and endpoints: the admin key as a Bearer token, or as the Basic password in a browser. */
export function adminAuth(config: Config, secrets: Record<string, string | undefined>): RequestHandler {
  const key = secrets[config.admin_key_env];
  const expected = key ? digest(key) : undefined;
  return (req, res, next) => {
    if (!expected) {
      return next(new PredictqError('forbidden', `admin endpoints are disabled: set ${config.admin_key_env} to enable them`));
    }
    const given = bearer(req.headers.authorization) ?? basicPassword(req.headers.authorization);
    if (given && timingSafeEqual(digest(given), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="predictq admin", charset="UTF-8"');
    next(new PredictqError('unauthorized', 'admin key required (Bearer token, or any user name with the key as password)'));
  };
}
