import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The built files (dist/) are served by FastAPI at /; `npm run dev` proxies the API to a running
// `opsbrain up` so the page can be developed with hot reload.
export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
  },
})
