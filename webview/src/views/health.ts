// Health: the findings of the run's health checks, newest first, each with cause, fix, evidence and where to look.
import type { DashboardState } from '../model/dashboardState';
import { clear, el, section } from '../dom';
import type { DashboardContext, View } from './view';

const ICON: Record<string, string> = { error: '⛔', warning: '⚠', info: 'ℹ' };

export class HealthView implements View {
  readonly root: HTMLElement;
  private readonly list = el('ol', { id: 'health-list', class: 'health-list' });
  private readonly count = el('span', { id: 'health-count', class: 'chip' });
  private shown: unknown = null;

  constructor(private readonly context: DashboardContext) {
    const s = section('health', 'Health');
    this.root = s.root;
    s.tools.append(this.count);
    s.body.append(this.list);
  }

  render(state: DashboardState): void {
    this.root.hidden = !state.run;
    if (!state.run || this.shown === state.run.findings) return;
    this.shown = state.run.findings;
    clear(this.list);
    const findings = [...state.run.findings].reverse();
    this.count.textContent = String(findings.length);
    this.count.dataset.severity = findings.some((f) => f.severity === 'error') ? 'error' : findings.length ? 'warning' : 'none';
    if (!findings.length) { this.list.append(el('li', { class: 'muted empty', text: 'No findings so far: the health checks found nothing wrong.' })); return; }
    for (const f of findings) {
      const layer = f.location?.layer;
      const layerLink = layer ? el('button', { class: 'link', text: layer, title: 'Show this layer' }) : null;
      layerLink?.addEventListener('click', () => this.context.setView({ selectedLayer: layer!, enlargedChannel: null }));
      this.list.append(el('li', { class: `finding severity-${f.severity}`, 'data-finding-id': f.id, 'data-severity': f.severity },
        el('div', { class: 'finding-head' }, el('span', { class: 'finding-icon', 'aria-hidden': 'true', text: ICON[f.severity] ?? '•' }),
          el('code', { class: 'finding-id', text: f.id }), f.epoch !== undefined && el('span', { class: 'muted', text: ` epoch ${f.epoch}${f.batch !== undefined ? `, batch ${f.batch}` : ''}` })),
        el('div', { class: 'finding-cause', text: f.cause }),
        el('div', { class: 'finding-fix' }, el('span', { class: 'muted', text: 'Fix: ' }), f.fix),
        el('div', { class: 'finding-evidence' }, ...Object.entries(f.evidence).map(([k, v]) => el('span', { class: 'chip', text: `${k}: ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}` }))),
        (f.location?.configKey || layerLink) && el('div', { class: 'finding-location muted' }, 'Look at ',
          f.location?.configKey ? el('code', { text: f.location.configKey }) : null, f.location?.configKey && layerLink ? ' and layer ' : layerLink ? 'layer ' : '', layerLink)));
    }
  }
}
