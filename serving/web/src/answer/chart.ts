// Presentation defaults added to the server's ECharts option. The data and series are left as the
// server built them; only what a long axis or a raw float needs to stay readable is added, and
// never over a setting the server made itself. Values the server withheld (too few cases) and any
// other missing value become ECharts' "-" so that no bar or point is drawn for them (not a 0).
import type { ChartWithheld } from './figures'
import { formatNumber, withheldHint, withheldText } from './format'

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

/** ECharts' mark for "no value here": the point is skipped, the line broken, no bar drawn. */
export const NO_VALUE = '-'

/** The series' data with withheld points (of the first series) and nulls as NO_VALUE. */
function withoutMissing(series: unknown, index: number, withheld: ChartWithheld | null | undefined): unknown {
  if (!isObj(series) || !Array.isArray(series.data)) return series
  const hidden = index === 0 ? withheld?.points : undefined
  const data = series.data.map((v, i) => (hidden?.[i] || v === null || v === undefined ? NO_VALUE : v))
  return { ...series, data }
}

/** "东院区、心血管内科 少于5例，为保护患者隐私不显示" for the chart's subtitle (at most 3 names). */
function withheldNote(option: Obj, withheld: ChartWithheld): string {
  const axis = [option.xAxis, option.yAxis].find((a) => isObj(a) && a.type === 'category' && Array.isArray(a.data)) as Obj | undefined
  const labels = (axis?.data as unknown[] | undefined) ?? []
  const names = withheld.points.flatMap((hidden, i) => (hidden && labels[i] !== undefined ? [String(labels[i])] : []))
  const hint = withheldHint(withheld.minCell)
  if (!names.length) return hint
  const shown = names.length > 3 ? `${names.slice(0, 3).join('、')}等 ${names.length} 项` : names.join('、')
  return `${shown} ${hint}`
}

/**
 * A copy of `option` with rotated labels on long category axes, rounded tooltip values, and no
 * bar or point for a missing or withheld value (`withheld`: points of the first series).
 */
export function prepareOption(option: Obj, withheld?: ChartWithheld | null): Obj {
  const out: Obj = { ...option }
  if (Array.isArray(out.xAxis)) out.xAxis = out.xAxis.map(withRotatedLabels)
  else if (out.xAxis !== undefined) out.xAxis = withRotatedLabels(out.xAxis)
  if (Array.isArray(out.series)) out.series = out.series.map((s, i) => withoutMissing(s, i, withheld))
  else if (out.series !== undefined) out.series = withoutMissing(out.series, 0, withheld)
  const hidden = withheld?.points.some(Boolean) ? withheld : null
  if (hidden && isObj(out.title)) {
    const sub = typeof out.title.subtext === 'string' && out.title.subtext ? `${out.title.subtext}；` : ''
    out.title = { ...out.title, subtext: `${sub}${withheldNote(out, hidden)}` }
  }
  // the API sends unrounded floats (36.45222610484559); the tooltip shows them at 2 decimals, with
  // the unit the value axis is named by (a bar's 65.24 alone does not say % or 元)
  if (isObj(out.tooltip) && !('valueFormatter' in out.tooltip)) {
    const unit = valueUnit(out)
    out.tooltip = {
      ...out.tooltip,
      valueFormatter: (v: unknown, dataIndex?: number) => {
        if (hidden && typeof dataIndex === 'number' && hidden.points[dataIndex]) {
          return `${withheldText(hidden.minCell)}（${withheldHint(hidden.minCell)}）`
        }
        if (typeof v === 'number') return withUnit(formatNumber(v, Number.isInteger(v) ? 0 : 2), unit)
        return v === null || v === undefined || v === NO_VALUE ? '—' : String(v)
      },
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
