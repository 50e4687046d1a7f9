// Minimal shapes of the DOM objects the tests touch inside the page: the Node tsconfig has no DOM library, and these callbacks run in chromium.

export interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, width: number, height: number): { data: ArrayLike<number> } } | null;
}

export interface PageDocument {
  createElement(tag: 'script'): { textContent: string | null };
  body: { append(node: unknown): void; dataset: Record<string, string | undefined> };
}

export interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): unknown;
}
