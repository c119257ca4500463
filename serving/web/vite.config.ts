import { copyFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { defineConfig, type Plugin } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The API reference (/api/v1/docs) uses Swagger UI's own files from this build, not a CDN: the
// hospital network and these machines may be offline (serving/api/docs.py serves the page).
const API_DOCS_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png']
function apiDocsAssets(): Plugin {
  return {
    name: 'opsbrain-api-docs-assets',
    apply: 'build',
    closeBundle() {
      const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
      const target = join('dist', 'api-docs')
      mkdirSync(target, { recursive: true })
      for (const file of API_DOCS_FILES) copyFileSync(join(source, file), join(target, file))
    },
  }
}

// The built files (dist/) are served by FastAPI at /; `npm run dev` proxies the API to a running
// `opsbrain up` so the page can be developed with hot reload.
export default defineConfig({
  plugins: [vue(), apiDocsAssets()],
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
