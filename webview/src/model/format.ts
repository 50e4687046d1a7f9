// Number and shape formatting shared by the dashboard's views. DOM-free.

export function formatNumber(v: number | undefined | null, digits = 3): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toFixed(digits)).toString();
}

export function formatPercent(v: number | undefined | null, digits = 1): string {
  return v === undefined || v === null || Number.isNaN(v) ? '—' : `${(v * 100).toFixed(digits)} %`;
}

export function formatShape(shape: number[]): string {
  return shape.join('×');
}

export function formatCount(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return String(v);
}
