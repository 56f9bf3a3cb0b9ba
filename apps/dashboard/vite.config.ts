import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Vite needs a default export here; everything in src/ uses named exports.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
  },
});
