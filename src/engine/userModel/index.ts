// Bring your own model: tfjs LayersModel folders, Keras .h5 weights, fine-tuning by layer name, export, and the
// per-configuration backend check. No vscode here.
export { assertTrusted, UntrustedFileError } from './trust';
export { UserFileError } from './userFileError';
export { loadLayersModelFromFolder, endsInSoftmax } from './loadLayersModel';
export { folderLoadHandler, folderSaveHandler, readModelJson } from './layersFolderIO';
export { toSegScopeBatchNorm, toStockBatchNorm } from './topology';
export { readKerasH5Weights, type KerasH5Weights } from './kerasH5';
export { loadH5Weights, type H5LoadOptions } from './loadH5Weights';
export { writeKerasH5Weights } from './writeKerasH5';
export {
  loadWeightsByLayerName, describeWeightReport, type WeightLoadReport, type ShapeMismatch, type SourceWeight,
} from './weightsByName';
export { classifierLayers, zeroNewHead } from './newHead';
export { transferWeights, loadLayersWeightsByName, modelWeightSource, type TransferOptions } from './transferWeights';
export { exportRun, exportModel, type ExportOptions, type ExportResult, type ExportMetadata } from './exportRun';
export {
  checkModelConfigurations, routeDisagreeing, describeBackendCheck, listLayerConfigurations,
  type BackendCheckReport, type ConfigurationResult, type LayerConfiguration, type CheckOptions,
} from './backendCheck';
export { installKernelRouter, removeKernelRouter, routeToCpu, routedKeys, ROUTABLE_KERNELS } from './kernelRouter';
export { loadConfiguredModel, type ConfiguredModel, type ConfiguredModelOptions } from './configuredModel';
