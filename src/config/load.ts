// Reads segscope.json from disk: one clear error naming the file when it is missing, unreadable or not valid JSON.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SegScopeConfig } from '../protocol/config';

export interface LoadedConfig {
  /** Absolute path of segscope.json. */
  configPath: string;
  /** Folder of segscope.json: every relative path in the config is resolved against it. */
  configDir: string;
  config: SegScopeConfig;
}

export class ConfigError extends Error {}

export function loadConfig(file: string): LoadedConfig {
  const configPath = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : String((err as Error).message);
    throw new ConfigError(`Cannot read config ${configPath}: ${why}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config ${configPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Config ${configPath} must be a JSON object`);
  }
  const config = parsed as SegScopeConfig;
  if (config.data === undefined || typeof config.data !== 'object') {
    throw new ConfigError(`Config ${configPath} has no "data" section (it says where the images and masks are)`);
  }
  return { configPath, configDir: path.dirname(configPath), config };
}
