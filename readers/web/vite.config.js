// Vite build of the reader workstation UI. The C server serves dist/ as static files (GET / and /assets/*),
// so the bundle uses relative asset paths and no dev-server features at run time.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Cornerstone3D + codecs is several MB: that is the viewer, not an accident; keep the warning meaningful.
    chunkSizeWarningLimit: 8000,
    sourcemap: false,
    reportCompressedSize: false,
  },
  resolve: {
    // xmlbuilder2 (pulled in by Cornerstone) extends Node's EventEmitter; the browser build must take it from
    // the npm `events` package or the bundle dies with "Class extends value undefined" (shared/notes/viewer.md).
    alias: { events: 'events' },
  },
  // The image loader creates its decode worker with new URL(..., import.meta.url): workers must be ES modules,
  // and the loader must not be pre-bundled (pre-bundling breaks the worker URL in dev mode).
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@cornerstonejs/dicom-image-loader'], include: ['dicom-parser'] },
});
