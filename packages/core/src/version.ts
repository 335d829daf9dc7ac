import packageJson from '../package.json' with { type: 'json' };

/** The version plugins check `requires.core` against: the package's own (bundled into the build). */
export const CORE_VERSION: string = packageJson.version;
