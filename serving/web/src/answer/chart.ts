// Presentation defaults added to the server's ECharts option. The data and series are left as the
// server built them; only what a long axis or a raw float needs to stay readable is added, and
// never over a setting the server made itself.
import { formatNumber } from './format'

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** More categories than this and horizontal labels overlap (科室 names are 4–8 characters). */
export const ROTATE_AFTER = 8
export const ROTATE_DEGREES = 40

function withRotatedLabels(axis: unknown): unknown {
  if (!isObj(axis) || axis.type !== 'category' || !Array.isArray(axis.data) || axis.data.length <= ROTATE_AFTER) {
    return axis
  }
  const label = isObj(axis.axisLabel) ? axis.axisLabel : {}
  if ('rotate' in label) return axis
  // interval 0: show every 科室, rotated, rather than let ECharts silently skip some
  return { ...axis, axisLabel: { interval: 0, ...label, rotate: ROTATE_DEGREES } }
}

/** A copy of `option` with rotated labels on long category axes and rounded tooltip values. */
export function prepareOption(option: Obj): Obj {
  const out: Obj = { ...option }
  if (Array.isArray(out.xAxis)) out.xAxis = out.xAxis.map(withRotatedLabels)
  else if (out.xAxis !== undefined) out.xAxis = withRotatedLabels(out.xAxis)
  // the API sends unrounded floats (36.45222610484559); the tooltip shows them at 2 decimals
  if (isObj(out.tooltip) && !('valueFormatter' in out.tooltip)) {
    out.tooltip = {
      ...out.tooltip,
      valueFormatter: (v: unknown) => (typeof v === 'number' ? formatNumber(v, Number.isInteger(v) ? 0 : 2) : String(v ?? '—')),
    }
  }
  return out
}
