/** The version plugins check `requires.core` against. Kept in step with package.json by a test. */
export const CORE_VERSION = '0.1.0';
