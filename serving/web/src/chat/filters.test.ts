import { describe, expect, it } from 'vitest'
import { emptyFilters, fromDate, periodShortcuts, scopeFrom, scopeLabel, toDate } from './filters'
import { richSegments, splitPolicyExcerpts } from './richText'
import { groupByDate, parseServerTime, shortTime } from './format'

const byText = (asOf: string) => Object.fromEntries(periodShortcuts(asOf).map((s) => [s.text, [s.start, s.end]]))

describe('period shortcuts', () => {
  it('are computed from the data cut-off, not from today', () => {
    expect(byText('2023-09-08')).toEqual({
      本年: ['2023-01-01', '2023-09-08'],
      上年: ['2022-01-01', '2022-12-31'],
      本季度: ['2023-07-01', '2023-09-08'],
      本月: ['2023-09-01', '2023-09-08'],
      近12个月: ['2022-10-01', '2023-09-08'], // as the planner reads "近12个月"
    })
  })

  it('handle the first quarter and December', () => {
    expect(byText('2024-02-29')).toMatchObject({ 本季度: ['2024-01-01', '2024-02-29'], 近12个月: ['2023-03-01', '2024-02-29'] })
    expect(byText('2023-12-31')).toMatchObject({ 本季度: ['2023-10-01', '2023-12-31'], 近12个月: ['2023-01-01', '2023-12-31'] })
  })

  it('convert to and from local dates without a time-zone shift', () => {
    expect(fromDate(toDate('2023-01-01'))).toBe('2023-01-01')
    expect(toDate('2023-09-08').getDate()).toBe(8)
  })
})

describe('scope', () => {
  it('leaves out empty controls so the question keeps its own', () => {
    expect(scopeFrom(emptyFilters())).toEqual({})
    expect(scopeFrom({ period: ['2023-01-01', '2023-06-30'], campus: ['东院区'], department: [], doctor: ['韦云燕'] })).toEqual({
      start: '2023-01-01',
      end: '2023-06-30',
      campus: ['东院区'],
      doctor: ['韦云燕'],
    })
  })

  it('is labelled for the re-run question', () => {
    expect(scopeLabel({ campus: ['东院区'], start: '2023-01-01', end: '2023-06-30' })).toBe('筛选：东院区 · 2023年上半年')
    expect(scopeLabel({ start: '2022-01-01', end: '2022-12-31' })).toBe('筛选：2022年')
    expect(scopeLabel({ start: '2023-04-01', end: '2023-06-30' })).toBe('筛选：2023年第二季度')
    expect(scopeLabel({ start: '2023-08-01', end: '2023-08-31' })).toBe('筛选：2023年8月')
    expect(scopeLabel({ start: '2023-02-01', end: '2023-02-28' })).toBe('筛选：2023年2月')
    expect(scopeLabel({ start: '2023-01-05', end: '2023-02-10' })).toBe('筛选：2023-01-05 至 2023-02-10')
    expect(scopeLabel({ department: ['心血管内科', '呼吸内科'] })).toBe('筛选：心血管内科、呼吸内科')
    expect(scopeLabel({})).toBe('')
    expect(scopeLabel(null)).toBe('')
  })
})

describe('answer text', () => {
  it('splits **bold** into segments and keeps everything else as text', () => {
    expect(richSegments('**门诊人次**为 <b>205,685</b>人次')).toEqual([
      { text: '门诊人次', bold: true },
      { text: '为 <b>205,685</b>人次', bold: false },
    ])
  })

  it('bolds to the end while the closing ** has not arrived', () => {
    expect(richSegments('前文**药占')).toEqual([
      { text: '前文', bold: false },
      { text: '药占', bold: true },
    ])
  })
})

describe('policy excerpts after a figure', () => {
  it('folds the excerpts that follow the answer', () => {
    const text = '**药占比**为 36.45%。\n\n相关政策与文件：\n[1] 《目标》：控制在35%以内'
    expect(splitPolicyExcerpts(text)).toEqual({
      main: '**药占比**为 36.45%。',
      excerpts: '相关政策与文件：\n[1] 《目标》：控制在35%以内',
    })
  })

  it('keeps a policy-only answer whole', () => {
    const text = '相关政策与文件：\n[1] 《目标》：控制在35%以内'
    expect(splitPolicyExcerpts(text)).toEqual({ main: text, excerpts: '' })
    expect(splitPolicyExcerpts('门诊人次为 205,685人次。')).toEqual({ main: '门诊人次为 205,685人次。', excerpts: '' })
  })
})

describe('conversation times', () => {
  it('reads a zone-less server time as UTC', () => {
    expect(parseServerTime('2026-12-02T00:53:50.695101').toISOString()).toBe('2026-12-02T00:53:50.695Z')
    expect(parseServerTime('2026-12-02T00:53:50+00:00').toISOString()).toBe('2026-12-02T00:53:50.000Z')
  })

  it('shows the time today, the date otherwise', () => {
    const now = new Date(2026, 11, 2, 18, 0)
    const local = (d: Date) => d.toISOString().replace('Z', '')
    expect(shortTime(local(new Date(2026, 11, 2, 9, 5)), now)).toBe('09:05')
    expect(shortTime(local(new Date(2026, 10, 30, 9, 5)), now)).toBe('11-30 09:05')
    expect(shortTime(local(new Date(2025, 10, 30, 9, 5)), now)).toBe('2025-11-30')
  })

  it('groups conversations as 今天, 昨天, 近7天 and 更早, keeping the list order within each', () => {
    const now = new Date(2026, 11, 3, 10, 0)
    const local = (d: Date) => d.toISOString().replace('Z', '')
    const items = [
      { id: 'a', updated_at: local(new Date(2026, 11, 3, 9, 0)) },
      { id: 'b', updated_at: local(new Date(2026, 11, 2, 23, 0)) },
      { id: 'c', updated_at: local(new Date(2026, 10, 29, 8, 0)) },
      { id: 'd', updated_at: local(new Date(2026, 9, 1, 8, 0)) },
      { id: 'e', updated_at: local(new Date(2026, 11, 3, 1, 0)) },
    ]
    const groups = groupByDate(items, now)
    expect(groups.map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ['今天', ['a', 'e']],
      ['昨天', ['b']],
      ['近7天', ['c']],
      ['更早', ['d']],
    ])
  })
})
