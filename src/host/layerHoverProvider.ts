// Editor hovers on layer names (segscope.json freeze.pattern / watch.layers, a tfjs model.json, JS/TS files) showing the layer's activation summary at the latest epoch of the active run, with a thumbnail of its strongest channels when the layer is watched.
import * as vscode from 'vscode';
import path from 'node:path';
import { activationPreviewMarkdown, freezePatternMarkdown, layerAt, layerHoverMarkdown, type LayerFileKind } from './layerHover';
import { LayerThumbnailCache, layerActivationPreview } from './layerThumbnails';
import type { TrainingSession } from './trainingSession';

export const SHOW_LAYER_COMMAND = 'segscope.showLayer';
/** Adds a layer to watch.layers of segscope.json (registered in commands.ts). */
export const WATCH_LAYER_COMMAND = 'segscope.watchLayer';

function commandUri(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

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

  private readonly thumbnails = new LayerThumbnailCache();

  constructor(private readonly session: TrainingSession) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position, token?: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
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
      const latest = history.latestLayerStats(layer);
      const preview = await layerActivationPreview(history, layer, this.thumbnails);
      if (token?.isCancellationRequested) return undefined;
      text = [
        layerHoverMarkdown(layer, summary, latest, runName),
        activationPreviewMarkdown(layer, preview, commandUri(WATCH_LAYER_COMMAND, [layer])),
        `[Show feature maps](${commandUri(SHOW_LAYER_COMMAND, [layer])})`,
      ].join('\n\n');
    }
    const markdown = new vscode.MarkdownString(text);
    markdown.isTrusted = { enabledCommands: [SHOW_LAYER_COMMAND, WATCH_LAYER_COMMAND] };
    return new vscode.Hover(markdown, range);
  }
}
