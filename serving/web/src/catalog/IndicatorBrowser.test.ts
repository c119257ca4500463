// The indicator browser against a fake API (fetch stubbed) answering with demo-data responses.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { fakeChart, installDomStubs, settle, withElementPlus } from '../answer/test-utils'

const chart = fakeChart()
vi.mock('echarts/core', () => ({ use: vi.fn(), init: vi.fn(() => chart) }))

import * as echarts from 'echarts/core'
import IndicatorBrowser from './IndicatorBrowser.vue'
import listJson from '../answer/__fixtures__/indicators_q_drug.json'
import detailJson from '../answer/__fixtures__/indicator_drug_ratio.json'
import metaJson from '../answer/__fixtures__/meta.json'
import trendJson from '../answer/__fixtures__/trend.json'

interface Call {
  url: string
  method: string
  body: unknown
}

/** The monthly query result, reshaped as 药占比 (the fixture is 门诊人次 by month). */
function monthlyDrugRatio() {
  const q = structuredClone(trendJson.tool_results[0].query!)
  const ind = q.results[0] as Record<string, unknown>
  Object.assign(ind, { code: 'drug_ratio', name: '药占比', unit: '%', precision: 2 })
  return q
}

let calls: Call[] = []
let routes: Record<string, () => { status: number; body: unknown }> = {}

function route(url: string): { status: number; body: unknown } {
  const path = url.replace('/api/v1', '')
  // an exact route wins over a prefix (pattern ending in *), a longer prefix over a shorter one
  const prefixes = Object.keys(routes)
    .filter((k) => k.endsWith('*') && path.startsWith(k.slice(0, -1)))
    .sort((a, b) => b.length - a.length)
  const key = routes[path] ? path : prefixes[0]
  return key ? routes[key]() : { status: 404, body: { error: { message: `未找到 ${path}`, type: 'not_found', param: null, valid: [], suggestions: [] } } }
}

beforeAll(installDomStubs)
beforeEach(() => {
  vi.clearAllMocks()
  calls = []
  routes = {
    '/indicators*': () => ({ status: 200, body: listJson }),
    '/indicators/drug_ratio': () => ({ status: 200, body: detailJson }),
    '/meta': () => ({ status: 200, body: metaJson }),
    '/indicators/query': () => ({ status: 200, body: monthlyDrugRatio() }),
  }
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET'
      calls.push({ url, method, body: init.body ? JSON.parse(init.body as string) : undefined })
      const { status, body } = route(url)
      return { ok: status >= 200 && status < 300, status, json: async () => body } as Response
    }),
  )
})
afterEach(() => {
  mounted.splice(0).forEach((w) => w.unmount())
  vi.unstubAllGlobals()
  installDomStubs()
})

const mounted: VueWrapper[] = []

async function open(): Promise<VueWrapper> {
  const w = mount(IndicatorBrowser, { attachTo: document.body, ...withElementPlus })
  mounted.push(w)
  await settle()
  return w
}

const gets = () => calls.filter((c) => c.method === 'GET').map((c) => decodeURIComponent(c.url))

describe('IndicatorBrowser', () => {
  it('lists the catalog on open with name, unit, direction, systems and status', async () => {
    const w = await open()
    expect(gets()).toContain('/api/v1/indicators')
    const items = w.findAll('[data-testid="indicator-item"]')
    expect(items).toHaveLength(listJson.length)
    const first = items[0].text()
    expect(first).toContain('抗菌药物使用强度')
    expect(first).toContain('DDDs/百人天')
    expect(first).toContain('逐步降低')
    expect(first).toContain('国考')
    expect(first).toContain('三级医院评审')
    expect(first).toContain('在用')
  })

  it('searches after typing stops (debounced)', async () => {
    const w = await open()
    const input = w.get('input[data-testid="indicator-search"]') // ElInput puts attrs on its <input>
    await input.setValue('药')
    await input.setValue('药占')
    await input.setValue('药占比')
    expect(gets().filter((u) => u.includes('q='))).toHaveLength(0)
    await new Promise((r) => setTimeout(r, 350))
    await settle()
    expect(gets().filter((u) => u.includes('q='))).toEqual(['/api/v1/indicators?q=药占比'])
  })

  it('opens a detail with 口径, versions, lineage and dimensions, and queries the trend', async () => {
    const w = await open()
    const item = w.findAll('[data-testid="indicator-item"]').find((i) => i.text().startsWith('药占比%'))!
    await item.trigger('click')
    await settle(10)
    expect(gets()).toContain('/api/v1/indicators/drug_ratio')
    const detail = w.get('[data-testid="indicator-detail"]')
    const text = detail.text()
    expect(text).toContain('药品收入占医疗收入的比例（含中药饮片）。')
    expect(text).toContain('药品收入 ÷ 医疗收入 × 100%')
    expect(text).toContain('运营管理部')
    expect(text).toContain('医院运营管理常用指标（项目口径）')
    expect(text).toContain('[M] 未核实')
    expect(text).toContain('同比/环比变化以百分点')
    expect(text).toContain('出院结算口径') // lineage time basis
    expect(text).toContain('agg_fee_monthly')
    expect(text).toContain('院区')
    expect(text).toContain('科室')
    const versions = detail.get('[data-testid="indicator-versions"]')
    expect(versions.text()).toContain('1.0')
    expect(versions.text()).toContain('2019-01-01')
    expect(versions.text()).toContain('药品收入（drug_revenue）')
    expect(versions.text()).toContain('医疗收入（medical_revenue）')

    // the trend: /meta for as_of, then the monthly query for the 12 months up to it
    expect(gets()).toContain('/api/v1/meta')
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts).toHaveLength(1)
    expect(posts[0].url).toBe('/api/v1/indicators/query')
    expect(posts[0].body).toMatchObject({
      indicators: ['drug_ratio'],
      start: '2022-10-01',
      end: '2023-09-08',
      group_by: ['month'],
      compare: [],
    })
    const trend = detail.get('[data-testid="indicator-trend"]')
    expect(echarts.init).toHaveBeenCalledTimes(1)
    expect(trend.element.contains(vi.mocked(echarts.init).mock.calls[0][0] as HTMLElement)).toBe(true)
    const option = chart.setOption.mock.calls[0][0]
    expect(option.title.text).toBe('药占比（%）近 12 个月')
    expect(option.series[0].type).toBe('line')
  })

  it('emits ask with a question about the indicator', async () => {
    const w = await open()
    await w.findAll('[data-testid="indicator-item"]')[7].trigger('click')
    await settle(10)
    await w.get('[data-testid="indicator-ask"]').trigger('click')
    expect(w.emitted('ask')).toEqual([['医院本年药占比是多少？包括同比']])
  })

  it('selects with the keyboard: Enter picks, ArrowDown moves on', async () => {
    routes['/indicators/*'] = () => ({ status: 200, body: detailJson })
    const w = await open()
    const items = w.findAll('[data-testid="indicator-item"]')
    expect(items[0].attributes('tabindex')).toBe('0')
    await items[0].trigger('keydown', { key: 'Enter' })
    await settle()
    expect(gets()).toContain('/api/v1/indicators/antibiotic_intensity')
    await items[0].trigger('keydown', { key: 'ArrowDown' })
    await settle()
    expect(gets()).toContain('/api/v1/indicators/service_revenue_share')
    expect(items[1].attributes('aria-selected')).toBe('true')
    expect(document.activeElement).toBe(items[1].element)
  })

  it('shows why a not_available indicator has no figure, and no trend', async () => {
    const unavailable = structuredClone(detailJson) as typeof detailJson & Record<string, unknown>
    Object.assign(unavailable.indicator, {
      name: '门诊患者满意度',
      status: 'not_available',
      unavailable_reason: '数据来自国家卫生健康委满意度调查平台，不在医院数据仓库中。',
    })
    routes['/indicators/drug_ratio'] = () => ({ status: 200, body: unavailable })
    const w = await open()
    await w.findAll('[data-testid="indicator-item"]')[7].trigger('click')
    await settle(10)
    const detail = w.get('[data-testid="indicator-detail"]')
    expect(detail.text()).toContain('不在医院数据仓库中')
    expect(detail.text()).toContain('暂不可计算')
    expect(detail.find('[data-testid="indicator-trend"]').exists()).toBe(false)
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
  })

  it('shows a failed trend query inline and keeps the detail', async () => {
    routes['/indicators/query'] = () => ({
      status: 422,
      body: { error: { message: '统计期超出数据范围', type: 'invalid_period', param: 'start', valid: [], suggestions: [] } },
    })
    const w = await open()
    await w.findAll('[data-testid="indicator-item"]')[7].trigger('click')
    await settle(10)
    const trend = w.get('[data-testid="indicator-trend"]')
    expect(trend.text()).toContain('统计期超出数据范围')
    expect(w.get('[data-testid="indicator-detail"]').text()).toContain('药品收入 ÷ 医疗收入 × 100%')
    expect(echarts.init).not.toHaveBeenCalled()
  })

  it('shows a failed list load instead of throwing', async () => {
    routes['/indicators*'] = () => ({ status: 500, body: 'oops' })
    const w = await open()
    expect(w.text()).toContain('指标目录加载失败')
    expect(w.findAll('[data-testid="indicator-item"]')).toHaveLength(0)
  })
})
