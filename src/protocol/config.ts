// The shape of segscope.json: the one config that the engine, the trainer, the CLI, the host and the webview share.

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type Normalization = '-1..1' | '0..1' | 'imagenet';

export interface DataConfig {
  /** 'voc': JPEGImages/ + SegmentationClass/ + ImageSets/Segmentation; 'folders': images/ + masks/ with the same stems. */
  format: 'voc' | 'folders';
  /** Dataset root, relative to the folder of segscope.json. */
  root: string;
  /** Split file names (voc) or sub-folders (folders) for training and validation. */
  trainSplit?: string;
  valSplit?: string;
  /** Class names; index = label value. Default: the 21 VOC classes. */
  classes?: string[];
  /** Label value of void pixels, never counted in loss or metrics. Default 255. */
  ignoreLabel?: number;
  /** Square side the network sees. Default 128. */
  inputSize?: number;
  normalize?: Normalization;
  /** How masks are resized. 'bilinear' exists only to reproduce a classic bug; default 'nearest'. */
  maskResize?: 'nearest' | 'bilinear';
  /** Training augmentation (DeepLab style). */
  augment?: { scale?: [number, number]; flip?: boolean; crop?: boolean };
  /** For RGB masks: "r,g,b" → class index. */
  colorToClass?: Record<string, number>;
  /** Folders layout only: sub-folder names. */
  imagesDir?: string;
  masksDir?: string;
  /** Limit the number of images per split (quick runs). */
  limit?: number;
}

export interface ModelConfig {
  /** Built-in architectures, or 'file' to load `path`. */
  arch?: 'deeplabv3plus' | 'unet' | 'bench';
  backbone?: 'mobilenetv2' | 'xception';
  /** Channel multiplier for the backbone. */
  width?: number;
  /** Xception middle-flow repeats (depth multiplier). */
  depth?: number;
  outputStride?: 8 | 16;
  asppRates?: number[];
  /** Append a softmax after the logits. Only to reproduce the double-softmax bug; default false. */
  finalSoftmax?: boolean;
  /** A tfjs LayersModel model.json to load instead of a built-in architecture. */
  path?: string;
  /** Keras .h5 weights to load by layer name. */
  weights?: string;
  strict?: boolean;
}

export type OptimizerName = 'adam' | 'sgd' | 'adadelta' | 'rmsprop';

export interface OptimizerConfig {
  name: OptimizerName;
  /** Omitted: the tfjs/Keras default of that optimizer (Adadelta: 0.001, which health checks flag). */
  learningRate?: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  rho?: number;
}

export interface TrainConfig {
  epochs?: number;
  batchSize?: number;
  optimizer?: OptimizerConfig;
  schedule?: { type: 'constant' } | { type: 'poly'; power?: number };
  weightDecay?: number;
  earlyStopping?: { metric: 'val.miou' | 'val.loss'; patience: number };
  /** Freeze the first N layers, and/or every layer whose name matches the pattern (a RegExp source). */
  freeze?: { firstN?: number; pattern?: string };
  /** BatchNorm in frozen layers: 'inference' uses and keeps the moving statistics (correct); 'train' is the Keras trap. */
  frozenBatchNorm?: 'inference' | 'train';
  /** Stop an epoch after this many batches (quick runs). */
  stepsPerEpoch?: number;
}

export type LossName = 'ce' | 'weighted-ce' | 'focal' | 'dice' | 'ce+dice';

export interface LossConfig {
  type?: LossName;
  /** true: the loss gets logits and applies softmax itself; false: it gets probabilities. */
  fromLogits?: boolean;
  /** 'onehot' builds one-hot targets; how the ignore label is written into them is `onehotIgnore`. */
  target?: 'index' | 'onehot';
  /** For one-hot targets: 'zero' (void pixels are all-zero rows, ignored) or 'value' (the ignore value written into every channel, the seed's bug). */
  onehotIgnore?: 'zero' | 'value';
  classWeights?: number[] | 'inverse-frequency';
  focalGamma?: number;
  /** A user module exporting `loss(yTrue, yPred)`; loaded only in trusted workspaces / with --trust. */
  module?: string;
}

export interface MetricConfig {
  /** A user module computing metrics; loaded only when trusted. */
  module?: string;
}

export interface WatchConfig {
  /** Image ids (file stems) shown after each epoch. Default: the first 4 val images. */
  images?: string[];
  /** Layer names whose activations are saved after each epoch. */
  layers?: string[];
}

export interface SegScopeConfig {
  $schema?: string;
  name?: string;
  seed?: number;
  backend?: BackendChoice;
  data: DataConfig;
  model?: ModelConfig;
  train?: TrainConfig;
  loss?: LossConfig;
  metrics?: MetricConfig;
  watch?: WatchConfig;
  /** Where run folders go, relative to segscope.json. Default '.segscope/runs'. */
  runsDir?: string;
}

/** The 21 Pascal VOC 2012 class names, index = label value. */
export const VOC_CLASSES: readonly string[] = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];
