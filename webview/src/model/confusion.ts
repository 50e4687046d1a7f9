// Confusion-matrix arithmetic for the heat map: row normalisation and per-cell descriptions. DOM-free.

/** Each row divided by its sum (rows = ground truth); empty rows stay 0. */
export function rowNormalise(matrix: number[][]): number[][] {
  return matrix.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (sum > 0 ? v / sum : 0));
  });
}

export interface ConfusionCell {
  truth: number;
  predicted: number;
  count: number;
  /** Share of the ground-truth class's pixels (row-normalised value). */
  share: number;
}

export function describeCell(matrix: number[][], truth: number, predicted: number): ConfusionCell | undefined {
  const row = matrix[truth];
  if (!row || predicted < 0 || predicted >= row.length) return undefined;
  const sum = row.reduce((a, b) => a + b, 0);
  return { truth, predicted, count: row[predicted], share: sum > 0 ? row[predicted] / sum : 0 };
}

/** The matrix cell under a point of a square heat map with `size` cells starting at (left, top), each `cell` pixels wide. */
export function cellAt(x: number, y: number, left: number, top: number, cell: number, size: number): { truth: number; predicted: number } | undefined {
  const predicted = Math.floor((x - left) / cell);
  const truth = Math.floor((y - top) / cell);
  if (x < left || y < top || predicted >= size || truth >= size) return undefined;
  return { truth, predicted };
}
