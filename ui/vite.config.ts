/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app loads only its own bundled files (see the CSP in src-tauri/tauri.conf.json): no remote origin, no inline
// script. `modulePreload.polyfill: false` keeps Vite from injecting an inline polyfill.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1000,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // Generous for a loaded machine (see asyncUtilTimeout in src/test/setup.ts): above the 10 s a single wait may take.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
