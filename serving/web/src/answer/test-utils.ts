// Shared set-up for the answer and catalog component tests (not a test file itself): Element Plus
// registered as the app does, and the browser APIs jsdom lacks stubbed out.
import ElementPlus from 'element-plus'
import { vi } from 'vitest'

/** jsdom has neither ResizeObserver nor matchMedia; Element Plus and our chart wrapper look for both. */
export function installDomStubs(): void {
  if (typeof globalThis.ResizeObserver === 'undefined') {
    vi.stubGlobal(
      'ResizeObserver',
      class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    )
  }
  if (typeof window.matchMedia !== 'function') {
    vi.stubGlobal(
      'matchMedia',
      (query: string) =>
        ({
          matches: false,
          media: query,
          onchange: null,
          addEventListener() {},
          removeEventListener() {},
          addListener() {},
          removeListener() {},
          dispatchEvent: () => false,
        }) as MediaQueryList,
    )
  }
}

export const withElementPlus = { global: { plugins: [ElementPlus] } }

/** A fake of what echarts/core's init returns, for vi.mock('echarts/core'). */
export function fakeChart() {
  return { setOption: vi.fn(), resize: vi.fn(), dispose: vi.fn(), on: vi.fn() }
}

/** Let pending promises (fetch mocks, awaits in components) settle, then Vue re-render. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0))
}
