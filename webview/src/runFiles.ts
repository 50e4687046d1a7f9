// Loads run-folder files in the page: fetch(baseUri + runPaths…) → ArrayBuffer, decoded PNGs and JSON, with a small cache and shared in-flight requests.
import type { ActivationHeader } from '../../src/protocol/runFolder';
import { decodePng, type DecodedPng } from './model/png';

const MAX_ENTRIES = 160;

export class RunFiles {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(readonly baseUri: string) {}

  url(relative: string): string {
    return `${this.baseUri.replace(/\/$/, '')}/${relative.split('/').map(encodeURIComponent).join('/')}`;
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit as Promise<T>;
    }
    const promise = load();
    this.cache.set(key, promise);
    promise.catch(() => this.cache.delete(key));
    while (this.cache.size > MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return promise;
  }

  async bytes(relative: string): Promise<Uint8Array> {
    return this.cached(`bytes:${relative}`, async () => {
      const response = await fetch(this.url(relative));
      if (!response.ok) throw new Error(`${relative}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
  }

  png(relative: string): Promise<DecodedPng> {
    return this.cached(`png:${relative}`, async () => decodePng(await this.bytes(relative)));
  }

  json<T>(relative: string): Promise<T> {
    return this.cached(`json:${relative}`, async () => {
      const response = await fetch(this.url(relative));
      if (!response.ok) throw new Error(`${relative}: HTTP ${response.status}`);
      return (await response.json()) as T;
    });
  }

  activation(data: string, header: string): Promise<{ header: ActivationHeader; data: Uint8Array }> {
    return Promise.all([this.json<ActivationHeader>(header), this.bytes(data)]).then(([h, d]) => ({ header: h, data: d }));
  }
}
