// Fills every default of segscope.json, so that the engine reads one fully specified config. Pure: no tfjs, no vscode.
import {
  VOC_CLASSES, type BackendChoice, type DataConfig, type LossConfig, type ModelConfig, type Normalization,
  type OptimizerConfig, type SegScopeConfig,
} from '../protocol/config';

/** tfjs' (and Keras') default learning rates; kept honest on purpose (Adadelta's 0.001 is flagged by a health check). */
export const DEFAULT_LEARNING_RATE: Record<OptimizerConfig['name'], number> = {
  adam: 0.001, sgd: 0.01, adadelta: 0.001, rmsprop: 0.001,
};

export interface ResolvedConfig {
  name: string;
  seed: number;
  backend: BackendChoice;
  runsDir: string;
  data: Required<Omit<DataConfig, 'colorToClass' | 'limit' | 'augment'>> & {
    colorToClass?: Record<string, number>;
    limit?: number;
    augment: { scale: [number, number]; flip: boolean; crop: boolean };
  };
  numClasses: number;
  model: Required<Omit<ModelConfig, 'path' | 'weights'>> & { path?: string; weights?: string };
  train: {
    epochs: number;
    batchSize: number;
    optimizer: Required<Pick<OptimizerConfig, 'name' | 'learningRate'>> & OptimizerConfig;
    schedule: { type: 'constant' } | { type: 'poly'; power: number };
    weightDecay: number;
    earlyStopping?: { metric: 'val.miou' | 'val.loss'; patience: number };
    freeze: { firstN: number; pattern?: string };
    frozenBatchNorm: 'inference' | 'train';
    stepsPerEpoch?: number;
  };
  loss: Required<Omit<LossConfig, 'classWeights' | 'module'>> & Pick<LossConfig, 'classWeights' | 'module'>;
  metrics: { module?: string };
  watch: { images: string[]; layers: string[] };
}

const NORMALIZATION_DEFAULT: Normalization = '-1..1';

export function resolveConfig(raw: SegScopeConfig): ResolvedConfig {
  const data = raw.data ?? ({} as DataConfig);
  const classes = data.classes ?? [...VOC_CLASSES];
  const model = raw.model ?? {};
  const train = raw.train ?? {};
  const loss = raw.loss ?? {};
  const optimizerName = train.optimizer?.name ?? 'adam';
  const schedule = train.schedule ?? { type: 'constant' as const };
  return {
    name: raw.name ?? 'run',
    seed: raw.seed ?? 42,
    backend: raw.backend ?? 'auto',
    runsDir: raw.runsDir ?? '.segscope/runs',
    data: {
      format: data.format ?? 'voc',
      root: data.root ?? '.',
      trainSplit: data.trainSplit ?? 'train',
      valSplit: data.valSplit ?? 'val',
      classes,
      ignoreLabel: data.ignoreLabel ?? 255,
      inputSize: data.inputSize ?? 128,
      normalize: data.normalize ?? NORMALIZATION_DEFAULT,
      maskResize: data.maskResize ?? 'nearest',
      augment: {
        scale: data.augment?.scale ?? [0.5, 2.0],
        flip: data.augment?.flip ?? true,
        crop: data.augment?.crop ?? true,
      },
      colorToClass: data.colorToClass,
      imagesDir: data.imagesDir ?? 'images',
      masksDir: data.masksDir ?? 'masks',
      limit: data.limit,
    },
    numClasses: classes.length,
    model: {
      arch: model.arch ?? 'deeplabv3plus',
      backbone: model.backbone ?? 'mobilenetv2',
      width: model.width ?? 1.0,
      depth: model.depth ?? 1.0,
      outputStride: model.outputStride ?? 16,
      asppRates: model.asppRates ?? (model.outputStride === 8 ? [12, 24, 36] : [6, 12, 18]),
      finalSoftmax: model.finalSoftmax ?? false,
      strict: model.strict ?? false,
      path: model.path,
      weights: model.weights,
    },
    train: {
      epochs: train.epochs ?? 10,
      batchSize: train.batchSize ?? 8,
      optimizer: {
        ...train.optimizer,
        name: optimizerName,
        learningRate: train.optimizer?.learningRate ?? DEFAULT_LEARNING_RATE[optimizerName],
      },
      schedule: schedule.type === 'poly' ? { type: 'poly', power: schedule.power ?? 0.9 } : { type: 'constant' },
      weightDecay: train.weightDecay ?? 0,
      earlyStopping: train.earlyStopping,
      freeze: { firstN: train.freeze?.firstN ?? 0, pattern: train.freeze?.pattern },
      frozenBatchNorm: train.frozenBatchNorm ?? 'inference',
      stepsPerEpoch: train.stepsPerEpoch,
    },
    loss: {
      type: loss.type ?? 'ce',
      fromLogits: loss.fromLogits ?? true,
      target: loss.target ?? 'index',
      onehotIgnore: loss.onehotIgnore ?? 'zero',
      focalGamma: loss.focalGamma ?? 2,
      classWeights: loss.classWeights,
      module: loss.module,
    },
    metrics: { module: raw.metrics?.module },
    watch: { images: raw.watch?.images ?? [], layers: raw.watch?.layers ?? [] },
  };
}
