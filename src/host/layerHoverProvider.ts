// Editor hovers on layer names (segscope.json freeze.pattern / watch.layers, a tfjs model.json, JS/TS files) showing the layer's activation summary at the latest epoch of the active run.
import * as vscode from 'vscode';
import path from 'node:path';
import { freezePatternMarkdown, layerAt, layerHoverMarkdown, type LayerFileKind } from './layerHover';
import type { TrainingSession } from './trainingSession';

export const SHOW_LAYER_COMMAND = 'segscope.showLayer';

function fileKind(document: vscode.TextDocument): LayerFileKind {
  const base = path.basename(document.uri.fsPath);
  if (base === 'segscope.json') return 'segscope';
  if (base === 'model.json' || base.endsWith('.model.json')) return 'model';
  return 'code';
}

export class LayerHoverProvider implements vscode.HoverProvider {
  static register(session: TrainingSession): vscode.Disposable {
    const selector: vscode.DocumentSelector = [
      { pattern: '**/segscope.json' },
      { pattern: '**/model.json' },
      { language: 'javascript' }, { language: 'typescript' }, { language: 'javascriptreact' }, { language: 'typescriptreact' },
    ];
    return vscode.languages.registerHoverProvider(selector, new LayerHoverProvider(session));
  }

  constructor(private readonly session: TrainingSession) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const history = this.session.history;
    if (!history) return undefined;
    const known = history.info.model.layers.map((l) => l.name);
    const hit = layerAt(document.getText(), document.offsetAt(position), fileKind(document), known);
    if (!hit) return undefined;
    const range = new vscode.Range(document.positionAt(hit.offset), document.positionAt(hit.offset + hit.length));
    const runName = history.info.name;
    let text: string;
    if (hit.pattern !== undefined) text = freezePatternMarkdown(hit.pattern, hit.layers, runName);
    else {
      const layer = hit.layers[0];
      const summary = history.info.model.layers.find((l) => l.name === layer);
      const args = encodeURIComponent(JSON.stringify([layer]));
      text = `${layerHoverMarkdown(layer, summary, history.latestLayerStats(layer), runName)}\n\n[Show feature maps](command:${SHOW_LAYER_COMMAND}?${args})`;
    }
    const markdown = new vscode.MarkdownString(text);
    markdown.isTrusted = { enabledCommands: [SHOW_LAYER_COMMAND] };
    return new vscode.Hover(markdown, range);
  }
}
