// Canvas helpers: pixel-exact image canvases (CSS-scaled, pixelated) and devicePixelRatio-scaled drawing canvases.

/** A canvas whose buffer is `width`×`height` image pixels, filled from an RGBA buffer painter. */
export function paintImageCanvas(canvas: HTMLCanvasElement, width: number, height: number, paint: (data: Uint8ClampedArray) => void): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(width, height);
  paint(image.data);
  context.putImageData(image, 0, 0);
}

/** Sizes a drawing canvas for the device pixel ratio and returns a context in CSS pixels. */
export function hiDpiContext(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(cssWidth * ratio)), h = Math.max(1, Math.round(cssHeight * ratio));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
}

/** Image pixel under a pointer event on a CSS-scaled image canvas. */
export function imagePixel(canvas: HTMLCanvasElement, event: MouseEvent): { x: number; y: number } | undefined {
  const rect = canvas.getBoundingClientRect();
  const x = Math.floor(((event.clientX - rect.left) / rect.width) * canvas.width);
  const y = Math.floor(((event.clientY - rect.top) / rect.height) * canvas.height);
  return x >= 0 && y >= 0 && x < canvas.width && y < canvas.height ? { x, y } : undefined;
}
