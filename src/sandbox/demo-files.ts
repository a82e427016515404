/** The demo's config and environment files in the sandbox folder (0600): what `--keep` leaves for the operator. */
import path from 'node:path';
import { writeFileAtomic } from '../adapters/state-store.js';

/** Writes bluegreen.config.json (secrets named as ${VARS}, never written) and sandbox.env (the values). */
export function writeDemoFiles(dir: string, configJson: object, env: Record<string, string>): { configFile: string; envFile: string } {
  const configFile = path.join(dir, 'bluegreen.config.json');
  writeFileAtomic(configFile, `${JSON.stringify(configJson, null, 2)}\n`, 0o600);
  const envFile = path.join(dir, 'sandbox.env');
  const lines = Object.entries(env).map(([k, v]) => `${k}='${v}'`);
  writeFileAtomic(envFile, `${lines.join('\n')}\n`, 0o600);
  return { configFile, envFile };
}
