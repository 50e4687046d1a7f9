// The Pascal VOC colour map: class index → RGB, built with VOC's bit-interleaving formula (256 entries, 255 = void).

/** VOC's colour map: bits of the index are spread over the high bits of R, G and B, three at a time. */
export function vocPalette(): [number, number, number][] {
  const palette: [number, number, number][] = [];
  for (let index = 0; index < 256; index++) {
    let r = 0, g = 0, b = 0;
    let c = index;
    for (let shift = 7; shift >= 0; shift--) {
      r |= (c & 1) << shift;
      g |= ((c >> 1) & 1) << shift;
      b |= ((c >> 2) & 1) << shift;
      c >>= 3;
    }
    palette.push([r, g, b]);
  }
  return palette;
}

/** "r,g,b" → class index for the first `numClasses` VOC colours (plus 255 for void), for RGB-saved VOC masks. */
export function vocColorToClass(numClasses: number, ignoreLabel: number): Record<string, number> {
  const palette = vocPalette();
  const table: Record<string, number> = {};
  for (let i = 0; i < numClasses; i++) table[palette[i].join(',')] = i;
  table[palette[255].join(',')] = ignoreLabel;
  return table;
}
