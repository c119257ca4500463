// AnswerDetails against real API responses from the demo data (__fixtures__, from POST /chat).
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import type { ChatResponse } from '../api/types'
import { fakeChart, installDomStubs, settle, withElementPlus } from './test-utils'

const chart = fakeChart()
vi.mock('echarts/core', () => ({ use: vi.fn(), init: vi.fn(() => chart) }))

import * as echarts from 'echarts/core'
import AnswerDetails from './AnswerDetails.vue'
import seedJson from './__fixtures__/seed.json'
import rankJson from './__fixtures__/rank.json'
import clarifyJson from './__fixtures__/clarify.json'
import refuseJson from './__fixtures__/refuse.json'
import followupJson from './__fixtures__/followup.json'
import policyJson from './__fixtures__/policy.json'

const fixture = (json: unknown) => structuredClone(json) as ChatResponse
const seed = () => fixture(seedJson)

const mounted: VueWrapper[] = []

function render(response: ChatResponse) {
  const w = mount(AnswerDetails, { props: { response }, attachTo: document.body, ...withElementPlus })
  mounted.push(w)
  return w
}

beforeAll(installDomStubs)
beforeEach(() => {
  vi.clearAllMocks()
})
afterEach(() => {
  mounted.splice(0).forEach((w) => w.unmount())
})

describe('AnswerDetails with the 药占比 同比 answer (seed)', () => {
  it('renders one figure card: 36.45% and 去年同期 falling in green', () => {
    const w = render(seed())
    const cards = w.findAll('[data-testid="figure-card"]')
    expect(cards).toHaveLength(1)
    expect(cards[0].text()).toContain('药占比')
    expect(cards[0].get('[data-testid="figure-value"]').text()).toBe('36.45%')
    expect(cards[0].text()).toContain('2023-01-01 至 2023-09-08')
    const comparisons = cards[0].findAll('[data-testid="figure-comparison"]')
    expect(comparisons).toHaveLength(1)
    const yoy = comparisons[0]
    expect(yoy.text()).toContain('去年同期')
    expect(yoy.text()).toContain('36.67%')
    expect(yoy.text()).toContain('↓')
    expect(yoy.text()).toContain('下降 0.22 百分点')
    // 药占比 is 逐步降低: a fall is good
    expect(yoy.attributes('data-tone')).toBe('good')
    expect(yoy.classes()).toContain('is-good')
    expect(yoy.get('.comparison-change').attributes('style')).toContain('success')
    expect(yoy.attributes('title')).toBe('指标导向：逐步降低，下降为有利')
  })

  it('does not make cards of context queries or of the grouped trend', () => {
    // the seed also carries 药占比（不含中药饮片） and a yearly trend, both role "context"
    const w = render(seed())
    expect(w.text()).not.toContain('35.39%')
  })

  it('draws the server chart into the answer-chart container', () => {
    const w = render(seed())
    const box = w.get('[data-testid="answer-chart"]')
    expect(echarts.init).toHaveBeenCalledWith(box.element, undefined, { renderer: 'canvas' })
    expect(chart.setOption.mock.calls[0][0].series).toEqual(seed().chart!.series)
  })

  it('has no table for a single-row answer', () => {
    expect(render(seed()).find('[data-testid="result-table"]').exists()).toBe(false)
  })

  it('lists the citations and shows the passage and reliability when one is expanded', async () => {
    const w = render(seed())
    const citations = w.findAll('[data-testid="citation"]')
    expect(citations).toHaveLength(3)
    expect(citations[0].text()).toContain('《演示医院2023年度运营管理目标》')
    expect(citations[0].text()).toContain('内部文件')
    expect(citations[1].text()).toContain('国办发〔2015〕33号')
    expect(citations[1].text()).toContain('外部文件')
    expect(citations[1].text()).toContain('国务院办公厅')
    const text = citations[0].get('[data-testid="citation-text"]')
    expect(text.isVisible()).toBe(false)
    await citations[0].get('.el-collapse-item__header').trigger('click')
    await settle()
    expect(text.isVisible()).toBe(true)
    expect(text.text()).toContain('全院药占比（不含中药饮片）控制在35%以内')
    // Markdown stays plain text: no heading elements made from "## …"
    expect(text.element.querySelector('h2')).toBeNull()
    const tags = citations[0].findAll('.reliability-tag').map((t) => t.text())
    expect(tags).toContain('[S] 单一来源')
    expect(tags).toContain('[M] 未核实')
    expect(w.get('[data-testid="reliability-legend"]').text()).toContain('[V] 已核实')
  })

  it('never renders server text as HTML', () => {
    const r = seed()
    r.citations[0].text = '## 标题\n<img src="x" onerror="alert(1)">正文'
    r.citations[0].reliability = '<b>粗体</b>[V]'
    const w = render(r)
    const citation = w.findAll('[data-testid="citation"]')[0]
    expect(citation.find('img').exists()).toBe(false)
    expect(citation.find('b').exists()).toBe(false)
    expect(citation.get('[data-testid="citation-text"]').text()).toContain('<img src="x" onerror="alert(1)">正文')
  })

  it('keeps 计算口径 collapsed, then shows definition, filters, planner and the SQL', async () => {
    const w = render(seed())
    const panel = w.get('[data-testid="caliber-panel"]')
    expect(panel.text()).toContain('计算口径')
    const sql = panel.get('[data-testid="caliber-sql"]')
    expect(sql.isVisible()).toBe(false)
    await panel.get('.el-collapse-item__header').trigger('click')
    await settle()
    expect(sql.isVisible()).toBe(true)
    expect(sql.element.tagName).toBe('PRE')
    expect(sql.text()).toContain('SELECT')
    expect(sql.text()).toContain("BETWEEN '2022-01-01' AND '2022-08-31'") // the 同比 period's SQL too
    const text = panel.text()
    expect(text).toContain('药品收入 ÷ 医疗收入 × 100%')
    expect(text).toContain('口径版本 1.0')
    expect(text).toContain('全院（无筛选）')
    expect(text).toContain('医院运营管理常用指标（项目口径）')
    expect(text).toContain('规则规划器')
    expect(text).toContain(`执行 ${seed().timings_ms.execute.toFixed(1)} 毫秒`)
    expect(panel.find('[data-testid="copy-sql"]').text()).toBe('复制SQL')
  })

  it('copies the SQL to the clipboard', async () => {
    const writeText = vi.fn(() => Promise.resolve())
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const w = render(seed())
    await w.get('[data-testid="copy-sql"]').trigger('click')
    await settle()
    expect(writeText).toHaveBeenCalledTimes(1)
    expect(writeText.mock.calls[0]).toEqual([expect.stringContaining('FROM agg_fee_monthly')])
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true })
  })
})

describe('AnswerDetails with other answers', () => {
  it('rank: renders the table rows with the indicator precision', async () => {
    const w = render(fixture(rankJson))
    await settle() // el-table fills its body after the first render
    const table = w.get('[data-testid="result-table"]')
    expect(table.text()).toContain('科室')
    expect(table.text()).toContain('药占比（%）')
    const rows = table.findAll('tbody tr')
    expect(rows).toHaveLength(5)
    expect(rows[0].text()).toContain('肿瘤科')
    expect(rows[0].text()).toContain('65.24')
    expect(rows[0].text()).not.toContain('65.235')
    expect(rows[4].text()).toContain(fixture(rankJson).table!.rows[4][0] as string)
    // a grouped answer has no single figure
    expect(w.find('[data-testid="figure-card"]').exists()).toBe(false)
    expect(w.get('[data-testid="caliber-panel"]').text()).toContain('从高到低，前 5 名')
  })

  it('followup: 同比 green, 环比 that rounds to 0.01 is a rise and red', () => {
    const w = render(fixture(followupJson))
    const comparisons = w.findAll('[data-testid="figure-comparison"]')
    expect(comparisons.map((c) => c.get('.comparison-label').text())).toEqual(['去年同期', '上期'])
    expect(comparisons[0].attributes('data-tone')).toBe('good')
    expect(comparisons[1].text()).toContain('↑')
    expect(comparisons[1].text()).toContain('上升 0.01 百分点')
    expect(comparisons[1].attributes('data-tone')).toBe('bad')
  })

  it('a 逐步提高 indicator rising is green', () => {
    const r = seed()
    const ind = r.tool_results[0].query!.results[0]
    ind.name = '出院患者四级手术比例'
    ind.direction = '逐步提高'
    ind.rows[0].comparisons.yoy.change = 1.5
    const yoy = render(r).get('[data-testid="figure-comparison"]')
    expect(yoy.attributes('data-tone')).toBe('good')
    expect(yoy.text()).toContain('↑')
    expect(yoy.attributes('title')).toBe('指标导向：逐步提高，上升为有利')
  })

  it('a null value shows a dash with its note', () => {
    const r = seed()
    const row = r.tool_results[0].query!.results[0].rows[0]
    row.value = null
    row.comparisons.yoy.value = null
    row.comparisons.yoy.change = null
    row.comparisons.yoy.note = '去年同期无数据'
    const card = render(r).get('[data-testid="figure-card"]')
    expect(card.get('[data-testid="figure-value"]').text()).toBe('—')
    expect(card.get('[data-testid="figure-comparison"]').text()).toContain('去年同期无数据')
    expect(card.get('[data-testid="figure-comparison"]').attributes('data-tone')).toBe('neutral')
  })

  it('clarify: renders the question and options, and emits choose on click', async () => {
    const w = render(fixture(clarifyJson))
    expect(w.text()).toContain('没有找到与问题直接对应的指标')
    const options = w.findAll('[data-testid="clarify-option"]')
    expect(options.map((o) => o.text())).toEqual(['药占比', '耗占比'])
    await options[1].trigger('click')
    expect(w.emitted('choose')).toEqual([['耗占比']])
    expect(w.find('[data-testid="caliber-panel"]').exists()).toBe(false)
  })

  it('refuse: shows a warning alert with the message and nothing else', () => {
    const w = render(fixture(refuseJson))
    const alert = w.get('[data-testid="refusal"]')
    expect(alert.find('.el-alert--warning').exists()).toBe(true)
    expect(alert.text()).toContain('患者个人信息不会通过本助手提供')
    expect(w.find('[data-testid="figure-card"]').exists()).toBe(false)
    expect(w.find('[data-testid="answer-chart"]').exists()).toBe(false)
    expect(w.find('[data-testid="citation"]').exists()).toBe(false)
  })

  it('policy: citations only, and no 计算口径 panel where no figure was computed', () => {
    const w = render(fixture(policyJson))
    expect(w.findAll('[data-testid="citation"]').length).toBeGreaterThan(0)
    expect(w.find('[data-testid="figure-card"]').exists()).toBe(false)
    expect(w.find('[data-testid="caliber-panel"]').exists()).toBe(false)
  })

  it('a failed tool call lists what is valid', () => {
    const r = fixture(clarifyJson)
    r.plan.clarification = null
    r.tool_results = [
      {
        tool: 'query_indicator',
        role: 'plan',
        ok: false,
        query: null,
        citations: [],
        data: {},
        error: {
          message: '没有名为“心内一科”的科室',
          type: 'unknown_member',
          param: 'department',
          valid: ['心血管内科', '呼吸内科'],
          suggestions: ['心血管内科'],
        },
        elapsed_ms: 1,
      },
      // the policy base switched off: the server sends only message and type
      { tool: 'search_policy', role: 'context', ok: false, query: null, citations: [], data: {}, error: { message: '政策知识库未启用', type: 'unavailable' } as never, elapsed_ms: 0 },
    ]
    const errors = render(r).findAll('[data-testid="tool-error"]')
    expect(errors).toHaveLength(2)
    expect(errors[0].text()).toContain('指标查询未完成：没有名为“心内一科”的科室')
    expect(errors[0].text()).toContain('您是否要找：心血管内科')
    expect(errors[0].text()).toContain('可选值：心血管内科、呼吸内科')
    expect(errors[1].text()).toContain('政策检索未完成：政策知识库未启用')
  })
})

describe('drill-down from the chart', () => {
  it('asks one level down for the clicked category, as the next question', async () => {
    const { default: breakdownJson } = await import('./__fixtures__/breakdown.json')
    const w = render(fixture(breakdownJson))
    expect(w.find('[data-testid="drill-hint"]').exists()).toBe(true)
    w.findComponent({ name: 'EChart' }).vm.$emit('pick', '东院区')
    expect(w.emitted('choose')?.[0]).toEqual(['东院区各科室的出院人次'])
  })

  it('reads a partial period off the label and has nothing below a doctor', async () => {
    const { drillQuestion } = await import('./figures')
    const response = fixture(seedJson)
    const query = response.tool_results[0].query!
    query.query.group_by = ['year']
    expect(drillQuestion(response, '2023（截至09-08）')).toBe('2023年各月的药占比')
    query.query.group_by = ['doctor']
    expect(drillQuestion(response, '张医生')).toBeNull()
  })
})
