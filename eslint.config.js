// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/*
 * Type-aware linting of every source, test and example (the same files `pnpm typecheck`
 * checks). The rules kept are the ones that catch bugs in this kind of code: promises left
 * floating or passed where a callback is expected, awaits of non-promises, unused code.
 * Formatting is Prettier's (`pnpm format`), not the linter's.
 */
export default tseslint.config(
  {
    ignores: [
      '**/tsup.config.ts',
      'vitest.config.ts',
      '**/rapport.config.ts',
      '**/dist/**',
      '**/node_modules/**',
      'packages/client/src/schema.d.ts',
      'examples/*/src/api.d.ts',
      'bench/results/**',
      '**/*.d.ts',
      '**/.rapport/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'bench/*.mjs', 'bench/*/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The bugs that matter most in async server code.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Knex rows, zod internals and JSON bodies are `any` at their edges; the types past them are checked.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      // openapi-fetch's path maps are constrained by `{}`, as its own types are.
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always' }],
      // A new error thrown from a catch is often the state that catch found, not a wrapped failure.
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { ...globals.node } },
  },
  {
    // Tests assert on what they receive; a helper's unused result is often the point.
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
);
