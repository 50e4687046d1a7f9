// Segmentation metrics: confusion matrix, IoU, mIoU, pixel accuracy, argmax label maps.
export { ConfusionMatrix, argmaxLabels, argmaxLabelsSync } from './confusion';
