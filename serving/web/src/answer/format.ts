// Pure display logic shared by the answer components and the indicator browser: number formats,
// the arrow/colour of a 同比/环比 change (which depends on the indicator's 导向), and the Chinese
// labels of the API's codes. Kept out of the components so that it can be unit-tested directly.
import type { Comparison, Direction } from '../api/types'

export const EMPTY = '—'

/** Digits after the point: the catalog's precision, clamped so a bad value cannot throw in Intl. */
function digits(precision: number | null | undefined, fallback = 2): number {
  if (typeof precision !== 'number' || !Number.isFinite(precision)) return fallback
  return Math.min(6, Math.max(0, Math.round(precision)))
}

const formatters = new Map<number, Intl.NumberFormat>()

/** 1234567.891 → "1,234,567.89": thousands separators, fixed decimals; null/NaN → "—". */
export function formatNumber(value: number | null | undefined, precision: number | null | undefined = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY
  const p = digits(precision)
  let f = formatters.get(p)
  if (!f) {
    f = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: p, maximumFractionDigits: p, useGrouping: true })
    formatters.set(p, f)
  }
  // -0.001 at 2 digits would read "-0.00"
  const text = f.format(value)
  return /^-[0.,]+$/.test(text) ? text.slice(1) : text
}

/** A value in its unit: "36.45%", "22,091 人次", "1,234.50 元". */
export function formatValue(value: number | null | undefined, precision: number | null | undefined, unit: string): string {
  const n = formatNumber(value, precision)
  if (n === EMPTY || !unit) return n
  return unit === '%' ? `${n}%` : `${n} ${unit}`
}

/** A table cell: strings as they are; numbers with the given precision, else integers stay whole. */
export function formatCell(value: string | number | null | undefined, precision?: number | null): string {
  if (value === null || value === undefined || value === '') return EMPTY
  if (typeof value === 'string') return value
  if (typeof precision === 'number') return formatNumber(value, precision)
  return formatNumber(value, Number.isInteger(value) ? 0 : 2)
}

// ---- withheld small cells: the server sends no value for a cell resting on fewer than min_cell
// visits or stays (a 死亡率 of 1/1 for one doctor names one patient); it is shown as "<5" -----------

/** The server's default min_cell, for a row marked suppressed by a result that did not say its k. */
export const DEFAULT_MIN_CELL = 5

const cellK = (minCell: number | null | undefined) =>
  typeof minCell === 'number' && Number.isFinite(minCell) && minCell > 0 ? Math.round(minCell) : DEFAULT_MIN_CELL

/** "<5": what a withheld cell shows in place of its value. */
export const withheldText = (minCell?: number | null) => `<${cellK(minCell)}`

/** The tooltip of a withheld cell: "少于5例，为保护患者隐私不显示". */
export const withheldHint = (minCell?: number | null) => `少于${cellK(minCell)}例，为保护患者隐私不显示`

/** "2023-01-01 至 2023-09-08" (one day: just the day). */
export function formatPeriod(start: string | null | undefined, end: string | null | undefined): string {
  if (!start && !end) return EMPTY
  if (!start || !end || start === end) return (start || end) as string
  return `${start} 至 ${end}`
}

export type Tone = 'good' | 'bad' | 'neutral'

export const TONE_COLOR: Record<Tone, string> = {
  good: 'var(--el-color-success, #67c23a)',
  bad: 'var(--el-color-danger, #f56c6c)',
  neutral: 'var(--el-text-color-secondary, #909399)',
}

/**
 * Whether a move is good or bad follows the indicator's 导向: for 逐步降低 (药占比) a rise is bad,
 * for 逐步提高 (四级手术比例) a rise is good; 监测比较 and anything unknown are not judged.
 */
export function toneOf(direction: Direction | null | undefined, rising: boolean | null): Tone {
  if (rising === null) return 'neutral'
  if (direction === '逐步降低') return rising ? 'bad' : 'good'
  if (direction === '逐步提高') return rising ? 'good' : 'bad'
  return 'neutral'
}

/** The tooltip that explains the colour, e.g. "指标导向：逐步降低，上升为不利". */
export function directionHint(direction: Direction | null | undefined, rising: boolean | null = null): string {
  const d = direction || '未标明'
  if (direction === '逐步降低') {
    if (rising === null) return `指标导向：${d}，越低越好`
    return rising ? `指标导向：${d}，上升为不利` : `指标导向：${d}，下降为有利`
  }
  if (direction === '逐步提高') {
    if (rising === null) return `指标导向：${d}，越高越好`
    return rising ? `指标导向：${d}，上升为有利` : `指标导向：${d}，下降为不利`
  }
  return `指标导向：${d}，变化不作好坏判断`
}

export interface ChangeView {
  arrow: '↑' | '↓' | '→' | ''
  tone: Tone
  text: string // "下降 0.22 百分点", "上升 3.15%", "持平", "—"
  hint: string
}

/**
 * The change of one comparison as shown on a figure card. `change` is what the API says to report
 * (percentage points for % indicators, else percent); it is rounded before deciding the arrow, so
 * a change that prints as 0.00 reads 持平 rather than a red arrow over nothing.
 */
export function describeChange(
  comparison: Pick<Comparison, 'change' | 'change_unit'> | null | undefined,
  direction: Direction | null | undefined,
  precision: number | null | undefined,
): ChangeView {
  const change = comparison?.change
  if (change === null || change === undefined || !Number.isFinite(change)) {
    return { arrow: '', tone: 'neutral', text: EMPTY, hint: directionHint(direction) }
  }
  const unit = comparison?.change_unit ?? ''
  // 百分点 share the indicator's decimals (36.45% − 36.67%); a relative % change reads best at 2
  const p = unit === '百分点' ? digits(precision) : 2
  const rounded = Number(change.toFixed(p))
  if (rounded === 0) return { arrow: '→', tone: 'neutral', text: '持平', hint: directionHint(direction) }
  const rising = rounded > 0
  const amount = formatNumber(Math.abs(change), p)
  const withUnit = unit === '%' ? `${amount}%` : unit ? `${amount} ${unit}` : amount
  return {
    arrow: rising ? '↑' : '↓',
    tone: toneOf(direction, rising),
    text: `${rising ? '上升' : '下降'} ${withUnit}`,
    hint: directionHint(direction, rising),
  }
}

// ---- labels of API codes -----------------------------------------------------------------

export const FILTER_LABELS: Record<string, string> = {
  campus: '院区',
  department: '科室',
  doctor: '医生',
  insurance: '医保类型',
  visit_type: '就诊类型',
}

export const GROUP_LABELS: Record<string, string> = {
  ...FILTER_LABELS,
  year: '年度',
  quarter: '季度',
  month: '月份',
  day: '日',
}

export const labelOf = (map: Record<string, string>, key: string): string => map[key] ?? key

/** {campus: ['本部']} → ["院区：本部"]; empty lists are left out. */
export function describeFilters(filters: Record<string, string[] | undefined> | null | undefined): string[] {
  if (!filters) return []
  return Object.entries(filters)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${labelOf(FILTER_LABELS, k)}：${(v as string[]).join('、')}`)
}

export function describeRank(rank: { order: string; limit: number } | null | undefined): string {
  if (!rank) return ''
  return `${rank.order === 'asc' ? '从低到高' : '从高到低'}，前 ${rank.limit} 名`
}

export const STATUS_LABELS: Record<string, string> = {
  active: '在用',
  not_available: '暂不可计算',
  deprecated: '已停用',
}

export const SCOPE_LABELS: Record<string, string> = { internal: '内部文件', external: '外部文件' }

export const PLANNER_LABELS: Record<string, string> = {
  rules: '规则规划器',
  llm: '大模型规划器',
  'llm→rules': '大模型规划失败，改用规则规划器',
}

export const TIMING_LABELS: Record<string, string> = { plan: '规划', execute: '执行', compose: '生成答案' }

export const SYSTEMS = ['国考', '二级国考', '三级医院评审', '基础运营'] as const

// ---- reliability tags: [V] verified, [S] single source, [M] unverified --------------------

export type ReliabilityCode = 'V' | 'S' | 'M'

export const RELIABILITY: Record<ReliabilityCode, { label: string; meaning: string; type: 'success' | 'warning' | 'danger' }> = {
  V: { label: '已核实', meaning: '已与原文或多个独立来源核对', type: 'success' },
  S: { label: '单一来源', meaning: '仅见于单一来源（多为二手转载），待核实', type: 'warning' },
  M: { label: '未核实', meaning: '背景知识或推断，未经核实', type: 'danger' },
}

export const isReliabilityCode = (s: string): s is ReliabilityCode => s === 'V' || s === 'S' || s === 'M'

export type TextPart = { text: string } | { tag: ReliabilityCode }

/** "…来源[S]；…[M]" → text and tag parts, so the tags can be drawn as badges without v-html. */
export function splitReliability(text: string | null | undefined): TextPart[] {
  if (!text) return []
  const parts: TextPart[] = []
  const re = /\[(V|S|M)\]/g
  let last = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) })
    parts.push({ tag: m[1] as ReliabilityCode })
    last = m.index + m[0].length
  }
  if (last < text.length) parts.push({ text: text.slice(last) })
  return parts
}

// ---- policy passages ----------------------------------------------------------------------

export interface PassageLine {
  text: string
  heading: boolean
}

/**
 * A passage's Markdown-ish text as lines to show as plain text: "## 二、…" heading marks are
 * dropped (the line is shown bold instead) and runs of blank lines become one gap. Nothing is
 * interpreted as HTML.
 */
export function passageLines(text: string | null | undefined): PassageLine[] {
  const out: PassageLine[] = []
  for (const raw of (text ?? '').split(/\r?\n/)) {
    const heading = /^#{1,6}\s+/.test(raw)
    const line = heading ? raw.replace(/^#{1,6}\s+/, '') : raw
    if (!line.trim()) {
      if (out.length && out[out.length - 1].text !== '') out.push({ text: '', heading: false })
      continue
    }
    out.push({ text: line, heading })
  }
  while (out.length && out[out.length - 1].text === '') out.pop()
  return out
}
