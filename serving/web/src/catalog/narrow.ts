// Whether the screen is narrow (tablet portrait): the detail tables drop to one column there.
// matchMedia is missing under jsdom and in very old browsers: then the page counts as wide.
import { onBeforeUnmount, ref, type Ref } from 'vue'

export const NARROW_QUERY = '(max-width: 899px)'

export function useNarrow(query = NARROW_QUERY): Ref<boolean> {
  const narrow = ref(false)
  if (typeof window === 'undefined' || typeof window.matchMedia !== 'function') return narrow
  const mql = window.matchMedia(query)
  narrow.value = mql.matches
  const update = (e: MediaQueryListEvent) => (narrow.value = e.matches)
  mql.addEventListener?.('change', update)
  onBeforeUnmount(() => mql.removeEventListener?.('change', update))
  return narrow
}
