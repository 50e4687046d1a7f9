// Worker-thread entry: renders samples (read, decode, resize, crop) off the training thread and sends the pixels back without copying.
import { parentPort, workerData } from 'node:worker_threads';
import { renderJob, type RenderJob, type RenderSettings } from './sampleRenderer';

/** A request from the pool: one job, answered with the same id. */
export interface DecodeRequest {
  id: number;
  job: RenderJob;
}

const settings = (workerData as { settings: RenderSettings }).settings;

parentPort?.on('message', (request: DecodeRequest) => {
  void renderJob(request.job, settings).then((result) => {
    const transfer = result.ok ? [result.rgb.buffer as ArrayBuffer, result.mask.buffer as ArrayBuffer] : [];
    parentPort?.postMessage({ id: request.id, result }, transfer);
  });
});
