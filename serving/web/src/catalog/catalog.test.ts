import { describe, expect, it } from 'vitest'
import type { IndicatorResult } from '../api/types'
import { indicatorsPath } from '../api/client'
import { askQuestion, isPartialMonth, targetView, trendOption, trendQuery, trendStart } from './catalog'
import trendJson from '../answer/__fixtures__/trend.json'

describe('trend period', () => {
  it('starts on the first day of the month 11 months before the data end', () => {
    expect(trendStart('2023-09-08')).toBe('2022-10-01')
    expect(trendStart('2023-12-31')).toBe('2023-01-01')
    expect(trendStart('2024-01-15')).toBe('2023-02-01')
    expect(trendStart('2023-11-30')).toBe('2022-12-01')
  })

  it('rejects a date it cannot read', () => {
    expect(() => trendStart('昨天')).toThrow()
  })

  it('builds the monthly query up to as_of', () => {
    expect(trendQuery('drug_ratio', '2023-09-08')).toMatchObject({
      indicators: ['drug_ratio'],
      start: '2022-10-01',
      end: '2023-09-08',
      group_by: ['month'],
      compare: [],
    })
  })
})

describe('requests and labels', () => {
  it('builds the search path from the filters', () => {
    expect(indicatorsPath({ q: '', system: '', status: '' })).toBe('/indicators')
    expect(indicatorsPath({ q: ' 药 ', system: '国考', status: 'active' })).toBe(
      '/indicators?q=%E8%8D%AF&system=%E5%9B%BD%E8%80%83&status=active',
    )
  })

  it('asks the chat about the indicator', () => {
    expect(askQuestion('药占比')).toBe('医院本年药占比是多少？包括同比')
  })

  it('draws the monthly values as a line titled with name and unit', () => {
    const ind = structuredClone(trendJson.tool_results[0].query!.results[0]) as unknown as IndicatorResult
    ind.rows.reverse() // order comes from the months, not from the response
    const option = trendOption(ind) as {
      title: { text: string }
      xAxis: { data: string[] }
      series: { type: string; data: (number | null)[] }[]
    }
    expect(option.title.text).toBe('门诊人次（人次）近 12 个月')
    expect(option.xAxis.data[0]).toBe('2023-01')
    expect(option.xAxis.data).toHaveLength(9)
    expect(option.series[0].type).toBe('line')
    expect(option.series[0].data[0]).toBe(22091)
    // the data end on 2023-09-08: September is marked as an incomplete month
    expect(option.xAxis.data[8]).toBe('2023-09*')
    expect((option.title as unknown as { subtext: string }).subtext).toBe('* 非完整月：2023-09 数据截至 2023-09-08')
  })

  it('knows an incomplete month', () => {
    expect(isPartialMonth('2023-09', '2023-09-08')).toBe(true)
    expect(isPartialMonth('2023-09', '2023-09-30')).toBe(false)
    expect(isPartialMonth('2024-02', '2024-02-29')).toBe(false)
    expect(isPartialMonth('2023-02', '2023-02-27')).toBe(true)
  })

  it('shows a target with its comparator, unit, kind and period', () => {
    const target = {
      kind: 'internal',
      comparator: '<=',
      value: 35,
      scope: '本院',
      document: '目标',
      reliability: 'V',
      note: '',
      applies_from: '2023-01-01',
      applies_to: '2023-12-31',
    }
    expect(targetView(target, '%')).toMatchObject({ kind: '本院目标', text: '≤ 35%', period: '2023-01-01 至 2023-12-31' })
    const national = { ...target, kind: 'national', comparator: '>=', value: 20, applies_from: null, applies_to: null }
    expect(targetView(national, '元')).toMatchObject({ kind: '国家目标', text: '≥ 20 元', period: '' })
  })
})
