import { describe, expect, it } from 'vitest'
import {
  describeChange,
  describeFilters,
  describeRank,
  directionHint,
  formatCell,
  formatNumber,
  formatPeriod,
  formatValue,
  passageLines,
  splitReliability,
  toneOf,
} from './format'
import { prepareOption } from './chart'

describe('formatNumber / formatValue', () => {
  it('formats a percentage with its precision', () => {
    expect(formatValue(36.45222610484559, 2, '%')).toBe('36.45%')
  })

  it('puts thousands separators in counts and keeps the unit', () => {
    expect(formatValue(22091, 0, '人次')).toBe('22,091 人次')
    expect(formatValue(111255517.95, 2, '元')).toBe('111,255,517.95 元')
    expect(formatNumber(1234567.891, 2)).toBe('1,234,567.89')
  })

  it('shows a dash for missing values', () => {
    expect(formatValue(null, 2, '%')).toBe('—')
    expect(formatValue(undefined, 0, '人次')).toBe('—')
    expect(formatNumber(Number.NaN)).toBe('—')
  })

  it('never prints a negative zero', () => {
    expect(formatNumber(-0.001, 2)).toBe('0.00')
  })

  it('survives a missing or silly precision', () => {
    expect(formatNumber(1.5, undefined)).toBe('1.50')
    expect(formatNumber(1.5, 99)).toBe('1.500000')
  })

  it('formats table cells: strings as is, whole numbers without decimals, given precision wins', () => {
    expect(formatCell('肿瘤科')).toBe('肿瘤科')
    expect(formatCell(12883)).toBe('12,883')
    expect(formatCell(65.23509876038464)).toBe('65.24')
    expect(formatCell(65.23509876038464, 1)).toBe('65.2')
    expect(formatCell(2443, 2)).toBe('2,443.00')
    expect(formatCell(null)).toBe('—')
  })

  it('formats a period', () => {
    expect(formatPeriod('2023-01-01', '2023-09-08')).toBe('2023-01-01 至 2023-09-08')
    expect(formatPeriod('2023-09-08', '2023-09-08')).toBe('2023-09-08')
  })
})

describe('change colour follows the indicator direction', () => {
  it('药占比 (逐步降低) rising is bad: red, arrow up', () => {
    const v = describeChange({ change: 0.53, change_unit: '百分点' }, '逐步降低', 2)
    expect(v).toMatchObject({ arrow: '↑', tone: 'bad', text: '上升 0.53 百分点' })
    expect(v.hint).toBe('指标导向：逐步降低，上升为不利')
  })

  it('药占比 falling is good: green, arrow down', () => {
    const v = describeChange({ change: -0.2155088501817488, change_unit: '百分点' }, '逐步降低', 2)
    expect(v).toMatchObject({ arrow: '↓', tone: 'good', text: '下降 0.22 百分点' })
    expect(v.hint).toContain('下降为有利')
  })

  it('四级手术比例 (逐步提高) rising is good, falling is bad', () => {
    expect(describeChange({ change: 1.2, change_unit: '百分点' }, '逐步提高', 2).tone).toBe('good')
    expect(describeChange({ change: -1.2, change_unit: '百分点' }, '逐步提高', 2).tone).toBe('bad')
    expect(directionHint('逐步提高', true)).toBe('指标导向：逐步提高，上升为有利')
  })

  it('监测比较 and unknown directions stay neutral', () => {
    const v = describeChange({ change: 12.3456, change_unit: '%' }, '监测比较', 0)
    expect(v).toMatchObject({ arrow: '↑', tone: 'neutral', text: '上升 12.35%' })
    expect(v.hint).toContain('不作好坏判断')
    expect(toneOf('', true)).toBe('neutral')
    expect(toneOf('其他', false)).toBe('neutral')
  })

  it('a change that rounds to zero is 持平, not a coloured arrow', () => {
    const v = describeChange({ change: 0.0041, change_unit: '百分点' }, '逐步降低', 2)
    expect(v).toMatchObject({ arrow: '→', tone: 'neutral', text: '持平' })
  })

  it('a missing change shows a dash', () => {
    expect(describeChange({ change: null, change_unit: '%' }, '逐步降低', 2)).toMatchObject({
      arrow: '',
      tone: 'neutral',
      text: '—',
    })
    expect(describeChange(null, '逐步提高', 2).text).toBe('—')
  })
})

describe('labels', () => {
  it('describes filters in Chinese and leaves empty ones out', () => {
    expect(describeFilters({ campus: ['本部', '东院区'], department: [], visit_type: ['住院'] })).toEqual([
      '院区：本部、东院区',
      '就诊类型：住院',
    ])
    expect(describeFilters({})).toEqual([])
  })

  it('describes a ranking', () => {
    expect(describeRank({ order: 'desc', limit: 5 })).toBe('从高到低，前 5 名')
    expect(describeRank({ order: 'asc', limit: 3 })).toBe('从低到高，前 3 名')
    expect(describeRank(null)).toBe('')
  })

  it('splits reliability tags out of text', () => {
    expect(splitReliability('内容见新闻转载[S]；文号未核实[M]。')).toEqual([
      { text: '内容见新闻转载' },
      { tag: 'S' },
      { text: '；文号未核实' },
      { tag: 'M' },
      { text: '。' },
    ])
    expect(splitReliability('[V]')).toEqual([{ tag: 'V' }])
    expect(splitReliability('[X] 不是标记')).toEqual([{ text: '[X] 不是标记' }])
  })
})

describe('passageLines', () => {
  it('drops heading marks, keeps the words, and collapses blank lines', () => {
    expect(passageLines('## 二、费用结构目标\n\n\n### （一）药占比\n\n1. 目标：35%以内\n<b>不是HTML</b>\n\n')).toEqual([
      { text: '二、费用结构目标', heading: true },
      { text: '', heading: false },
      { text: '（一）药占比', heading: true },
      { text: '', heading: false },
      { text: '1. 目标：35%以内', heading: false },
      { text: '<b>不是HTML</b>', heading: false },
    ])
    expect(passageLines('')).toEqual([])
  })
})

describe('prepareOption', () => {
  const months = Array.from({ length: 12 }, (_, i) => `2023-${String(i + 1).padStart(2, '0')}`)

  it('rotates labels of a category axis with more than 8 categories', () => {
    const out = prepareOption({ xAxis: { type: 'category', data: months }, series: [] })
    expect(out.xAxis).toMatchObject({ axisLabel: { rotate: 40, interval: 0 } })
  })

  it('leaves short axes and the server’s own settings alone', () => {
    const short = { xAxis: { type: 'category', data: months.slice(0, 5) } }
    expect(prepareOption(short).xAxis).toEqual(short.xAxis)
    const own = { xAxis: { type: 'category', data: months, axisLabel: { rotate: 90 } } }
    expect(prepareOption(own).xAxis).toEqual(own.xAxis)
  })

  it('does not change the option it was given, and rounds tooltip values', () => {
    const option = { tooltip: { trigger: 'axis' }, xAxis: { type: 'category', data: months } }
    const out = prepareOption(option)
    expect(option.xAxis).not.toHaveProperty('axisLabel')
    const fmt = (out.tooltip as { valueFormatter: (v: unknown) => string }).valueFormatter
    expect(fmt(36.45222610484559)).toBe('36.45')
    expect(fmt(22091)).toBe('22,091')
  })
})

describe('tooltip units', () => {
  it('adds the value axis unit, whichever axis holds the values', () => {
    const bars = prepareOption({ tooltip: {}, xAxis: { type: 'value', name: '%' }, yAxis: { type: 'category', data: ['a'] } })
    expect((bars.tooltip as { valueFormatter: (v: unknown) => string }).valueFormatter(65.2351)).toBe('65.24%')
    const line = prepareOption({ tooltip: {}, xAxis: { type: 'category', data: ['2019'] }, yAxis: { type: 'value', name: '人次' } })
    expect((line.tooltip as { valueFormatter: (v: unknown) => string }).valueFormatter(22091)).toBe('22,091 人次')
  })
})
