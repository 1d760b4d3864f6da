// Lint: the rules that catch real bugs in a process supervisor, type-aware for TypeScript.
// - a promise nobody awaits (a stop step or a cleanup that silently never runs) or one passed where a callback
//   is expected (its rejection becomes an unhandled one, which is exit 70);
// - a switch over a union (signal actions, stop states) that forgets a member;
// - unused code.
// Layout is the formatter's job (prettier, `npm run format`), not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'test/fixtures/lint/'] },
  js.configs.recommended,
  {
    rules: {
      // `try { … } catch {}` is how best-effort cleanup reads here (a process that is already gone).
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Matching control characters is the point of the regexes that validate and escape untrusted text.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-fallthrough': 'error',
    },
  },
  {
    // Tests mutate parsed YAML/JSON documents to prove a check rejects them; typing each mutation adds nothing.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
