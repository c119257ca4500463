// What the answer components read out of a ChatResponse, as plain functions over the API types.
import type { ChatResponse, IndicatorResult, QueryResult, ToolResult } from '../api/types'
import { describeChange, formatPeriod, formatValue, withheldHint, withheldText, type ChangeView } from './format'

/** The query results the planner asked for (not the context queries added around a figure). */
export function planQueries(toolResults: ToolResult[] | null | undefined): QueryResult[] {
  return (toolResults ?? []).filter((t) => t.role === 'plan' && t.ok && t.query).map((t) => t.query as QueryResult)
}

export interface ComparisonView {
  kind: string
  label: string // 去年同期 | 上期
  value: string // the comparison period's value, formatted
  period: string
  change: ChangeView
  note: string
  withheld: string // the tooltip of a withheld comparison value, '' when it is shown
}

export interface FigureCard {
  key: string
  code: string
  name: string
  value: string // formatted, "—" when there is none
  period: string
  direction: string
  note: string // why the value is missing, or the result's notes
  withheld: string // the tooltip of a withheld value (少于5例…), '' when it is shown
  comparisons: ComparisonView[]
}

// 同比 first, then 环比, then anything the API adds later
const ORDER = ['yoy', 'mom']
const rankOf = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length)

function cardOf(ind: IndicatorResult, q: QueryResult, key: string): FigureCard {
  const row = ind.rows[0]
  const comparisons = Object.entries(row?.comparisons ?? {})
    .sort(([a], [b]) => rankOf(a) - rankOf(b))
    .map(([kind, c]) => {
      const hidden = !!c.suppressed || !!row?.suppressed
      return {
        kind,
        label: c.label || kind,
        value: c.suppressed ? withheldText(q.min_cell) : formatValue(c.value, ind.precision, ind.unit),
        period: formatPeriod(c.start, c.end),
        change: describeChange(hidden ? null : c, ind.direction, ind.precision),
        note: c.note ?? '',
        withheld: hidden ? withheldHint(q.min_cell) : '',
      }
    })
  const notes = [...(ind.notes ?? [])]
  if (!row) notes.unshift('统计期内没有数据')
  return {
    key,
    code: ind.code,
    name: ind.name,
    value: row?.suppressed ? withheldText(q.min_cell) : formatValue(row?.value ?? null, ind.precision, ind.unit),
    withheld: row?.suppressed ? withheldHint(q.min_cell) : '',
    period: formatPeriod(row?.start ?? q.query.start, row?.end ?? q.query.end),
    direction: ind.direction,
    note: notes.join('；'),
    comparisons,
  }
}

/** One card per indicator of each single-row (no group_by) query the planner asked for. */
export function figureCards(toolResults: ToolResult[] | null | undefined): FigureCard[] {
  const cards: FigureCard[] = []
  planQueries(toolResults).forEach((q, qi) => {
    if ((q.query.group_by ?? []).length > 0) return
    q.results.forEach((ind, ii) => cards.push(cardOf(ind, q, `${qi}-${ii}-${ind.code}`)))
  })
  return cards
}

// ---- withheld cells of the answer's table and chart ----------------------------------------

/** How a table cell is shown: as it is, "<5" (a withheld value), or "—" (a change of one). */
export type CellWithheld = '' | 'value' | 'change'

export interface TableWithheld {
  minCell: number | undefined
  cells: CellWithheld[][] // [row][column], in the table's own order
}

const isMulti = (ind: IndicatorResult) => ind.rows.length > 1 || !!(ind.rows[0] && Object.keys(ind.rows[0].keys).length)

/**
 * Which cells of the answer's table are withheld. The server builds the table from the first
 * breakdown the planner asked for (serving/assistant/visuals.py: keys, the value, then each
 * comparison's value and change), one table row per result row; the rows carry `suppressed`.
 * Null when no result matches the table or nothing in it is withheld.
 */
export function tableWithheld(response: Pick<ChatResponse, 'table' | 'tool_results'>): TableWithheld | null {
  const table = response.table
  if (!table) return null
  for (const q of planQueries(response.tool_results)) {
    for (const ind of q.results.filter(isMulti)) {
      const valueColumn = table.columns.indexOf(`${ind.name}（${ind.unit}）`)
      if (valueColumn < 0 || ind.rows.length !== table.rows.length) continue
      const kinds = Object.keys(ind.rows[0]?.comparisons ?? {})
      let any = false
      const cells = ind.rows.map((row) => {
        const marks: CellWithheld[] = table.columns.map(() => '')
        if (row.suppressed) marks[valueColumn] = 'value'
        kinds.forEach((kind, j) => {
          const c = row.comparisons[kind]
          if (c?.suppressed) marks[valueColumn + 1 + 2 * j] = 'value'
          if (c?.suppressed || row.suppressed) marks[valueColumn + 2 + 2 * j] = 'change'
        })
        any ||= marks.some(Boolean)
        return marks
      })
      return any ? { minCell: q.min_cell, cells } : null
    }
  }
  return null
}

export interface ChartWithheld {
  minCell: number | undefined
  points: boolean[] // per data point of the first series
}

/**
 * Which points of a chart are withheld: the chart is one indicator's rows in order (the first
 * breakdown, or the yearly trend added as context), titled "名称（单位）". Null when none are.
 */
export function chartWithheld(
  chart: Record<string, unknown> | null | undefined,
  toolResults: ToolResult[] | null | undefined,
): ChartWithheld | null {
  if (!chart) return null
  const title = (chart.title as { text?: unknown } | undefined)?.text
  const series = Array.isArray(chart.series) ? (chart.series[0] as { data?: unknown[] } | undefined) : undefined
  const length = Array.isArray(series?.data) ? series.data.length : -1
  const queries = (toolResults ?? []).filter((t) => t.ok && t.query).sort((a, b) => Number(a.role !== 'plan') - Number(b.role !== 'plan'))
  for (const t of queries) {
    const q = t.query as QueryResult
    const ind = q.results.find((r) => title === `${r.name}（${r.unit}）` && r.rows.length === length)
    if (!ind) continue
    const points = ind.rows.map((r) => !!r.suppressed)
    return points.some(Boolean) ? { minCell: q.min_cell, points } : null
  }
  return null
}

/** Precision of a table column that holds an indicator value (header "药占比（%）", or 去年同期/上期)
 * or a change (同比增减（百分点）, 环比增减（%）: two decimals). */
export function columnPrecisions(response: Pick<ChatResponse, 'table' | 'tool_results'>): (number | undefined)[] {
  const columns = response.table?.columns ?? []
  const results = planQueries(response.tool_results).flatMap((q) => q.results)
  return columns.map((col) => {
    const ind = results.find((r) => col === `${r.name}（${r.unit}）` || col === r.name)
    if (ind) return ind.precision
    // the comparison columns repeat the value of the indicator (only one indicator per table)
    if ((col === '去年同期' || col === '上期') && results.length === 1) return results[0].precision
    if (col.startsWith('同比增减') || col.startsWith('环比增减')) return 2
    return undefined
  })
}

// one level down from each breakdown: a department's doctors, a campus's departments, a year's months
const DRILL: Record<string, (label: string, indicator: string) => string> = {
  department: (label, indicator) => `${label}各医生的${indicator}`,
  campus: (label, indicator) => `${label}各科室的${indicator}`,
  year: (label, indicator) => `${label}年各月的${indicator}`,
  quarter: (label, indicator) => `${label}各月的${indicator}`,
}

/** The question that drills into a clicked category of the answer's chart, or null where there is
 * no level below (a doctor, a month). The label may carry a partial-period mark: 2023（截至09-08）. */
export function drillQuestion(response: Pick<ChatResponse, 'tool_results'>, label: string): string | null {
  const level = drillLevel(response)
  return level ? level.ask(label.replace(/（.*）$/, '').trim(), level.indicator) : null
}

/** How the answer's chart drills down, or null where it cannot (no breakdown, or nothing below it). */
export function drillLevel(
  response: Pick<ChatResponse, 'tool_results'>,
): { ask: (label: string, indicator: string) => string; indicator: string } | null {
  const q = planQueries(response.tool_results).find((p) => (p.query.group_by ?? []).length === 1)
  const ask = q ? DRILL[q.query.group_by[0]] : undefined
  const indicator = q?.results[0]?.name
  return ask && indicator ? { ask, indicator } : null
}

/** Failed tool calls, for the error notice. */
export function failedResults(toolResults: ToolResult[] | null | undefined): ToolResult[] {
  return (toolResults ?? []).filter((t) => !t.ok)
}
