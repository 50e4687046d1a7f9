// While a SegScope debug session is paused, hovering a quoted name in segscope.json evaluates `layers["<name>"]` (its stats).
import * as vscode from 'vscode';

export class LayerExpressionProvider implements vscode.EvaluatableExpressionProvider {
  static register(): vscode.Disposable {
    return vscode.languages.registerEvaluatableExpressionProvider(
      [{ language: 'json', pattern: '**/segscope.json' }, { language: 'jsonc', pattern: '**/segscope.json' }],
      new LayerExpressionProvider(),
    );
  }

  provideEvaluatableExpression(document: vscode.TextDocument, position: vscode.Position): vscode.EvaluatableExpression | undefined {
    if (vscode.debug.activeDebugSession?.type !== 'segscope') return undefined;
    const range = document.getWordRangeAtPosition(position, /"(?:[^"\\]|\\.)*"/);
    if (!range) return undefined;
    let name: string;
    try {
      name = JSON.parse(document.getText(range)) as string;
    } catch {
      return undefined;
    }
    // A key ("train": …) is never a layer; values and array items may be.
    const after = document.lineAt(range.end.line).text.slice(range.end.character);
    if (/^\s*:/.test(after) || name === '') return undefined;
    return new vscode.EvaluatableExpression(range, `layers[${JSON.stringify(name)}]`);
  }
}
