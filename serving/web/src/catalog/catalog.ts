// The indicator browser's pure helpers (trend period, chart option, the question handed to the
// chat); its requests are in api/client.ts with the page's others.
import type { IndicatorQuery, IndicatorResult, Row, Target } from '../api/types'
import type { ChartWithheld } from '../answer/figures'

const pad = (n: number) => String(n).padStart(2, '0')

/** First day of the month 11 months before as_of's month: 2023-09-08 → 2022-10-01 (12 months). */
export function trendStart(asOf: string): string {
  const m = /^(\d{4})-(\d{2})/.exec(asOf)
  if (!m) throw new Error(`数据截止日期格式不正确：${asOf}`)
  const index = Number(m[1]) * 12 + (Number(m[2]) - 1) - 11
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}-01`
}

/** The monthly query behind the quick trend: the last 12 months up to the data's end. */
export function trendQuery(code: string, asOf: string): IndicatorQuery {
  return {
    indicators: [code],
    start: trendStart(asOf),
    end: asOf.slice(0, 10),
    filters: { campus: [], department: [], doctor: [], insurance: [], visit_type: [] },
    group_by: ['month'],
    compare: [],
    rank: null,
    version: null,
  }
}

/** Whether a monthly row stops before its month ends (the month the data's end date falls in). */
export function isPartialMonth(month: string, end: string): boolean {
  const m = /^(\d{4})-(\d{2})$/.exec(month)
  if (!m) return false
  const last = new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate()
  return end < `${month}-${pad(last)}`
}

/**
 * A line of rows[].keys.month against value, titled with the name and unit. The month the data
 * ends in is usually incomplete: its label gets a * and the subtitle says so, since a count for
 * 8 days next to full months would otherwise read as a collapse.
 */
export function trendOption(ind: IndicatorResult): Record<string, unknown> {
  const rows = trendRows(ind)
  const title = ind.unit ? `${ind.name}（${ind.unit}）近 12 个月` : `${ind.name} 近 12 个月`
  const months = rows.map((r) => r.keys.month ?? r.start.slice(0, 7))
  const partial = rows.map((r, i) => isPartialMonth(months[i], r.end))
  const notes = rows.filter((_, i) => partial[i]).map((r) => `${r.keys.month ?? r.start.slice(0, 7)} 数据截至 ${r.end}`)
  return {
    title: {
      text: title,
      subtext: notes.length ? `* 非完整月：${notes.join('；')}` : '',
      left: 'center',
      textStyle: { fontSize: 14, fontWeight: 'normal' },
      subtextStyle: { fontSize: 12 },
    },
    tooltip: { trigger: 'axis' },
    grid: { left: 48, right: 24, top: notes.length ? 64 : 48, bottom: 32 },
    xAxis: { type: 'category', data: months.map((m, i) => (partial[i] ? `${m}*` : m)) },
    yAxis: { type: 'value', name: ind.unit, scale: true },
    series: [{ type: 'line', name: ind.name, data: rows.map((r) => r.value), connectNulls: false, smooth: false }],
  }
}

/** The trend's rows in month order, as the chart draws them. */
export const trendRows = (ind: IndicatorResult): Row[] =>
  [...ind.rows].sort((a, b) => (a.keys.month ?? a.start).localeCompare(b.keys.month ?? b.start))

/** The months the server withheld (fewer than min_cell cases), in the chart's order; null if none. */
export function trendWithheld(ind: IndicatorResult, minCell: number | undefined): ChartWithheld | null {
  const points = trendRows(ind).map((r) => !!r.suppressed)
  return points.some(Boolean) ? { minCell, points } : null
}

/** What "在对话中提问" asks. */
export const askQuestion = (name: string) => `医院本年${name}是多少？包括同比`

export const SOURCE_LABELS: Record<string, string> = {
  fee: '费用',
  discharge: '出院',
  visit: '门急诊就诊',
  bed: '床位',
  drg: 'DRG 分组',
}

/** A target as the detail pane shows it. */
export interface TargetView {
  kind: string
  text: string // "≤ 35%"
  scope: string
  document: string
  reliability: string
  period: string
  note: string
}

const COMPARATORS: Record<string, string> = { '<=': '≤', '>=': '≥', '<': '<', '>': '>', '=': '=' }

export function targetView(t: Target, unit: string): TargetView {
  const cmp = COMPARATORS[t.comparator] ?? t.comparator
  const shown = unit === '%' ? `${t.value}%` : `${t.value}${unit ? ` ${unit}` : ''}`
  const from = t.applies_from ?? ''
  const to = t.applies_to ?? ''
  return {
    kind: t.kind === 'internal' ? '本院目标' : '国家目标',
    text: `${cmp} ${shown}`.trim(),
    scope: t.scope,
    document: t.document,
    reliability: t.reliability,
    period: from || to ? `${from || '…'} 至 ${to || '…'}` : '',
    note: t.note ?? '',
  }
}
