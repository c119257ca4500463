// Cells the server withholds (fewer than min_cell visits or stays): "<5" with the reason in the
// table, the figure cards and the 计算口径, and no bar or point for them in a chart.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import type { ChatResponse, QueryResult } from '../api/types'
import { fakeChart, installDomStubs, settle, withElementPlus } from './test-utils'

const chart = fakeChart()
vi.mock('echarts/core', () => ({ use: vi.fn(), init: vi.fn(() => chart) }))

import AnswerDetails from './AnswerDetails.vue'
import ResultTable from './ResultTable.vue'
import { NO_VALUE, prepareOption } from './chart'
import { chartWithheld, figureCards, tableWithheld } from './figures'
import { trendOption, trendWithheld } from '../catalog/catalog'
import rankJson from './__fixtures__/rank.json'
import seedJson from './__fixtures__/seed.json'

const HINT = '少于5例，为保护患者隐私不显示'

/** The 药占比 ranking of five departments with the third one withheld, as the server sends it. */
function rankWithheld(): ChatResponse {
  const response = structuredClone(rankJson) as unknown as ChatResponse
  const q = response.tool_results.find((t) => t.role === 'plan')!.query as QueryResult
  q.min_cell = 5
  q.scope = '全院'
  const row = q.results[0].rows[2]
  Object.assign(row, { value: null, numerator: null, denominator: null, suppressed: true })
  response.table!.rows[2][1] = null
  ;(response.chart!.series as { data: (number | null)[] }[])[0].data[2] = null
  return response
}

const mounted: VueWrapper[] = []
beforeAll(installDomStubs)
beforeEach(() => vi.clearAllMocks())
afterEach(() => mounted.splice(0).forEach((w) => w.unmount()))

describe('withheld cells in the answer table', () => {
  it('finds the withheld row of the table the server built from the breakdown', () => {
    const withheld = tableWithheld(rankWithheld())
    expect(withheld?.minCell).toBe(5)
    expect(withheld?.cells.map((r) => r[1])).toEqual(['', '', 'value', '', ''])
    expect(withheld?.cells.every((r) => r[0] === '')).toBe(true) // the 科室 name stays
    expect(tableWithheld(structuredClone(rankJson) as unknown as ChatResponse)).toBeNull()
  })

  it('shows <5 with the reason in the table, the other rows as before', async () => {
    const response = rankWithheld()
    const w = mount(AnswerDetails, { props: { response }, attachTo: document.body, ...withElementPlus })
    mounted.push(w)
    await settle() // el-table fills its body after the first render
    const table = w.get('[data-testid="result-table"]')
    const cells = table.findAll('[data-testid="withheld-cell"]')
    expect(cells).toHaveLength(1)
    expect(cells[0].text()).toBe('<5')
    expect(cells[0].attributes('title')).toBe(HINT)
    const rows = table.findAll('tbody tr')
    expect(rows[2].text()).toContain(response.table!.rows[2][0] as string)
    expect(rows[2].text()).toContain('<5')
    expect(rows[1].text()).not.toContain('<5')
    // the 计算口径 says how many values are withheld, and the data scope
    expect(w.get('[data-testid="caliber-withheld"]').text()).toBe(`1 个数值${HINT}（显示为“<5”）`)
    expect(w.get('[data-testid="caliber-scope"]').text()).toBe('全院')
  })

  it('marks a withheld comparison value <5 and its change — in a table with comparison columns', async () => {
    const table = {
      columns: ['科室', '出院人次（人次）', '去年同期', '同比增减（%）'],
      rows: [
        ['心血管内科', 120, 110, 9.09],
        ['眼科', 30, null, null],
        ['皮肤科', null, 8, null],
      ],
    }
    const rows = [
      { keys: { department: '心血管内科' }, value: 120, comparisons: { yoy: { suppressed: false } } },
      { keys: { department: '眼科' }, value: 30, comparisons: { yoy: { suppressed: true } } },
      { keys: { department: '皮肤科' }, value: null, suppressed: true, comparisons: { yoy: { suppressed: false } } },
    ]
    const response = {
      table,
      tool_results: [
        { role: 'plan', ok: true, query: { query: { group_by: ['department'] }, min_cell: 3, results: [{ name: '出院人次', unit: '人次', rows }] } },
      ],
    } as unknown as ChatResponse
    const withheld = tableWithheld(response)
    expect(withheld?.cells).toEqual([
      ['', '', '', ''],
      ['', '', 'value', 'change'],
      ['', 'value', '', 'change'],
    ])
    const w = mount(ResultTable, { props: { table, withheld }, attachTo: document.body, ...withElementPlus })
    mounted.push(w)
    await settle()
    const shown = w.findAll('[data-testid="withheld-cell"]').map((c) => [c.text(), c.attributes('title')])
    expect(shown).toEqual([
      ['<3', '少于3例，为保护患者隐私不显示'],
      ['—', '少于3例，为保护患者隐私不显示'],
      ['<3', '少于3例，为保护患者隐私不显示'],
      ['—', '少于3例，为保护患者隐私不显示'],
    ])
  })
})

describe('withheld values in charts', () => {
  it('skips the withheld bar instead of drawing 0, and says which one in the subtitle and tooltip', () => {
    const response = rankWithheld()
    const withheld = chartWithheld(response.chart, response.tool_results)
    expect(withheld?.points).toEqual([false, false, true, false, false])
    const option = prepareOption(response.chart!, withheld)
    const data = (option.series as { data: unknown[] }[])[0].data
    expect(data[2]).toBe(NO_VALUE)
    expect(data.filter((v) => v === NO_VALUE)).toHaveLength(1)
    expect(data).not.toContain(0)
    expect(data).not.toContain(null)
    const department = (response.chart!.xAxis as { data: string[] }).data?.[2] ?? (response.chart!.yAxis as { data: string[] }).data[2]
    expect((option.title as { subtext: string }).subtext).toContain(`${department} ${HINT}`)
    const format = (option.tooltip as { valueFormatter: (v: unknown, i?: number) => string }).valueFormatter
    expect(format('-', 2)).toBe(`<5（${HINT}）`)
    expect(format(36.4567, 1)).toBe('36.46%')
  })

  it('hands the withheld points to the chart the answer draws', () => {
    const w = mount(AnswerDetails, { props: { response: rankWithheld() }, attachTo: document.body, ...withElementPlus })
    mounted.push(w)
    const [given] = chart.setOption.mock.calls.at(-1)!
    expect(given.series[0].data[2]).toBe(NO_VALUE)
  })

  it('never draws a missing value as 0, withheld or not', () => {
    const option = prepareOption({ series: [{ type: 'line', data: [1, null, 3] }] })
    expect((option.series as { data: unknown[] }[])[0].data).toEqual([1, NO_VALUE, 3])
  })

  it('leaves a gap for a withheld month in the catalog trend', () => {
    const ind = {
      name: '门诊人次',
      unit: '人次',
      rows: [
        { keys: { month: '2023-02' }, start: '2023-02-01', end: '2023-02-28', value: null, suppressed: true },
        { keys: { month: '2023-01' }, start: '2023-01-01', end: '2023-01-31', value: 12 },
      ],
    } as unknown as Parameters<typeof trendOption>[0]
    const withheld = trendWithheld(ind, 5)
    expect(withheld?.points).toEqual([false, true]) // in month order, as drawn
    const option = prepareOption(trendOption(ind), withheld)
    expect((option.series as { data: unknown[] }[])[0].data).toEqual([12, NO_VALUE])
  })
})

describe('withheld figure cards', () => {
  it('shows <5 for a withheld figure and a withheld 去年同期, with no change arrow', () => {
    const response = structuredClone(seedJson) as unknown as ChatResponse
    const q = response.tool_results.find((t) => t.role === 'plan')!.query as QueryResult
    q.min_cell = 5
    const row = q.results[0].rows[0]
    Object.assign(row, { value: null, numerator: null, denominator: null, suppressed: true })
    const yoy = Object.values(row.comparisons)[0]
    Object.assign(yoy, { value: null, change: null, suppressed: true })
    const [card] = figureCards(response.tool_results)
    expect(card.value).toBe('<5')
    expect(card.withheld).toBe(HINT)
    expect(card.comparisons[0].value).toBe('<5')
    expect(card.comparisons[0].change.arrow).toBe('')

    const w = mount(AnswerDetails, { props: { response }, attachTo: document.body, ...withElementPlus })
    mounted.push(w)
    const value = w.get('[data-testid="figure-value"]')
    expect(value.text()).toBe('<5')
    expect(value.attributes('title')).toBe(HINT)
    expect(w.get('.comparison-value').attributes('title')).toContain(HINT)
  })
})
