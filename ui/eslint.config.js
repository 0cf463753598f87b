// ESLint 9 flat config for the front end: typescript-eslint's recommended rules (not the type-aware ones: tsc
// runs separately) and the rules of hooks. Run by `make check` (`npm run lint`).
import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/"] },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      // The rules of hooks. Not the React Compiler rules that plugin v7 adds to "recommended"
      // (set-state-in-effect, refs, incompatible-library): the app does not use the compiler, and what they flag
      // here is deliberate (state reset when the viewed id changes, a ref that holds the latest results for a
      // scroll callback, TanStack Virtual).
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      // Unused names are already errors in tsc (noUnusedLocals, noUnusedParameters); `_x` marks one kept on
      // purpose.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
