// Everything the `segscope` debugger needs in the extension host, registered in one call from activate().
import * as vscode from 'vscode';
import { SegScopeAdapterFactory } from './adapterFactory';
import { SegScopeConfigurationProvider } from './configurationProvider';
import { LayerExpressionProvider } from './layerExpressions';
import { TimelineDocumentProvider } from './timelineDocument';

export function registerDebugging(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.Disposable.from(
    SegScopeAdapterFactory.register(context),
    SegScopeConfigurationProvider.register(),
    LayerExpressionProvider.register(),
    TimelineDocumentProvider.register(),
  );
}
