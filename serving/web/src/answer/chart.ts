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
  // the API sends unrounded floats (36.45222610484559); the tooltip shows them at 2 decimals, with
  // the unit the value axis is named by (a bar's 65.24 alone does not say % or 元)
  if (isObj(out.tooltip) && !('valueFormatter' in out.tooltip)) {
    const unit = valueUnit(out)
    out.tooltip = {
      ...out.tooltip,
      valueFormatter: (v: unknown) =>
        typeof v === 'number' ? withUnit(formatNumber(v, Number.isInteger(v) ? 0 : 2), unit) : String(v ?? '—'),
    }
  }
  return out
}

/** The unit of the chart's value axis (its name), whichever axis it is (bars may lie sideways). */
export function valueUnit(option: Obj): string {
  for (const axis of [option.yAxis, option.xAxis]) {
    if (isObj(axis) && axis.type === 'value' && typeof axis.name === 'string') return axis.name
  }
  return ''
}

function withUnit(value: string, unit: string): string {
  if (!unit || unit === '无量纲' || unit === '比值') return value
  return unit === '%' ? `${value}%` : `${value} ${unit}`
}
