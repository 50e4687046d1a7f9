// A tiny element builder: no innerHTML, no inline style attributes (the CSP forbids them); styles go through CSS classes or the CSSOM.

type Attributes = Record<string, string | number | boolean | undefined | null>;
type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = String(value);
    else if (key === 'text') element.textContent = String(value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

export function clear(element: Element): void {
  while (element.firstChild) element.firstChild.remove();
}

/** A section with a heading, as every part of the dashboard has. */
export function section(id: string, title: string, ...children: Child[]): { root: HTMLElement; body: HTMLElement; tools: HTMLElement } {
  const tools = el('div', { class: 'section-tools' });
  const body = el('div', { class: 'section-body' }, ...children);
  const root = el('section', { id, class: 'panel', 'data-section': id }, el('header', { class: 'section-header' }, el('h2', { text: title }), tools), body);
  return { root, body, tools };
}

/** Positions a floating tooltip near the pointer, kept inside the window. */
export function placeTooltip(tooltip: HTMLElement, clientX: number, clientY: number): void {
  tooltip.hidden = false;
  const pad = 12;
  const { width, height } = tooltip.getBoundingClientRect();
  let x = clientX + pad, y = clientY + pad;
  if (x + width > window.innerWidth - 4) x = Math.max(4, clientX - width - pad);
  if (y + height > window.innerHeight - 4) y = Math.max(4, clientY - height - pad);
  tooltip.style.left = `${x}px`;
  tooltip.style.top = `${y}px`;
}
