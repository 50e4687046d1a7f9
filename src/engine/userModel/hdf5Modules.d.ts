// Minimal typings for the two HDF5 libraries: jsfive (the reader) and h5wasm's Node build (the writer).

declare module 'jsfive' {
  export class Dataset {
    readonly shape: number[];
    readonly dtype: string | unknown[];
    readonly value: ArrayLike<number> | ArrayLike<string>;
    readonly attrs: Record<string, unknown>;
  }
  export class Group {
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}

declare module 'h5wasm/node' {
  export interface H5Group {
    create_group(name: string): H5Group;
    create_dataset(args: { name: string; data: Float32Array | Float64Array | Int32Array | Uint8Array; shape?: number[]; dtype?: string }): unknown;
    create_attribute(name: string, data: string | string[] | number | number[], shape?: number[] | null, dtype?: string | null): void;
    keys(): string[];
  }
  export interface H5File extends H5Group {
    close(): void;
    flush(): void;
  }
  export const ready: Promise<unknown>;
  export const File: new (filename: string, mode: 'r' | 'w' | 'a') => H5File;
}
