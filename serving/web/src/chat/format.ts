// Display helpers for the conversation list.

/**
 * The server stores UTC times; SQLite returns them without a zone ("2026-12-02T00:53:50.69"), which
 * JavaScript would read as local time, so a zone-less time is taken as UTC.
 */
export function parseServerTime(value: string): Date {
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`
  return new Date(zoned)
}

const pad = (n: number) => String(n).padStart(2, '0')

/** Today: 14:05; this year: 09-08 14:05; earlier: 2022-09-08. */
export function shortTime(value: string, now: Date = new Date()): string {
  const t = parseServerTime(value)
  if (Number.isNaN(t.getTime())) return ''
  const hm = `${pad(t.getHours())}:${pad(t.getMinutes())}`
  if (t.getFullYear() !== now.getFullYear()) return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`
  if (t.getMonth() === now.getMonth() && t.getDate() === now.getDate()) return hm
  return `${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${hm}`
}

export interface DateGroup<T> {
  label: string // 今天 | 昨天 | 近7天 | 更早
  items: T[]
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Conversations grouped as chat tools group them, newest group first; the list's order is kept. */
export function groupByDate<T extends { updated_at: string }>(items: T[], now: Date = new Date()): DateGroup<T>[] {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime()
  const labelOf = (value: string): string => {
    const t = parseServerTime(value).getTime()
    if (Number.isNaN(t) || t < today - 6 * DAY_MS) return '更早'
    if (t >= today) return '今天'
    if (t >= today - DAY_MS) return '昨天'
    return '近7天'
  }
  const groups: DateGroup<T>[] = []
  for (const item of items) {
    const label = labelOf(item.updated_at)
    const group = groups.find((g) => g.label === label)
    if (group) group.items.push(item)
    else groups.push({ label, items: [item] })
  }
  const order = ['今天', '昨天', '近7天', '更早']
  return groups.sort((a, b) => order.indexOf(a.label) - order.indexOf(b.label))
}
