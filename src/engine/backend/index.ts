// The TensorFlow.js backend layer of the training engine: backend choice, wasm training kernels, dilated-conv gradients.
export { initBackend, defaultThreads, AUTO_ORDER, type InitBackendOptions } from './initBackend';
export {
  registerWasmTrainingKernels, registeredWasmTrainingKernels, WASM_CORRECTED_KERNELS, WASM_TRAINING_KERNELS,
} from './wasmTrainingKernels';
export { registerWasmSpeedKernels, registeredWasmSpeedKernels, restoreStockWasmKernels, WASM_SPEED_KERNELS } from './wasmFastKernels';
export { registerActivationGradients } from './activationGradients';
export { registerDilatedConvGradients } from './dilatedGradients';
export { enableLayersDilation } from './layersDilation';
export { findWasmFolder } from './wasmLoader';
export { KernelProfiler, type KernelTime } from './kernelProfiler';
