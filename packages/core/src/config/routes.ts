// Resolving a requested model name to a configured route.
import type { Config, RouteConfig } from './schema.js';

/** Finds a route by route name or by model name; undefined for anything not configured. */
export function findRoute(config: Config, modelOrRoute: string | undefined): RouteConfig | undefined {
  const wanted = modelOrRoute ?? config.default_route;
  return config.routes.find((r) => r.name === wanted) ?? config.routes.find((r) => r.model === wanted);
}

export function routeApiKey(route: RouteConfig, env: Record<string, string | undefined>): string {
  // The simulator and many local servers (vLLM, Ollama) accept any key.
  return (route.api_key_env && env[route.api_key_env]) || 'unused';
}

/** The route a job names (job data carries route names, never models). */
export function routeNamed(config: Config, name: string): RouteConfig | undefined {
  return config.routes.find((r) => r.name === name);
}
