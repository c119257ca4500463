// The filter bar's logic without the widgets: period shortcuts computed from the warehouse's as-of
// date (never from today: the demo data ends on 2023-09-08), the ChatScope sent with a re-run, and
// the label shown on the re-run's question.
import type { ChatScope } from '../api/types'

export interface Period {
  start: string // YYYY-MM-DD
  end: string
}

export interface PeriodShortcut extends Period {
  text: string
}

/** What the filter bar's controls hold. */
export interface FilterState {
  period: [string, string] | null
  campus: string[]
  department: string[]
  doctor: string[]
}

export const emptyFilters = (): FilterState => ({ period: null, campus: [], department: [], doctor: [] })

const pad = (n: number) => String(n).padStart(2, '0')
const iso = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`

/** Year, month (1-12) and day of a YYYY-MM-DD string, read as a calendar date (no time zone). */
export function parts(date: string): [number, number, number] {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(date)
  if (!match) throw new Error(`不是日期：${date}`)
  return [Number(match[1]), Number(match[2]), Number(match[3])]
}

/**
 * 本年 / 上年 / 本季度 / 本月 / 近12个月, each ending at the as-of date where it is still running.
 * 近12个月 starts on the first day of the month eleven months back, as the server's planner reads
 * "近12个月" (serving/planner/timeexpr.py), so the shortcut and the typed question agree.
 */
export function periodShortcuts(asOf: string): PeriodShortcut[] {
  const [y, m] = parts(asOf)
  const quarterStart = Math.floor((m - 1) / 3) * 3 + 1
  const back = m - 11 // month of the start of 近12个月, possibly <= 0: in the year before
  const recentStart = back >= 1 ? iso(y, back, 1) : iso(y - 1, back + 12, 1)
  return [
    { text: '本年', start: iso(y, 1, 1), end: asOf },
    { text: '上年', start: iso(y - 1, 1, 1), end: iso(y - 1, 12, 31) },
    { text: '本季度', start: iso(y, quarterStart, 1), end: asOf },
    { text: '本月', start: iso(y, m, 1), end: asOf },
    { text: '近12个月', start: recentStart, end: asOf },
  ]
}

/** A local-time Date for a calendar date: what el-date-picker shortcuts and disabledDate work in. */
export function toDate(date: string): Date {
  const [y, m, d] = parts(date)
  return new Date(y, m - 1, d)
}

export function fromDate(date: Date): string {
  return iso(date.getFullYear(), date.getMonth() + 1, date.getDate())
}

/**
 * The scope of a re-run. A control left empty is left out, so the question's own period or filter
 * stays (the server's rule: an omitted field keeps what the question said). The bar never sends []
 * ("remove the filter"): the question it re-runs is the user's own words, which they can reword.
 */
export function scopeFrom(filters: FilterState): ChatScope {
  const scope: ChatScope = {}
  if (filters.period) [scope.start, scope.end] = filters.period
  if (filters.campus.length) scope.campus = [...filters.campus]
  if (filters.department.length) scope.department = [...filters.department]
  if (filters.doctor.length) scope.doctor = [...filters.doctor]
  return scope
}

export const isEmptyScope = (scope: ChatScope | null | undefined) => !scope || Object.keys(scope).length === 0

/** "筛选：东院区 · 2023-01-01 至 2023-06-30", or '' for no scope. */
const QUARTERS = '一二三四'

/** A period as people say it (2022年, 2023年8月, 2023年第二季度, 2023年上半年), else its dates. */
export function periodWords(start: string, end: string): string {
  const [y, m, d] = start.split('-').map(Number)
  const last = (month: number) => new Date(Date.UTC(y, month, 0)).getUTCDate() // day 0: the month's last
  const ends = (month: number) => end === `${y}-${String(month).padStart(2, '0')}-${String(last(month)).padStart(2, '0')}`
  if (d === 1 && m === 1 && ends(12)) return `${y}年`
  if (d === 1 && (m === 1 || m === 7) && ends(m + 5)) return `${y}年${m === 1 ? '上' : '下'}半年`
  if (d === 1 && m % 3 === 1 && ends(m + 2)) return `${y}年第${QUARTERS[(m - 1) / 3]}季度`
  if (d === 1 && ends(m)) return `${y}年${m}月`
  return `${start} 至 ${end}`
}

export function scopeLabel(scope: ChatScope | null | undefined): string {
  if (!scope) return ''
  const pieces = [scope.campus, scope.department, scope.doctor]
    .filter((names): names is string[] => !!names?.length)
    .map((names) => names.join('、'))
  if (scope.start && scope.end) pieces.push(periodWords(scope.start, scope.end))
  else if (scope.start) pieces.push(`${scope.start} 起`)
  else if (scope.end) pieces.push(`截至 ${scope.end}`)
  return pieces.length ? `筛选：${pieces.join(' · ')}` : ''
}

/** One option of a filter-bar select: the member's name is the value the scope sends. */
export interface DimensionOption {
  key: string
  value: string
  label: string
}
