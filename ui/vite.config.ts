import { defineConfig } from 'vite';

// Built into ui/dist, which `passdesk serve` embeds and serves at `/` under a strict
// Content-Security-Policy: no inline scripts or styles, everything from 'self'.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: true, // the gzip sizes are the UI bundle size reported
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8917' },
  },
});
