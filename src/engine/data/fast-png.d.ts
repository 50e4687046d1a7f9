// Points TypeScript at fast-png's own typings: the package only has an "exports" map, which moduleResolution "node" ignores.
declare module 'fast-png' {
  export * from 'fast-png/lib/index';
}
