// A replaced classifier starts at zero: a fresh random head on pretrained features gives confident, wrong logits.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Layer classes whose gradient stays alive when kernel and bias are zero (one linear map of the features). */
const LINEAR_CLASSES = new Set(['Conv2D', 'Conv2DTranspose', 'Dense']);

/**
 * The layers that compute each output's logits: from the output back through weightless layers (softmax,
 * activation, resize) to the first layer with weights, kept only if it is a plain Conv2D / Conv2DTranspose / Dense.
 */
export function classifierLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const found: tfl.layers.Layer[] = [];
  for (const output of model.outputs) {
    let layer = output.sourceLayer as tfl.layers.Layer;
    while (layer.weights.length === 0 && !(layer instanceof tfl.LayersModel)) {
      const input = layer.inboundNodes.length === 1 ? layer.input : undefined;
      if (input === undefined || Array.isArray(input)) break;
      layer = input.sourceLayer as tfl.layers.Layer;
    }
    if (LINEAR_CLASSES.has(layer.getClassName()) && !found.includes(layer)) found.push(layer);
  }
  return found;
}

/**
 * Sets to zero the weights of the classifier layers that `loaded` does not contain, and returns their names.
 * Why: pretrained features are large and correlated (post-ReLU, trained to be discriminative), so a randomly
 * initialised head maps them to large logits that favour one class everywhere; the optimizer moves the head by about
 * the learning rate per step, far too slowly to undo that, and meanwhile its gradients pull the backbone off its
 * pretrained features. A zero head starts at uniform predictions and still gets gradients (the zero-initialised
 * head of Kolesnikov et al., "Big Transfer", 2020). Measured on the demo U-Net (test/unit/userModel/fineTune.test.ts):
 * with a Glorot head the first fine-tuning loss is 1.89 (uniform: ln 3 = 1.10) and val mIoU collapses to 0.03.
 */
export function zeroNewHead(model: tfl.LayersModel, loaded: ReadonlySet<string>): string[] {
  const zeroed: string[] = [];
  for (const layer of classifierLayers(model)) {
    if (loaded.has(layer.name)) continue;
    for (const weight of layer.weights) {
      const zeros = tf.zerosLike(weight.read());
      weight.write(zeros);
      zeros.dispose();
    }
    zeroed.push(layer.name);
  }
  return zeroed;
}
