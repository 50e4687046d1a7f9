// Colours from VS Code's theme CSS variables, and a notification when the theme changes (the body's class switches).
import type { Rgb } from './model/labelPaint';

export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

export interface ThemeColors {
  foreground: string;
  muted: string;
  background: string;
  border: string;
  grid: string;
  accent: string;
  series: string[];
  kind: 'dark' | 'light' | 'high-contrast' | 'high-contrast-light';
}

export function themeColors(): ThemeColors {
  const body = document.body.classList;
  const kind = body.contains('vscode-high-contrast-light') ? 'high-contrast-light' : body.contains('vscode-high-contrast') ? 'high-contrast' : body.contains('vscode-light') ? 'light' : 'dark';
  return {
    kind,
    foreground: cssVar('--vscode-editor-foreground', kind === 'light' ? '#333333' : '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#8b8b8b'),
    background: cssVar('--vscode-editor-background', kind === 'light' ? '#ffffff' : '#1e1e1e'),
    border: cssVar('--vscode-panel-border', '#80808059'),
    grid: cssVar('--vscode-editorWidget-border', '#80808040'),
    accent: cssVar('--vscode-focusBorder', '#007fd4'),
    series: [
      cssVar('--vscode-charts-blue', '#3794ff'), cssVar('--vscode-charts-orange', '#d18616'), cssVar('--vscode-charts-green', '#89d185'),
      cssVar('--vscode-charts-purple', '#b180d7'), cssVar('--vscode-charts-red', '#f14c4c'), cssVar('--vscode-charts-yellow', '#cca700'),
    ],
  };
}

/** Parses "#rgb", "#rrggbb(aa)" or "rgb(a)(…)" into RGB (alpha ignored); unknown → fallback. */
export function parseColor(css: string, fallback: Rgb = [30, 30, 30]): Rgb {
  const s = css.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as Rgb;
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as Rgb;
  m = /^rgba?\(\s*(\d+)[ ,]+(\d+)[ ,]+(\d+)/i.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return fallback;
}

export function onThemeChange(callback: () => void): void {
  new MutationObserver(() => callback()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
