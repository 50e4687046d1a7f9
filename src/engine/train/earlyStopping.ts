// Early stopping: stops when the watched validation metric has not improved for `patience` epochs.
export interface EarlyStoppingConfig {
  metric: 'val.miou' | 'val.loss';
  patience: number;
}

export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number;
  badEpochs: number;
}

export class EarlyStopping {
  private state: EarlyStoppingState = { best: null, bestEpoch: 0, badEpochs: 0 };

  constructor(private readonly cfg: EarlyStoppingConfig) {}

  /** Records an epoch's validation metrics; returns true when training should stop now. */
  update(epoch: number, val: { miou: number; loss: number }): boolean {
    const value = this.cfg.metric === 'val.miou' ? val.miou : val.loss;
    const better = this.state.best === null || (Number.isFinite(value) &&
      (this.cfg.metric === 'val.miou' ? value > this.state.best : value < this.state.best));
    if (better) this.state = { best: Number.isFinite(value) ? value : this.state.best, bestEpoch: epoch, badEpochs: 0 };
    else this.state = { ...this.state, badEpochs: this.state.badEpochs + 1 };
    return this.state.badEpochs >= this.cfg.patience;
  }

  snapshot(): EarlyStoppingState {
    return { ...this.state };
  }

  restore(state: EarlyStoppingState): void {
    this.state = { ...state };
  }
}
