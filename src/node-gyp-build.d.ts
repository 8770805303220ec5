declare module 'node-gyp-build' {
  /** Loads the addon for this platform: build/Release, else a matching prebuild. */
  function load(dir: string): unknown;
  export = load;
}
