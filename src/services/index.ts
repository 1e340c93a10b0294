import { type ResolvedModel, resolveModel } from '../ai/model';
import { loadConfig } from '../config';
import type { Env } from '../env';

/**
 * Collaborators a request needs beyond the database, built per request from `env`. Tests and
 * benchmarks can replace any of them through createApp's options instead of test switches here.
 */
export type Services = {
  resolveModel: (persona: { name: string; model: string | null }) => ResolvedModel;
};

export type ServiceOverrides = Partial<{ [K in keyof Services]: (env: Env) => Services[K] }>;

export function createServices(env: Env, overrides: ServiceOverrides = {}): Services {
  return {
    resolveModel: overrides.resolveModel?.(env) ?? ((persona) => resolveModel(loadConfig(env).model, persona)),
  };
}
