import { defineConfig } from 'vite';

// Built into dist/ and served by the gateway under /app (services/gateway/src/static-console.ts).
export default defineConfig({
  base: '/app/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 400 },
});
