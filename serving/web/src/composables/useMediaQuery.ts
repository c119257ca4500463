// Whether a CSS media query matches, kept up to date: the sidebar turns into a drawer and the
// catalog's tables drop to one column on a tablet held upright. matchMedia is missing under jsdom
// and in very old browsers: then the query counts as not matching.
import { onBeforeUnmount, ref, type Ref } from 'vue'

/** Tablet portrait and narrower. */
export const NARROW_QUERY = '(max-width: 899px)'

export function useMediaQuery(query: string): Ref<boolean> {
  const list = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null
  const matches = ref(list?.matches ?? false)
  const update = (event: MediaQueryListEvent) => (matches.value = event.matches)
  list?.addEventListener?.('change', update)
  onBeforeUnmount(() => list?.removeEventListener?.('change', update))
  return matches
}
