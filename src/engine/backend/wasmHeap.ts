// Typed-array views of tensors in the wasm backend's heap, for kernels written in JavaScript.
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm that heap kernels use (not in its public typings). */
export interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * A view of a tensor's elements in the heap. Take views after every allocation of the kernel: an allocation may grow
 * the heap, and the threaded build's HEAPU8 is refreshed lazily, so the shared memory's own buffer is preferred.
 */
export function heapView(backend: WasmBackendInternals, info: tf.TensorInfo): HeapArray {
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
  const offset = backend.dataIdMap.get(info.dataId).memoryOffset;
  const n = tf.util.sizeFromShape(info.shape);
  if (info.dtype === 'float32') return new Float32Array(buffer, offset, n);
  if (info.dtype === 'int32') return new Int32Array(buffer, offset, n);
  return new Uint8Array(buffer, offset, n);
}

/** A fresh output tensor of a wasm kernel (`backend` is the kernel's backend argument). */
export function makeOutput(backend: unknown, shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo {
  return (backend as WasmBackendInternals).makeOutput(shape, dtype);
}
